"""From a scheduled Graph to the RTL stages: stream layouts, engine parameters, DSP checks.

One plan is shared by the Verilog writer and the cycle model, so the two cannot disagree
about how a layer is folded or how many elements travel per beat.

Streams: the top input carries SIMD elements of the first Dense layer per beat (one element
when there is none); a Dense stage emits PE elements per beat; an Activation stage keeps the
beat layout of its input. A Dense stage writes whatever beat width arrives straight into its
input banks, so no width converter sits between layers.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpga_gen.errors import GraphError, ResourceError, UnsupportedLayerError
from fpga_gen.formats import FixedPoint, Format
from fpga_gen.formats.sizing import accumulator_format
from fpga_gen.ir import Activation, Dense, Fold, Graph, Input, Layer, Output

# Parameter codes of rtl/fg_cast.v (RND_MODE, OVF_MODE), one per mode of FixedPoint.
RND_CODES = {"TRN": 0, "TRN_ZERO": 1, "RND": 2, "RND_ZERO": 3, "RND_MIN_INF": 4, "RND_INF": 5, "RND_CONV": 6}
OVF_CODES = {"WRAP": 0, "SAT": 1, "SAT_ZERO": 2, "SAT_SYM": 3}

# DSP48E1 (UG479): 25 x 18 two's complement multiplier, 48-bit post-adder and cascade.
DSP_A_BITS = 25
DSP_B_BITS = 18
DSP_P_BITS = 48
# Pipeline of fg_dense from the issue of a step to its result in the output register:
# operand registers (1), the skew (SIMD - 1), AREG/MREG/PREG (3), accumulator (1), output (1).
DENSE_PIPELINE_EXTRA = 5


class DspOperandError(ResourceError):
    """An operand or partial sum of a layer does not fit the DSP48E1 datapath."""


@dataclass(frozen=True)
class Stream:
    """Layout of one stream: ``elems`` elements of ``fmt`` per beat, ``n`` per vector."""

    fmt: FixedPoint
    n: int
    elems: int

    @property
    def beats(self) -> int:
        return self.n // self.elems

    @property
    def data_bits(self) -> int:
        return self.elems * self.fmt.width

    @property
    def bus_bits(self) -> int:
        """AXI4-Stream TDATA width: the data padded to whole bytes."""
        return -(-self.data_bits // 8) * 8


@dataclass(frozen=True)
class Cast:
    """Parameters of one fg_cast (relu, then rounding and overflow into ``out``)."""

    in_frac: int
    out: FixedPoint
    relu: bool

    def params(self) -> dict[str, int]:
        return {
            "IN_FRAC": self.in_frac,
            "OUT_W": self.out.width,
            "OUT_FRAC": self.out.frac,
            "OUT_SIGNED": int(self.out.signed),
            "RELU": int(self.relu),
            "RND_MODE": RND_CODES[self.out.rounding],
            "OVF_MODE": OVF_CODES[self.out.overflow],
        }


@dataclass(frozen=True)
class DenseStage:
    layer: Dense
    src: Stream
    dst: Stream
    pe: int
    simd: int
    weight_format: FixedPoint
    bias_format: FixedPoint | None
    weight_bits: int  # two's complement width of a weight on the DSP B port
    psum_bits: int  # signed width of a SIMD-wide partial dot product (DSP cascade)
    acc: FixedPoint  # the exact accumulator of the layer
    acc_bits: int  # its signed width in fabric
    acc_shift: int  # product grid -> accumulator grid
    cast: Cast

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
    def latency(self) -> int:
        """Last input beat accepted -> last output beat, with nothing stalling."""
        return self.steps + self.simd + DENSE_PIPELINE_EXTRA

    def check_dsp(self) -> None:
        """Raise DspOperandError when an operand or partial sum exceeds the DSP48E1."""
        x_fmt, w_fmt = self.src.fmt, self.weight_format
        x_bits = _signed_bits(x_fmt)
        if x_bits > DSP_A_BITS:
            raise DspOperandError(
                f"layer {self.name}: input format {x_fmt} needs {x_bits} bits as a signed multiplier "
                f"operand, but the DSP48E1 A port multiplies at most {DSP_A_BITS} bits (24 unsigned); "
                f"use an input format of at most {DSP_A_BITS} bits"
            )
        if self.weight_bits > DSP_B_BITS:
            raise DspOperandError(
                f"layer {self.name}: weight format {w_fmt} needs {self.weight_bits} bits as a signed "
                f"multiplier operand, but the DSP48E1 B port takes at most {DSP_B_BITS}; "
                f"quantize the weights to at most {DSP_B_BITS} bits (17 unsigned)"
            )
        if self.psum_bits > DSP_P_BITS:
            raise DspOperandError(
                f"layer {self.name}: a partial sum of simd={self.simd} products of {x_fmt} x {w_fmt} needs "
                f"{self.psum_bits} bits, more than the {DSP_P_BITS}-bit DSP48E1 cascade; use a smaller "
                "simd fold or narrower input/weight formats"
            )

    def params(self) -> dict[str, int]:
        return {
            "N_IN": self.layer.n_in,
            "N_OUT": self.layer.n_out,
            "PE": self.pe,
            "SIMD": self.simd,
            "IN_ELEMS": self.src.elems,
            "IN_W": self.src.fmt.width,
            "IN_SIGNED": int(self.src.fmt.signed),
            "W_W": self.weight_bits,
            "PSUM_W": self.psum_bits,
            "ACC_W": self.acc_bits,
            "ACC_SHIFT": self.acc_shift,
            "ACC_FRAC": self.acc.frac,
            "HAS_BIAS": int(self.bias_format is not None),
            **{k: v for k, v in self.cast.params().items() if k != "IN_FRAC"},
        }


@dataclass(frozen=True)
class ActStage:
    layer: Activation
    src: Stream
    dst: Stream
    cast: Cast

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

    def params(self) -> dict[str, int]:
        return {
            "N": self.src.n,
            "ELEMS": self.src.elems,
            "IN_W": self.src.fmt.width,
            "IN_SIGNED": int(self.src.fmt.signed),
            **self.cast.params(),
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
    stream = Stream(_fixed(graph.input), graph.input.output.size, elems)
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
        dst = Stream(_fixed(layer), src.n, src.elems)
        return ActStage(layer, src, dst, Cast(src.fmt.frac, dst.fmt, layer.function == "relu"))
    if isinstance(layer, Input | Output):
        raise GraphError(f"layer {layer.name}: an {layer.kind} layer can only start or end a graph")
    raise UnsupportedLayerError(f"layer {layer.name}: the RTL backend has no engine for {layer.kind} layers")


def _dense(layer: Dense, src: Stream) -> DenseStage:
    fold = _fold(layer)
    if layer.n_in % fold.simd or layer.n_out % fold.pe:
        raise GraphError(
            f"layer {layer.name}: fold {fold} must divide n_in={layer.n_in} (simd) and n_out={layer.n_out} (pe)"
        )
    w_fmt = _fixed_tensor(layer, "weight", layer.weight.format)
    bias_fmt = None if layer.bias_format is None else _fixed_tensor(layer, "bias", layer.bias_format)
    acc = layer.accumulator(src.fmt)
    prod_frac = src.fmt.frac + w_fmt.frac
    psum = accumulator_format(src.fmt, w_fmt, fold.simd)
    dst = Stream(_fixed(layer), layer.n_out, fold.pe)
    # The accumulator holds every partial sum, so a shifted chain result always fits it.
    assert _signed_bits(acc) >= _signed_bits(psum) + acc.frac - prod_frac
    return DenseStage(
        layer=layer,
        src=src,
        dst=dst,
        pe=fold.pe,
        simd=fold.simd,
        weight_format=w_fmt,
        bias_format=bias_fmt,
        weight_bits=_signed_bits(w_fmt),
        psum_bits=_signed_bits(psum),
        acc=acc,
        acc_bits=_signed_bits(acc),
        acc_shift=acc.frac - prod_frac,
        cast=Cast(acc.frac, dst.fmt, layer.activation == "relu"),
    )


def _signed_bits(fmt: FixedPoint) -> int:
    """Width of ``fmt``'s mantissas as two's complement numbers."""
    return fmt.width + (0 if fmt.signed else 1)


def _fold(layer: Dense) -> Fold:
    if layer.fold is None:
        raise GraphError(
            f"layer {layer.name} is not folded: the RTL backend needs a scheduled graph "
            "(run fpga_gen.passes.lower, or build the project with fpga_gen.build)"
        )
    return layer.fold


def _fixed_tensor(layer: Dense, what: str, fmt: Format) -> FixedPoint:
    if not isinstance(fmt, FixedPoint):
        raise UnsupportedLayerError(
            f"layer {layer.name}: {what} format {fmt} is not fixed-point; the RTL DSP-chain engine "
            f"multiplies fixed-point weights only: quantize the {what} to a fixed<W,I> format"
        )
    return fmt


def _fixed(layer: Layer) -> FixedPoint:
    fmt = layer.output.format
    if not isinstance(fmt, FixedPoint):
        raise UnsupportedLayerError(
            f"layer {layer.name}: format {fmt} is not fixed-point; the RTL backend streams fixed-point values only"
        )
    return fmt
