"""Input and Output: a graph's two ends, the accelerator's AXI4-Stream ports.

The Input's value is the quantized graph input (``ir.quantize_inputs``, on the host); in HLS
it is the stream the top's input adapter writes (hls/fg_stream.h), in RTL the top's s_axis.
The Output passes its input on: the top's output adapter (HLS) or m_axis (RTL) reads it.
Neither has a hardware stage of its own.
"""

from __future__ import annotations

from fpga_gen.backends.hls.planner import Edge, Planner
from fpga_gen.backends.rtl.stages import Stage, Stream
from fpga_gen.boards.dsp import DspPrimitive
from fpga_gen.formats import Format
from fpga_gen.ir import Graph, Input, IntArray, Layer, Output
from fpga_gen.kinds.kind import Kind


def same(layer: Layer, srcs: list[IntArray], fmts: list[Format]) -> IntArray:
    """The value it reads, unchanged."""
    return srcs[0]


def emit_input(layer: Input, hls: Planner) -> None:
    hls.declare(layer)
    hls.produce(layer.name, Edge(hls.output(layer, hls.input_pack), layer.name, hls.input_pack))


def emit_output(layer: Output, hls: Planner) -> None:
    """Nothing: the top's output adapter reads the stream the Output layer reads."""


def no_stage(layer: Layer, srcs: tuple[Stream, ...], graph: Graph, dsp: DspPrimitive) -> list[Stage]:
    """None: the walk connects the port to the stream."""
    return []


INPUT = Kind((Input,), same, emit_input, (), no_stage, ())
OUTPUT = Kind((Output,), same, emit_output, (), no_stage, ())
