"""Add and Concatenate: the layers that join branches.

Add: the element-wise sum of two or more tensors of one shape, exact on the finest input
grid, then one rounding. Concatenate: tensors joined along the channel (last) axis, each
element rounded into the output format. HLS: chains of two-input kernels (hls/fg_merge.h)
through exact (add) or already-rounded (concat) intermediate tensors, which gives the same
single rounding. RTL: rtl/fg_merge_in.v per input, then rtl/fg_merge.v.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from fpga_gen.backends.hls.planner import Edge, Field, Planner, port
from fpga_gen.backends.rtl import cost
from fpga_gen.backends.rtl.cost import Resources, signed_bits
from fpga_gen.backends.rtl.handshake import Merge, Node
from fpga_gen.backends.rtl.stages import (
    CONVERT_FILES,
    EXACT_FILES,
    Convert,
    Stage,
    Stream,
    exact_input_params,
    packed,
    stream_format,
)
from fpga_gen.boards.dsp import DspPrimitive
from fpga_gen.errors import UnsupportedLayerError
from fpga_gen.formats import FixedPoint, Format
from fpga_gen.formats.sizing import exact_fixed, fit_range, int_range
from fpga_gen.golden import widen
from fpga_gen.ir import Add, Concatenate, Graph, IntArray
from fpga_gen.kinds.kind import Kind

# -- golden ---------------------------------------------------------------------------------


def golden_add(layer: Add, srcs: list[IntArray], fmts: list[Format]) -> IntArray:
    top = max(exact_fixed(f).frac for f in fmts)
    bits = max(exact_fixed(f).width - exact_fixed(f).frac for f in fmts) + top + len(srcs).bit_length()
    total = sum(widen(s, bits) << (top - exact_fixed(f).frac) for s, f in zip(srcs, fmts, strict=True))
    return layer.output.format.cast_int(total, top)


def golden_concatenate(layer: Concatenate, srcs: list[IntArray], fmts: list[Format]) -> IntArray:
    parts = [layer.output.format.cast_int(s, exact_fixed(f).frac) for s, f in zip(srcs, fmts, strict=True)]
    if len({p.dtype for p in parts}) > 1:
        parts = [p.astype(object) for p in parts]
    return np.concatenate(parts, axis=-1)


# -- HLS ------------------------------------------------------------------------------------


def _sum_format(fmts: Sequence[Format]) -> FixedPoint:
    """The exact format of a sum of one value of each of ``fmts`` (aligned to the finest grid)."""
    frac = max(int_range(f)[2] for f in fmts)
    lo = sum(int_range(f)[0] << (frac - int_range(f)[2]) for f in fmts)
    hi = sum(int_range(f)[1] << (frac - int_range(f)[2]) for f in fmts)
    return fit_range(lo, hi, frac)


def emit_hls(layer: Add | Concatenate, hls: Planner) -> None:
    """Two-input kernels in a chain: partial sums are exact, partial concatenations already rounded."""
    hls.declare(layer)
    specs = hls.graph.input_specs(layer)
    if isinstance(layer, Add):
        pack = hls.edges[(layer.name, 0)].pack
    else:
        pack = math.gcd(*(s.shape[-1] for s in specs), *(hls.edges[(layer.name, i)].pack for i in range(len(specs))))
    edges = [hls.take(layer, i, pack) for i in range(len(specs))]
    acc, acc_fmts, channels = edges[0], [hls.formats[edges[0].tensor]], specs[0].shape[-1]
    for i, edge in enumerate(edges[1:], start=1):
        acc_fmts.append(hls.formats[edge.tensor])
        last = i == len(edges) - 1
        name = layer.name if last else f"{layer.name}_{layer.kind.lower()}{i}"
        if not last:
            hls.tensor(name, _sum_format(acc_fmts) if isinstance(layer, Add) else hls.formats[layer.name], layer.name)
        var = hls.output(layer, pack, name)
        pixels = layer.output.size // layer.output.shape[-1]
        if isinstance(layer, Add):
            kernel, what = "add", f"exact sum of inputs 0..{i}"
            extra: list[Field] = [
                ("typedef", "accum_t", _sum_format(acc_fmts).cpp_type()),
                ("unsigned", "n", layer.output.size),
            ]
        else:
            kernel, what = "concat", f"inputs 0..{i} joined along the channels"
            extra = [
                ("unsigned", "pixels", pixels),
                ("unsigned", "a_channels", channels),
                ("unsigned", "b_channels", specs[i].shape[-1]),
            ]
        hls.process(
            name,
            layer.name,
            kernel,
            f"{layer.name}: {what}, {pack} elements per beat",
            [
                (port("in", 0, acc.tensor, pack), acc.expr),
                (port("in", 1, edge.tensor, pack), edge.expr),
                (port("out", 0, name, pack), var),
            ],
            [
                ("typedef", "a_t", hls.elem(acc.tensor)),
                ("typedef", "b_t", hls.elem(edge.tensor)),
                ("typedef", "result_t", hls.elem(name)),
                ("unsigned", "pack", pack),
                *extra,
            ],
            # one beat out per iteration: the sum's, or the pixels' joined channels
            (layer.output.size if isinstance(layer, Add) else pixels * (channels + specs[i].shape[-1])) // pack,
        )
        acc, channels = Edge(var, name, pack), channels + specs[i].shape[-1]
    hls.produce(layer.name, acc)


# -- RTL ------------------------------------------------------------------------------------


def rtl_stages(layer: Add | Concatenate, srcs: tuple[Stream, ...], graph: Graph, dsp: DspPrimitive) -> list[Stage]:
    """Every input narrowed to the common divisor of their beat widths, exact on the finest grid
    (golden: an Add aligns to the finest grid and sums exactly; a cast of an exact value does
    not depend on the grid it is written on)."""
    elems = math.gcd(*(s.elems for s in srcs))
    channels = tuple(spec.shape[-1] for spec in graph.input_specs(layer))
    if isinstance(layer, Concatenate) and any(c % elems for c in channels):
        raise UnsupportedLayerError(
            f"layer {layer.name}: its inputs arrive {[s.elems for s in srcs]} elements per beat, whose common "
            f"divisor {elems} does not divide their channels {list(channels)}; choose folds of the layers before it "
            "whose pe divides their channels"
        )
    exact = [exact_fixed(s.fmt) for s in srcs]
    frac = max(f.frac for f in exact)
    bits = max(signed_bits(f) + frac - f.frac for f in exact)
    if isinstance(layer, Add):
        bits += (len(srcs) - 1).bit_length()  # a sum of K values needs ceil(log2 K) more bits
    dst = Stream(stream_format(layer), layer.output.size, elems)
    return [MergeStage(layer, srcs, dst, channels, frac, bits, Convert(frac, dst.fmt, False))]


@dataclass(frozen=True)
class MergeStage(Stage):
    """fg_merge_in per input (narrow to ``dst.elems`` per beat, exact on the finest input grid
    ``2**-frac``) into fg_merge: an Add (exact sum, one rounding) or a Concatenate (per pixel,
    ``channels[k]`` channels of input k in turn, each rounded into the output format)."""

    layer: Add | Concatenate
    inputs: tuple[Stream, ...]
    dst: Stream
    channels: tuple[int, ...]  # channels of each input (a pixel's share of the output)
    frac: int  # the common grid
    acc_bits: int  # two's complement width of the exact values and of an Add's sums
    convert: Convert
    module: ClassVar[str] = "fg_merge"
    template: ClassVar[str] = "merge.v.j2"

    @property
    def srcs(self) -> tuple[Stream, ...]:
        return self.inputs

    @property
    def period(self) -> int:
        return self.dst.beats

    @property
    def latency(self) -> int:
        """The fg_merge_in register, then fg_merge's output register."""
        return 2

    def input_params(self, k: int) -> dict[str, int]:
        """Parameters of the fg_merge_in of input ``k``."""
        src = self.inputs[k]
        return {
            "IN_ELEMS": src.elems,
            "ELEMS": self.dst.elems,
            **exact_input_params(src),
            "SHIFT": self.frac - exact_fixed(src.fmt).frac,
            "ACC_W": self.acc_bits,
        }

    @property
    def pixel_beats(self) -> tuple[int, ...]:
        """Beats of each input in one output pixel (Concatenate)."""
        return tuple(c // self.dst.elems for c in self.channels)

    def params(self) -> dict[str, Any]:
        doc: dict[str, int | str] = {
            "MODE": int(isinstance(self.layer, Concatenate)),
            "K": len(self.inputs),
            "N": self.dst.n,
            "ELEMS": self.dst.elems,
            "ACC_W": self.acc_bits,
        }
        if isinstance(self.layer, Concatenate):
            cnt_bits = max(max(self.pixel_beats) - 1, 1).bit_length()
            doc |= {"CNT_W": cnt_bits, "LAST_BEATS": packed([b - 1 for b in self.pixel_beats], cnt_bits)}
        return doc | self.convert.rounding_params()  # no activation

    def files(self) -> tuple[str, ...]:
        return (*CONVERT_FILES[self.dst.codes], *EXACT_FILES, "fg_merge_in.v", "fg_out_reg.v", "fg_merge.v")

    def cost(self) -> Resources:
        """fg_merge_in per input (exact value, narrowing to the common beat width), then fg_merge:
        the sum of K inputs or the channel interleave, and each element's conversion."""
        elems = self.dst.elems
        r = Resources()
        for src in self.inputs:
            narrow = src.elems // elems
            r += cost.decode(src.fmt, src.elems) + Resources(
                lut=elems * self.acc_bits * (1 + cost.mux(narrow)), ff=elems * self.acc_bits
            )
            r += cost.control(narrow, src.beats)
        adders = len(self.inputs) - 1 if isinstance(self.layer, Add) else 0
        select = 0 if adders else self.acc_bits * cost.mux(len(self.inputs))
        lane = Resources(lut=adders * self.acc_bits + select) + cost.convert(self.dst.fmt, self.acc_bits)
        lane += Resources(ff=self.dst.width)
        return r + lane.scaled(elems) + cost.control(self.dst.beats)

    def timing(self) -> Node:
        pieces = [s.elems // self.dst.elems for s in self.inputs]
        return Merge(pieces, isinstance(self.layer, Concatenate), self.pixel_beats)

    def manifest(self) -> dict[str, Any]:
        return {"inputs": [self.input_params(k) for k in range(len(self.inputs))]}


ADD = Kind((Add,), golden_add, emit_hls, ("fg_merge.h",), rtl_stages, (MergeStage,))
CONCATENATE = Kind((Concatenate,), golden_concatenate, emit_hls, ("fg_merge.h",), rtl_stages, (MergeStage,))
