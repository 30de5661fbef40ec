"""Analytical resource estimate of a scheduled graph, per layer, and the fit check against a board.

The estimate walks the RTL plan (``backends/rtl/plan.py``), the same stages the Verilog
writer instantiates, and costs each module of rtl/ from its parameters. DSP slices are
exact: one per lane of the ``dsp_chain`` and ``minifloat`` engines (one per two lanes of a
dsp_chain packing two PE rows per slice, ``DspPrimitive.pack_shift``), none elsewhere (the
window generator's address arithmetic and fg_chan's per-channel products carry
``(* use_dsp = "no" *)`` and stay in fabric), which is the count ``passes.fold.dsp_count``
budgets and the count Yosys reports (``backends/rtl/yosys.py``). LUT and FF counts are
first-order models of the same modules -- registers counted bit by bit from the RTL,
logic by the rules below -- meant to rank designs and catch gross overflow; the Yosys
counts of ``synth_counts`` are the measured figures.

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

import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from fpga_gen import boards
from fpga_gen.backends.rtl.plan import (
    ActStage,
    ChanStage,
    DenseStage,
    ForkStage,
    MergeStage,
    PoolStage,
    Stage,
    StreamFormat,
    WindowStage,
    plan,
    signed_bits,
)
from fpga_gen.backends.rtl.yosys import YosysCounts
from fpga_gen.boards import Board
from fpga_gen.errors import ResourceError
from fpga_gen.formats import MiniFloat
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import Add, Graph, Input, MatMul, Output
from fpga_gen.passes import FoldConfig, fold

LUT_MEMORY_MAX_BITS = 8192
# (depth, width) aspect ratios of a RAMB36 and of a RAMB18 (UG473, widths with parity bits).
BRAM36_SHAPES = ((32768, 1), (16384, 2), (8192, 4), (4096, 9), (2048, 18), (1024, 36), (512, 72))
BRAM18_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
# Control of a stage (handshakes, counters' compare and increment), per counter bit.
CONTROL_LUT_PER_BIT = 2
CONTROL_FF_PER_BIT = 1
# fg_window's address arithmetic: a handful of adders and constant multiples of the address.
WINDOW_ADDRESS_OPS = 8


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


def board_resources(board: Board) -> Resources:
    """What ``board`` offers, as Resources."""
    return Resources(board.dsp, board.lut, board.ff, float(board.bram36), board.uram)


def estimate(graph: Graph, dsp_kind: str = "DSP48E1") -> dict[str, Resources]:
    """Resources per layer of a scheduled graph (after ``fpga_gen.passes.lower``), keyed by layer
    name in graph order: every layer but Input and Output (a Reshape is zero: no hardware), and
    the Input too when a fork copies it to several readers (the fork's FIFOs are its cost)."""
    return _per_layer(graph, dsp_kind, stage_resources)


def _per_layer(graph: Graph, dsp_kind: str, cost: Callable[[Stage], Resources]) -> dict[str, Resources]:
    """``cost`` of each RTL stage gathered per layer, keyed as ``estimate`` documents."""
    out = {l.name: Resources() for l in graph.layers if not isinstance(l, Input | Output)}
    for stage in plan(graph, dsp_kind).stages:
        out[stage.layer.name] = out.get(stage.layer.name, Resources()) + cost(stage)
    order = {l.name: i for i, l in enumerate(graph.layers)}
    return dict(sorted(out.items(), key=lambda item: order[item[0]]))


def total(per_layer: dict[str, Resources]) -> Resources:
    return sum(per_layer.values(), Resources())


def yosys_per_layer(graph: Graph, counts: YosysCounts, dsp_kind: str = "DSP48E1") -> dict[str, Resources]:
    """``synth_counts``' per-stage cells gathered per layer, keyed as ``estimate`` keys them; LUTs
    count logic, distributed RAM and shift registers alike, as the estimate does."""

    def cells(stage: Stage) -> Resources:
        c = counts.stages[stage.name]
        return Resources(c.dsp, c.lut + c.lutram + c.srl, c.ff, c.bram36, c.uram)

    return _per_layer(graph, dsp_kind, cells)


def stage_resources(stage: Stage) -> Resources:
    """The estimate of one RTL stage (module docstring)."""
    if isinstance(stage, DenseStage):
        return _dense(stage)
    if isinstance(stage, WindowStage):
        return _window(stage)
    if isinstance(stage, PoolStage):
        return _pool(stage)
    if isinstance(stage, ChanStage):
        return _chan(stage)
    if isinstance(stage, ForkStage):
        return _fork(stage)
    if isinstance(stage, MergeStage):
        return _merge(stage)
    return _act(stage)


def _bits_for(n: int) -> int:
    """Counter width for n distinct values, as the RTL's bits_for."""
    return max((n - 1).bit_length(), 1)


def _mux(n: int) -> int:
    """LUTs per bit of an n:1 multiplexer."""
    if n <= 1:
        return 0
    return -(-n // 4) + (-(-n // 16) if n > 16 else 0)


def _levels(shift_bits: int) -> int:
    """LUT levels of a barrel shifter: two shift bits per LUT6."""
    return -(-shift_bits // 2)


def _fabric_mult(a: int, b: int) -> int:
    return (a + 1) * -(-b // 2)


def _delay(bits: int, cycles: int) -> Resources:
    if cycles <= 2:
        return Resources(ff=bits * cycles)
    return Resources(lut=bits * -(-cycles // 32), ff=bits)


def _control(*counts: int) -> Resources:
    """Counters over ``counts`` values each, with the handshake logic around them."""
    bits = sum(_bits_for(n) for n in counts) + 2  # + valid / last
    return Resources(lut=CONTROL_LUT_PER_BIT * bits, ff=CONTROL_FF_PER_BIT * bits)


def memory(depth: int, width: int, *, rom: bool) -> Resources:
    """A memory with one registered read port: LUTs up to LUT_MEMORY_MAX_BITS, else block RAM."""
    if depth * width <= LUT_MEMORY_MAX_BITS:
        if rom:
            per_bit = 1 if depth <= 64 else -(-depth // 64) + (-(-depth // 256) if depth > 256 else 0)
            return Resources(lut=width * per_bit, ff=width)
        slices = -(-width // 6) if depth <= 32 else -(-depth // 64) * -(-width // 3)
        return Resources(lut=4 * slices + (width * _mux(-(-depth // 64)) if depth > 64 else 0), ff=width)
    full = min(-(-depth // d) * -(-width // w) for d, w in BRAM36_SHAPES)
    half = min(-(-depth // d) * -(-width // w) for d, w in BRAM18_SHAPES)
    return Resources(bram36=min(float(full), half / 2))


def _convert(out: StreamFormat, in_bits: int) -> Resources:
    """fg_convert into ``out``, combinational: relu, then fixed-point rounding and overflow (an
    adder and a range check), or a minifloat's normalisation (leading-one detect, shift, round)."""
    if isinstance(out, MiniFloat):
        return Resources(lut=in_bits * (_levels(_bits_for(in_bits)) + 2) + out.bits)
    return Resources(lut=in_bits + 2 * out.bits)


def _decode(fmt: Any, lanes: int) -> Resources:
    """Minifloat codes made exact (fg_mf_decode / fg_exact): a shifter over the exponent range."""
    if not isinstance(fmt, MiniFloat):
        return Resources()
    bits = signed_bits(exact_fixed(fmt))
    return Resources(lut=lanes * bits * _levels(fmt.exponent_bits))


def _dense(stage: DenseStage) -> Resources:
    """fg_dense: input banks, weight / bias (/ scale) ROMs per PE, the engine's lanes, the fold
    accumulator, the output conversion and register."""
    layer = stage.layer
    pe, simd, n_in = stage.pe, stage.simd, stage.n_in
    sf, nf = n_in // simd, layer.n_out // pe
    in_w, out_w = stage.src.width, stage.dst.width
    r = Resources(dsp=stage.dsp)
    # Two banks of registers, read SIMD elements at a time: a 2*SF:1 mux per operand bit.
    r += Resources(lut=simd * in_w * _mux(2 * sf), ff=2 * n_in * in_w + simd * in_w)
    per_pe = memory(nf * sf, simd * stage.weight_bits, rom=True)
    if layer.bias is not None:
        per_pe += memory(nf, stage.bias_bits, rom=True)
    if stage.scaling is not None and stage.scaling.per_neuron:
        per_pe += memory(nf, stage.scaling.bits, rom=True)
    if stage.engine == "dsp_chain":
        # fg_skew: lane j's input delayed j cycles (shared by the PEs), each PE's weights too;
        # the slices do the multiply-adds and the cascade the sum.
        for j in range(1, simd):
            r += _delay(in_w, j)
            per_pe += _delay(stage.weight_bits, j)
        if stage.pack_shift:  # fg_dsp_pair: the high field's +1 correction, one adder per pair
            r += Resources(lut=pe // 2 * stage.psum_bits)
    elif stage.engine == "minifloat":
        assert stage.weight is not None
        r += _decode(stage.x.fmt, simd)
        shift = stage.x.shift_bits + stage.weight.shift_bits
        lane = Resources(lut=stage.prod_bits * _levels(shift), ff=stage.prod_bits)  # alignment + its register
        per_pe += Resources(lut=simd * (lane.lut + stage.weight.value_bits), ff=simd * lane.ff)
        per_pe += Resources(lut=(simd - 1) * stage.psum_bits, ff=stage.psum_bits)  # adder tree + register
    else:
        r += _decode(stage.x.fmt, simd)
        # add / subtract / skip per lane, then the adder tree and its register
        per_pe += Resources(lut=simd * stage.prod_bits + (simd - 1) * stage.psum_bits, ff=stage.psum_bits)
        assert stage.scaling is not None
        terms = stage.scaling.bits if stage.scaling.per_neuron else bin(stage.scaling.factors[0]).count("1")
        per_pe += Resources(lut=(terms - 1) * stage.fin_bits + stage.fin_bits)  # shift-and-add, + bias
    per_pe += Resources(lut=stage.acc_bits, ff=stage.acc_bits)  # fold accumulator
    per_pe += _convert(stage.dst.fmt, stage.fin_bits) + Resources(ff=out_w)  # output register
    control = _control(sf, nf, stage.src.beats // max(layer.positions, 1), layer.positions)
    pipeline = Resources(ff=stage.dot_latency * (_bits_for(nf) + 2))  # step tags along the pipeline
    return r + per_pe.scaled(pe) + control + pipeline


def _window(stage: WindowStage) -> Resources:
    """fg_window: a line buffer RAM of 2**k beats holding LIMIT live beats, address arithmetic,
    the registered read (the output register)."""
    g = stage.geometry
    groups = g.c // stage.src.elems
    frame = g.h * g.w * groups
    limit = min(((g.kh - 1) * g.w + g.kw + g.sw) * groups, 2 * frame)
    depth = 1 << _bits_for(limit)
    addr = _bits_for(depth) + 1
    address = Resources(lut=WINDOW_ADDRESS_OPS * 2 * addr, ff=4 * addr)
    return memory(depth, stage.src.data_bits, rom=False) + address + _control(g.oh, g.ow, g.kh, g.kw, groups)


def _pool(stage: PoolStage) -> Resources:
    """fg_pool per lane: the exact input, the running maximum (compare + mux) or sum, and for an
    average the combinational divider by the count of real taps (one subtract-and-select row
    per quotient bit), then the conversion."""
    lanes = stage.src.elems
    src = stage.src.fmt
    lane = Resources(lut=2 * stage.acc_bits, ff=stage.acc_bits)
    if stage.layer.function != "max":
        quotient = stage.acc_bits + stage.extra
        lane += Resources(lut=quotient * (_bits_for(stage.taps) + 2))
    lane += _convert(stage.dst.fmt, stage.acc_bits + stage.extra + 2) + Resources(ff=stage.dst.width)
    return lane.scaled(lanes) + _decode(src, lanes) + _control(stage.taps, stage.dst.beats)


def _chan(stage: ChanStage) -> Resources:
    """fg_chan per lane: the channel's constants selected from C/ELEMS groups, then a ScaleShift's
    X_W x S_W product in fabric and the shift's adder, or a Threshold's L comparisons and the
    value look-up."""
    params = stage.params()
    lanes = stage.src.elems
    groups = stage.channels // lanes
    if params["MODE"] == 0:
        fin = int(params["FIN_W"])
        constants = int(params["S_W"]) + fin
        lane = Resources(lut=constants * _mux(groups) + _fabric_mult(int(params["X_W"]), int(params["S_W"])) + fin)
        lane += _convert(stage.dst.fmt, fin)
    else:
        levels, t_w = int(params["L"]), int(params["T_W"])
        lane = Resources(lut=levels * t_w * (1 + _mux(groups)) + stage.dst.width * _mux(levels + 1))
    lane += Resources(ff=stage.dst.width)
    return lane.scaled(lanes) + _decode(stage.src.fmt, lanes) + _control(stage.src.beats, groups)


def _fork(stage: ForkStage) -> Resources:
    """fg_fork: one FIFO of a whole frame per reader."""
    fifo = memory(stage.depth, stage.src.data_bits, rom=False) + _control(stage.depth, stage.depth)
    return fifo.scaled(stage.copies)


def _merge(stage: MergeStage) -> Resources:
    """fg_merge_in per input (exact value, narrowing to the common beat width), then fg_merge:
    the sum of K inputs or the channel interleave, and each element's conversion."""
    elems = stage.dst.elems
    r = Resources()
    for k, src in enumerate(stage.srcs):
        narrow = src.elems // elems
        r += _decode(src.fmt, src.elems) + Resources(
            lut=elems * stage.acc_bits * (1 + _mux(narrow)), ff=elems * stage.acc_bits
        )
        r += _control(narrow, stage.srcs[k].beats)
    adders = len(stage.srcs) - 1 if isinstance(stage.layer, Add) else 0
    select = 0 if adders else stage.acc_bits * _mux(len(stage.srcs))
    lane = Resources(lut=adders * stage.acc_bits + select) + _convert(stage.dst.fmt, stage.acc_bits)
    lane += Resources(ff=stage.dst.width)
    return r + lane.scaled(elems) + _control(stage.dst.beats)


def _act(stage: ActStage) -> Resources:
    """fg_act per lane: the exact input, relu, the conversion, the output register."""
    lanes = stage.src.elems
    x_bits = signed_bits(exact_fixed(stage.src.fmt))
    lane = _convert(stage.dst.fmt, x_bits) + Resources(ff=stage.dst.width)
    return lane.scaled(lanes) + _decode(stage.src.fmt, lanes) + _control(stage.src.beats)


@dataclass(frozen=True)
class Fit:
    """A design's estimated totals against a board: ``need`` vs ``have``."""

    board: str
    dsp_kind: str
    need: Resources
    have: Resources

    @property
    def over(self) -> tuple[str, ...]:
        """The resources the design needs more of than the board has."""
        return tuple(f.name for f in fields(Resources) if getattr(self.need, f.name) > getattr(self.have, f.name))

    @property
    def fits(self) -> bool:
        return not self.over

    def utilization(self) -> dict[str, float]:
        """Share of each resource the design uses (0 where the board has none and it needs none)."""
        need, have = self.need.as_dict(), self.have.as_dict()
        return {k: need[k] / have[k] if have[k] else (math.inf if need[k] else 0.0) for k in need}

    def report(self) -> dict[str, Any]:
        """The totals against the board, as project.report() shows them."""
        return {
            "board": self.board,
            "dsp_kind": self.dsp_kind,
            "need": self.need.as_dict(),
            "have": self.have.as_dict(),
            "utilization": self.utilization(),
            "fits": self.fits,
            "over": list(self.over),
        }

    def describe(self) -> str:
        """'needs 312 DSP48E1, pynq-z2 has 220; ...' for every resource over the board."""
        names = {"dsp": self.dsp_kind, "lut": "LUTs", "ff": "FFs", "bram36": "BRAM36", "uram": "URAM"}
        return "; ".join(
            f"needs {_amount(getattr(self.need, k))} {names[k]}, {self.board} has {_amount(getattr(self.have, k))}"
            for k in self.over
        )


def _amount(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def fit(graph: Graph, board: Board | str) -> Fit:
    """The estimate's totals of a scheduled graph against ``board`` (a Board or a board name / YAML)."""
    target = board if isinstance(board, Board) else boards.load(board)
    return fit_of(estimate(graph, target.dsp_kind), target)


def fit_of(per_layer: dict[str, Resources], board: Board) -> Fit:
    """The totals of an ``estimate`` already made (for ``board``'s DSP kind) against ``board``."""
    return Fit(board.name, board.dsp_kind, total(per_layer), board_resources(board))


def check_fit(graph: Graph, board: Board | str, config: FoldConfig | None = None) -> Fit:
    """Raise ResourceError when the scheduled ``graph`` does not fit ``board``: the numbers, and the
    fix -- the fold config that fits (with the pe/simd it gives each layer), or when no folding fits,
    the shipped boards the slowest folding fits. ``config``: the fold config the graph was
    scheduled with (its max_simd and dsp_kind are kept in the proposed fix; default: the board's DSPs and kind)."""
    target = board if isinstance(board, Board) else boards.load(board)
    result = fit(graph, target)
    if result.fits:
        return result
    base = config or FoldConfig(max_dsp=target.dsp, dsp_kind=target.dsp_kind)
    head = f"graph {graph.name} does not fit {target.name}: {result.describe()}"
    fix = fitting_fold(graph, target, base)
    if fix is not None:
        cfg, folded = fix
        folds = ", ".join(
            f"{l.name} pe={l.fold.pe} simd={l.fold.simd}" for l in folded.layers if isinstance(l, MatMul) and l.fold
        )
        raise ResourceError(
            f"{head}. Fold it smaller: {cfg!r} in "
            f"fpga_gen.passes.lower gives {folds} ({_summary(total(estimate(folded, target.dsp_kind)))}); "
            "or pass --allow-overfit"
        )
    slowest = FoldConfig(max_dsp=10**9, target_cycles=10**12, max_simd=1, max_lanes=10**9)
    slow = fold(graph, slowest)
    others = [name for name in boards.known() if fit(slow, name).fits]
    raise ResourceError(
        f"{head}; no folding fits it (the slowest, pe=simd=1 everywhere, needs "
        f"{_summary(total(estimate(slow, target.dsp_kind)))}). "
        + (f"It fits {', '.join(others)}" if others else "It fits none of the shipped boards")
        + ": choose a bigger board, narrower weight formats or a smaller model, or pass --allow-overfit"
    )


def _summary(r: Resources) -> str:
    return f"{r.dsp} DSP, {r.lut} LUT, {r.ff} FF, {_amount(r.bram36)} BRAM36"


def fitting_fold(graph: Graph, board: Board, base: FoldConfig) -> tuple[FoldConfig, Graph] | None:
    """The largest lane budget (DSPs and multiplier-free lanes alike) whose folding of ``graph``
    fits ``board``, by bisection (fewer lanes never need more resources); None when even one
    lane per matmul layer does not fit."""

    def attempt(lanes: int) -> tuple[FoldConfig, Graph] | None:
        cfg = replace(base, max_dsp=min(lanes, board.dsp), max_lanes=lanes, target_cycles=None)
        try:
            folded = fold(graph, cfg)
        except ResourceError:
            return None
        return (cfg, folded) if fit(folded, board).fits else None

    lo, hi = sum(isinstance(l, MatMul) for l in graph.layers), max(base.max_lanes, base.max_dsp)  # >= 1 lane each
    best = attempt(lo)
    if best is None:
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        found = attempt(mid)
        if found is not None:
            lo, best = mid, found
        else:
            hi = mid - 1
    return best
