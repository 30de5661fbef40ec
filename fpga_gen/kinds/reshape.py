"""Reshape (Keras Flatten and Reshape): the same elements in the same row-major order, no hardware.

In HLS and RTL its readers read its input's stream (``Layer.view``).
"""

from __future__ import annotations

from fpga_gen.backends.hls.planner import Planner
from fpga_gen.formats import Format
from fpga_gen.ir import IntArray, Reshape
from fpga_gen.kinds.io import no_stage
from fpga_gen.kinds.kind import Kind


def golden(layer: Reshape, srcs: list[IntArray], fmts: list[Format]) -> IntArray:
    x = srcs[0]
    return x.reshape((len(x), *layer.output.shape))


def emit_hls(layer: Reshape, hls: Planner) -> None:
    hls.produce(layer.name, hls.take(layer, 0))


KIND = Kind((Reshape,), golden, emit_hls, (), no_stage, ())
