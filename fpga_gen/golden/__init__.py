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
from fpga_gen.ir import Activation, Dense, Graph, Input, Output

# int64 while values fit, Python ints (dtype=object) beyond.
IntArray = npt.NDArray[Any]


@dataclass(frozen=True)
class PredictReport:
    """What ``graph.predict(x, report=True)`` tells beside the outputs."""

    samples: int
    inputs_not_representable: int
    input_format: str

    def __str__(self) -> str:
        return (
            f"{self.samples} samples; {self.inputs_not_representable} input values were not "
            f"representable in {self.input_format} and were quantized"
        )


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
        src = values[layer.inputs[0]]
        in_fmt = graph.input_spec(layer).format
        if isinstance(layer, Dense):
            acc, frac = _dense_accumulate(layer, in_fmt, src)
            values[layer.name] = _finish(layer.activation, layer, acc, frac)
        elif isinstance(layer, Activation):
            values[layer.name] = _finish(layer.function, layer, src, exact_fixed(in_fmt).frac)
        elif isinstance(layer, Output):
            values[layer.name] = src
        else:
            raise GraphError(f"layer {layer.name}: the golden model has no rule for {layer.kind}")
    return values[graph.output.name]


def evaluate(graph: Graph, x: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], PredictReport]:
    x_ints, changed = quantize_inputs(graph, x)
    out = evaluate_ints(graph, x_ints)
    report = PredictReport(len(x_ints), changed, str(graph.input.output.format))
    return exact_fixed(graph.output.output.format).from_int(out), report


def _dense_accumulate(layer: Dense, in_fmt: Format, x: IntArray) -> tuple[IntArray, int]:
    acc_fmt = layer.accumulator(in_fmt)
    w = layer.weight.ints
    prod_frac = exact_fixed(in_fmt).frac + exact_fixed(layer.weight.format).frac
    if acc_fmt.width <= 53:
        acc: IntArray = (x.astype(np.float64) @ w.astype(np.float64)).astype(np.int64)
    elif acc_fmt.width <= 63:
        acc = x.astype(np.int64) @ w
    else:
        acc = x.astype(object) @ w.astype(object)
    acc = acc << (acc_fmt.frac - prod_frac)
    if layer.bias is not None:
        bias_frac = exact_fixed(layer.bias.format).frac
        acc = acc + (layer.bias.ints.astype(acc.dtype) << (acc_fmt.frac - bias_frac))
    return acc, acc_fmt.frac


def _finish(function: str, layer: Dense | Activation, acc: IntArray, frac: int) -> IntArray:
    if function == "relu":
        acc = np.maximum(acc, 0)
    return layer.output.format.cast_int(acc, frac)
