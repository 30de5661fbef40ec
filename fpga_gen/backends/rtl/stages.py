"""The hardware records of the RTL backend: streams, operands, conversions, stages and the plan.

Streams carry one frame (a sample's tensor, channels-last, row-major) per inference, some
elements per beat; elements are fixed-point mantissas (two's complement or unsigned) or
minifloat codes (the format's bit patterns).

A ``Stage`` is one instance of an rtl/ library module in the top, and owns everything about
it: its template and parameters, the library files it needs, its ROM images, its cycles
(``period``, ``latency`` and the handshake model the cycle replay runs), its DSP slices and
its resource cost. The kinds (``fpga_gen.kinds``) build the stages of their layers; the
window generator and the fork, which several kinds share, are here. The walk that lays a
graph out as stages is ``walk.plan``; one ``Plan`` is shared by the Verilog writer, the cycle
model, the resource estimate and the report, so they cannot disagree about a design.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from fpga_gen.backends.linebuffer import line_buffer_beats
from fpga_gen.backends.rtl import cost
from fpga_gen.backends.rtl.cost import Resources, signed_bits
from fpga_gen.backends.rtl.handshake import Fork, Node, Register, WindowGenerator
from fpga_gen.boards.dsp import DspPrimitive
from fpga_gen.errors import ResourceError, UnsupportedLayerError
from fpga_gen.formats import FixedPoint, Format, MiniFloat
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import Conv, GlobalPool, Graph, Layer, Pool, WindowGeometry

# Parameter codes of rtl/fg_cast.v (RND_MODE, OVF_MODE), one per mode of FixedPoint.
RND_CODES = {"TRN": 0, "TRN_ZERO": 1, "RND": 2, "RND_ZERO": 3, "RND_MIN_INF": 4, "RND_INF": 5, "RND_CONV": 6}
OVF_CODES = {"WRAP": 0, "SAT": 1, "SAT_ZERO": 2, "SAT_SYM": 3}
# Library files of the one rounding (fg_convert), by "output is a minifloat".
CONVERT_FILES = {False: ("fg_cast.v",), True: ("fg_mf_round.v",)}
# Library files that make an element exact on its grid (fg_exact over fg_mf_decode).
EXACT_FILES = ("fg_mf_decode.v", "fg_exact.v")

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

    def rounding_params(self) -> dict[str, int]:
        """The parameters without RELU, for a module that has no activation (pool, merge)."""
        return {k: v for k, v in self.params().items() if k != "RELU"}


class Stage(abc.ABC):
    """One instance of an rtl/ library module: ``template`` renders it (templates/rtl), it reads
    ``srcs`` and drives ``dst``."""

    layer: Layer
    dst: Stream
    module: ClassVar[str]  # the Verilog module the template instantiates
    template: ClassVar[str]

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def kind(self) -> str:
        """What the stage implements: its layer's kind."""
        return self.layer.kind

    @property
    @abc.abstractmethod
    def srcs(self) -> tuple[Stream, ...]:
        """The streams the stage reads, one per input wire."""

    @property
    def wires(self) -> tuple[str, ...]:
        """The wires the stage drives (one, but a fork drives one per reader)."""
        return (f"w_{self.name}",)

    @property
    def pads(self) -> bool:
        """Whether its output carries a padded-tap flag beside the data."""
        return False

    @property
    @abc.abstractmethod
    def period(self) -> int:
        """Cycles of work per frame."""

    @property
    @abc.abstractmethod
    def latency(self) -> int:
        """Last input beat of a frame accepted -> its last output beat, with nothing stalling."""

    @property
    def dsp(self) -> int:
        """DSP slices the stage instantiates."""
        return 0

    @abc.abstractmethod
    def params(self) -> dict[str, Any]:
        """The module's parameters."""

    @abc.abstractmethod
    def files(self) -> tuple[str, ...]:
        """The rtl/ library files the stage instantiates (beyond fg_extend and fg_convert)."""

    @abc.abstractmethod
    def cost(self) -> Resources:
        """The resource estimate of the stage (``cost`` rules)."""

    @abc.abstractmethod
    def timing(self) -> Node:
        """A fresh model of the stage's handshake control, for the cycle replay."""

    def write_data(self, out: Path) -> list[str]:
        """Write the stage's memory images into ``out``; the file names."""
        return []

    def manifest(self) -> dict[str, Any]:
        """What the manifest records about the stage beyond name, kind, cycles, DSPs and parameters."""
        return {}


