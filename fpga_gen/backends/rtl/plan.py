"""From a scheduled Graph to the RTL stages: stream layouts, engine parameters, DSP checks.

One plan is shared by the Verilog writer and the cycle model, so the two cannot disagree
about how a layer is folded or how many elements travel per beat.

Streams carry one frame (a sample's tensor, channels-last, row-major) per inference: the top
input carries SIMD elements of the first Dense layer per beat, or the input channels of the
first windowed layer (one pixel per beat), else one element; a Dense stage emits PE elements
per beat; Activation, window and pool stages keep the beat layout of their input; a Reshape
(Flatten) is no hardware at all (the element order is the same). A Dense stage writes
whatever beat width arrives straight into its input banks, so no width converter sits
between layers. Elements are fixed-point mantissas (two's complement or unsigned) or
minifloat codes (the format's bit patterns).

Windowed layers (rtl/fg_window.v, a double frame buffer in RAM): a convolution is a
WindowStage emitting each output position's window vector (taps x channels, the row-major
layout of the Keras kernel; padded taps are zeros) into a DenseStage of ``n_in = taps * C``
that repeats its dot products per position; a Pool / GlobalPool is a WindowStage (taps of
one channel group in a row, padded taps flagged) into a PoolStage (rtl/fg_pool.v). A
depthwise convolution runs on the same engine with its kernel expanded block-diagonally
over the channels (``DenseStage.weight_codes``). ScaleShift and Threshold are a ChanStage
(rtl/fg_chan.v), element-wise with per-channel constants.

Branches: a tensor read by several layers passes a ForkStage (rtl/fg_fork.v, a FIFO of a
whole frame per reader); an Add or a Concatenate is a MergeStage (rtl/fg_merge_in.v per
input, narrowing its beats to the common divisor of the input beat widths and making its
elements exact on the finest input grid, then rtl/fg_merge.v: the exact sum rounded once,
or each pixel's channels of every input in turn, each rounded into the output format).

Engines of a Dense stage (rtl/fg_dense.v, parameter ENGINE):

* ``dsp_chain`` -- fixed-point inputs x fixed-point weights: DSP cascades, SIMD slices
  per PE row (one DSP per lane); when the formats allow it exactly in the slice's pre-adder
  (``DspPrimitive.pack_shift``) and PE > 1, two PE rows share one cascade through the
  pre-adder (rtl/fg_dsp_pair.v, ``pack_shift`` > 0): SIMD slices per pair of rows, and an
  odd last row on its own cascade.
* ``minifloat`` -- any operand a minifloat: one DSP slice per lane for the significand
  product, exponent alignment by a barrel shifter, fabric adder tree (one DSP per lane).
* ``multiplier_free`` -- ternary / binary weights x fixed-point or minifloat inputs: add /
  subtract in a LUT adder tree, the scale applied once per output neuron (no DSP). A
  minifloat input is decoded first (fg_mf_decode, as for ``minifloat``) to its exact
  fixed-point value (``sizing.exact_fixed``, the Kulisch view), combinationally.

The DSP slices are the board's primitive (``dsp_kind``): DSP48E1 (7-series, UG479: 25 x 18
multiplier) or DSP48E2 (UltraScale+, UG579: 27 x 18); the operand checks use its widths.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.boards.dsp import DspPrimitive, cascades, primitive
from fpga_gen.errors import GraphError, ResourceError, UnsupportedLayerError
from fpga_gen.formats import Binary, FixedPoint, Format, MiniFloat, Ternary
from fpga_gen.formats.sizing import accumulator_format, exact_fixed, product_format
from fpga_gen.ir import (
    Activation,
    Add,
    Concatenate,
    Conv,
    Dense,
    Fold,
    GlobalPool,
    Graph,
    Input,
    Layer,
    MatMul,
    Output,
    Pool,
    Reshape,
    ScaleShift,
    Threshold,
)

# Parameter codes of rtl/fg_cast.v (RND_MODE, OVF_MODE), one per mode of FixedPoint.
RND_CODES = {"TRN": 0, "TRN_ZERO": 1, "RND": 2, "RND_ZERO": 3, "RND_MIN_INF": 4, "RND_INF": 5, "RND_CONV": 6}
OVF_CODES = {"WRAP": 0, "SAT": 1, "SAT_ZERO": 2, "SAT_SYM": 3}

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

StreamFormat = FixedPoint | MiniFloat


class DspOperandError(ResourceError):
    """An operand or partial sum of a layer does not fit the datapath of the DSP primitive."""


@dataclass(frozen=True)
class Stream:
    """Layout of one stream: ``elems`` elements of ``fmt`` per beat, ``n`` per frame."""

    fmt: StreamFormat
    n: int
    elems: int

    @property
    def width(self) -> int:
        """Bits of one element: the fixed-point mantissa or the minifloat code."""
        return self.fmt.bits

    @property
    def signed(self) -> bool:
        """Whether an element reads as a two's complement number (minifloat codes do not)."""
        return isinstance(self.fmt, FixedPoint) and self.fmt.signed

    @property
    def codes(self) -> bool:
        """Elements are minifloat codes, not integer mantissas."""
        return isinstance(self.fmt, MiniFloat)

    @property
    def beats(self) -> int:
        return self.n // self.elems

    @property
    def data_bits(self) -> int:
        return self.elems * self.width

    @property
    def bus_bits(self) -> int:
        """AXI4-Stream TDATA width: the data padded to whole bytes."""
        return -(-self.data_bits // 8) * 8


@dataclass(frozen=True)
class Operand:
    """A multiplier operand as rtl/fg_mf_decode.v reads it: value = v << e on its grid."""

    fmt: StreamFormat

    @property
    def value_bits(self) -> int:
        """Two's complement width of the significand v: M + 2 for a minifloat."""
        if isinstance(self.fmt, MiniFloat):
            return self.fmt.mantissa_bits + 2
        return signed_bits(self.fmt)

    @property
    def shift_bits(self) -> int:
        """Width of the exponent shift e: the exponent field's (field - 1 < 2**E)."""
        return self.fmt.exponent_bits if isinstance(self.fmt, MiniFloat) else 1

    def decode_params(self) -> dict[str, int]:
        """Parameters of fg_mf_decode for this operand."""
        doc = {"W": self.fmt.bits, "V_W": self.value_bits, "E_W": self.shift_bits}
        if isinstance(self.fmt, MiniFloat):
            return doc | {
                "MF": 1,
                "E": self.fmt.exponent_bits,
                "M": self.fmt.mantissa_bits,
                "SUB": int(self.fmt.subnormals),
            }
        return doc | {"MF": 0, "SIGNED": int(self.fmt.signed)}

    def params(self, prefix: str) -> dict[str, int]:
        """The same, named as a module that decodes it passes them on (``IN_W``, ``W_MF``, ...)."""
        return {f"{prefix}_{key}": value for key, value in self.decode_params().items()}


@dataclass(frozen=True)
class Convert:
    """Parameters of one fg_convert: relu, then the one rounding of an exact value on grid
    ``2**-in_frac`` into ``out`` (fg_cast for fixed point, fg_mf_round for a minifloat)."""

    in_frac: int
    out: StreamFormat
    relu: bool

    def params(self) -> dict[str, int]:
        doc = {"IN_FRAC": self.in_frac, "RELU": int(self.relu), "OUT_W": self.out.bits}
        if isinstance(self.out, MiniFloat):
            magnitude = (1 << (self.out.bits - 1)) - 1
            return doc | {
                "OUT_MF": 1,
                "OUT_E": self.out.exponent_bits,
                "OUT_M": self.out.mantissa_bits,
                "OUT_BIAS": self.out.bias,
                "OUT_SUB": int(self.out.subnormals),
                "OUT_MAX": int(self.out.to_codes(self.out.max_value)) & magnitude,
            }
        return doc | {
            "OUT_MF": 0,
            "OUT_FRAC": self.out.frac,
            "OUT_SIGNED": int(self.out.signed),
            "RND_MODE": RND_CODES[self.out.rounding],
            "OVF_MODE": OVF_CODES[self.out.overflow],
        }


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
class DenseStage:
    layer: MatMul  # Dense, or a convolution fed window by window
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

    @property
    def name(self) -> str:
        return self.layer.name

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
    def period(self) -> int:
        """Cycles of compute per frame: every output position repeats the steps."""
        return self.steps * self.layer.positions

    @property
    def dot_latency(self) -> int:
        """Issue of a step -> its partial dot product (fg_dense's DOT)."""
        if self.engine == "dsp_chain":
            return self.simd + CHAIN_DOT_EXTRA
        return MINIFLOAT_DOT if self.engine == "minifloat" else MULTIPLIER_FREE_DOT

    @property
    def latency(self) -> int:
        """Last input beat of a vector accepted -> its last output beat, with nothing stalling."""
        return self.steps + self.dot_latency + DENSE_TAIL

    @property
    def dsp(self) -> int:
        """DSP slices of the stage (DSP48E1 or DSP48E2): one per lane, one per pair of packed lanes."""
        return DSP_PER_LANE[self.engine] * cascades(self.pe, self.pack_shift > 0) * self.simd

    @property
    def bias_bits(self) -> int:
        """Width of a bias ROM word: the initial accumulator, or the scaled sum it joins."""
        return self.fin_bits if self.engine == "multiplier_free" else self.acc_bits

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
        doc |= {
            "PSUM_W": self.psum_bits,
            "ACC_W": self.acc_bits,
            "ACC_SHIFT": self.acc_shift,
            "HAS_BIAS": int(self.layer.bias is not None),
            "FIN_W": self.fin_bits,
            "FIN_FRAC": self.convert.in_frac,
        }
        return doc | {k: v for k, v in self.convert.params().items() if k != "IN_FRAC"}


class ElementStage:
    """A stage with one output register (fg_act, fg_pool, fg_chan; fg_merge overrides): no
    DSP, one beat in per cycle, and its last output beat one cycle after its last input beat."""

    layer: Layer
    src: Stream

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def period(self) -> int:
        return self.src.beats

    @property
    def latency(self) -> int:
        return 1

    @property
    def dsp(self) -> int:
        return 0


@dataclass(frozen=True)
class ActStage(ElementStage):
    layer: Activation
    src: Stream
    dst: Stream
    convert: Convert

    def params(self) -> dict[str, int]:
        return {"N": self.src.n, "ELEMS": self.src.elems, **exact_input_params(self.src), **self.convert.params()}


def exact_input_params(src: Stream) -> dict[str, int]:
    """Parameters of a stage that decodes each element of ``src`` to its exact value (X_W bits)."""
    return {**Operand(src.fmt).params("IN"), "X_W": signed_bits(exact_fixed(src.fmt))}


@dataclass(frozen=True)
class Geometry:
    """A windowed layer as fg_window sees it: input (H, W, C), a 1-D input as H = 1."""

    h: int
    w: int
    c: int
    kh: int
    kw: int
    sh: int
    sw: int
    pt: int  # padding before the first row
    pl: int  # ... and before the first column
    oh: int
    ow: int

    @property
    def taps(self) -> int:
        return self.kh * self.kw

    @property
    def positions(self) -> int:
        return self.oh * self.ow


@dataclass(frozen=True)
class WindowStage:
    """fg_window: ``dst`` carries every output position's window, one channel group per beat."""

    layer: Conv | Pool | GlobalPool
    src: Stream
    dst: Stream
    geometry: Geometry
    pool: bool  # tap order: (group, tap) for fg_pool, else (tap, group) for fg_dense

    @property
    def name(self) -> str:
        return f"{self.layer.name}_win"

    @property
    def period(self) -> int:
        """Cycles of emission per frame, one window beat per cycle, when no window waits for input rows
        (the line buffer can add gaps at row changes for strides >= 2; timing.py models them exactly)."""
        return self.dst.beats

    @property
    def latency(self) -> int:
        """At most: last input beat of a frame (cycle t) -> last window beat, t + 1 + beats, with nothing
        stalling (a line buffer emits earlier windows before the frame ends)."""
        return self.dst.beats + 1

    @property
    def dsp(self) -> int:
        return 0

    def params(self) -> dict[str, int]:
        g = self.geometry
        return {
            "H": g.h,
            "W": g.w,
            "C": g.c,
            "ELEMS": self.src.elems,
            "EW": self.src.width,
            "KH": g.kh,
            "KW": g.kw,
            "SH": g.sh,
            "SW": g.sw,
            "PT": g.pt,
            "PL": g.pl,
            "OH": g.oh,
            "OW": g.ow,
            "ORDER": int(self.pool),
        }


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
            **{k: v for k, v in self.convert.params().items() if k != "RELU"},  # a pool has no activation
        }


