"""Fuse an Activation into the matmul layer (Dense or convolution) before it, so hardware rounds once."""

from __future__ import annotations

from dataclasses import replace

from fpga_gen.ir import Activation, Graph, Layer, MatMul


def fuse_activations(graph: Graph) -> Graph:
    """MatMul(linear, exact accumulator output) -> Activation  becomes one Dense.

    Only when the Dense output is its exact accumulator (nothing rounded yet) and the
    Activation is the Dense output's only reader: then relu + one rounding of the
    accumulator is exactly what the two layers computed.
    """
    readers: dict[str, int] = {}
    for layer in graph.layers:
        for src in layer.inputs:
            readers[src] = readers.get(src, 0) + 1
    out: list[Layer] = []
    renamed: dict[str, str] = {}
    for layer in graph.layers:
        layer = replace(layer, inputs=tuple(renamed.get(s, s) for s in layer.inputs))
        prev = out[-1] if out else None
        if (
            isinstance(layer, Activation)
            and isinstance(prev, MatMul)
            and layer.inputs == (prev.name,)
            and readers[prev.name] == 1
            and prev.activation == "linear"
            and _is_exact(prev, out)
        ):
            out[-1] = replace(prev, activation=layer.function, output=layer.output)
            renamed[layer.name] = prev.name
            continue
        out.append(layer)
    return graph.with_layers(tuple(out))


def _is_exact(dense: MatMul, earlier: list[Layer]) -> bool:
    fmt = next(l.output.format for l in earlier if l.name == dense.inputs[0])
    return dense.output.format == dense.accumulator(fmt)
