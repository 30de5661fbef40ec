"""QKeras (and plain Keras) models -> Graph.

The weights stored in the Graph are exactly the float32 values QKeras multiplies by
(each quantizer is evaluated on its kernel, as QKeras' own ``call`` does), held in the
narrowest fixed-point format that represents them all. Activation quantizers map to
``ap_fixed`` formats (DESIGN.md §10): ``quantized_bits(b, i)`` is
``fixed<b, i+1, RND_CONV, SAT>`` and ``quantized_relu(b, i)`` is relu followed by
``ufixed<b, i, RND_CONV, SAT>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import ModelLoadError, QuantizerError, UnsupportedLayerError
from fpga_gen.formats import FixedPoint, Format
from fpga_gen.formats.sizing import accumulator_format, fit_range
from fpga_gen.frontends._tf import import_qkeras
from fpga_gen.ir import Activation, Dense, Graph, Input, Layer, Output, Tensor, TensorSpec
from fpga_gen.ir.builder import as_format

# hls4ml's default input type: used when the model does not start with a quantizer.
DEFAULT_INPUT_FORMAT = "fixed<16,6>"
# Weights wider than a DSP's 18-bit B port (DSP48E1/E2) mean they were not really quantized
# (a float32 like 0.1 needs 24); biases are added in the wide accumulator and may be wider.
MAX_BITS = {"kernel": 18, "bias": 32}
_IGNORED = ("InputLayer", "Dropout")
_SUPPORTED = "QDense, Dense, QActivation, Activation(linear/relu), ReLU, Dropout, Flatten (of 1-D input)"


def load_model(path: str | Path) -> Any:
    """Read a Keras/QKeras model file (.keras or .h5) with QKeras' custom objects."""
    p = Path(path)
    if not p.is_file():
        raise ModelLoadError(f"model file {p} does not exist")
    import_qkeras()
    from qkeras.utils import load_qmodel

    try:
        return load_qmodel(str(p), compile=False)
    except Exception as exc:  # Keras raises anything from OSError to ValueError for a bad file
        raise ModelLoadError(f"cannot read model file {p}: {type(exc).__name__}: {exc}") from exc


def from_qkeras(model: Any, input_format: Format | str | None = None) -> Graph:
    """Convert a sequential chain of QKeras / Keras layers into a Graph."""
    layers = [l for l in model.layers if type(l).__name__ not in _IGNORED]
    shape = tuple(int(d) for d in model.input_shape[1:])
    in_fmt: Format
    if input_format is not None:
        in_fmt = as_format(input_format)
    elif layers and type(layers[0]).__name__ == "QActivation":
        # The model's own first quantizer is the input format: the host applies it to the
        # raw float exactly as QKeras does.
        in_fmt, _ = _activation(layers[0].name, layers[0].activation)
        layers = layers[1:]
    else:
        in_fmt = as_format(DEFAULT_INPUT_FORMAT)
    out: list[Layer] = [Input(name="input", output=TensorSpec(shape, in_fmt))]
    for klayer in layers:
        out.extend(_convert(klayer, out[-1]))
    out.append(Output(name="output", inputs=(out[-1].name,), output=out[-1].output))
    return Graph(tuple(out), name=_identifier(model.name))


def _convert(klayer: Any, prev: Layer) -> list[Layer]:
    cls = type(klayer).__name__
    name = _identifier(klayer.name)
    if cls in ("QDense", "Dense"):
        return _dense(klayer, name, prev)
    if cls == "QActivation":
        fmt, function = _activation(name, klayer.activation)
        return [
            Activation(name=name, inputs=(prev.name,), output=TensorSpec(prev.output.shape, fmt), function=function)
        ]
    if cls in ("Activation", "ReLU"):
        function = "relu" if cls == "ReLU" else _plain_activation(name, klayer.activation)
        if cls == "ReLU" and (klayer.max_value is not None or float(klayer.negative_slope) or float(klayer.threshold)):
            raise UnsupportedLayerError(f"layer {name} (ReLU): only max_value=None, negative_slope=0, threshold=0")
        return [Activation(name=name, inputs=(prev.name,), output=prev.output, function=function)]
    if cls == "Flatten" and len(prev.output.shape) == 1:
        return []
    raise UnsupportedLayerError(f"layer {name} of class {cls} is not supported; supported: {_SUPPORTED}")


def _dense(klayer: Any, name: str, prev: Layer) -> list[Layer]:
    in_fmt = prev.output.format
    if len(prev.output.shape) != 1 or not isinstance(in_fmt, FixedPoint):
        raise UnsupportedLayerError(f"layer {name}: Dense needs a flat fixed-point input, got {prev.output}")
    kernel = _quantized(klayer, "kernel")
    weight = _constant(name, "kernel", kernel, _nominal(name, getattr(klayer, "kernel_quantizer_internal", None)))
    bias = None
    if klayer.use_bias:
        bq = getattr(klayer, "bias_quantizer_internal", None)
        bias = _constant(name, "bias", _quantized(klayer, "bias"), _nominal(name, bq))
    acc_fmt = accumulator_format(in_fmt, weight.format, kernel.shape[0], None if bias is None else bias.format)
    spec = TensorSpec((kernel.shape[1],), acc_fmt)
    dense = Dense(name=name, inputs=(prev.name,), output=spec, weight=weight, bias=bias)
    act = klayer.activation
    act_name = getattr(act, "__name__", None)
    if act_name == "linear" or act is None:
        return [dense]
    if act_name == "relu":
        fmt: Format = dense.output.format
        function = "relu"
    else:
        fmt, function = _activation(name, act)
    act_spec = TensorSpec(dense.output.shape, fmt)
    return [dense, Activation(name=f"{name}_act", inputs=(name,), output=act_spec, function=function)]