@dataclass(frozen=True)
class ChanStage(ElementStage):
    """fg_chan: a per-channel ScaleShift (exact, then one rounding) or Threshold (a table look-up)."""

    layer: ScaleShift | Threshold
    src: Stream
    dst: Stream

    @property
    def channels(self) -> int:
        return self.layer.output.shape[-1]

    def params(self) -> dict[str, int | str]:
        common: dict[str, int | str] = {
            "N": self.src.n,
            "ELEMS": self.src.elems,
            "C": self.channels,
            **exact_input_params(self.src),
            "OUT_W": self.dst.width,
        }
        layer = self.layer
        x_frac = exact_fixed(self.src.fmt).frac
        if isinstance(layer, ScaleShift):
            acc = layer.accumulator(self.src.fmt)
            s_frac, shift_frac = exact_fixed(layer.scale.format).frac, exact_fixed(layer.shift.format).frac
            scales = [int(v) for v in layer.scale.ints.tolist()]
            s_bits = max(max(v.bit_length() for v in scales) + 1, 2)
            fin_bits = signed_bits(acc)
            shifts = [int(v) << (acc.frac - shift_frac) for v in layer.shift.ints.tolist()]
            convert = _convert(layer, acc.frac, layer.activation).params()
            return (
                common
                | {
                    "MODE": 0,
                    "S_W": s_bits,
                    "P_SHIFT": acc.frac - x_frac - s_frac,
                    "FIN_W": fin_bits,
                    "SCALES": packed(scales, s_bits),
                    "SHIFTS": packed(shifts, fin_bits),
                }
                | {k: v for k, v in convert.items() if k != "OUT_W"}
            )
        t_frac = exact_fixed(layer.thresholds.format).frac
        top = max(x_frac, t_frac)
        thresholds = [int(v) << (top - t_frac) for v in layer.thresholds.ints.reshape(-1).tolist()]
        x_bits = signed_bits(exact_fixed(self.src.fmt)) + top - x_frac
        t_bits = max(x_bits, *(v.bit_length() + 1 for v in thresholds))
        return common | {
            "MODE": 1,
            "L": layer.levels,
            "T_W": t_bits,
            "X_SHIFT": top - x_frac,
            "THRESHOLDS": packed(thresholds, t_bits),
            "VALUES": packed([int(v) for v in layer.values.codes.reshape(-1).tolist()], self.dst.width),
        }


