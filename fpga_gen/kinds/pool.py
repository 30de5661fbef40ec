"""Pool and GlobalPool: max or average per channel over each window (padding left out, as TensorFlow).

max: the largest value of the window, rounded into the output format. avg: the exact window
sum divided by the number of non-padded positions, rounded once (``golden.cast_ratio``).
HLS: the window generator (hls/fg_window.h) into hls/fg_pool.h; RTL: rtl/fg_window.v into
rtl/fg_pool.v. A global pool is one window over the whole image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from fpga_gen.backends.hls.planner import Planner, geometry_fields
from fpga_gen.backends.rtl import cost
from fpga_gen.backends.rtl.cost import Resources, signed_bits
from fpga_gen.backends.rtl.handshake import Node, Register
from fpga_gen.backends.rtl.stages import (
    CONVERT_FILES,
    EXACT_FILES,
    Convert,
    ElementStage,
    Stage,
    Stream,
    WindowStage,
    exact_input_params,
    stream_format,
    window_stage,
)
from fpga_gen.boards.dsp import DspPrimitive
from fpga_gen.formats import Format
from fpga_gen.formats.sizing import exact_fixed, fit_range, int_range
from fpga_gen.golden import cast_ratio, windows
from fpga_gen.ir import GlobalPool, Graph, IntArray, Pool
from fpga_gen.kinds.kind import Kind


def golden_pool(layer: Pool, srcs: list[IntArray], fmts: list[Format]) -> IntArray:
    x, frac = srcs[0], exact_fixed(fmts[0]).frac
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


def golden_global_pool(layer: GlobalPool, srcs: list[IntArray], fmts: list[Format]) -> IntArray:
    x, frac = srcs[0], exact_fixed(fmts[0]).frac
    spatial = tuple(range(1, x.ndim - 1))
    if layer.function == "max":
        return layer.output.format.cast_int(x.max(axis=spatial), frac)
    return cast_ratio(x.sum(axis=spatial), frac, int(np.prod(x.shape[1:-1])), layer.output.format)


def emit_hls(layer: Pool | GlobalPool, hls: Planner) -> None:
    hls.declare(layer)
    spec = hls.graph.input_spec(layer)
    if isinstance(layer, Pool):
        edge, geometry = hls.window(layer, lambda pack, _: pack)  # a channel group per beat
    else:  # a raster scan of the image is its one window
        edge = hls.channels_edge(layer)
        geometry = geometry_fields(layer, spec.shape, edge.pack)
    g = layer.window_geometry(spec.shape)
    taps, positions = g.taps, layer.output.size // g.c
    lo, hi, frac = int_range(hls.formats[edge.tensor])
    hls.elementwise(
        layer,
        edge,
        "pool",
        f"{layer.name}: {layer.function} pooling of {taps} taps, {edge.pack} channels per beat",
        [
            ("typedef", "sum_t", fit_range(min(lo, 0) * taps, max(hi, 0) * taps, frac).cpp_type()),
            ("bool", "avg", layer.function == "avg"),
            ("int", "extra", max(exact_fixed(hls.formats[layer.name]).frac - frac, 0) + 1),
            *geometry,
        ],
        iterations=positions * taps * (g.c // edge.pack),  # a group's result leaves with its last tap
    )


def rtl_stages(layer: Pool | GlobalPool, srcs: tuple[Stream, ...], graph: Graph, dsp: DspPrimitive) -> list[Stage]:
    window = window_stage(layer, srcs[0], graph.input_spec(layer).shape, pool=True)
    src = window.dst
    taps = window.geometry.taps
    x_bits, frac = signed_bits(exact_fixed(src.fmt)), exact_fixed(src.fmt).frac
    dst = Stream(stream_format(layer), layer.output.size, src.elems)
    if layer.function == "max":
        return [window, PoolStage(layer, src, dst, taps, x_bits, 0, Convert(frac, dst.fmt, False))]
    extra = max(exact_fixed(dst.fmt).frac - frac, 0) + 1  # as golden.cast_ratio
    convert = Convert(frac + extra + 1, dst.fmt, False)  # 2q + sticky, one bit below the quotient
    return [window, PoolStage(layer, src, dst, taps, x_bits + taps.bit_length(), extra, convert)]


@dataclass(frozen=True)
class PoolStage(ElementStage):
    """fg_pool: max, or the exact average rounded once (``golden.cast_ratio``), over each window."""

    layer: Pool | GlobalPool
    src: Stream  # the window stream
    dst: Stream
    taps: int
    acc_bits: int  # the running maximum or sum, two's complement
    extra: int  # average: quotient bits below the input grid, cast_ratio's ``extra``
    convert: Convert
    module: ClassVar[str] = "fg_pool"

    def params(self) -> dict[str, int]:
        return {
            "TAPS": self.taps,
            "ELEMS": self.src.elems,
            "OUT_BEATS": self.dst.beats,
            "MAX": int(self.layer.function == "max"),
            **exact_input_params(self.src),
            "ACC_W": self.acc_bits,
            "EXTRA": self.extra,
            "CNT_W": self.taps.bit_length(),
            **self.convert.rounding_params(),  # a pool has no activation
        }

    def files(self) -> tuple[str, ...]:
        return (*CONVERT_FILES[self.dst.codes], *EXACT_FILES, "fg_out_reg.v", "fg_pool.v")

    def cost(self) -> Resources:
        """Per lane: the exact input, the running maximum (compare + mux) or sum, and for an
        average the combinational divider by the count of real taps (one subtract-and-select row
        per quotient bit), then the conversion."""
        lanes = self.src.elems
        lane = Resources(lut=2 * self.acc_bits, ff=self.acc_bits)
        if self.layer.function != "max":
            quotient = self.acc_bits + self.extra
            lane += Resources(lut=quotient * (cost.bits_for(self.taps) + 2))
        lane += cost.convert(self.dst.fmt, self.acc_bits + self.extra + 2) + Resources(ff=self.dst.width)
        return lane.scaled(lanes) + cost.decode(self.src.fmt, lanes) + cost.control(self.taps, self.dst.beats)

    def timing(self) -> Node:
        return Register(self.taps)  # one output beat per window


POOL = Kind((Pool,), golden_pool, emit_hls, ("fg_pool.h",), rtl_stages, (WindowStage, PoolStage))
GLOBAL_POOL = Kind((GlobalPool,), golden_global_pool, emit_hls, ("fg_pool.h",), rtl_stages, (WindowStage, PoolStage))
