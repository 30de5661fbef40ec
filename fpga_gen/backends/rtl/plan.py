"""From a scheduled Graph to the RTL stages: stream layouts, engine parameters, DSP checks.

One plan is shared by the Verilog writer and the cycle model, so the two cannot disagree
about how a layer is folded or how many elements travel per beat.

Streams: the top input carries SIMD elements of the first Dense layer per beat (one element
when there is none); a Dense stage emits PE elements per beat; an Activation stage keeps the
beat layout of its input. A Dense stage writes whatever beat width arrives straight into its
input banks, so no width converter sits between layers. Elements are fixed-point mantissas
(two's complement or unsigned) or minifloat codes (the format's bit patterns).

Engines of a Dense stage (rtl/fg_dense.v, parameter ENGINE):

* ``dsp_chain`` -- fixed-point inputs x fixed-point weights: DSP48E1 cascades, SIMD slices
  per PE row (one DSP per lane).
* ``minifloat`` -- any operand a minifloat: one DSP48E1 per lane for the significand
  product, exponent alignment by a barrel shifter, fabric adder tree (one DSP per lane).
* ``multiplier_free`` -- ternary / binary weights x fixed-point or minifloat inputs: add /
  subtract in a LUT adder tree, the scale applied once per output neuron (no DSP). A
  minifloat input is decoded first (fg_mf_decode, as for ``minifloat``) to its exact
  fixed-point value (``sizing.exact_fixed``, the Kulisch view), combinationally.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from fpga_gen.errors import GraphError, ResourceError, UnsupportedLayerError
from fpga_gen.formats import Binary, FixedPoint, Format, MiniFloat, Ternary
from fpga_gen.formats.sizing import accumulator_format, exact_fixed, product_format
from fpga_gen.ir import Activation, Dense, Fold, Graph, Input, Layer, Output

# Parameter codes of rtl/fg_cast.v (RND_MODE, OVF_MODE), one per mode of FixedPoint.
RND_CODES = {"TRN": 0, "TRN_ZERO": 1, "RND": 2, "RND_ZERO": 3, "RND_MIN_INF": 4, "RND_INF": 5, "RND_CONV": 6}
OVF_CODES = {"WRAP": 0, "SAT": 1, "SAT_ZERO": 2, "SAT_SYM": 3}

# DSP48E1 (UG479): 25 x 18 two's complement multiplier, 48-bit post-adder and cascade.
DSP_A_BITS = 25
DSP_B_BITS = 18
DSP_P_BITS = 48

# Engines of fg_dense (its ENGINE parameter) and the DSP48E1 slices each spends per lane
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
    """An operand or partial sum of a layer does not fit the DSP48E1 datapath."""


@dataclass(frozen=True)
class Stream:
    """Layout of one stream: ``elems`` elements of ``fmt`` per beat, ``n`` per vector."""

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
    layer: Dense
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

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def steps(self) -> int:
        """Cycles of compute per vector: neuron folds x synapse folds."""
        return (self.layer.n_out // self.pe) * (self.layer.n_in // self.simd)

    @property
    def period(self) -> int:
        return self.steps

    @property
    def dot_latency(self) -> int:
        """Issue of a step -> its partial dot product (fg_dense's DOT)."""
        if self.engine == "dsp_chain":
            return self.simd + CHAIN_DOT_EXTRA
        return MINIFLOAT_DOT if self.engine == "minifloat" else MULTIPLIER_FREE_DOT

    @property
    def latency(self) -> int:
        """Last input beat accepted -> last output beat, with nothing stalling."""
        return self.steps + self.dot_latency + DENSE_TAIL

    @property
    def dsp(self) -> int:
        """DSP48E1 slices of the stage."""
        return DSP_PER_LANE[self.engine] * self.pe * self.simd

    @property
    def bias_bits(self) -> int:
        """Width of a bias ROM word: the initial accumulator, or the scaled sum it joins."""
        return self.fin_bits if self.engine == "multiplier_free" else self.acc_bits

    def check_dsp(self) -> None:
        """Raise DspOperandError when an operand or partial sum exceeds the DSP48E1."""
        if self.weight is None:
            return
        x_fmt, w_fmt = self.x.fmt, self.weight.fmt
        what = "significand" if isinstance(x_fmt, MiniFloat) else "operand"
        if self.x.value_bits > DSP_A_BITS:
            raise DspOperandError(
                f"layer {self.name}: input format {x_fmt} needs {self.x.value_bits} bits as a signed multiplier "
                f"{what}, but the DSP48E1 A port multiplies at most {DSP_A_BITS} bits (24 unsigned); "
                f"use an input format of at most {DSP_A_BITS} bits"
            )
        if self.weight.value_bits > DSP_B_BITS:
            what = "significand" if isinstance(w_fmt, MiniFloat) else "operand"
            raise DspOperandError(
                f"layer {self.name}: weight format {w_fmt} needs {self.weight.value_bits} bits as a signed "
                f"multiplier {what}, but the DSP48E1 B port takes at most {DSP_B_BITS}; "
                f"quantize the weights to at most {DSP_B_BITS} bits (17 unsigned)"
            )
        if self.engine == "dsp_chain" and self.psum_bits > DSP_P_BITS:
            raise DspOperandError(
                f"layer {self.name}: a partial sum of simd={self.simd} products of {x_fmt} x {w_fmt} needs "
                f"{self.psum_bits} bits, more than the {DSP_P_BITS}-bit DSP48E1 cascade; use a smaller "
                "simd fold or narrower input/weight formats"
            )

    def params(self) -> dict[str, int]:
        doc = {
            "ENGINE": ENGINES[self.engine],
            "N_IN": self.layer.n_in,
            "N_OUT": self.layer.n_out,
            "PE": self.pe,
            "SIMD": self.simd,
            "IN_ELEMS": self.src.elems,
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
        doc |= {
            "PSUM_W": self.psum_bits,
            "ACC_W": self.acc_bits,
            "ACC_SHIFT": self.acc_shift,
            "HAS_BIAS": int(self.layer.bias is not None),
            "FIN_W": self.fin_bits,
            "FIN_FRAC": self.convert.in_frac,
        }
        return doc | {k: v for k, v in self.convert.params().items() if k != "IN_FRAC"}


@dataclass(frozen=True)
class ActStage:
    layer: Activation
    src: Stream
    dst: Stream
    convert: Convert

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def period(self) -> int:
        return self.src.beats

    @property
    def latency(self) -> int:
        """One register stage: last input beat in cycle t, last output beat in t + 1."""
        return 1

    @property
    def dsp(self) -> int:
        return 0

    def params(self) -> dict[str, int]:
        return {
            "N": self.src.n,
            "ELEMS": self.src.elems,
            **Operand(self.src.fmt).params("IN"),
            "X_W": signed_bits(exact_fixed(self.src.fmt)),
            **self.convert.params(),
        }


Stage = DenseStage | ActStage


@dataclass(frozen=True)
class Plan:
    graph: Graph
    stages: tuple[Stage, ...]
    input: Stream
    output: Stream


def plan(graph: Graph) -> Plan:
    """Lay the layers of a scheduled graph out as a chain of RTL stages."""
    layers = graph.layers[1:-1]
    if not layers:
        raise UnsupportedLayerError(
            f"graph {graph.name} has no Dense or Activation layer: there is nothing to implement in hardware"
        )
    first_dense = next((l for l in layers if isinstance(l, Dense)), None)
    elems = _fold(first_dense).simd if first_dense is not None else 1
    stream = Stream(_stream_format(graph.input), graph.input.output.size, elems)
    src = stream
    stages: list[Stage] = []
    for layer in layers:
        stage = _stage(layer, src)
        stages.append(stage)
        src = stage.dst
    return Plan(graph, tuple(stages), stream, src)


def _stage(layer: Layer, src: Stream) -> Stage:
    if isinstance(layer, Dense):
        return _dense(layer, src)
    if isinstance(layer, Activation):
        dst = Stream(_stream_format(layer), src.n, src.elems)
        return ActStage(layer, src, dst, _convert(layer, exact_fixed(src.fmt).frac, layer.function))
    if isinstance(layer, Input | Output):
        raise GraphError(f"layer {layer.name}: an {layer.kind} layer can only start or end a graph")
    raise UnsupportedLayerError(f"layer {layer.name}: the RTL backend has no engine for {layer.kind} layers")


def _dense(layer: Dense, src: Stream) -> DenseStage:
    fold = _fold(layer)
    if layer.n_in % fold.simd or layer.n_out % fold.pe:
        raise GraphError(
            f"layer {layer.name}: fold {fold} must divide n_in={layer.n_in} (simd) and n_out={layer.n_out} (pe)"
        )
    w_fmt = layer.weight.format
    x_fmt = src.fmt
    acc = layer.accumulator(x_fmt)
    dst = Stream(_stream_format(layer), layer.n_out, fold.pe)
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
    )


def _multiplier_free(layer: Dense, w_fmt: Ternary | Binary, x_fmt: StreamFormat, common: dict[str, Any]) -> DenseStage:
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


def _fold(layer: Dense) -> Fold:
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