def packed(values: list[int], bits: int) -> str:
    """A Verilog literal of ``values`` in ``bits`` each (two's complement), values[0] in the low bits."""
    word = sum((v & ((1 << bits) - 1)) << (i * bits) for i, v in enumerate(values))
    return f"{len(values) * bits}'h{word:x}"


@dataclass(frozen=True)
class ForkStage:
    """fg_fork: the stream of ``layer`` copied to ``copies`` readers, each behind a FIFO of a
    whole frame. A branch may need up to a whole frame before an output (a window
    generator, a dense engine) while the other branch's reader (an Add, a Concatenate)
    waits for that output: the waiting branch's FIFO then holds up to a frame, and the
    fork stalls only once a frame is buffered, when the slow branch has all it needs."""

    layer: Layer  # the layer (or Input) whose output is read by several layers
    src: Stream
    copies: int

    @property
    def name(self) -> str:
        return f"{self.layer.name}_fork"

    @property
    def dst(self) -> Stream:
        return self.src

    @property
    def depth(self) -> int:
        return self.src.beats

    @property
    def period(self) -> int:
        return self.src.beats

    @property
    def latency(self) -> int:
        return 1

    @property
    def dsp(self) -> int:
        return 0

    def params(self) -> dict[str, int]:
        return {"K": self.copies, "W": self.src.data_bits, "DEPTH": self.depth}


