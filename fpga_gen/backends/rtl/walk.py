"""``plan``: lay the layers of a scheduled graph out as RTL stages (``stages.Plan``).

Each layer's kind builds its stages (``BUILDERS``, registered in ``fpga_gen.kinds``) from the
streams it reads; the walk wires them: the first stage reads the layer's inputs, each
further stage the one before, and a tensor read by several layers passes a fork (one FIFO
of a frame per reader). A kind that builds no stage passes its input stream on: the graph's
Input (the top's s_axis), its Output (m_axis) and views (a Reshape: the same elements in
the same order).

The top input carries SIMD elements of the first Dense layer per beat, or the input
channels of the first windowed layer (one pixel per beat), else one element. A stage
writes whatever beat width arrives straight into its input banks, so no width converter
sits between layers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from fpga_gen.backends.rtl.stages import ForkStage, Plan, Stage, Stream, stream_format
from fpga_gen.boards.dsp import DspPrimitive, primitive
from fpga_gen.errors import UnsupportedLayerError
from fpga_gen.ir import Dense, GlobalPool, Graph, Layer, Window
from fpga_gen.ir.registry import Table

# (layer, the streams it reads, the graph, the DSP primitive) -> its stages, in order.
StageBuilder = Callable[[Any, tuple[Stream, ...], Graph, DspPrimitive], list[Stage]]
BUILDERS: Table[StageBuilder] = Table("RTL backend", "stage builder")


def plan(graph: Graph, dsp_kind: str = "DSP48E1") -> Plan:
    """The stages of the scheduled ``graph`` for DSP slices of ``dsp_kind`` (the board's)."""
    dsp = primitive(dsp_kind)
    if all(layer.view for layer in graph.layers[1:-1]):
        raise UnsupportedLayerError(
            f"graph {graph.name} has no layer that computes anything: there is nothing to implement in hardware"
        )
    uses = Counter(name for layer in graph.layers for name in layer.inputs)
    stages: list[Stage] = []
    sources: list[tuple[str, ...]] = []
    ready: dict[str, list[tuple[Stream, str]]] = {}  # per layer, the (stream, wire) each reader takes

    def publish(layer: Layer, stream: Stream, wire: str) -> None:
        if uses[layer.name] > 1:
            fork = ForkStage(layer, stream, uses[layer.name])
            stages.append(fork)
            sources.append((wire,))
            ready[layer.name] = [(stream, w) for w in fork.wires]
        else:
            ready[layer.name] = [(stream, wire)]

    top = Stream(stream_format(graph.input), graph.input.output.size, _input_elems(graph))
    input_wire = f"w_{graph.input.name}"
    for layer in graph.layers:
        ins = [ready[name].pop(0) for name in layer.inputs] if layer.inputs else [(top, input_wire)]
        new = BUILDERS[layer](layer, tuple(s for s, _ in ins), graph, dsp)
        if not new:
            publish(layer, *ins[0])
            continue
        stages += new
        sources += [tuple(w for _, w in ins), *(s.wires for s in new[:-1])]
        publish(layer, new[-1].dst, new[-1].wires[0])
    out, output_wire = ready[graph.output.name].pop()
    return Plan(graph, tuple(stages), tuple(sources), top, out, input_wire, output_wire, dsp)


def _input_elems(graph: Graph) -> int:
    """Elements per top input beat: what the first layer that reads vectors or pixels takes."""
    for layer in graph.layers[1:-1]:
        if isinstance(layer, Dense) and layer.fold is not None:
            return layer.fold.simd
        if isinstance(layer, Window | GlobalPool):
            return graph.input_spec(layer).shape[-1]
    return 1
