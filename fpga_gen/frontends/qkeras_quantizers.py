"""QKeras quantizers -> number formats and exactly stored constants.

Weights: each quantizer is evaluated on its variable exactly as QKeras' own ``call`` does,
and the float32 result is stored in the narrowest exact format (the quantizer's nominal
fixed-point format when it holds every value; ternary/binary levels with per-channel scales
for ``ternary``/``binary``; else the narrowest FixedPoint). A ``quantized_bits(alpha='auto')``
kernel is split into its exact integer-grid kernel and the float32 per-channel scales
QKeras multiplies it by (``auto_kernel``), which only a reported approximation can follow.
Activation quantizers map to ``ap_fixed`` formats (DESIGN.md §10): ``quantized_bits(b, i)`` is
``fixed<b, i+1, RND_CONV, SAT>`` and ``quantized_relu(b, i)`` is relu followed by
``ufixed<b, i, RND_CONV, SAT>``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import FormatError, QuantizerError, UnsupportedLayerError
from fpga_gen.formats import Binary, FixedPoint, Format, Ternary
from fpga_gen.formats.sizing import fit_range
from fpga_gen.frontends._tf import import_qkeras
from fpga_gen.ir import Tensor

# Weights wider than a DSP's 18-bit B port (DSP48E1/E2) mean they were not really quantized
# (a float32 like 0.1 needs 24); biases are added in the wide accumulator and may be wider.
MAX_BITS = {"kernel": 18, "bias": 32}
WEIGHT_QUANTIZERS = ("quantized_bits", "ternary", "binary", "quantized_po2")
_SIGNED_FORMATS: dict[str, type[Ternary] | type[Binary]] = {"ternary": Ternary, "binary": Binary}


def quantized(value: Any, quantizer: Any) -> npt.NDArray[np.float64]:
    """The float32 tensor QKeras multiplies by: the quantizer applied to the variable."""
    if quantizer is not None:
        value = quantizer(value)
    return np.asarray(value, dtype=np.float32).astype(np.float64)


def weight_tensor(layer: str, what: str, values: npt.NDArray[np.float64], quantizer: Any) -> Tensor:
    """Store the quantized ``values`` of a kernel or bias in the narrowest exact format."""
    cls = None if quantizer is None else type(quantizer).__name__
    if quantizer is not None:
        if cls not in WEIGHT_QUANTIZERS:
            raise QuantizerError(
                f"layer {layer}: {what} quantizer {cls} is not supported; use one of {', '.join(WEIGHT_QUANTIZERS)}"
            )
        check_common(layer, quantizer)
    if cls in _SIGNED_FORMATS and what == "kernel":
        signed = _signed_format(values, _SIGNED_FORMATS[cls])
        if signed is not None:
            return Tensor.from_values(signed, values)
    if is_auto(quantizer):
        raise QuantizerError(
            f"layer {layer}: quantized_bits(alpha='auto') is supported for kernels only, not for the {what}; "
            "use alpha=1 or 'auto_po2'"
        )
    nominal = _nominal(layer, quantizer) if cls == "quantized_bits" else None
    return _stored(layer, what, values, nominal)


def _stored(layer: str, what: str, values: npt.NDArray[np.float64], nominal: FixedPoint | None) -> Tensor:
    """``values`` in ``nominal`` when it holds them all, else in the narrowest exact FixedPoint."""
    if nominal is not None and np.array_equal(nominal.quantize(values), values):
        return Tensor.from_values(nominal, values)
    fmt = exact_format(values)
    if fmt.width > MAX_BITS[what]:
        raise QuantizerError(
            f"layer {layer}: the {what} values need {fmt} ({fmt.width} bits) to be represented "
            f"exactly (more than {MAX_BITS[what]}); quantize them with a kernel/bias quantizer such as "
            "quantized_bits(8, 0, alpha=1)"
        )
    return Tensor.from_values(fmt, values)


def is_auto(quantizer: Any) -> bool:
    """quantized_bits(alpha='auto'): float32 per-channel scales no exact arithmetic reproduces."""
    return type(quantizer).__name__ == "quantized_bits" and quantizer.alpha == "auto"


def auto_kernel(layer: str, values: npt.NDArray[np.float64], quantizer: Any) -> tuple[Tensor, npt.NDArray[np.float64]]:
    """(integer-grid kernel g, scale per last axis) with ``values`` ~= scale * g.

    QKeras 0.9.0 computes z = round(|x| / s0) (an integer, |z| <= 2**(bits-1) - 1) with
    s0 = 2 max|x| / levels per output channel, keeps ``quantizer.scale = s0 * 2**unsigned_bits``
    and returns scale * z * 2**(integer - unsigned_bits) in float32: g is that grid value, exact
    in the quantizer's nominal format. ``values`` must come from the call that set ``quantizer.scale``.
    """
    check_common(layer, quantizer)
    nominal = bits_format(layer, quantizer)
    scale_nd = np.asarray(quantizer.scale, dtype=np.float32).astype(np.float64)
    if scale_nd.ndim != values.ndim or any(d != 1 for d in scale_nd.shape[:-1]):
        raise QuantizerError(
            f"layer {layer}: quantized_bits(alpha='auto', scale_axis={quantizer.scale_axis}) scales along "
            f"{scale_nd.shape}, not per output channel; use the default scale_axis=None"
        )
    scale = scale_nd.reshape(-1)
    step = 2.0 ** (int(quantizer.integer) - int(quantizer.bits) + int(quantizer.keep_negative))
    unit = np.broadcast_to(scale * step, values.shape)
    # an all-zero channel has scale 0 and z = 0
    ratio = np.divide(values, unit, out=np.zeros_like(values), where=unit > 0)
    z = np.round(ratio)
    # float32 leaves ratio within ~2**-22 * |z| <= 2**-5 (18 bits) of z: more is not this quantizer
    if np.any(np.abs(ratio - z) > 0.25):
        raise QuantizerError(
            f"layer {layer}: the alpha='auto' kernel is not scale * integer grid as in QKeras 0.9.0 "
            f"(off by {float(np.max(np.abs(ratio - z))):.3g} steps); use alpha='auto_po2' or 1"
        )
    return _stored(layer, "kernel", (z * step).astype(np.float64), nominal), scale


def _signed_format(values: npt.NDArray[np.float64], cls: type[Ternary] | type[Binary]) -> Format | None:
    """Ternary/Binary with one scale per output channel (last axis), if the values are such levels."""
    mags = np.abs(values.reshape(-1, values.shape[-1]))
    if cls is Binary and not np.all(mags > 0):
        return None
    scales: list[float | None] = []
    for column in mags.T:
        levels = np.unique(column[column > 0])
        if len(levels) > 1:
            return None
        scales.append(float(levels[0]) if levels.size else None)
    known = [s for s in scales if s is not None] or [1.0]
    # an all-zero ternary channel takes any scale: reuse one so a uniform tensor keeps one scale
    filled = tuple(known[0] if s is None else s for s in scales)
    try:
        return cls(filled[0] if len(set(filled)) == 1 else filled)
    except FormatError:
        return None


def _nominal(layer: str, quantizer: Any) -> FixedPoint | None:
    """The format a quantized_bits configuration promises (None when its scales come from the data)."""
    alpha = quantizer.alpha
    if isinstance(alpha, str) or int(quantizer.bits) - int(quantizer.keep_negative) < 1:
        return None  # 'auto'/'auto_po2' scales, or a sign function: the format comes from the values
    if alpha is not None and float(alpha) != 1.0:
        raise QuantizerError(
            f"layer {layer}: quantized_bits alpha={alpha!r} is not supported; use alpha=1, 'auto_po2' or None"
        )
    return bits_format(layer, quantizer)


def exact_format(values: npt.NDArray[np.float64]) -> FixedPoint:
    """The narrowest FixedPoint representing every (finite) value exactly."""
    if not np.all(np.isfinite(values)):
        raise QuantizerError("constant tensor holds inf or NaN")
    nonzero = values[values != 0]
    frac = 0
    if nonzero.size:
        mantissa, exponent = np.frexp(nonzero)
        # A float64 m * 2**e needs at most 53 - e fractional bits; strip trailing zero bits.
        ints = np.abs(np.ldexp(mantissa, 53).astype(np.int64))
        trailing = np.log2((ints & -ints).astype(np.float64)).astype(np.int64)
        frac = int(np.max(53 - exponent - trailing))
    scaled = [int(v) for v in np.ldexp(values, frac).ravel()] or [0]
    return fit_range(min(scaled), max(scaled), frac)


def check_common(layer: str, quantizer: Any) -> None:
    if getattr(quantizer, "use_stochastic_rounding", False):
        raise QuantizerError(f"layer {layer}: stochastic rounding has no deterministic hardware equivalent")
    if float(getattr(quantizer, "qnoise_factor", 1.0)) != 1.0:
        raise QuantizerError(f"layer {layer}: qnoise_factor must be 1.0 at inference")


def bits_format(layer: str, q: Any) -> FixedPoint:
    bits, integer, keep_negative = int(q.bits), int(q.integer), bool(q.keep_negative)
    if bits - keep_negative < 1:
        raise QuantizerError(
            f"layer {layer}: quantized_bits({bits}, {integer}) is a sign function (0 -> +1), "
            "not a fixed-point format; use at least 2 bits"
        )
    overflow = "SAT_SYM" if keep_negative and getattr(q, "symmetric", False) else "SAT"
    return FixedPoint(bits, integer + keep_negative, signed=keep_negative, rounding="RND_CONV", overflow=overflow)


def activation_format(layer: str, quantizer: Any) -> tuple[FixedPoint, str]:
    """An activation quantizer -> (output format, function)."""
    if isinstance(quantizer, str):
        _, qkeras = import_qkeras()
        quantizer = qkeras.quantizers.get_quantizer(quantizer)
    cls = type(quantizer).__name__
    if cls == "quantized_bits":
        check_common(layer, quantizer)
        if quantizer.alpha is not None and (isinstance(quantizer.alpha, str) or float(quantizer.alpha) != 1.0):
            raise QuantizerError(
                f"layer {layer}: activation quantized_bits needs alpha=1 or None, got {quantizer.alpha!r}"
            )
        return bits_format(layer, quantizer), "linear"
    if cls == "quantized_relu":
        check_common(layer, quantizer)
        if float(quantizer.negative_slope) != 0.0:
            raise QuantizerError(
                f"layer {layer}: quantized_relu negative_slope={quantizer.negative_slope} is not supported; use 0"
            )
        if quantizer.use_sigmoid or quantizer.relu_upper_bound is not None:
            raise QuantizerError(f"layer {layer}: quantized_relu with use_sigmoid/relu_upper_bound is not supported")
        bits, integer = int(quantizer.bits), int(quantizer.integer)
        return FixedPoint(bits, integer, signed=False, rounding="RND_CONV", overflow="SAT"), "relu"
    raise QuantizerError(
        f"layer {layer}: activation quantizer {cls} is not supported; use quantized_bits or quantized_relu"
    )


def is_quantizer(fn: Any) -> bool:
    """A QKeras quantizer object or spelling (as opposed to a Keras activation function)."""
    if isinstance(fn, str):
        return "(" in fn or fn.startswith(("quantized", "ternary", "binary"))
    return hasattr(fn, "bits") or type(fn).__module__.startswith("qkeras")


def plain_activation(layer: str, fn: Any) -> str:
    """A Keras activation (function or name) -> 'linear' or 'relu'."""
    name = "linear" if fn is None else getattr(fn, "__name__", str(fn))
    if name not in ("linear", "relu"):
        raise UnsupportedLayerError(f"layer {layer}: activation {name!r} is not supported; use linear or relu")
    return str(name)