@dataclass(frozen=True)
class MergeStage(ElementStage):
    """fg_merge_in per input (narrow to ``dst.elems`` per beat, exact on the finest input grid
    ``2**-frac``) into fg_merge: an Add (exact sum, one rounding) or a Concatenate (per pixel,
    ``channels[k]`` channels of input k in turn, each rounded into the output format)."""

    layer: Add | Concatenate
    srcs: tuple[Stream, ...]
    dst: Stream
    channels: tuple[int, ...]  # channels of each input (a pixel's share of the output)
    frac: int  # the common grid
    acc_bits: int  # two's complement width of the exact values and of an Add's sums
    convert: Convert

    @property
    def period(self) -> int:
        return self.dst.beats

    @property
    def latency(self) -> int:
        """The fg_merge_in register, then fg_merge's output register."""
        return 2

    def input_params(self, k: int) -> dict[str, int]:
        """Parameters of the fg_merge_in of input ``k``."""
        src = self.srcs[k]
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

    def params(self) -> dict[str, int | str]:
        doc: dict[str, int | str] = {
            "MODE": int(isinstance(self.layer, Concatenate)),
            "K": len(self.srcs),
            "N": self.dst.n,
            "ELEMS": self.dst.elems,
            "ACC_W": self.acc_bits,
        }
        if isinstance(self.layer, Concatenate):
            cnt_bits = max(max(self.pixel_beats) - 1, 1).bit_length()
            doc |= {"CNT_W": cnt_bits, "LAST_BEATS": packed([b - 1 for b in self.pixel_beats], cnt_bits)}
        return doc | {k: v for k, v in self.convert.params().items() if k != "RELU"}  # no activation


