"""The golden model: vectorized, exact evaluation of a Graph.

Every tensor is carried as exact integers on its format's grid (``sizing.exact_fixed``):
fixed-point mantissas, minifloats on their subnormal step, ternary levels times the
scale. Matmuls are exact: float64 BLAS when the exact accumulator fits in 53 bits (every partial sum is then an
exactly representable integer, whatever order BLAS adds in), int64 when it fits in 63
bits, Python integers beyond. Rounding happens once per layer, in the output format's
``cast_int``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import GraphError
from fpga_gen.formats import Format
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import (
    Activation,
    Add,
    Concatenate,
    Conv,
    GlobalPool,
    Graph,
    Input,
    Layer,
    MatMul,
    Output,
    Pool,
    Reshape,
    ScaleShift,
    Threshold,
)

# int64 while values fit, Python ints (dtype=object) beyond.
IntArray = npt.NDArray[Any]


@dataclass(frozen=True)
class PredictReport:
    """What ``graph.predict(x, report=True)`` tells beside the outputs."""

    samples: int
    inputs_not_representable: int
    input_format: str
    # the float computations of the source model that fixed-point layers only approximate
    approximations: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{self.samples} samples; {self.inputs_not_representable} input values were not "
            f"representable in {self.input_format} and were quantized"
        )
        return text + "".join(f"; approximates {a}" for a in self.approximations)


def quantize_inputs(graph: Graph, x: npt.ArrayLike) -> tuple[IntArray, int]:
    """Float inputs -> integer mantissas of the Input format (the host-side step every level shares).

    Returns the mantissas and how many values changed under quantization.
    """
    spec = graph.input.output
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape[1:] != spec.shape:
        raise GraphError(
            f"input of shape {arr.shape} does not match {graph.input.name} {spec.shape}: "
            f"pass a batch of shape (n, {', '.join(map(str, spec.shape))})"
        )
    q = spec.format.quantize(arr)
    return exact_fixed(spec.format).to_int(q), int(np.count_nonzero(q != arr))


def evaluate_ints(graph: Graph, x_ints: IntArray) -> IntArray:
    """Integer mantissas of the Input format in, integer mantissas of the Output format out."""
    values: dict[str, IntArray] = {}
    for layer in graph.layers:
        if isinstance(layer, Input):
            values[layer.name] = np.asarray(x_ints)
            continue
        srcs = [values[name] for name in layer.inputs]
        fmts = [spec.format for spec in graph.input_specs(layer)]
        values[layer.name] = _evaluate_layer(layer, srcs, fmts)
    return values[graph.output.name]


def _evaluate_layer(layer: Layer, srcs: list[IntArray], fmts: list[Format]) -> IntArray:
    x, fmt = srcs[0], fmts[0]
    frac = exact_fixed(fmt).frac
    if isinstance(layer, MatMul):
        acc, acc_frac = _matmul_accumulate(layer, fmt, x)
        return _finish(layer.activation, layer, acc, acc_frac)
    if isinstance(layer, Activation):
        return _finish(layer.function, layer, x, frac)
    if isinstance(layer, ScaleShift):
        return _scale_shift(layer, fmt, x)
    if isinstance(layer, Threshold):
        return _threshold(layer, fmt, x)
    if isinstance(layer, Pool):
        return _pool(layer, fmt, x)
    if isinstance(layer, GlobalPool):
        spatial = tuple(range(1, x.ndim - 1))
        if layer.function == "max":
            return layer.output.format.cast_int(x.max(axis=spatial), frac)
        return cast_ratio(x.sum(axis=spatial), frac, int(np.prod(x.shape[1:-1])), layer.output.format)
    if isinstance(layer, Add):
        top = max(exact_fixed(f).frac for f in fmts)
        bits = max(exact_fixed(f).width - exact_fixed(f).frac for f in fmts) + top + len(srcs).bit_length()
        total = sum(_widen(s, bits) << (top - exact_fixed(f).frac) for s, f in zip(srcs, fmts, strict=True))
        return layer.output.format.cast_int(total, top)
    if isinstance(layer, Concatenate):
        parts = [layer.output.format.cast_int(s, exact_fixed(f).frac) for s, f in zip(srcs, fmts, strict=True)]
        if len({p.dtype for p in parts}) > 1:
            parts = [p.astype(object) for p in parts]
        return np.concatenate(parts, axis=-1)
    if isinstance(layer, Reshape):
        return x.reshape((len(x), *layer.output.shape))
    if isinstance(layer, Output):
        return x
    raise GraphError(f"layer {layer.name}: the golden model has no rule for {layer.kind}")


def evaluate(graph: Graph, x: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], PredictReport]:
    x_ints, changed = quantize_inputs(graph, x)
    out = evaluate_ints(graph, x_ints)
    approximations = tuple(l.approximates for l in graph.layers if isinstance(l, ScaleShift) and l.approximates)
    report = PredictReport(len(x_ints), changed, str(graph.input.output.format), approximations)
    return exact_fixed(graph.output.output.format).from_int(out), report


def _widen(x: IntArray, bits: int) -> IntArray:
    """``x`` as int64 when values of ``bits`` bits (sign included) fit, else as Python ints."""
    return x.astype(np.int64) if bits <= 63 else x.astype(object)


def _dot(a: IntArray, b: IntArray, width: int) -> IntArray:
    """Exact a @ b for a sum known to fit ``width`` bits (DESIGN.md §3: BLAS while exact)."""
    if width <= 53:
        return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return _widen(a, width) @ _widen(b, width)


def _matmul_accumulate(layer: MatMul, in_fmt: Format, x: IntArray) -> tuple[IntArray, int]:
    acc_fmt = layer.accumulator(in_fmt)
    w = layer.weight.ints
    acc = _conv(layer, x, w, acc_fmt.width) if isinstance(layer, Conv) else _dot(x, w, acc_fmt.width)
    acc = acc << (acc_fmt.frac - exact_fixed(in_fmt).frac - exact_fixed(layer.weight.format).frac)
    if layer.bias is not None:
        bias_frac = exact_fixed(layer.bias.format).frac
        acc = acc + (layer.bias.ints.astype(acc.dtype) << (acc_fmt.frac - bias_frac))
    return acc, acc_fmt.frac


def _conv(layer: Conv, x: IntArray, w: IntArray, width: int) -> IntArray:
    win, _ = windows(x, layer.kernel, layer.strides, layer.padding)
    out_spatial = win.shape[1 : 1 + layer.rank]
    n = len(x)
    if not layer.depthwise:
        rows = win.reshape(n * int(np.prod(out_spatial)), layer.n_in)
        return _dot(rows, w.reshape(layer.n_in, layer.n_out), width).reshape((n, *out_spatial, layer.n_out))
    # depthwise: one small dot product per (channel, multiplier); loop over the kernel taps
    dtype: Any = np.float64 if width <= 53 else (np.int64 if width <= 63 else object)
    # the tap count is spelled out: reshape cannot infer -1 for an empty batch
    taps = win.reshape((*win.shape[: 1 + layer.rank], int(np.prod(layer.kernel)), layer.in_channels)).astype(dtype)
    wt = w.reshape(-1, *w.shape[-2:]).astype(dtype)
    acc = sum(taps[..., t, :, None] * wt[t] for t in range(wt.shape[0]))
    acc = np.asarray(acc)
    if dtype is np.float64:
        acc = acc.astype(np.int64)
    return acc.reshape((n, *out_spatial, layer.n_out))


def windows(
    x: IntArray, window: tuple[int, ...], strides: tuple[int, ...], padding: tuple[tuple[int, int], ...]
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Sliding windows of a channels-last batch: (n, *out, *window, C), and which taps are not padding.

    Padded taps hold 0; the mask, shaped (*out, *window), tells them apart.
    """
    rank = len(window)
    pads = ((0, 0), *padding, (0, 0))
    padded = np.pad(x, pads)
    valid = np.pad(np.ones(x.shape[1:-1], dtype=bool), padding)
    axes = tuple(range(1, rank + 1))
    win = np.lib.stride_tricks.sliding_window_view(padded, window, axis=axes)
    mask = np.lib.stride_tricks.sliding_window_view(valid, window)
    step = tuple(slice(None, None, s) for s in strides)
    # sliding_window_view puts the window axes last: move the channel axis behind them
    win = np.moveaxis(win[(slice(None), *step)], rank + 1, -1)
    return win, mask[step]