def _quantized(klayer: Any, which: str) -> npt.NDArray[np.float64]:
    """The float32 tensor QKeras multiplies by: the quantizer applied to the variable."""
    value = getattr(klayer, which)
    quantizer = getattr(klayer, f"{which}_quantizer_internal", None)
    if quantizer is not None:
        value = quantizer(value)
    return np.asarray(value, dtype=np.float32).astype(np.float64)


def _nominal(layer: str, quantizer: Any) -> FixedPoint | None:
    """The format a weight quantizer's configuration promises (None when it is data-dependent)."""
    if quantizer is None:
        return None
    cls = type(quantizer).__name__
    if cls != "quantized_bits":
        raise QuantizerError(f"layer {layer}: weight quantizer {cls} is not supported yet; use quantized_bits")
    _check_common(layer, quantizer)
    alpha = quantizer.alpha
    if isinstance(alpha, str):
        if alpha != "auto_po2":
            raise QuantizerError(
                f"layer {layer}: quantized_bits alpha={alpha!r} gives float scales with no exact "
                "fixed-point equivalent; use alpha=1 or 'auto_po2'"
            )
        return None  # per-channel power-of-two scales: the format comes from the values
    if alpha is not None and float(alpha) != 1.0:
        raise QuantizerError(f"layer {layer}: quantized_bits alpha={alpha!r} is not supported; use alpha=1")
    return _bits_format(layer, quantizer)


def _constant(layer: str, what: str, values: npt.NDArray[np.float64], nominal: FixedPoint | None) -> Tensor:
    """Store ``values`` in ``nominal`` when it holds them all exactly, else in the narrowest format that does."""
    if nominal is not None and np.array_equal(nominal.quantize(values), values):
        return Tensor.from_values(nominal, values)
    fmt = exact_format(values)
    if fmt.width > MAX_BITS[what]:
        raise QuantizerError(
            f"layer {layer}: the {what} values need {fmt} ({fmt.width} bits) to be represented "
            f"exactly (more than {MAX_BITS[what]}); quantize them with a kernel/bias quantizer "
            "such as quantized_bits(8, 0, alpha=1)"
        )
    return Tensor.from_values(fmt, values)


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


def _check_common(layer: str, quantizer: Any) -> None:
    if getattr(quantizer, "use_stochastic_rounding", False):
        raise QuantizerError(f"layer {layer}: stochastic rounding has no deterministic hardware equivalent")
    if float(getattr(quantizer, "qnoise_factor", 1.0)) != 1.0:
        raise QuantizerError(f"layer {layer}: qnoise_factor must be 1.0 at inference")


def _bits_format(layer: str, q: Any) -> FixedPoint:
    bits, integer, keep_negative = int(q.bits), int(q.integer), bool(q.keep_negative)
    if bits - keep_negative < 1:
        raise QuantizerError(
            f"layer {layer}: quantized_bits({bits}, {integer}) is a sign function (0 -> +1), "
            "not a fixed-point format; use at least 2 bits"
        )
    overflow = "SAT_SYM" if keep_negative and getattr(q, "symmetric", False) else "SAT"
    return FixedPoint(bits, integer + keep_negative, signed=keep_negative, rounding="RND_CONV", overflow=overflow)


def _activation(layer: str, quantizer: Any) -> tuple[FixedPoint, str]:
    """An activation quantizer -> (output format, function)."""
    if isinstance(quantizer, str):
        _, qkeras = import_qkeras()
        quantizer = qkeras.quantizers.get_quantizer(quantizer)
    cls = type(quantizer).__name__
    if cls == "quantized_bits":
        _check_common(layer, quantizer)
        if quantizer.alpha is not None and (isinstance(quantizer.alpha, str) or float(quantizer.alpha) != 1.0):
            raise QuantizerError(
                f"layer {layer}: activation quantized_bits needs alpha=1 or None, got {quantizer.alpha!r}"
            )
        return _bits_format(layer, quantizer), "linear"
    if cls == "quantized_relu":
        _check_common(layer, quantizer)
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


def _plain_activation(layer: str, fn: Any) -> str:
    name = getattr(fn, "__name__", str(fn))
    if name not in ("linear", "relu"):
        raise UnsupportedLayerError(f"layer {layer}: activation {name!r} is not supported; use linear or relu")
    return str(name)


def _identifier(name: str) -> str:
    """Keras names may hold '/', '.' or '-': map them to identifier characters."""
    ident = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return ident if ident[:1].isalpha() else f"l_{ident}"
