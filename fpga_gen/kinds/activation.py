"""Activation: an element-wise function (linear, relu), then the one rounding into the output format.

IR value ``ir.Activation``; HLS kernel hls/fg_activation.h; Verilog rtl/fg_act.v.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from fpga_gen.backends.hls.planner import Planner
from fpga_gen.backends.rtl import cost
from fpga_gen.backends.rtl.cost import Resources, signed_bits
from fpga_gen.backends.rtl.stages import (
    CONVERT_FILES,
    EXACT_FILES,
    Convert,
    ElementStage,
    Stage,
    Stream,
    convert_to,
    exact_input_params,
    stream_format,
)
from fpga_gen.boards.dsp import DspPrimitive
from fpga_gen.formats import Format
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.golden import finish
from fpga_gen.ir import Activation, Graph, IntArray
from fpga_gen.kinds.kind import Kind


def golden(layer: Activation, srcs: list[IntArray], fmts: list[Format]) -> IntArray:
    return finish(layer.function, layer, srcs[0], exact_fixed(fmts[0]).frac)


def emit_hls(layer: Activation, hls: Planner) -> None:
    hls.declare(layer)
    edge = hls.take(layer, 0)
    hls.elementwise(
        layer,
        edge,
        "activation",
        f"{layer.name}: {layer.function} on {layer.output.size} elements, {edge.pack} per beat",
        [
            ("unsigned", "n", layer.output.size),
            ("unsigned", "pack", edge.pack),
            ("bool", "relu", layer.function == "relu"),
        ],
    )


def rtl_stages(layer: Activation, srcs: tuple[Stream, ...], graph: Graph, dsp: DspPrimitive) -> list[Stage]:
    (src,) = srcs
    dst = Stream(stream_format(layer), src.n, src.elems)
    return [ActStage(layer, src, dst, convert_to(layer, exact_fixed(src.fmt).frac, layer.function))]


@dataclass(frozen=True)
class ActStage(ElementStage):
    """fg_act: each element made exact, relu, then converted, into the output register."""

    layer: Activation
    src: Stream
    dst: Stream
    convert: Convert
    module: ClassVar[str] = "fg_act"

    def params(self) -> dict[str, int]:
        return {"N": self.src.n, "ELEMS": self.src.elems, **exact_input_params(self.src), **self.convert.params()}

    def files(self) -> tuple[str, ...]:
        return (*CONVERT_FILES[self.dst.codes], *EXACT_FILES, "fg_out_reg.v", "fg_act.v")

    def cost(self) -> Resources:
        """Per lane: the exact input, relu, the conversion, the output register."""
        lanes = self.src.elems
        lane = cost.convert(self.dst.fmt, signed_bits(exact_fixed(self.src.fmt))) + Resources(ff=self.dst.width)
        return lane.scaled(lanes) + cost.decode(self.src.fmt, lanes) + cost.control(self.src.beats)


KIND = Kind((Activation,), golden, emit_hls, ("fg_activation.h",), rtl_stages, (ActStage,))
