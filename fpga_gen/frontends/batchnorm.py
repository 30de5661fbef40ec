"""Keras BatchNormalization -> an exact Threshold (when a quantizer follows) or a ScaleShift.

BatchNormalization + quantizer: x -> quantizer(bn(x)) is monotone per channel
(non-increasing when gamma < 0, constant when gamma == 0). Its step points on the exact
input grid are found by a vectorized binary search that evaluates the model's *own* layers
in TensorFlow float32, so the Threshold layer reproduces QKeras bit for bit, rounding
quirks included. The result is then checked on every probed point and on random grid
points; a map that is not monotone there is refused.

BatchNormalization alone: a fixed-point ScaleShift approximating the float32 layer,
scale = gamma / sqrt(var + eps) in ``fixed<18, I>`` (18 bits: a DSP's B port, I just
covering max |scale|), shift = beta - mean * scale on the grid of x * scale
(``approximate_scale_shift``, also used after alpha='auto' kernels).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import QuantizerError, UnsupportedLayerError
from fpga_gen.formats import FixedPoint, Format
from fpga_gen.formats.sizing import accumulator_format, exact_fixed, fit_range
from fpga_gen.frontends.qkeras_quantizers import quantized
from fpga_gen.ir import Layer, ScaleShift, Tensor, TensorSpec, Threshold

SCALE_BITS = 18
# More thresholds per channel than this is no longer a sensible comparator bank.
MAX_LEVELS = 1024
# Random grid points per channel on which the found thresholds are checked besides the probes.
CHECK_POINTS = 256

Probe = Callable[[npt.NDArray[np.int64]], npt.NDArray[np.float64]]


def check_batchnorm(layer: str, bn: Any, rank: int) -> None:
    """Only channels-last batchnorm over the last axis, at inference, is supported."""
    axis = [a % (rank + 1) for a in np.atleast_1d(bn.axis)]
    if axis != [rank]:
        raise UnsupportedLayerError(
            f"layer {layer}: batchnorm over axis {bn.axis} is not supported; normalize the channel (last) axis"
        )
    if getattr(bn, "renorm", False):
        raise UnsupportedLayerError(f"layer {layer}: batch renormalization is not supported; use renorm=False")


def threshold(name: str, bn: Any, act: Any, src: Layer, out_fmt: Format) -> Threshold:
    """A Threshold reproducing ``act(bn(x))`` (the Keras layers, float32) on ``src``'s exact grid."""
    import tensorflow as tf

    grid = exact_fixed(src.output.format)
    lo, hi, frac = grid.min_int, grid.max_int, grid.frac
    if grid.width > 62:
        raise UnsupportedLayerError(
            f"layer {name}: the batchnorm input {src.output.format} is wider than 62 bits; quantize it first"
        )
    shape = src.output.shape
    channels = shape[-1]

    def probe(ints: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        # the same rank as in the model: Keras picks its batchnorm kernel by rank
        x = np.ldexp(ints.astype(np.float64), -frac).astype(np.float32)
        x = x.reshape((len(ints), *([1] * (len(shape) - 1)), channels))
        y = act(bn(tf.constant(x), training=False))
        return np.asarray(y, dtype=np.float64).reshape(len(ints), channels)

    ends = probe(np.array([[lo] * channels, [hi] * channels], dtype=np.int64))
    levels = out_fmt.quantize(np.array([ends.min(), ends.max()]))
    step = 2.0 ** -exact_fixed(out_fmt).frac
    values_1d = np.arange(round(levels[0] / step), round(levels[1] / step) + 1) * step
    if len(values_1d) - 1 > MAX_LEVELS:
        raise UnsupportedLayerError(
            f"layer {name}: batchnorm + quantizer would need {len(values_1d) - 1} thresholds per channel "
            f"(more than {MAX_LEVELS}); use a narrower quantizer"
        )
    if len(values_1d) == 1:
        values_1d = np.repeat(values_1d, 2)  # a constant output still needs one (never-met) threshold
    # per channel: non-increasing channels walk the levels downwards (descending values)
    direction = np.where(ends[1] >= ends[0], 1.0, -1.0)
    targets = np.where(direction[:, None] > 0, values_1d[None, :], values_1d[None, ::-1])  # (C, K + 1)
    found = _search(probe, direction, targets[:, 1:].T, lo, hi).T  # (C, K)
    # always met: one step below the input range (never met is one step above), as GraphBuilder.threshold
    found = np.where(found <= lo, lo - 1, found)
    found, targets = _trim(found, targets, lo, hi)
    t_fmt = fit_range(lo - 1, hi + 1, frac)
    layer = Threshold(
        name=name,
        inputs=(src.name,),
        output=TensorSpec(shape, out_fmt),
        thresholds=Tensor.from_values(t_fmt, t_fmt.from_int(found)),
        values=Tensor.from_values(out_fmt, targets),
    )
    _verify(name, probe, layer, lo, hi, frac)
    return layer


def _search(
    probe: Probe, direction: npt.NDArray[np.float64], targets: npt.NDArray[np.float64], lo: int, hi: int
) -> npt.NDArray[np.int64]:
    """Per (level k, channel c): the smallest grid integer n with direction * f_c(n) >= direction * target.

    ``hi + 1`` when no input in [lo, hi] reaches the level (never met).
    """
    below = np.full(targets.shape, lo - 1, dtype=np.int64)
    above = np.full(targets.shape, hi + 1, dtype=np.int64)
    while np.any(above - below > 1):
        mid = below + (above - below) // 2
        reached = direction * probe(mid) >= direction * targets
        above = np.where(reached, mid, above)
        below = np.where(reached, below, mid)
    return above


def _trim(
    found: npt.NDArray[np.int64], targets: npt.NDArray[np.float64], lo: int, hi: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Drop threshold columns that every channel always meets (a prefix) or never meets (a suffix)."""
    levels = found.shape[1]
    always = int(np.argmin(np.append(np.all(found < lo, axis=0), False)))
    never = int(np.argmin(np.append(np.all(found > hi, axis=0)[::-1], False)))
    keep = max(levels - always - never, 1)
    first = min(always, levels - keep)
    return found[:, first : first + keep], targets[:, first : first + keep + 1]


def _verify(name: str, probe: Probe, layer: Threshold, lo: int, hi: int, frac: int) -> None:
    """The Threshold must equal the probed function around every threshold and on random points."""
    t = layer.thresholds.ints
    rng = np.random.default_rng(0)
    points = np.concatenate(
        [
            t.T,
            t.T - 1,
            np.full((1, t.shape[0]), lo),
            np.full((1, t.shape[0]), hi),
            rng.integers(lo, hi, size=(CHECK_POINTS, t.shape[0]), endpoint=True),
        ]
    )
    points = np.clip(points, lo, hi).astype(np.int64)
    count = (points[:, :, None] >= t[None, :, :]).sum(axis=-1)
    expected = layer.values.values[np.arange(t.shape[0])[None, :], count]
    got = probe(points)
    if not np.array_equal(got, expected):
        bad = np.argwhere(got != expected)[0]
        x = points[tuple(bad)] * 2.0**-frac
        raise QuantizerError(
            f"layer {name}: batchnorm + quantizer is not a monotone step function of its input on "
            f"channel {bad[1]} (at x = {x}: {got[tuple(bad)]}, thresholds give {expected[tuple(bad)]}); "
            "it cannot be lowered to exact thresholds"
        )


def scale_shift(name: str, bn: Any, src: Layer) -> ScaleShift:
    """A fixed-point approximation of a float32 batchnorm (no quantizer after it)."""
    gamma, beta, mean, variance = (_parameter(bn, p) for p in ("gamma", "beta", "moving_mean", "moving_variance"))
    scale = gamma / np.sqrt(variance + float(np.float32(bn.epsilon)))
    return approximate_scale_shift(name, src, scale, beta - mean * scale, f"float32 {type(bn).__name__} {bn.name}")


def approximate_scale_shift(
    name: str,
    src: Layer,
    scale: npt.NDArray[np.float64],
    shift: npt.NDArray[np.float64],
    approximates: str,
) -> ScaleShift:
    """x * scale + shift per channel with ``scale`` rounded into ``fixed<18, I>`` and ``shift``
    onto the grid of x * scale; the exact result of those (no rounding after)."""
    top = max(float(np.max(np.abs(scale))), 2.0**-SCALE_BITS)
    scale_fmt = FixedPoint(SCALE_BITS, int(np.floor(np.log2(top))) + 2, rounding="RND_CONV", overflow="SAT")
    shift_frac = exact_fixed(src.output.format).frac + exact_fixed(scale_fmt).frac
    shift_ints = np.round(np.ldexp(shift, shift_frac)).astype(np.int64)
    shift_fmt = fit_range(int(shift_ints.min()), int(shift_ints.max()), shift_frac)
    scale_t = Tensor.from_values(scale_fmt, scale_fmt.quantize(scale))
    shift_t = Tensor.from_values(shift_fmt, shift_fmt.from_int(shift_ints))
    acc = accumulator_format(src.output.format, scale_fmt, 1, shift_fmt)
    return ScaleShift(
        name=name,
        inputs=(src.name,),
        output=TensorSpec(src.output.shape, acc),
        scale=scale_t,
        shift=shift_t,
        approximates=approximates,
    )


def _parameter(bn: Any, which: str) -> npt.NDArray[np.float64]:
    """A batchnorm parameter as the layer uses it (QBatchNormalization quantizes some)."""
    default = {"gamma": 1.0, "beta": 0.0}
    value = getattr(bn, which, None)
    if value is None:
        return np.full(bn.moving_mean.shape, default[which])
    short = {"gamma": "gamma", "beta": "beta", "moving_mean": "mean", "moving_variance": "variance"}[which]
    quantizer = getattr(bn, f"{short}_quantizer_internal", None) if getattr(bn, f"{short}_quantizer", None) else None
    return quantized(value, quantizer)
