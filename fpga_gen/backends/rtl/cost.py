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
* block RAM is counted as Yosys 0.70 ``synth_xilinx`` maps it (``memory_libmap`` with
  ``brams_xc4v.txt``, for xc7 and xcup alike): of a RAMB18 (cost 129; 16K x 1 .. 1K x 18, or
  512 x 36 simple dual port) or a RAMB36 (cost 257; 32K x 1 .. 1K x 36, or 512 x 72), the one
  shape, repeated over the words and the bits, of the lowest cost -- its cells' costs plus
  half a unit per bit of read multiplexer between blocks of words and per write enable
  decoded to them (``block_ram``). A write port's lane groups start on a 9-bit byte (a
  RAMB's byte write enables), so an 8-bit lane takes 9 bits of the block. Memories deeper
  than 32K words (xc7's cascaded pairs) are not modelled; URAM is not used (UltraScale+
  URAM288 cannot be initialised by the bitstream, so it holds no ROM, and the input banks
  are far smaller than one);
* a ROM (weight / bias / scale, fg_rom) goes to block RAM exactly when Yosys' own rule
  would put it there: when its block RAM costs less than a 64th of a unit per bit in LUTs
  (``synth_xilinx``'s ``-logic-cost-rom``; a 1024 x 8 ROM stays in LUTs, a 2048 x 6 one
  takes a RAMB18); fg_rom then carries the choice as its ROM_STYLE, so Vivado follows it
  too. In LUTs a ROM costs one LUT6 per bit per 64 words (LUT5 up to 32) plus a mux level
  per 256 words, and its read register;
* fg_dense's input banks (fg_bank) are block RAM when that costs less than twice their
  LUTRAM's LUTs (Yosys weighs a RAM64M, four LUTs, at about 8), else LUTRAM, never
  flip-flops: one RAM32M (4 LUTs, 32 x 6) or RAM64M (4 LUTs, 64 x 3) per slice of words and
  bits, and a mux level per 64 words; the choice goes to fg_bank's RAM_STYLE;
* other RAMs (the window line buffer, fork FIFOs), left to Yosys: LUTRAM up to
  ``LUT_MEMORY_MAX_BITS`` (8 Kib), else block RAM.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from fpga_gen.formats import FixedPoint, Format, MiniFloat
from fpga_gen.formats.sizing import exact_fixed

LUT_MEMORY_MAX_BITS = 8192
# memory_libmap's block RAMs in the order it tries them (brams_xc4v.txt with HAS_SIZE_36 and
# HAS_MIXWIDTH_SDP): cost, address bits at width 1, widths (with parity bits), RAMB36 tiles each.
BLOCK_RAMS = (
    (129, 14, (1, 2, 4, 9, 18), 0.5),  # RAMB18, true dual port
    (257, 15, (1, 2, 4, 9, 18, 36), 1.0),  # RAMB36, true dual port
    (129, 14, (1, 2, 4, 9, 18, 36), 0.5),  # RAMB18, simple dual port
    (257, 15, (1, 2, 4, 9, 18, 36, 72), 1.0),  # RAMB36, simple dual port
)
BRAM_BYTE = 9  # a RAMB's write enable covers 9 bits
ROM_LOGIC_COST = 1 / 64  # synth_xilinx's -logic-cost-rom, per bit
LUTRAM_COST_PER_LUT = 2  # lutrams_xc5v.txt: a RAM64M / RAM32M (four LUTs) costs about 8
# memory_libmap's penalties: half a unit per bit of read mux and per decoded write enable,
# and two for the read port (its tie-breaker for single-port configurations).
MUX_COST = 0.5
READ_PORT_COST = 2
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


@dataclass(frozen=True)
class BlockRam:
    """The block RAM of one memory as ``memory_libmap`` lays it out: ``tiles`` in RAMB36 (a RAMB18
    is half), ``cost`` its figure of merit."""

    tiles: float
    cost: float


def block_ram(depth: int, width: int, *, groups: int = 0) -> BlockRam:
    """The cheapest block RAM layout of a ``depth`` x ``width`` memory with one registered read port
    and, for ``groups`` > 0, one write port of that many lane groups with write enables of their own
    (``groups`` = 0: a ROM)."""
    best: BlockRam | None = None
    for cell_cost, abits, widths, tiles in BLOCK_RAMS:
        chosen: BlockRam | None = None
        floor = 0  # memory_libmap keeps the best cost of one cell type as an int
        for b, unit in enumerate(widths):
            byte = min(BRAM_BYTE, unit) if groups else 1
            group_bits = width // max(groups, 1)
            bits = max(groups, 1) * -(-group_bits // byte) * byte  # each lane group starts on a byte
            blocks = -(-depth // (1 << (abits - b)))  # of words
            cells = -(-blocks * bits // unit)
            decoded = blocks * groups if groups and blocks > 1 else 0
            cost = cell_cost * cells + MUX_COST * ((blocks - 1) * width + decoded) + READ_PORT_COST
            if chosen is None or cost < floor:
                chosen, floor = BlockRam(cells * tiles, cost), int(cost)
        assert chosen is not None
        if best is None or chosen.cost < best.cost:
            best = chosen
    assert best is not None
    return best


def rom_in_block_ram(depth: int, width: int) -> bool:
    """Yosys' rule: block RAM when it costs less than the ROM's bits in logic."""
    return block_ram(depth, width).cost < int(depth * width * ROM_LOGIC_COST)


def rom(depth: int, width: int) -> Resources:
    """fg_rom: ``depth`` words of ``width`` bits with a registered read."""
    if rom_in_block_ram(depth, width):
        return Resources(bram36=block_ram(depth, width).tiles)
    per_bit = 1 if depth <= 64 else -(-depth // 64) + (-(-depth // 256) if depth > 256 else 0)
    return Resources(lut=width * per_bit, ff=width)


def lutram(depth: int, width: int) -> Resources:
    """A LUTRAM of ``depth`` x ``width`` with an asynchronous read (RAM32M / RAM64M and a word mux)."""
    slices = -(-width // 6) if depth <= 32 else -(-depth // 64) * -(-width // 3)
    return Resources(lut=4 * slices + (width * mux(-(-depth // 64)) if depth > 64 else 0))


def bank_in_block_ram(depth: int, width: int, groups: int) -> bool:
    """fg_bank's RAM (lane groups written apart) goes to block RAM when that costs less than its LUTRAM."""
    return block_ram(depth, width, groups=groups).cost < LUTRAM_COST_PER_LUT * lutram(depth, width).lut


def memory(depth: int, width: int) -> Resources:
    """A RAM with one registered read port, left to Yosys: LUTRAM up to LUT_MEMORY_MAX_BITS, else block RAM."""
    if depth * width <= LUT_MEMORY_MAX_BITS:
        return lutram(depth, width) + Resources(ff=width)
    return Resources(bram36=block_ram(depth, width, groups=1).tiles)


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
