"""Dense and the convolutions (Conv1D/2D): exact dot products on the folded engine (the depthwise
convolutions, which share the golden rule and the HLS constants, are ``kinds.depthwise``).

y = round(activation(x @ W + b)) with an exact accumulator (``MatMul.accumulator``) and one
rounding. A convolution repeats its dot products per output position, fed by the window generator
a fold step (SIMD window elements, or, in RTL, enough for the neuron folds to hide the rest) per
cycle, so the engine runs at its fold's rate; a pointwise stride-1 convolution reads its
input stream as it comes. HLS: hls/fg_dense.h, one pipelined loop over the fold steps of every
vector (hls/fg_window.h before a convolution, the sign-weight twins of hls/fg_ternary.h for
ternary / binary weights). RTL: rtl/fg_dense.v, whose engine (``ENGINE``) depends on the formats:

* ``dsp_chain`` -- fixed-point inputs x fixed-point weights: DSP cascades, SIMD slices
  per PE row (one DSP per lane); when the formats allow it exactly in the slice's pre-adder
  (``DspPrimitive.pack_shift``) and PE > 1, two PE rows share one cascade through the
  pre-adder (rtl/fg_dsp_pair.v, ``pack_shift`` > 0): SIMD slices per pair of rows, and an
  odd last row on its own cascade. A convolution folded with two vectors per step
  (``Fold.vectors``, where ``DspPrimitive.quad_shift`` allows it: 4-bit-class formats, PE even)
  runs two rows x two output positions per cascade (rtl/fg_dsp_quad.v, AMD WP521: four products
  per slice, ``quad_shift`` > 0), the rows' weights packed into one B word in the ROM.
* ``minifloat`` -- any operand a minifloat: one DSP slice per lane for the significand
  product, or, when both significands have at most 4 bits (``boards.dsp.fabric_product``:
  every FP8 / FP6 / FP4 pair), the product in fabric (rtl/fg_lut_mult.v, no DSP); exponent
  alignment by a barrel shifter, fabric adder tree.
* ``multiplier_free`` -- ternary / binary weights x fixed-point or minifloat inputs: add /
  subtract in a LUT adder tree, the scale applied once per output neuron (no DSP). A
  minifloat input is decoded first (fg_mf_decode, as for ``minifloat``) to its exact
  fixed-point value (``sizing.exact_fixed``, the Kulisch view), combinationally.

The DSP slices are the board's primitive: DSP48E1 (7-series, UG479: 25 x 18 multiplier) or
DSP48E2 (UltraScale+, UG579: 27 x 18); the operand checks use its widths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from fpga_gen.backends.hls.planner import Edge, Field, Planner, element_format, int_rows, port
from fpga_gen.backends.rtl import cost
from fpga_gen.backends.rtl.cost import Resources, signed_bits
from fpga_gen.backends.rtl.handshake import DenseEngine, Node
from fpga_gen.backends.rtl.stages import (
    CONVERT_FILES,
    Convert,
    DspOperandError,
    Operand,
    Stage,
    Stream,
    WindowStage,
    check_beats,
    convert_to,
    stream_format,
    window_stage,
    write_hex,
)
from fpga_gen.boards.dsp import DspPrimitive, cascades, fabric_product, signed_width
from fpga_gen.errors import GraphError, UnsupportedLayerError
from fpga_gen.formats import Binary, FixedPoint, Format, MiniFloat, Ternary
from fpga_gen.formats.sizing import accumulator_format, exact_fixed, fit_range, int_range, product_format
from fpga_gen.golden import dot, exact_dtype, finish, windows
from fpga_gen.ir import (
    Conv,
    Conv1D,
    Conv2D,
    Dense,
    Fold,
    Graph,
    IntArray,
    MatMul,
)
from fpga_gen.kinds.kind import Kind
from fpga_gen.passes import quad_shift

# Engines of fg_dense (its ENGINE parameter) and the DSP slices each spends per lane
# (PE x SIMD lanes per layer); the fold pass budgets with the same numbers.
ENGINES = {"dsp_chain": 0, "minifloat": 1, "multiplier_free": 2}
DSP_PER_LANE = {"dsp_chain": 1, "minifloat": 1, "multiplier_free": 0}
# Cycles from the issue of a step to its partial dot product (fg_dense's DOT): operand
# register 1, then for the chain the skew (SIMD - 1) and AREG/MREG/PREG (3), for the
# minifloat MAC AREG/MREG/PREG (3), the alignment register and the adder tree register,
# for the multiplier-free lanes the adder tree register.
CHAIN_DOT_EXTRA = 3  # + SIMD
MINIFLOAT_DOT = 6
MULTIPLIER_FREE_DOT = 2
# After the dot product: the fabric accumulator (1) and the output register (1).
DENSE_TAIL = 2
# Library files of fg_dense and of each engine.
DENSE_FILES = ("fg_rom.v", "fg_weights.v", "fg_bank.v", "fg_out_reg.v", "fg_fold_out.v", "fg_dense.v")
ENGINE_FILES = {
    "dsp_chain": ("fg_skew.v", "fg_dsp_chain.v"),
    "minifloat": ("fg_mf_decode.v", "fg_dsp_chain.v", "fg_lut_mult.v", "fg_mf_mac.v", "fg_add_tree.v", "fg_mf_dot.v"),
    "multiplier_free": ("fg_add_tree.v", "fg_tern_dot.v", "fg_scale.v"),
}
PACKED_CHAIN_FILES = ("fg_skew.v", "fg_dsp_chain.v", "fg_dsp_pair.v")  # dsp_chain with two PE rows per cascade
QUAD_CHAIN_FILES = ("fg_skew.v", "fg_dsp_chain.v", "fg_dsp_quad.v")  # ... and two vectors per step

# -- golden ---------------------------------------------------------------------------------


def golden(layer: MatMul, srcs: list[IntArray], fmts: list[Format]) -> IntArray:
    x, in_fmt = srcs[0], fmts[0]
    acc_fmt = layer.accumulator(in_fmt)
    w = layer.weight.ints
    acc = _conv(layer, x, w, acc_fmt.width) if isinstance(layer, Conv) else dot(x, w, acc_fmt.width)
    acc = acc << (acc_fmt.frac - exact_fixed(in_fmt).frac - exact_fixed(layer.weight.format).frac)
    if layer.bias is not None:
        bias_frac = exact_fixed(layer.bias.format).frac
        acc = acc + (layer.bias.ints.astype(acc.dtype) << (acc_fmt.frac - bias_frac))
    return finish(layer.activation, layer, acc, acc_fmt.frac)


def _conv(layer: Conv, x: IntArray, w: IntArray, width: int) -> IntArray:
    win, _ = windows(x, layer.kernel, layer.strides, layer.padding)
    out_spatial = win.shape[1 : 1 + layer.rank]
    n = len(x)
    if not layer.depthwise:
        rows = win.reshape(n * int(np.prod(out_spatial)), layer.n_in)
        return dot(rows, w.reshape(layer.n_in, layer.n_out), width).reshape((n, *out_spatial, layer.n_out))
    # depthwise: one small dot product per (channel, multiplier); loop over the kernel taps
    dtype = exact_dtype(width)
    # the tap count is spelled out: reshape cannot infer -1 for an empty batch
    taps = win.reshape((*win.shape[: 1 + layer.rank], int(np.prod(layer.kernel)), layer.in_channels)).astype(dtype)
    wt = w.reshape(-1, *w.shape[-2:]).astype(dtype)
    acc = np.asarray(sum(taps[..., t, :, None] * wt[t] for t in range(wt.shape[0])))
    if dtype is np.float64:
        acc = acc.astype(np.int64)
    return acc.reshape((n, *out_spatial, layer.n_out))


# -- HLS ------------------------------------------------------------------------------------


def _weight_cpp(layer: MatMul) -> str:
    """The kernel's weight type: the format's own type, or the sign-weight twins of fg_ternary.h."""
    fmt = layer.weight.format
    if isinstance(fmt, Ternary):
        return "fg::ternary"
    if isinstance(fmt, Binary):
        return "fg::binary"
    return element_format(layer, fmt, "weight").cpp_type()


def emit_hls(layer: Dense | Conv, hls: Planner) -> None:
    hls.declare(layer)
    pe, simd = _fold(layer)
    assert layer.fold is not None
    vectors = layer.fold.vectors
    nf, sf = layer.n_out // pe, layer.n_in // simd
    steps = nf * sf  # per vector, or per pair of vectors

    def width(pack: int) -> int:
        # beats of whole fold steps, so each step's inputs arrive in one beat, and with two vectors
        # per step enough of them that a pair's inputs arrive in its steps (fg_dense.h)
        unit = math.lcm(pack, simd)
        return min(w for w in range(unit, layer.n_in + 1, unit) if layer.n_in % w == 0 and w * nf >= vectors * simd)

    shape = f"{'x'.join(map(str, layer.kernel))} conv" if isinstance(layer, Conv) else "dense"
    if isinstance(layer, Conv) and not _pointwise(layer, hls.graph.input_spec(layer).shape):
        edge, _ = hls.window(layer, lambda pack, _: width(pack))
    else:
        edge = hls.take(layer, 0, width(math.gcd(hls.edges[(layer.name, 0)].pack, layer.n_in)))
    fields, constants = hls_constants(layer, hls, edge.tensor)
    fields += [
        ("unsigned", "n_in", layer.n_in),
        ("unsigned", "n_out", layer.n_out),
        ("unsigned", "pe", pe),
        ("unsigned", "simd", simd),
        ("unsigned", "in_pack", edge.pack),
        ("unsigned", "buf_factor", math.lcm(simd, edge.pack)),
        ("unsigned", "positions", layer.positions),
        ("unsigned", "vectors", vectors),
        ("bool", "relu", layer.activation == "relu"),
    ]
    if vectors == 1:
        cycles = layer.positions * steps
        schedule = f"positions*(n_out/PE)*(n_in/SIMD) = {cycles} MAC cycles"
    else:  # fg_dense.h: the first vector read, the pairs' steps, the drains of their second results
        pairs, even = -(-layer.positions // 2), layer.positions % 2 == 0
        cycles = layer.n_in // edge.pack + pairs * steps + (pairs - 1) * max(0, nf - sf + 1) + (nf if even else 0)
        schedule = f"two positions per step: {cycles} cycles ({pairs} pairs of {steps} MAC cycles)"
    var = hls.output(layer, pe)
    hls.process(
        layer.name,
        layer.name,
        "dense",
        f"{layer.name}: {shape} {layer.n_in} -> {layer.n_out} at {layer.positions} positions, PE={pe} "
        f"SIMD={simd}: {schedule} per sample. Formats: weights "
        f"{layer.weight.format}, accumulator {layer.accumulator(hls.formats[edge.tensor])}",
        [(port("in", 0, edge.tensor, edge.pack), edge.expr), (port("out", 0, layer.name, pe), var)],
        fields,
        cycles,
        constants,
    )
    hls.produce(layer.name, Edge(var, layer.name, pe))


def hls_constants(layer: MatMul, hls: Planner, tensor: str) -> tuple[list[Field], tuple[str, ...]]:
    """The types of a matmul kernel's config struct reading ``tensor`` (fg_dense.h, fg_depthwise.h),
    and its constants: the weights [n_out][n_in] (row j is output j's fan-in in the window's order),
    the per-output scales of ternary / binary weights, the bias."""
    in_fmt = hls.formats[tensor]
    w_fmt = layer.weight.format
    fields: list[Field] = [
        ("typedef", "input_t", hls.elem(tensor)),
        ("typedef", "result_t", hls.elem(layer.name)),
        ("typedef", "weight_t", _weight_cpp(layer)),
        ("typedef", "weight_store_t", "fg::bits<weight_t>::type"),
        ("typedef", "accum_t", layer.accumulator(in_fmt).cpp_type()),
    ]
    # Keras' (*kernel, c_in, c_out) is row-major (tap, channel) x output; a depthwise (*kernel, c, m)
    # gives column c * m_count + m = output j, over the taps alone
    w_rows = layer.weight.codes.reshape(layer.n_in, layer.n_out).T
    weights = [
        hls.constant(
            layer,
            "weights",
            "w",
            w_fmt,
            "weight_store_t",
            [layer.n_out, layer.n_in],
            int_rows(layer, "weight", w_fmt, w_rows),
        )
    ]
    if isinstance(w_fmt, Ternary | Binary):
        # No multiplier: +-x summed exactly in sum_t, then one scale per output channel, each
        # an odd significand times a power of two (a power of two is a pure shift).
        lo, hi, frac = int_range(in_fmt)
        top = layer.n_in * max(-lo, hi)
        ints = layer.scale_ints()
        shifts = [(n & -n).bit_length() - 1 for n in ints]
        sigs = [n >> k for n, k in zip(ints, shifts, strict=True)]
        scale_cpp = f"fg::channel_scale<{max(sigs).bit_length()}, {max(max(shifts).bit_length(), 1)}, {w_fmt.frac}>"
        fields += [
            ("typedef", "sum_t", fit_range(-top, top, frac).cpp_type()),
            ("typedef", "scale_t", scale_cpp),
            ("unsigned", "n_scales", len(sigs)),
        ]
        rows = [f"{{{sig}, {shift}}}" for sig, shift in zip(sigs, shifts, strict=True)]
        weights.append(hls.constant(layer, "scales", "s", w_fmt, "scale_t", [len(rows)], rows))
    else:
        fields.append(("typedef", "sum_t", "accum_t"))
    if layer.bias is not None:
        b_fmt = element_format(layer, layer.bias.format, "bias")
        fields += [("typedef", "bias_t", b_fmt.cpp_type()), ("typedef", "bias_store_t", "fg::bits<bias_t>::type")]
        b_rows = int_rows(layer, "bias", b_fmt, layer.bias.codes)
        weights.append(hls.constant(layer, "bias", "b", b_fmt, "bias_store_t", [layer.n_out], b_rows))
    return fields, tuple(w["var"] for w in weights)


# -- RTL ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scaling:
    """Scale of ternary / binary weights, applied once per output: ``* factor << shift``.

    ``factors``: each output neuron's scale as an integer on the weight grid, divided by the
    power of two all of them share (which joins ``shift``); a single factor when every
    neuron has the same. A factor of 1 makes the scale a pure shift.
    """

    factors: tuple[int, ...]
    shift: int

    @property
    def bits(self) -> int:
        return max(max(self.factors).bit_length(), 1)

    @property
    def per_neuron(self) -> bool:
        return len(self.factors) > 1


@dataclass(frozen=True)
class DenseStage(Stage):
    """fg_dense: the folded matmul engine of a Dense layer, or of a convolution fed window by window."""

    layer: MatMul
    src: Stream
    dst: Stream
    pe: int
    simd: int
    engine: str  # a key of ENGINES
    x: Operand
    weight: Operand | None  # None for ternary / binary weights (levels, not multiplied)
    weight_bits: int  # ROM bits per weight code
    prod_bits: int  # signed width of one lane's exact product (minifloat / multiplier-free)
    psum_bits: int  # signed width of a SIMD-wide partial dot product
    acc: FixedPoint  # the exact accumulator of the layer
    acc_bits: int  # signed width of the fold accumulator in fabric
    acc_shift: int  # product grid -> fold accumulator grid
    fin_bits: int  # signed width of the exact value converted to the output
    scaling: Scaling | None  # multiplier-free only
    convert: Convert
    pack_shift: int = 0  # dsp_chain: 0 one cascade per PE row, else two rows per cascade, low field bits
    quad_shift: int = 0  # dsp_chain: else two rows x two vectors per cascade, the field width K
    module: ClassVar[str] = "fg_dense"
    template: ClassVar[str] = "dense.v.j2"

    @property
    def srcs(self) -> tuple[Stream, ...]:
        return (self.src,)

    @property
    def n_in(self) -> int:
        """Length of the engine's dot products: the layer's, or for a depthwise convolution its
        taps x every input channel (the kernel expanded block-diagonally, see ``weight_codes``)."""
        layer = self.layer
        return layer.n_in * layer.in_channels if isinstance(layer, Conv) and layer.depthwise else layer.n_in

    def weight_codes(self) -> npt.NDArray[np.int64]:
        """The (n_in, n_out) weight codes the engine multiplies, rows in window order (tap, channel).

        A depthwise kernel (taps, C, multiplier) becomes the block-diagonal matrix whose column
        c * multiplier + m holds its taps in the rows of channel c and zero codes (the value 0)
        elsewhere: the engine then computes every depthwise dot product exactly, at C times the
        multiply-adds of a per-channel engine.
        """
        layer = self.layer
        codes = np.asarray(layer.weight.codes, dtype=np.int64)
        if not (isinstance(layer, Conv) and layer.depthwise):
            return codes.reshape(layer.n_in, layer.n_out)
        c = layer.in_channels
        kernel = codes.reshape(layer.n_in, c, -1)  # (taps, C, multiplier)
        full = np.zeros((layer.n_in, c, c, kernel.shape[-1]), dtype=np.int64)
        for ch in range(c):
            full[:, ch, ch, :] = kernel[:, ch, :]
        return full.reshape(self.n_in, layer.n_out)

    @property
    def steps(self) -> int:
        """Cycles of compute per vector: neuron folds x synapse folds."""
        return (self.layer.n_out // self.pe) * (self.n_in // self.simd)

    @property
    def vectors(self) -> int:
        """Input vectors (output positions) per step: 2 with four products per slice."""
        return 2 if self.quad_shift else 1

    @property
    def period(self) -> int:
        """Cycles of compute per frame: every output position repeats the steps (two at a time with
        two vectors per step)."""
        return self.steps * -(-self.layer.positions // self.vectors)

    @property
    def dot_latency(self) -> int:
        """Issue of a step -> its partial dot product (fg_dense's DOT)."""
        if self.engine == "dsp_chain":
            return self.simd + CHAIN_DOT_EXTRA
        return MINIFLOAT_DOT if self.engine == "minifloat" else MULTIPLIER_FREE_DOT

    @property
    def latency(self) -> int:
        """Last input beat of a vector accepted -> its last output beat, with nothing stalling (the
        second vector of a pair: after the first's NF beats)."""
        return self.steps + self.dot_latency + DENSE_TAIL + (self.vectors - 1) * self.layer.n_out // self.pe

    @property
    def fabric_product(self) -> bool:
        """The minifloat engine's significand products are built in fabric (fg_lut_mult), not on slices."""
        return self.weight is not None and fabric_product(self.x.fmt, self.weight.fmt)

    @property
    def dsp(self) -> int:
        """DSP slices of the stage (DSP48E1 or DSP48E2): one per lane, one per pair of packed lanes,
        none for fabric products."""
        per_lane = 0 if self.fabric_product else DSP_PER_LANE[self.engine]
        return per_lane * cascades(self.pe, self.pack_shift > 0 or self.quad_shift > 0) * self.simd

    @property
    def bias_bits(self) -> int:
        """Width of a bias ROM word: the initial accumulator, or the scaled sum it joins."""
        return self.fin_bits if self.engine == "multiplier_free" else self.acc_bits

    @property
    def bank_lanes(self) -> int:
        """Elements per word of the input banks' RAM (fg_dense's LANES): a whole input beat and a
        whole step's slice each lie in one word."""
        return math.lcm(self.src.elems, self.simd)

    @property
    def bank_words(self) -> int:
        """Words of the input banks' RAM: both banks."""
        return 2 * self.n_in // self.bank_lanes

    @property
    def bank_block(self) -> bool:
        """The input banks are in block RAM (else LUTRAM)."""
        lanes = self.bank_lanes
        return cost.bank_in_block_ram(self.bank_words, lanes * self.src.width, lanes // self.src.elems)

    def roms(self) -> dict[str, tuple[int, int]]:
        """(depth, width) of the ROMs by fg_dense's parameter prefix: SIMD lane ROMs of PE weight codes
        each ("W"), per PE a bias ROM ("B") and a per-neuron scale ROM ("S") where the layer has them."""
        nf = self.layer.n_out // self.pe
        shapes = {"W": (self.steps, self.pe // self.vectors * self.weight_bits)}
        if self.layer.bias is not None:
            shapes["B"] = (nf, self.bias_bits)
        if self.scaling is not None and self.scaling.per_neuron:
            shapes["S"] = (nf, self.scaling.bits)
        return shapes

    def check_dsp(self, dsp: DspPrimitive) -> None:
        """Raise DspOperandError when an operand or partial sum exceeds the ``dsp`` slice."""
        if self.weight is None:
            return
        dsp_kind, a_bits, b_bits = dsp.name, dsp.a_bits, dsp.b_bits
        x_fmt, w_fmt = self.x.fmt, self.weight.fmt
        what = "significand" if isinstance(x_fmt, MiniFloat) else "operand"
        if self.x.value_bits > a_bits:
            raise DspOperandError(
                f"layer {self.name}: input format {x_fmt} needs {self.x.value_bits} bits as a signed multiplier "
                f"{what}, but the {dsp_kind} A port multiplies at most {a_bits} bits ({a_bits - 1} unsigned); "
                f"use an input format of at most {a_bits} bits"
            )
        if self.weight.value_bits > b_bits:
            what = "significand" if isinstance(w_fmt, MiniFloat) else "operand"
            raise DspOperandError(
                f"layer {self.name}: weight format {w_fmt} needs {self.weight.value_bits} bits as a signed "
                f"multiplier {what}, but the {dsp_kind} B port takes at most {b_bits}; "
                f"quantize the weights to at most {b_bits} bits ({b_bits - 1} unsigned)"
            )
        if self.engine == "dsp_chain" and self.psum_bits > dsp.p_bits:
            raise DspOperandError(
                f"layer {self.name}: a partial sum of simd={self.simd} products of {x_fmt} x {w_fmt} needs "
                f"{self.psum_bits} bits, more than the {dsp.p_bits}-bit {dsp_kind} cascade; use a smaller "
                "simd fold or narrower input/weight formats"
            )

    def params(self) -> dict[str, int]:
        doc = {
            "ENGINE": ENGINES[self.engine],
            "N_IN": self.n_in,
            "N_OUT": self.layer.n_out,
            "PE": self.pe,
            "SIMD": self.simd,
            "IN_ELEMS": self.src.elems,
            "POSITIONS": self.layer.positions,
        }
        if self.engine == "minifloat":
            assert self.weight is not None
            doc |= self.x.params("IN") | self.weight.params("W") | {"PROD_W": self.prod_bits}
        else:
            doc |= {"IN_W": self.src.width, "IN_SIGNED": int(self.src.signed), "W_W": self.weight_bits}
            if self.engine == "multiplier_free" and self.src.codes:
                doc |= self.x.params("IN") | {"X_W": signed_bits(exact_fixed(self.x.fmt))}
        if self.scaling is not None:
            doc |= {
                "BINARY": int(isinstance(self.layer.weight.format, Binary)),
                "PROD_W": self.prod_bits,
                "SCALE_W": self.scaling.bits,
                "SCALE_SHIFT": self.scaling.shift,
            }
            doc |= {"SCALE_ROM": 1} if self.scaling.per_neuron else {"SCALE": self.scaling.factors[0]}
        if self.pack_shift:
            doc |= {"PACK_SHIFT": self.pack_shift}
        if self.quad_shift:
            doc |= {"VECTORS": self.vectors, "QUAD_SHIFT": self.quad_shift}
        doc |= {
            "PSUM_W": self.psum_bits,
            "ACC_W": self.acc_bits,
            "ACC_SHIFT": self.acc_shift,
            "HAS_BIAS": int(self.layer.bias is not None),
            "FIN_W": self.fin_bits,
            "FIN_FRAC": self.convert.in_frac,
            "BANK_BLOCK": int(self.bank_block),
        }
        doc |= {f"{name}_BLOCK": int(cost.rom_in_block_ram(*shape)) for name, shape in self.roms().items()}
        return doc | {k: v for k, v in self.convert.params().items() if k != "IN_FRAC"}

    def cost(self) -> Resources:
        """fg_dense: the input banks' RAM, the weight lane ROMs and per PE the bias (/ scale) ROMs, the
        engine's lanes, the fold accumulator, the output conversion and register."""
        layer = self.layer
        pe, simd, n_in = self.pe, self.simd, self.n_in
        sf, nf = n_in // simd, layer.n_out // pe
        in_w, out_w = self.src.width, self.dst.width
        lanes, words = self.bank_lanes, self.bank_words
        groups = lanes // simd  # read lane groups a word: the mux after the RAM
        bank = Resources(lut=simd * in_w * cost.mux(groups))
        if self.bank_block:
            bank += Resources(bram36=cost.block_ram(words, lanes * in_w, groups=lanes // self.src.elems).tiles)
            bank += Resources(ff=cost.bits_for(groups))  # the registered lane group
        else:
            bank += cost.lutram(words, lanes * in_w) + Resources(ff=simd * in_w)
        r = Resources(dsp=self.dsp) + bank.scaled(self.vectors)  # a RAM per vector of a step
        shapes = self.roms()
        r += cost.rom(*shapes["W"]).scaled(simd)
        per_pe = sum((cost.rom(*shapes[k]) for k in ("B", "S") if k in shapes), Resources())
        if self.engine == "dsp_chain":
            # the inputs' systolic skew (fg_skew, shared by the PEs: lane j delayed j cycles) and the
            # weight ROMs' address chain; the slices do the multiply-adds and the cascade the sum
            for j in range(1, simd):
                r += cost.delay(in_w, j).scaled(self.vectors)
            r += Resources(ff=(simd - 1) * cost.bits_for(self.steps))
            if self.pack_shift:  # fg_dsp_pair: the high field's +1 correction, one adder per pair
                r += Resources(lut=pe // 2 * self.psum_bits)
            if self.quad_shift:  # fg_dsp_quad: three fields' +1 corrections per pair, the second vector's
                # results waiting in a LUTRAM of NF beats, the drain's counters
                r += Resources(lut=pe // 2 * 3 * self.quad_shift) + cost.lutram(nf, pe * out_w)
                r += cost.control(nf, nf, -(-layer.positions // 2))
        elif self.engine == "minifloat":
            assert self.weight is not None
            r += cost.decode(self.x.fmt, simd)
            shift = self.x.shift_bits + self.weight.shift_bits
            lane = Resources(lut=self.prod_bits * cost.levels(shift), ff=self.prod_bits)  # alignment + its register
            if self.fabric_product:  # fg_lut_mult: a x b partial products, three registers (Yosys: 5x5 41 LUTs, 30 FFs)
                a, b = self.x.value_bits, self.weight.value_bits
                lane += Resources(lut=a * b + 3 * (a + b) // 2, ff=3 * (a + b))
            per_pe += Resources(lut=simd * (lane.lut + self.weight.value_bits), ff=simd * lane.ff)
            per_pe += Resources(lut=(simd - 1) * self.psum_bits, ff=self.psum_bits)  # adder tree + register
        else:
            r += cost.decode(self.x.fmt, simd)
            # add / subtract / skip per lane, then the adder tree and its register
            per_pe += Resources(lut=simd * self.prod_bits + (simd - 1) * self.psum_bits, ff=self.psum_bits)
            assert self.scaling is not None
            terms = self.scaling.bits if self.scaling.per_neuron else bin(self.scaling.factors[0]).count("1")
            per_pe += Resources(lut=(terms - 1) * self.fin_bits + self.fin_bits)  # shift-and-add, + bias
        # fold accumulator and conversion per vector of a step, the output register
        per_pe += (Resources(lut=self.acc_bits, ff=self.acc_bits) + cost.convert(self.dst.fmt, self.fin_bits)).scaled(
            self.vectors
        )
        per_pe += Resources(ff=out_w)
        beats = self.src.beats // max(layer.positions, 1)
        # step and beat counters, the banks' read and write addresses and lane groups
        control = cost.control(sf, nf, beats, layer.positions, words, words, lanes // self.src.elems, groups)
        pipeline = Resources(ff=self.dot_latency * (cost.bits_for(nf) + 2))  # step tags along the pipeline
        return r + per_pe.scaled(pe) + control + pipeline

    def timing(self) -> Node:
        return DenseEngine(
            self.n_in // self.src.elems,
            self.steps,
            self.n_in // self.simd,
            self.dot_latency,
            self.vectors,
            self.layer.positions,
        )

    def files(self) -> tuple[str, ...]:
        packed = QUAD_CHAIN_FILES if self.quad_shift else PACKED_CHAIN_FILES if self.pack_shift else None
        engine = packed or ENGINE_FILES[self.engine]
        # minifloat inputs of the multiplier-free lanes are made exact first
        decode = ("fg_mf_decode.v",) if self.engine == "multiplier_free" and self.src.codes else ()
        return (*CONVERT_FILES[self.dst.codes], *DENSE_FILES, *engine, *decode)

    def manifest(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "pe": self.pe,
            "simd": self.simd,
            "accumulator": str(self.acc),
            "pack_shift": self.pack_shift,  # 0: one MAC per slice, else two PE rows per cascade
            "vectors": self.vectors,  # 2: two PE rows x two output positions per cascade (quad_shift)
            "quad_shift": self.quad_shift,
        }

    def write_data(self, out: Path) -> list[str]:
        """ROM images: word nf*SF + sf of lane ROM ``<layer>_wNNNN.mem`` (lane j) holds the weight codes
        of input sf*SIMD + j for neurons nf*PE + p (PE 0 in the low bits; with two vectors per step,
        the packed words ``w[2k+1] * 2**K + w[2k]`` of the pairs of rows); per PE, word nf of
        ``_bNNNN`` holds neuron nf*PE + p's bias on the grid it is added on, and of ``_sNNNN`` its
        scale factor (per-channel ternary / binary)."""
        layer = self.layer
        nf, sf = layer.n_out // self.pe, self.n_in // self.simd
        w_mask = (1 << self.weight_bits) - 1

        # (simd, nf, sf, pe): the code of input sf*SIMD + j's weight for neuron nf*PE + p
        def by_lane(a: npt.ArrayLike) -> npt.NDArray[np.int64]:
            return np.asarray(a, dtype=np.int64).reshape(sf, self.simd, nf, self.pe).transpose(1, 2, 0, 3)

        if self.quad_shift:  # the packed pairs of the weights' values (a convolution's, never depthwise)
            ints = by_lane(layer.weight.ints)
            lanes = ints[..., 1::2] * 2**self.quad_shift + ints[..., 0::2]
        else:
            lanes = by_lane(self.weight_codes())
        cols = self.pe // self.vectors
        shifts = [c * self.weight_bits for c in range(cols)]
        names = []
        for j in range(self.simd):
            words = [
                sum((int(v) & w_mask) << sh for v, sh in zip(lanes[j, i, k].tolist(), shifts, strict=True))
                for i in range(nf)
                for k in range(sf)
            ]
            names.append(write_hex(out / f"{self.name}_w{j:04d}.mem", words, cols * self.weight_bits))
        tables: list[tuple[str, list[int], int]] = []  # (file suffix, one value per neuron, bits)
        if layer.bias is not None:
            shift = self.acc.frac - exact_fixed(layer.bias.format).frac  # onto the accumulator grid
            bias = [int(v) << shift for v in layer.bias.ints.tolist()]
            tables.append(("b", bias, self.bias_bits))
        if self.scaling is not None and self.scaling.per_neuron:
            tables.append(("s", list(self.scaling.factors), self.scaling.bits))
        for suffix, values, bits in tables:
            mask = (1 << bits) - 1
            for p in range(self.pe):
                words = [v & mask for v in values[p :: self.pe]]  # neuron nf*PE + p, for nf = 0, 1, ...
                names.append(write_hex(out / f"{self.name}_{suffix}{p:04d}.mem", words, bits))
        return names


def rtl_stages(layer: MatMul, srcs: tuple[Stream, ...], graph: Graph, dsp: DspPrimitive) -> list[Stage]:
    """A Dense layer's engine; a convolution's window generator, then its engine."""
    (src,) = srcs
    if not isinstance(layer, Conv):
        return [_engine(layer, src, dsp)]
    shape = graph.input_spec(layer).shape
    g = layer.window_geometry(shape)
    if _pointwise(layer, shape):
        return [_engine(layer, src, dsp)]
    window = window_stage(layer, src, shape, pool=False, elems=_window_elems(layer, g.taps * g.c, src.elems))
    return [window, _engine(layer, window.dst, dsp)]


def _pointwise(layer: Conv, shape: tuple[int, ...]) -> bool:
    """A 1x1, stride-1, unpadded convolution: its input stream is already its windows, in order."""
    g = layer.window_geometry(shape)
    return (g.taps, g.sh, g.sw, g.pt, g.pl, g.oh, g.ow) == (1, 1, 1, 0, 0, g.h, g.w)


def _window_elems(layer: Conv, size: int, elems: int) -> int:
    """Window elements per beat for ``layer``'s engine: the fewest whole input beats (one line
    buffer copy each) dividing the window of ``size`` elements that deliver a position's window in
    no more cycles than the engine computes on it (n_out / PE neuron folds of SIMD inputs each)."""
    pe, simd = _fold(layer)
    nf = layer.n_out // pe
    assert layer.fold is not None
    vectors = layer.fold.vectors  # windows per step
    return elems * min(
        w for w in range(1, size // elems + 1) if size % (w * elems) == 0 and w * elems * nf >= simd * vectors
    )


def _fold(layer: MatMul) -> tuple[int, int]:
    """The layer's (pe, simd), which must divide its (n_out, n_in)."""
    if layer.fold is None:
        raise GraphError(
            f"layer {layer.name} ({layer.kind}) is not folded (PE x SIMD): the backends need a scheduled graph "
            "(build the project with fpga_gen.build, or run fpga_gen.passes.schedule)"
        )
    fold: Fold = layer.fold
    if layer.n_in % fold.simd or layer.n_out % fold.pe:
        raise GraphError(
            f"layer {layer.name}: fold {fold} must divide n_in={layer.n_in} (simd) and n_out={layer.n_out} (pe)"
        )
    if fold.vectors > 1 and not (isinstance(layer, Conv) and not layer.depthwise and layer.positions > 1):
        raise GraphError(
            f"layer {layer.name} ({layer.kind}): fold {fold} has two vectors per step, which only a (not depthwise) "
            "convolution's output positions share: fold it with vectors=1"
        )
    return fold.pe, fold.simd


def _quad(layer: MatMul, x_fmt: Format, dsp: DspPrimitive) -> int:
    """The field width K of a fold of two vectors per step (``passes.quad_shift``), 0 for one vector."""
    fold = layer.fold
    assert fold is not None
    if fold.vectors == 1:
        return 0
    k = quad_shift(layer, fold, x_fmt, dsp.name)
    if k is None:
        raise GraphError(
            f"layer {layer.name}: fold {fold} asks for two vectors per step, which only a convolution's positions "
            f"with formats that fit four products in a {dsp.name} slice allow (input {x_fmt}, weights "
            f"{layer.weight.format}, PE even): fold it with vectors=1"
        )
    return k


def _engine(layer: MatMul, src: Stream, dsp: DspPrimitive) -> DenseStage:
    """The engine for the formats, its operands checked against the ``dsp`` slice."""
    pe, simd = _fold(layer)
    w_fmt = layer.weight.format
    x_fmt = src.fmt
    acc = layer.accumulator(x_fmt)
    dst = Stream(stream_format(layer), layer.output.size, pe)
    common: dict[str, Any] = {
        "layer": layer,
        "src": src,
        "dst": dst,
        "pe": pe,
        "simd": simd,
        "x": Operand(x_fmt),
        "acc": acc,
        "fin_bits": signed_bits(acc),
        "convert": convert_to(layer, acc.frac, layer.activation),
    }
    if isinstance(w_fmt, Ternary | Binary):
        _quad(layer, x_fmt, dsp)  # one vector per step only
        stage = _multiplier_free(layer, w_fmt, x_fmt, common)
    elif isinstance(w_fmt, FixedPoint | MiniFloat):
        stage = _multiplier(layer, w_fmt, x_fmt, common, dsp)
    else:
        raise UnsupportedLayerError(f"layer {layer.name}: the RTL backend has no engine for weights in {w_fmt}")
    check_beats(layer, src, stage.n_in, "inputs")
    stage.check_dsp(dsp)
    return stage


def _multiplier(
    layer: MatMul, w_fmt: FixedPoint | MiniFloat, x_fmt: Format, common: dict[str, Any], dsp: DspPrimitive
) -> DenseStage:
    pe, simd = _fold(layer)
    acc: FixedPoint = common["acc"]
    prod_frac = exact_fixed(x_fmt).frac + exact_fixed(w_fmt).frac
    psum = accumulator_format(x_fmt, w_fmt, simd)
    # The accumulator holds every partial sum, so a shifted partial sum always fits it.
    assert signed_bits(acc) >= signed_bits(psum) + acc.frac - prod_frac
    fixed = isinstance(x_fmt, FixedPoint) and isinstance(w_fmt, FixedPoint)
    quad = _quad(layer, x_fmt, dsp)
    shift = None if quad else dsp.pack_shift(x_fmt, w_fmt, pe, simd)
    # fg_dsp_pair reads the low field as the partial sum's PSUM_W bits: they must fit the field.
    assert shift is None or shift >= signed_bits(psum)
    if quad:  # a ROM word per pair of rows: the packed w1 * 2**K + w0
        w_lo, w_hi, _ = int_range(w_fmt)
        weight_bits = signed_width(w_lo * 2**quad + w_lo, w_hi * 2**quad + w_hi)
    else:
        weight_bits = signed_bits(w_fmt) if isinstance(w_fmt, FixedPoint) and fixed else w_fmt.bits
    return DenseStage(
        **common,
        engine="dsp_chain" if fixed else "minifloat",
        weight=Operand(w_fmt),
        weight_bits=weight_bits,
        prod_bits=signed_bits(product_format(x_fmt, w_fmt)),
        psum_bits=signed_bits(psum),
        acc_bits=signed_bits(acc),
        acc_shift=acc.frac - prod_frac,
        scaling=None,
        pack_shift=shift or 0,
        quad_shift=quad,
    )


def _multiplier_free(layer: MatMul, w_fmt: Ternary | Binary, x_fmt: Format, common: dict[str, Any]) -> DenseStage:
    """Ternary / binary weights: sum the inputs by weight level, scale once per output.

    The golden accumulator is sum(x * level * s) with s the scale on the weight grid
    (2**-w_fmt.frac); factoring s = factor << k out of the sum leaves a sum of levels,
    which the lanes add and subtract, and one ``* factor << (k + accumulator shift)``,
    ``k`` the power of two every output's scale shares. A minifloat input enters the sum as
    its exact fixed-point value (``exact_fixed``).
    """
    unit = Binary(1.0) if isinstance(w_fmt, Binary) else Ternary(1.0)  # the weight levels
    _, simd = _fold(layer)
    scales = layer.scale_ints()
    common_pow2 = min((s & -s).bit_length() - 1 for s in scales)
    factors = tuple(s >> common_pow2 for s in scales)
    acc: FixedPoint = common["acc"]
    prod_frac = exact_fixed(x_fmt).frac + w_fmt.frac
    return DenseStage(
        **common,
        engine="multiplier_free",
        weight=None,
        weight_bits=w_fmt.bits,
        prod_bits=signed_bits(product_format(x_fmt, unit)),
        psum_bits=signed_bits(accumulator_format(x_fmt, unit, simd)),
        acc_bits=signed_bits(accumulator_format(x_fmt, unit, layer.n_in)),
        acc_shift=0,
        scaling=Scaling(factors if len(set(factors)) > 1 else factors[:1], common_pow2 + acc.frac - prod_frac),
    )


KIND = Kind(
    (Dense, Conv1D, Conv2D),
    golden,
    emit_hls,
    ("fg_dense.h", "fg_ternary.h", "fg_window.h"),
    rtl_stages,
    (WindowStage, DenseStage),
)
