"""The cost rules of the resource estimate: what a datapath of the rtl/ library costs in an FPGA.

Each RTL stage costs itself (``Stage.cost``) from its parameters with these rules, the
same stages the Verilog writer instantiates. DSP slices are exact: the stages count the
slices they instantiate, and nothing else maps to a DSP (the window generator's address
arithmetic and fg_chan's per-channel products carry ``(* use_dsp = "no" *)`` and stay in
fabric), which is the count ``passes.fold.dsp_count`` budgets and the count Yosys reports
(``backends/rtl/yosys.py``). LUT and FF counts are first-order models of the same modules --
registers counted bit by bit from the RTL, logic by the rules below -- meant to rank designs
and catch gross overflow; Yosys' counts are the measured figures.

Rules (LUT6 as in UG474; "bits" are a datapath's width):

* an adder, subtractor, comparator or 2:1 multiplexer: one LUT per bit (LUT6 + carry chain);
* an n:1 multiplexer: ceil(n / 4) LUT6 per bit (a LUT6 is a 4:1 multiplexer, MUXF7/F8 join
  four of them for free), plus one level of LUTs per bit beyond 16 inputs;
* a shifter of s shift bits: ceil(s / 2) levels of LUT6 (two shift bits, a 4:1 mux, each);
* a multiplier in fabric, a x b bits: (a + 1) * ceil(b / 2) LUTs (Walters 2016, "Array
  Multipliers for High Throughput in Xilinx FPGAs with 6-Input LUTs": two partial-product
  rows per LUT row);
* a delay line: flip-flops for up to two stages, else an SRL (one LUT per bit per 32 stages,
  then a flip-flop), as ``synth_xilinx`` maps them (``xilinx_srl -minlen 3``);
* a memory (weight / bias / scale ROMs, the window line buffer, fork FIFOs) of depth x width
  stays in LUTs up to ``LUT_MEMORY_MAX_BITS`` (8 Kib: Yosys 0.70 ``synth_xilinx`` keeps a
  1024 x 8 or 512 x 16 ROM in LUTs and puts a 2048 x 6 one in a RAMB18): a ROM costs one
  LUT6 per bit per 64 words (LUT5 up to 32) plus a mux level per 256 words, a RAM one
  RAM32M (4 LUTs, 32 x 6) or RAM64M (4 LUTs, 64 x 3) per slice of words and bits. Beyond
  that it is block RAM: the fewest RAMB36 in one of the aspect ratios 32K x 1, 16K x 2,
  8K x 4, 4K x 9, 2K x 18, 1K x 36, 512 x 72 (UG473), or half of one when a RAMB18
  (16K x 1 .. 512 x 36) holds it. URAM is not used.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from fpga_gen.formats import FixedPoint, Format, MiniFloat
from fpga_gen.formats.sizing import exact_fixed

LUT_MEMORY_MAX_BITS = 8192
# (depth, width) aspect ratios of a RAMB36 and of a RAMB18 (UG473, widths with parity bits).
BRAM36_SHAPES = ((32768, 1), (16384, 2), (8192, 4), (4096, 9), (2048, 18), (1024, 36), (512, 72))
BRAM18_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
# Control of a stage (handshakes, counters' compare and increment), per counter bit.
CONTROL_LUT_PER_BIT = 2
CONTROL_FF_PER_BIT = 1


@dataclass(frozen=True)
class Resources:
    """FPGA resources: DSP slices, LUTs (logic and memory), flip-flops, RAMB36 tiles (a RAMB18
    counts half), URAM blocks."""

    dsp: int = 0
    lut: int = 0
    ff: int = 0
    bram36: float = 0.0
    uram: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def scaled(self, k: int) -> Resources:
        """``k`` copies."""
        return Resources(*(k * getattr(self, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def signed_bits(fmt: FixedPoint) -> int:
    """Width of ``fmt``'s mantissas as two's complement numbers."""
    return fmt.width + (0 if fmt.signed else 1)


def bits_for(n: int) -> int:
    """Counter width for n distinct values, as the RTL's bits_for (rtl/fg_common.vh)."""
    return max((n - 1).bit_length(), 1)


def mux(n: int) -> int:
    """LUTs per bit of an n:1 multiplexer."""
    if n <= 1:
        return 0
    return -(-n // 4) + (-(-n // 16) if n > 16 else 0)


def levels(shift_bits: int) -> int:
    """LUT levels of a barrel shifter: two shift bits per LUT6."""
    return -(-shift_bits // 2)


def fabric_mult(a: int, b: int) -> int:
    """LUTs of an a x b bit multiplier in fabric."""
    return (a + 1) * -(-b // 2)


def delay(bits: int, cycles: int) -> Resources:
    """A ``bits`` wide delay line of ``cycles`` stages."""
    if cycles <= 2:
        return Resources(ff=bits * cycles)
    return Resources(lut=bits * -(-cycles // 32), ff=bits)


def control(*counts: int) -> Resources:
    """Counters over ``counts`` values each, with the handshake logic around them."""
    bits = sum(bits_for(n) for n in counts) + 2  # + valid / last
    return Resources(lut=CONTROL_LUT_PER_BIT * bits, ff=CONTROL_FF_PER_BIT * bits)


def memory(depth: int, width: int, *, rom: bool) -> Resources:
    """A memory with one registered read port: LUTs up to LUT_MEMORY_MAX_BITS, else block RAM."""
    if depth * width <= LUT_MEMORY_MAX_BITS:
        if rom:
            per_bit = 1 if depth <= 64 else -(-depth // 64) + (-(-depth // 256) if depth > 256 else 0)
            return Resources(lut=width * per_bit, ff=width)
        slices = -(-width // 6) if depth <= 32 else -(-depth // 64) * -(-width // 3)
        return Resources(lut=4 * slices + (width * mux(-(-depth // 64)) if depth > 64 else 0), ff=width)
    full = min(-(-depth // d) * -(-width // w) for d, w in BRAM36_SHAPES)
    half = min(-(-depth // d) * -(-width // w) for d, w in BRAM18_SHAPES)
    return Resources(bram36=min(float(full), half / 2))


def convert(out: Format, in_bits: int) -> Resources:
    """fg_convert into ``out``, combinational: relu, then fixed-point rounding and overflow (an
    adder and a range check), or a minifloat's normalisation (leading-one detect, shift, round)."""
    if isinstance(out, MiniFloat):
        return Resources(lut=in_bits * (levels(bits_for(in_bits)) + 2) + out.bits)
    return Resources(lut=in_bits + 2 * out.bits)


def decode(fmt: Format, lanes: int) -> Resources:
    """Minifloat codes made exact (fg_mf_decode / fg_exact): a shifter over the exponent range."""
    if not isinstance(fmt, MiniFloat):
        return Resources()
    return Resources(lut=lanes * signed_bits(exact_fixed(fmt)) * levels(fmt.exponent_bits))