def _pool(layer: Pool, fmt: Format, x: IntArray) -> IntArray:
    frac = exact_fixed(fmt).frac
    win, mask = windows(x, layer.pool_size, layer.strides, layer.padding)
    rank = len(layer.pool_size)
    taps = tuple(range(rank + 1, 2 * rank + 1))
    valid = mask[None, ..., None]
    if layer.function == "max":
        lowest = x.min() if x.size else 0
        return layer.output.format.cast_int(np.where(valid, win, lowest).max(axis=taps), frac)
    total = np.where(valid, win, 0).sum(axis=taps)
    count = mask.sum(axis=tuple(range(rank, 2 * rank)))
    return cast_ratio(total, frac, count[None, ..., None], layer.output.format)


def cast_ratio(num: IntArray, frac: int, den: Any, fmt: Format) -> IntArray:
    """Round ``num * 2**-frac / den`` (den > 0, integers) once into ``fmt``, exactly.

    The quotient is truncated to one bit finer than ``fmt``'s finest grid, and a sticky
    bit records a non-zero remainder: no rounding boundary of ``fmt`` lies strictly
    between that stand-in and the true quotient, so every rounding mode gives the result
    of rounding the exact rational.
    """
    extra = max(exact_fixed(fmt).frac - frac, 0) + 1
    bits = max(int(np.max(np.abs(num), initial=0)).bit_length(), 1) + extra + 2
    scaled = _widen(np.asarray(num), bits) << extra
    den = _widen(np.asarray(den), bits)
    q = scaled // den
    sticky = (scaled - q * den != 0).astype(q.dtype)
    return fmt.cast_int(2 * q + sticky, frac + extra + 1)