Stage = DenseStage | ActStage | WindowStage | PoolStage | ChanStage | ForkStage | MergeStage


@dataclass(frozen=True)
class Plan:
    """The stages in topological order; ``sources[i]``: the wires stage i reads (``wires``
    names what each stage drives), ``input_wire`` the top input's, ``output_wire`` the one
    leaving the top; ``dsp_kind`` the DSP primitive the engines instantiate."""

    graph: Graph
    stages: tuple[Stage, ...]
    sources: tuple[tuple[str, ...], ...]
    input: Stream
    output: Stream
    input_wire: str
    output_wire: str
    dsp: DspPrimitive

    @property
    def dsp_kind(self) -> str:
        return self.dsp.name

    def check_dsp(self) -> None:
        """Raise DspOperandError when an operand or partial sum of a stage exceeds the DSP slice."""
        for stage in self.stages:
            if isinstance(stage, DenseStage):
                stage.check_dsp(self.dsp)


def wires(stage: Stage) -> tuple[str, ...]:
    """The wires a stage drives: one per fork reader, else one."""
    if isinstance(stage, ForkStage):
        return tuple(f"w_{stage.name}_{k}" for k in range(stage.copies))
    return (f"w_{stage.name}",)


def plan(graph: Graph, dsp_kind: str = "DSP48E1") -> Plan:
    """Lay the layers of a scheduled graph out as RTL stages: a chain per layer, a fork where a
    tensor has several readers, a merge per Add / Concatenate, for DSP slices of ``dsp_kind``."""
    dsp = primitive(dsp_kind)
    layers = graph.layers[1:-1]
    if all(isinstance(l, Reshape) for l in layers):
        raise UnsupportedLayerError(
            f"graph {graph.name} has no layer that computes anything: there is nothing to implement in hardware"
        )
    # A Reshape is no hardware: its readers read the stream of the layer it reshapes.
    origin: dict[str, str] = {}
    for layer in graph.layers:
        origin[layer.name] = origin[layer.inputs[0]] if isinstance(layer, Reshape) else layer.name
    uses = Counter(origin[n] for l in graph.layers if not isinstance(l, Reshape) for n in l.inputs)
    stages: list[Stage] = []
    sources: list[tuple[str, ...]] = []
    ready: dict[str, list[tuple[Stream, str]]] = {}  # per stream, the (stream, wire) each reader takes

    def publish(layer: Layer, stream: Stream, wire: str) -> None:
        if uses[layer.name] > 1:
            fork = ForkStage(layer, stream, uses[layer.name])
            stages.append(fork)
            sources.append((wire,))
            ready[layer.name] = [(stream, w) for w in wires(fork)]
        else:
            ready[layer.name] = [(stream, wire)]

    stream = Stream(_stream_format(graph.input), graph.input.output.size, _input_elems(graph))
    input_wire = f"w_{graph.input.name}"
    publish(graph.input, stream, input_wire)
    for layer in layers:
        if isinstance(layer, Reshape):
            continue
        ins = [ready[origin[n]].pop(0) for n in layer.inputs]
        if isinstance(layer, Add | Concatenate):
            new: list[Stage] = [_merge(layer, tuple(s for s, _ in ins), graph)]
            reads = [tuple(w for _, w in ins)]
        else:
            new = _stages(layer, ins[0][0], graph.input_spec(layer).shape, dsp)
            reads = [(ins[0][1],), *(wires(s) for s in new[:-1])]
        stages += new
        sources += reads
        publish(layer, new[-1].dst, wires(new[-1])[0])
    out, output_wire = ready[origin[graph.output.inputs[0]]].pop()
    return Plan(graph, tuple(stages), tuple(sources), stream, out, input_wire, output_wire, dsp)