class ElementStage(Stage):
    """A stage with one output register (fg_act, fg_pool, fg_chan, fg_merge): one beat in per
    cycle, and its last output beat one cycle after its last input beat."""

    template: ClassVar[str] = "element.v.j2"
    src: Stream

    @property
    def srcs(self) -> tuple[Stream, ...]:
        return (self.src,)

    @property
    def period(self) -> int:
        return self.src.beats

    @property
    def latency(self) -> int:
        return 1

    def timing(self) -> Node:
        return Register()


@dataclass(frozen=True)
class WindowStage(Stage):
    """fg_window: ``dst`` carries every output position's window, ``words`` channel groups per
    beat, ``block`` groups at a time (each block ``rep`` times over), tap by tap: (tap, group) for
    fg_dense (one block; a fold step of its engine per beat), (group, tap) with a padded-tap flag
    for fg_pool (``pool``; blocks of one group), a block per neuron fold for fg_vvau."""

    layer: Conv | Pool | GlobalPool
    src: Stream
    dst: Stream
    geometry: WindowGeometry
    pool: bool
    words: int  # window words (channel groups) per output beat
    block: int  # channel groups per block
    rep: int  # times each block is emitted
    module: ClassVar[str] = "fg_window"
    template: ClassVar[str] = "window.v.j2"

    @property
    def name(self) -> str:
        return f"{self.layer.name}_win"

    @property
    def srcs(self) -> tuple[Stream, ...]:
        return (self.src,)

    @property
    def pads(self) -> bool:
        return self.pool

    @property
    def groups(self) -> int:
        """Beats per input pixel."""
        return self.geometry.c // self.src.elems

    @property
    def limit(self) -> int:
        """Live input beats the line buffer holds: (kh - 1) lines (+ sh at a row stride sh >= 2),
        kw pixels and one stride."""
        return line_buffer_beats(self.geometry, self.groups, 2)  # two frames: a small input is double buffered

    @property
    def period(self) -> int:
        """Cycles of emission per frame, one window beat per cycle, when no window waits for input rows
        (the line buffer can add gaps at row changes for strides >= 2; the cycle model replays them)."""
        return self.dst.beats

    @property
    def latency(self) -> int:
        """At most: last input beat of a frame (cycle t) -> last window beat, t + 1 + beats, with nothing
        stalling (a line buffer emits earlier windows before the frame ends)."""
        return self.dst.beats + 1

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
            "BLOCK": self.block,
            "REP": self.rep,
            "WORDS": self.words,
        }

    def files(self) -> tuple[str, ...]:
        return ("fg_window.v",)

    def cost(self) -> Resources:
        """A line buffer RAM of 2**k beats holding ``limit`` live beats, one copy per word of a beat,
        each with its word counter and address arithmetic and its registered read (the output
        register); the shared position counters and window origin."""
        g = self.geometry
        depth = 1 << cost.bits_for(self.limit)
        addr = cost.bits_for(depth) + 1
        digits = 3 * cost.bits_for(max(g.kh, g.kw, self.groups))
        per_word = cost.memory(depth, self.src.data_bits) + Resources(
            lut=WINDOW_WORD_OPS * addr + 2 * digits, ff=digits
        )
        shared = Resources(lut=WINDOW_ADDRESS_OPS * addr, ff=2 * addr)
        return per_word.scaled(self.words) + shared + cost.control(g.oh, g.ow, self.dst.beats // g.positions)

    def timing(self) -> Node:
        return WindowGenerator(self.geometry, self.groups, self.words, self.rep)


# fg_window's address arithmetic: the window origin, liveness and base address (a handful of
# adders and constant multiples), and per word its offset, address and pad compares.
WINDOW_ADDRESS_OPS = 12
WINDOW_WORD_OPS = 8


def window_stage(
    layer: Conv | Pool | GlobalPool,
    src: Stream,
    shape: tuple[int, ...],
    pool: bool,
    elems: int | None = None,
    block: int | None = None,
    rep: int = 1,
) -> WindowStage:
    """The window generator in front of ``layer``, reading ``src`` (an input of ``shape``), ``elems``
    window elements per beat: a whole number of ``src``'s beats dividing a block's words (its
    reader's fold step), or by default one ``src`` beat; ``block`` channel groups at a time (by
    default one for pooling, all of them for a convolution), each block ``rep`` times."""
    geometry = layer.window_geometry(shape)
    check_beats(layer, src, geometry.c, "channels")
    groups = geometry.c // src.elems
    block = block or (1 if pool else groups)
    words = 1 if elems is None else elems // src.elems
    assert words >= 1 and words * src.elems == (elems or src.elems) and groups % block == 0
    assert (geometry.taps * block) % words == 0
    dst = Stream(src.fmt, geometry.positions * geometry.taps * geometry.c * rep, src.elems * words)
    return WindowStage(layer, src, dst, geometry, pool, words, block, rep)


@dataclass(frozen=True)
class ForkStage(Stage):
    """fg_fork: the stream of ``layer`` copied to ``copies`` readers, each behind a FIFO of a
    whole frame. A branch may need up to a whole frame before an output (a window
    generator, a dense engine) while the other branch's reader (an Add, a Concatenate)
    waits for that output: the waiting branch's FIFO then holds up to a frame, and the
    fork stalls only once a frame is buffered, when the slow branch has all it needs."""

    layer: Layer  # the layer (or Input) whose output is read by several layers
    src: Stream
    copies: int
    module: ClassVar[str] = "fg_fork"
    template: ClassVar[str] = "fork.v.j2"

    @property
    def name(self) -> str:
        return f"{self.layer.name}_fork"

    @property
    def kind(self) -> str:
        return "Fork"

    @property
    def srcs(self) -> tuple[Stream, ...]:
        return (self.src,)

    @property
    def dst(self) -> Stream:  # type: ignore[override]
        return self.src

    @property
    def wires(self) -> tuple[str, ...]:
        return tuple(f"w_{self.name}_{k}" for k in range(self.copies))

    @property
    def depth(self) -> int:
        return self.src.beats

    @property
    def period(self) -> int:
        return self.src.beats

    @property
    def latency(self) -> int:
        return 1

    def params(self) -> dict[str, int]:
        return {"K": self.copies, "W": self.src.data_bits, "DEPTH": self.depth}

    def files(self) -> tuple[str, ...]:
        return ("fg_fork.v",)

    def cost(self) -> Resources:
        """One FIFO of a whole frame per reader."""
        fifo = cost.memory(self.depth, self.src.data_bits) + cost.control(self.depth, self.depth)
        return fifo.scaled(self.copies)

    def timing(self) -> Node:
        return Fork(self.depth, self.copies)


@dataclass(frozen=True)
class Plan:
    """The stages in topological order; ``sources[i]``: the wires stage i reads (``Stage.wires``
    names what each stage drives), ``input_wire`` the top input's, ``output_wire`` the one
    leaving the top; ``dsp`` the DSP primitive the engines instantiate."""

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


def exact_input_params(src: Stream) -> dict[str, int]:
    """Parameters of a stage that decodes each element of ``src`` to its exact value (X_W bits)."""
    return {**Operand(src.fmt).params("IN"), "X_W": signed_bits(exact_fixed(src.fmt))}


def packed(values: list[int], bits: int) -> str:
    """A Verilog literal of ``values`` in ``bits`` each (two's complement), values[0] in the low bits."""
    word = sum((v & ((1 << bits) - 1)) << (i * bits) for i, v in enumerate(values))
    return f"{len(values) * bits}'h{word:x}"


def stream_format(layer: Layer) -> StreamFormat:
    """``layer``'s output format, which its stream carries."""
    fmt: Format = layer.output.format
    if not isinstance(fmt, FixedPoint | MiniFloat):
        raise UnsupportedLayerError(
            f"layer {layer.name}: format {fmt} cannot travel on an RTL stream, which carries fixed-point "
            "mantissas or minifloat codes: give the layer a fixed<W,I> or minifloat output format"
        )
    return fmt


def convert_to(layer: Layer, in_frac: int, function: str) -> Convert:
    """The one rounding of ``layer``: ``function`` (linear or relu), then into its output format."""
    # A minifloat tensor is always saturating (the IR refuses the others): the normaliser
    # saturates too, and never produces inf or NaN.
    return Convert(in_frac, stream_format(layer), function == "relu")


def check_beats(layer: Layer, src: Stream, n: int, what: str) -> None:
    """A stage reads whole beats: ``src.elems`` must divide its ``n`` channels or inputs."""
    if n % src.elems:
        raise UnsupportedLayerError(
            f"layer {layer.name}: its input arrives {src.elems} elements per beat, which does not divide its "
            f"{n} {what}; choose a fold of the layer before it whose pe divides {n}"
        )


def write_hex(path: Path, words: list[int], bits: int) -> str:
    """A $readmemh image of ``words`` of ``bits`` each; its file name."""
    digits = -(-bits // 4)
    path.write_text("".join(f"{word:0{digits}x}\n" for word in words))
    return path.name
