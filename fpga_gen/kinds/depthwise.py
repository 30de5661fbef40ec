"""DepthwiseConv1D/2D: per-channel dot products over the kernel's taps, on an engine of their own.

The golden rule is the convolutions' (``matmul.golden``). Output j = c * multiplier + m dots the
taps of channel c with its weights; folded PE x SIMD, each of PE lanes computes one output's dot
product, SIMD taps per cycle, so a frame takes positions x (n_out / PE) x (taps / SIMD) cycles,
MACs / (PE x SIMD): the shape of FINN's VVAU. The window generator (rtl/fg_window.v,
hls/fg_window.h) hands the engine a fold step per beat, SIMD taps of a block of channels, the
block emitted once per neuron fold that reads it (``blocking``), so the engine buffers nothing.
RTL: rtl/fg_vvau.v, whose lanes are fg_dense's rows (``matmul.DenseStage``: the DSP cascade for
fixed x fixed, the minifloat MAC, the multiplier-free tree for ternary / binary weights) without
packing, as each lane reads another channel. HLS: hls/fg_depthwise.h.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fpga_gen.backends.hls.planner import Edge, Planner, port
from fpga_gen.backends.rtl import cost
from fpga_gen.backends.rtl.cost import Resources
from fpga_gen.backends.rtl.handshake import Node, StreamEngine
from fpga_gen.backends.rtl.stages import (
    CONVERT_FILES,
    Stage,
    Stream,
    WindowStage,
    check_beats,
    window_stage,
    write_hex,
)
from fpga_gen.boards.dsp import DspPrimitive
from fpga_gen.errors import UnsupportedLayerError
from fpga_gen.formats import Binary
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import Conv, DepthwiseConv1D, DepthwiseConv2D, Graph
from fpga_gen.kinds.kind import Kind
from fpga_gen.kinds.matmul import (
    DENSE_TAIL,
    ENGINE_FILES,
    ENGINES,
    DenseStage,
    _engine,
    _fold,
    golden,
    hls_constants,
)


def blocking(layer: Conv, elems: int) -> tuple[int, int]:
    """(channel groups per block, times each block is emitted) of ``layer``'s window, its channels
    arriving ``elems`` per beat: the fewest groups whose outputs fill whole neuron folds, each fold's
    channels in one block (a block of all the groups always does)."""
    pe, _ = _fold(layer)
    groups = layer.in_channels // elems
    multiplier = layer.n_out // layer.in_channels
    block = min(k for k in range(1, groups + 1) if groups % k == 0 and k * elems * multiplier % pe == 0)
    return block, block * elems * multiplier // pe


# -- HLS ------------------------------------------------------------------------------------


def emit_hls(layer: Conv, hls: Planner) -> None:
    hls.declare(layer)
    pe, simd = _fold(layer)
    edge, geometry = hls.window(
        layer, lambda pack, _: simd * blocking(layer, pack)[0] * pack, lambda pack: blocking(layer, pack)
    )
    pack = next(value for _, name, value in geometry if name == "pack")
    block, rep = blocking(layer, pack)
    fields, constants = hls_constants(layer, hls, edge.tensor)
    fields += [
        ("unsigned", "taps", layer.n_in),
        ("unsigned", "n_out", layer.n_out),
        ("unsigned", "pe", pe),
        ("unsigned", "simd", simd),
        ("unsigned", "cb", block * pack),
        ("unsigned", "multiplier", layer.n_out // layer.in_channels),
        ("unsigned", "rep", rep),
        ("unsigned", "positions", layer.positions),
        ("bool", "relu", layer.activation == "relu"),
    ]
    cycles = layer.positions * (layer.n_out // pe) * (layer.n_in // simd)
    var = hls.output(layer, pe)
    hls.process(
        layer.name,
        layer.name,
        "depthwise",
        f"{layer.name}: {'x'.join(map(str, layer.kernel))} depthwise conv, {layer.n_in} taps -> {layer.n_out} outputs "
        f"at {layer.positions} positions, PE={pe} SIMD={simd}: positions*(n_out/PE)*(taps/SIMD) = {cycles} MAC "
        f"cycles per sample. Formats: weights {layer.weight.format}, accumulator "
        f"{layer.accumulator(hls.formats[edge.tensor])}",
        [(port("in", 0, edge.tensor, edge.pack), edge.expr), (port("out", 0, layer.name, pe), var)],
        fields,
        cycles,
        constants,
    )
    hls.produce(layer.name, Edge(var, layer.name, pe))


# -- RTL ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VvauStage(Stage):
    """fg_vvau: the depthwise engine, reading ``src`` (SIMD taps of ``cb`` channels per beat, each
    block ``rep`` times) with PE lanes of ``lanes``' datapath (its engine, operands, widths and
    scaling; ``lanes`` is not instantiated itself)."""

    layer: Conv
    src: Stream
    dst: Stream
    lanes: DenseStage
    cb: int  # channels per input beat
    rep: int  # neuron folds per block
    module: ClassVar[str] = "fg_vvau"
    template: ClassVar[str] = "vvau.v.j2"

    @property
    def srcs(self) -> tuple[Stream, ...]:
        return (self.src,)

    @property
    def pe(self) -> int:
        return self.lanes.pe

    @property
    def simd(self) -> int:
        return self.lanes.simd

    @property
    def steps(self) -> int:
        """Cycles of compute per position: neuron folds x synapse folds."""
        return (self.layer.n_out // self.pe) * (self.layer.n_in // self.simd)

    @property
    def period(self) -> int:
        return self.steps * self.layer.positions

    @property
    def latency(self) -> int:
        """Last beat accepted (its step issued) -> its result in the output register."""
        return self.lanes.dot_latency + DENSE_TAIL

    @property
    def dsp(self) -> int:
        """The lanes' slices, never packed: no two lanes share an input."""
        return self.lanes.dsp

    def roms(self) -> dict[str, tuple[int, int]]:
        """(depth, width) of the ROMs by fg_vvau's parameter prefix: SIMD lane ROMs of PE weight codes
        each ("W"), per PE a bias ROM ("B") and a per-output scale ROM ("S") where the layer has them."""
        lanes, nf = self.lanes, self.layer.n_out // self.pe
        shapes = {"W": (self.steps, self.pe * lanes.weight_bits)}
        if self.layer.bias is not None:
            shapes["B"] = (nf, lanes.bias_bits)
        if lanes.scaling is not None and lanes.scaling.per_neuron:
            shapes["S"] = (nf, lanes.scaling.bits)
        return shapes

    def params(self) -> dict[str, int]:
        lanes, layer = self.lanes, self.layer
        doc = {
            "ENGINE": ENGINES[lanes.engine],
            "TAPS": layer.n_in,
            "N_OUT": layer.n_out,
            "PE": self.pe,
            "SIMD": self.simd,
            "CB": self.cb,
            "M": layer.n_out // layer.in_channels,
            "R": self.rep,
            "POSITIONS": layer.positions,
        }
        if lanes.engine == "minifloat":
            assert lanes.weight is not None
            doc |= lanes.x.params("IN") | lanes.weight.params("W") | {"PROD_W": lanes.prod_bits}
        else:
            doc |= {"IN_W": self.src.width, "IN_SIGNED": int(self.src.signed), "W_W": lanes.weight_bits}
        if lanes.scaling is not None:
            doc |= {
                "BINARY": int(isinstance(layer.weight.format, Binary)),
                "PROD_W": lanes.prod_bits,
                "SCALE_W": lanes.scaling.bits,
                "SCALE_SHIFT": lanes.scaling.shift,
            }
            doc |= {"SCALE_ROM": 1} if lanes.scaling.per_neuron else {"SCALE": lanes.scaling.factors[0]}
        doc |= {
            "PSUM_W": lanes.psum_bits,
            "ACC_W": lanes.acc_bits,
            "ACC_SHIFT": lanes.acc_shift,
            "HAS_BIAS": int(layer.bias is not None),
            "FIN_W": lanes.fin_bits,
            "FIN_FRAC": lanes.convert.in_frac,
        }
        doc |= {f"{name}_BLOCK": int(cost.rom_in_block_ram(*shape)) for name, shape in self.roms().items()}
        return doc | {k: v for k, v in lanes.convert.params().items() if k != "IN_FRAC"}

    def cost(self) -> Resources:
        """fg_vvau: each lane's input out of the beat and its register, the weight lane ROMs and per PE
        the bias (/ scale) ROMs, the lanes' engines, the fold accumulators, the output conversion and
        register."""
        lanes, pe, simd = self.lanes, self.pe, self.simd
        in_w, nf = self.src.width, self.layer.n_out // pe
        r = Resources(dsp=self.dsp, lut=pe * simd * in_w * cost.mux(self.rep), ff=pe * simd * in_w)
        shapes = self.roms()
        r += cost.rom(*shapes["W"]).scaled(simd)
        per_pe = sum((cost.rom(*shapes[k]) for k in ("B", "S") if k in shapes), Resources())
        if lanes.engine == "dsp_chain":
            # the inputs' systolic skew (one fg_skew for every lane) and the weight ROMs' address chain
            for j in range(1, simd):
                r += cost.delay(pe * in_w, j)
            r += Resources(ff=(simd - 1) * cost.bits_for(self.steps))
        elif lanes.engine == "minifloat":
            assert lanes.weight is not None
            shift = lanes.x.shift_bits + lanes.weight.shift_bits
            lane = Resources(lut=lanes.prod_bits * cost.levels(shift), ff=lanes.prod_bits)  # alignment + register
            per_pe += cost.decode(lanes.x.fmt, simd)  # each lane decodes its own inputs
            per_pe += Resources(lut=simd * (lane.lut + lanes.weight.value_bits), ff=simd * lane.ff)
            per_pe += Resources(lut=(simd - 1) * lanes.psum_bits, ff=lanes.psum_bits)  # adder tree + register
        else:
            per_pe += Resources(lut=simd * lanes.prod_bits + (simd - 1) * lanes.psum_bits, ff=lanes.psum_bits)
            assert lanes.scaling is not None
            factor = lanes.scaling.factors[0]
            terms = lanes.scaling.bits if lanes.scaling.per_neuron else bin(factor).count("1")
            per_pe += Resources(lut=(terms - 1) * lanes.fin_bits + lanes.fin_bits)  # shift-and-add, + bias
        per_pe += Resources(lut=lanes.acc_bits, ff=lanes.acc_bits)  # fold accumulator
        per_pe += cost.convert(self.dst.fmt, lanes.fin_bits) + Resources(ff=self.dst.width)  # output register
        control = cost.control(self.layer.n_in // simd, nf, self.steps, self.rep, self.layer.positions)
        pipeline = Resources(ff=lanes.dot_latency * (cost.bits_for(nf) + 2))  # step tags along the pipeline
        return r + per_pe.scaled(pe) + control + pipeline

    def timing(self) -> Node:
        return StreamEngine(self.layer.n_in // self.simd, self.lanes.dot_latency)

    def files(self) -> tuple[str, ...]:
        engine = ENGINE_FILES[self.lanes.engine]
        return (*CONVERT_FILES[self.dst.codes], "fg_rom.v", "fg_out_reg.v", "fg_fold_out.v", "fg_vvau.v", *engine)

    def manifest(self) -> dict[str, Any]:
        return {
            "engine": self.lanes.engine,
            "pe": self.pe,
            "simd": self.simd,
            "accumulator": str(self.lanes.acc),
            "channels_per_beat": self.cb,
            "block_repeats": self.rep,
        }

    def write_data(self, out: Path) -> list[str]:
        """ROM images: word nf*SF + sf of lane ROM ``<layer>_wNNNN.mem`` (lane j) holds the weight codes
        of tap sf*SIMD + j for outputs nf*PE + p (PE 0 in the low bits); per PE, word nf of ``_bNNNN``
        holds output nf*PE + p's bias on the grid it is added on, and of ``_sNNNN`` its scale factor."""
        layer, lanes, pe, simd = self.layer, self.lanes, self.pe, self.simd
        nf, sf = layer.n_out // pe, layer.n_in // simd
        w_mask = (1 << lanes.weight_bits) - 1
        # (taps, C * multiplier): column c * multiplier + m is output j; then (simd, nf, sf, pe)
        codes = np.asarray(layer.weight.codes, dtype=np.int64).reshape(layer.n_in, layer.n_out)
        lanes_codes = codes.reshape(sf, simd, nf, pe).transpose(1, 2, 0, 3)
        names = []
        for j in range(simd):
            words = [
                sum((int(v) & w_mask) << (p * lanes.weight_bits) for p, v in enumerate(lanes_codes[j, i, k].tolist()))
                for i in range(nf)
                for k in range(sf)
            ]
            names.append(write_hex(out / f"{self.name}_w{j:04d}.mem", words, pe * lanes.weight_bits))
        tables: list[tuple[str, list[int], int]] = []  # (file suffix, one value per output, bits)
        if layer.bias is not None:
            shift = lanes.acc.frac - exact_fixed(layer.bias.format).frac  # onto the accumulator grid
            tables.append(("b", [int(v) << shift for v in layer.bias.ints.tolist()], lanes.bias_bits))
        if lanes.scaling is not None and lanes.scaling.per_neuron:
            tables.append(("s", list(lanes.scaling.factors), lanes.scaling.bits))
        for suffix, values, bits in tables:
            mask = (1 << bits) - 1
            for p in range(pe):
                names.append(
                    write_hex(out / f"{self.name}_{suffix}{p:04d}.mem", [v & mask for v in values[p::pe]], bits)
                )
        return names


def rtl_stages(layer: Conv, srcs: tuple[Stream, ...], graph: Graph, dsp: DspPrimitive) -> list[Stage]:
    """The window generator, a fold step per beat in blocks (``blocking``), then the depthwise engine."""
    (src,) = srcs
    _, simd = _fold(layer)
    shape = graph.input_spec(layer).shape
    check_beats(layer, src, layer.in_channels, "channels")
    block, rep = blocking(layer, src.elems)
    window = window_stage(layer, src, shape, pool=False, elems=simd * block * src.elems, block=block, rep=rep)
    # fg_dense's row datapath for the formats, one lane's (SIMD inputs a step), never packed
    lanes = replace(_engine(layer, Stream(window.dst.fmt, window.dst.n, simd), dsp), pack_shift=0)
    if lanes.engine == "multiplier_free" and lanes.src.codes:
        raise UnsupportedLayerError(
            f"layer {layer.name}: the depthwise engine's multiplier-free lanes take fixed-point inputs, not "
            f"{src.fmt}; quantize the layer's input to a fixed-point format"
        )
    return [window, VvauStage(layer, window.dst, lanes.dst, lanes, block * src.elems, rep)]


KIND = Kind(
    (DepthwiseConv1D, DepthwiseConv2D),
    golden,
    emit_hls,
    ("fg_dense.h", "fg_depthwise.h", "fg_ternary.h", "fg_window.h"),
    rtl_stages,
    (WindowStage, VvauStage),
)