def _merge(layer: Add | Concatenate, srcs: tuple[Stream, ...], graph: Graph) -> MergeStage:
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
    dst = Stream(_stream_format(layer), layer.output.size, elems)
    return MergeStage(layer, srcs, dst, channels, frac, bits, Convert(frac, dst.fmt, False))


def _input_elems(graph: Graph) -> int:
    """Elements per top input beat: what the first layer that reads vectors or pixels takes."""
    for layer in graph.layers[1:-1]:
        if isinstance(layer, Dense):
            return _fold(layer).simd
        if isinstance(layer, Conv | Pool | GlobalPool):
            return graph.input_spec(layer).shape[-1]
    return 1


def _stages(layer: Layer, src: Stream, src_shape: tuple[int, ...], dsp: DspPrimitive) -> list[Stage]:
    if isinstance(layer, Reshape):
        return []  # the same elements in the same order
    if isinstance(layer, Dense):
        return [_dense(layer, src, dsp)]
    if isinstance(layer, Activation):
        dst = Stream(_stream_format(layer), src.n, src.elems)
        return [ActStage(layer, src, dst, _convert(layer, exact_fixed(src.fmt).frac, layer.function))]
    if isinstance(layer, Conv):
        if layer.depthwise and isinstance(layer.weight.format, Binary):
            raise UnsupportedLayerError(
                f"layer {layer.name}: a depthwise convolution with binary weights ({layer.weight.format}) has no "
                "zero weight to expand its kernel over the other channels; use ternary weights"
            )
        window = _window(layer, src, src_shape, pool=False)
        return [window, _dense(layer, window.dst, dsp)]
    if isinstance(layer, Pool | GlobalPool):
        window = _window(layer, src, src_shape, pool=True)
        return [window, _pool(layer, window)]
    if isinstance(layer, ScaleShift | Threshold):
        _check_beats(layer, src, layer.output.shape[-1], "channels")
        return [ChanStage(layer, src, Stream(_stream_format(layer), src.n, src.elems))]
    if isinstance(layer, Input | Output):
        raise GraphError(f"layer {layer.name}: an {layer.kind} layer can only start or end a graph")
    raise UnsupportedLayerError(f"layer {layer.name}: the RTL backend has no engine for {layer.kind} layers")