def _scale_shift(layer: ScaleShift, fmt: Format, x: IntArray) -> IntArray:
    acc_fmt = layer.accumulator(fmt)
    prod_frac = exact_fixed(fmt).frac + exact_fixed(layer.scale.format).frac
    shift_frac = exact_fixed(layer.shift.format).frac
    acc = _widen(x, acc_fmt.width) * _widen(layer.scale.ints, acc_fmt.width)
    acc = (acc << (acc_fmt.frac - prod_frac)) + (_widen(layer.shift.ints, acc_fmt.width) << (acc_fmt.frac - shift_frac))
    return _finish(layer.activation, layer, acc, acc_fmt.frac)


def _threshold(layer: Threshold, fmt: Format, x: IntArray) -> IntArray:
    x_frac, t_frac = exact_fixed(fmt).frac, exact_fixed(layer.thresholds.format).frac
    top = max(x_frac, t_frac)
    bits = max(exact_fixed(fmt).width - x_frac, exact_fixed(layer.thresholds.format).width - t_frac) + top + 1
    xs = _widen(x, bits) << (top - x_frac)
    ts = _widen(layer.thresholds.ints, bits) << (top - t_frac)
    count = (xs[..., None] >= ts).sum(axis=-1)
    channel = np.arange(layer.output.shape[-1])
    values: IntArray = layer.values.ints[channel, count]
    return values


def _finish(function: str, layer: MatMul | Activation | ScaleShift, acc: IntArray, frac: int) -> IntArray:
    if function == "relu":
        acc = np.maximum(acc, 0)
    return layer.output.format.cast_int(acc, frac)