def _window(layer: Conv | Pool | GlobalPool, src: Stream, shape: tuple[int, ...], pool: bool) -> WindowStage:
    spatial, c = shape[:-1], shape[-1]
    if isinstance(layer, GlobalPool):
        window, strides, padding = spatial, (1,) * len(spatial), ((0, 0),) * len(spatial)
    else:
        window = layer.kernel if isinstance(layer, Conv) else layer.pool_size
        strides, padding = layer.strides, layer.padding
    if len(spatial) == 1:  # 1-D: one row, a one-tap unpadded first axis
        spatial, window, strides, padding = (1, *spatial), (1, *window), (1, *strides), ((0, 0), *padding)
    out = [(n + pb + pa - k) // s + 1 for n, k, s, (pb, pa) in zip(spatial, window, strides, padding, strict=True)]
    geometry = Geometry(
        spatial[0], spatial[1], c, window[0], window[1], strides[0], strides[1], padding[0][0], padding[1][0], *out
    )
    _check_beats(layer, src, c, "channels")
    dst = Stream(src.fmt, geometry.positions * geometry.taps * c, src.elems)
    return WindowStage(layer, src, dst, geometry, pool)


def _pool(layer: Pool | GlobalPool, window: WindowStage) -> PoolStage:
    src = window.dst
    taps = window.geometry.taps
    x_bits, frac = signed_bits(exact_fixed(src.fmt)), exact_fixed(src.fmt).frac
    dst = Stream(_stream_format(layer), layer.output.size, src.elems)
    if layer.function == "max":
        return PoolStage(layer, src, dst, taps, x_bits, 0, Convert(frac, dst.fmt, False))
    extra = max(exact_fixed(dst.fmt).frac - frac, 0) + 1  # as golden.cast_ratio
    convert = Convert(frac + extra + 1, dst.fmt, False)  # 2q + sticky, one bit below the quotient
    return PoolStage(layer, src, dst, taps, x_bits + taps.bit_length(), extra, convert)


def _dense(layer: MatMul, src: Stream, dsp: DspPrimitive) -> DenseStage:
    stage = _matmul(layer, src, dsp)
    _check_beats(layer, src, stage.n_in, "inputs")
    return stage


def _check_beats(layer: Layer, src: Stream, n: int, what: str) -> None:
    """A stage reads whole beats: ``src.elems`` must divide its ``n`` channels or inputs."""
    if n % src.elems:
        raise UnsupportedLayerError(
            f"layer {layer.name}: its input arrives {src.elems} elements per beat, which does not divide its "
            f"{n} {what}; choose a fold of the layer before it whose pe divides {n}"
        )


def _matmul(layer: MatMul, src: Stream, dsp: DspPrimitive) -> DenseStage:
    fold = _fold(layer)
    if layer.n_in % fold.simd or layer.n_out % fold.pe:
        raise GraphError(
            f"layer {layer.name}: fold {fold} must divide n_in={layer.n_in} (simd) and n_out={layer.n_out} (pe)"
        )
    w_fmt = layer.weight.format
    x_fmt = src.fmt
    acc = layer.accumulator(x_fmt)
    dst = Stream(_stream_format(layer), layer.output.size, fold.pe)
    common: dict[str, Any] = {
        "layer": layer,
        "src": src,
        "dst": dst,
        "pe": fold.pe,
        "simd": fold.simd,
        "x": Operand(x_fmt),
        "acc": acc,
        "fin_bits": signed_bits(acc),
        "convert": _convert(layer, acc.frac, layer.activation),
    }
    if isinstance(w_fmt, Ternary | Binary):
        return _multiplier_free(layer, w_fmt, x_fmt, common)
    if not isinstance(w_fmt, FixedPoint | MiniFloat):
        raise UnsupportedLayerError(f"layer {layer.name}: the RTL backend has no engine for weights in {w_fmt}")
    prod_frac = exact_fixed(x_fmt).frac + exact_fixed(w_fmt).frac
    psum = accumulator_format(x_fmt, w_fmt, fold.simd)
    # The accumulator holds every partial sum, so a shifted partial sum always fits it.
    assert signed_bits(acc) >= signed_bits(psum) + acc.frac - prod_frac
    fixed = isinstance(x_fmt, FixedPoint) and isinstance(w_fmt, FixedPoint)
    shift = dsp.pack_shift(x_fmt, w_fmt, fold.pe, fold.simd)
    # fg_dsp_pair reads the low field as the partial sum's PSUM_W bits: they must fit the field.
    assert shift is None or shift >= signed_bits(psum)
    return DenseStage(
        **common,
        engine="dsp_chain" if fixed else "minifloat",
        weight=Operand(w_fmt),
        weight_bits=signed_bits(w_fmt) if isinstance(w_fmt, FixedPoint) and fixed else w_fmt.bits,
        prod_bits=signed_bits(product_format(x_fmt, w_fmt)),
        psum_bits=signed_bits(psum),
        acc_bits=signed_bits(acc),
        acc_shift=acc.frac - prod_frac,
        scaling=None,
        pack_shift=shift or 0,
    )


def _multiplier_free(layer: MatMul, w_fmt: Ternary | Binary, x_fmt: StreamFormat, common: dict[str, Any]) -> DenseStage:
    """Ternary / binary weights: sum the inputs by weight level, scale once per output.

    The golden accumulator is sum(x * level * s) with s the scale on the weight grid
    (2**-w_fmt.frac); factoring s = factor << k out of the sum leaves a sum of levels,
    which the lanes add and subtract, and one ``* factor << (k + accumulator shift)``.
    A minifloat input enters the sum as its exact fixed-point value (``exact_fixed``).
    """
    unit = Binary(1.0) if isinstance(w_fmt, Binary) else Ternary(1.0)  # the weight levels
    fold = _fold(layer)
    scales = [int(Fraction(float(s)) * 2**w_fmt.frac) for s in w_fmt.scales]
    if w_fmt.per_channel and len(scales) != layer.n_out:
        raise GraphError(f"layer {layer.name}: {len(scales)} per-channel weight scales for {layer.n_out} outputs")
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
        psum_bits=signed_bits(accumulator_format(x_fmt, unit, fold.simd)),
        acc_bits=signed_bits(accumulator_format(x_fmt, unit, layer.n_in)),
        acc_shift=0,
        scaling=Scaling(factors if len(set(factors)) > 1 else factors[:1], common_pow2 + acc.frac - prod_frac),
    )


def _convert(layer: Layer, in_frac: int, function: str) -> Convert:
    # A minifloat tensor is always saturating (the IR refuses the others): the normaliser
    # saturates too, and never produces inf or NaN.
    return Convert(in_frac, _stream_format(layer), function == "relu")


def signed_bits(fmt: FixedPoint) -> int:
    """Width of ``fmt``'s mantissas as two's complement numbers."""
    return fmt.width + (0 if fmt.signed else 1)


def _fold(layer: MatMul) -> Fold:
    if layer.fold is None:
        raise GraphError(
            f"layer {layer.name} is not folded: the RTL backend needs a scheduled graph "
            "(run fpga_gen.passes.lower, or build the project with fpga_gen.build)"
        )
    return layer.fold


def _stream_format(layer: Layer) -> StreamFormat:
    fmt: Format = layer.output.format
    if not isinstance(fmt, FixedPoint | MiniFloat):
        raise UnsupportedLayerError(
            f"layer {layer.name}: format {fmt} cannot travel on an RTL stream, which carries fixed-point "
            "mantissas or minifloat codes: give the layer a fixed<W,I> or minifloat output format"
        )
    return fmt
