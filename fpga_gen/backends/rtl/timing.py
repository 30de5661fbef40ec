"""The exact cycle model of the generated RTL (one clock, input always valid, output always ready).

The stages of the DAG (see ``plan``) pass beats with valid/ready handshakes, and a
windowed stage couples its neighbours (a window generator waits for each window's last pixel, then
its dense engine may hold it back), so the model replays the handshakes cycle by cycle:
each stage below is the register-level control of its Verilog module, nothing more.
Per cycle, ``ready`` is found from the sink backwards (fg_act and fg_pool pass their
output's ready through, fg_dense and fg_window answer from their own registers), a beat
moves where valid and ready meet, then every stage takes its clock edge. Every valid
comes from a register, so one pass from the sink back to the source finds every ready,
also where an Add's ready depends on the valids of its other inputs.

* Dense (fg_dense): two input banks; a full bank issues ``NF * SF`` steps back to back
  (``NF = n_out / PE`` neuron folds, ``SF = n_in / SIMD`` synapse folds), from the cycle
  after its last beat was written; a step's partial dot product is ready ``DOT`` cycles
  after its issue, then passes the fabric accumulator (1) and the output register (1).
  Unstalled, the last beat of a vector in at cycle ``t`` gives its last beat out at
  ``t + NF*SF + DOT + 2``. ``DOT`` depends on the engine (``plan.DenseStage.dot_latency``):

  ====================  ============  ==============================================
  engine                DOT           made of
  ====================  ============  ==============================================
  ``dsp_chain``         ``SIMD + 3``  operand register 1, systolic skew SIMD - 1,
                                      DSP AREG/MREG/PREG 3
  ``minifloat``         ``6``         operand register 1, DSP AREG/MREG/PREG 3,
                                      alignment shifter register 1, adder tree register 1
  ``multiplier_free``   ``2``         operand register 1, adder tree register 1
  ====================  ============  ==============================================

  The ternary / binary scale, the minifloat RNE normaliser and the minifloat input
  decode of the multiplier-free engine are combinational: they add no cycle. A
  convolution's engine runs this per output position (one window vector each).
* Activation (fg_act), ScaleShift / Threshold (fg_chan) and Pool (fg_pool): one
  register; fg_pool emits one beat per window's last tap.
* Window (fg_window): a line buffer of ``LIMIT`` live input beats. An output position
  issues its window beats one per cycle from the cycle after its last real pixel was
  written, each leaving one cycle after its issue; the input is ready while fewer than
  ``LIMIT`` beats are written and not yet dead (before the first beat this position or a
  later one reads). Issue holds while the output beat is not accepted.
* Fork (fg_fork): a FIFO of a frame per reader; a beat enters all of them in the cycle
  every one has room, and is readable from the next.
* Add / Concatenate (fg_merge_in per input, then fg_merge): an input register holds a
  beat and hands it on in ``elems_in / elems_out`` pieces, taking the next beat in the
  cycle its last piece leaves; fg_merge's output register takes a piece of every input
  at once (Add), or a pixel's pieces of each input in turn (Concatenate).

For chains of Dense and Activation stages this gives, in closed form (the first input
beat accepted in cycle 0, ``B_in`` top input beats per vector):
``latency = (B_in - 1) + sum(stage latency)`` and ``interval = max(B_in, max(stage period))``.
"""

from __future__ import annotations

import abc

from fpga_gen.backends.rtl.plan import (
    DenseStage,
    ForkStage,
    MergeStage,
    Plan,
    PoolStage,
    Stage,
    WindowStage,
    plan,
    wires,
)
from fpga_gen.errors import UnsupportedLayerError
from fpga_gen.ir import Concatenate, Graph

# Frames replayed to find the steady-state interval: the double buffers settle within two.
STEADY_FRAMES = 5


class _Stage(abc.ABC):
    """The handshake control of one stage: ``ready`` and ``valid`` from its registers, ``edge`` a clock."""

    def __init__(self) -> None:
        self.out_valid = False

    def ready(self, m_ready: bool) -> bool:
        return not self.out_valid or m_ready  # a one-register stage: free, or emptying now

    @abc.abstractmethod
    def edge(self, s_valid: bool, m_ready: bool) -> None:
        """One clock edge, with this cycle's input valid and output ready."""


class _Register(_Stage):
    """fg_act (``taps`` = 1) and fg_pool: an output beat per ``taps`` input beats."""

    def __init__(self, taps: int) -> None:
        super().__init__()
        self.taps = taps
        self.tap = 0

    def edge(self, s_valid: bool, m_ready: bool) -> None:
        if self.ready(m_ready):
            take = s_valid
            self.out_valid = take and self.tap == self.taps - 1
            if take:
                self.tap = (self.tap + 1) % self.taps


class _DoubleBuffered(_Stage):
    """Write one of two buffers while the other issues ``issues`` steps (fg_dense)."""

    def __init__(self, in_beats: int, issues: int) -> None:
        super().__init__()
        self.in_beats, self.issues = in_beats, issues
        self.full = [False, False]
        self.wsel = self.rsel = self.wbeat = self.issued = 0

    def ready(self, m_ready: bool) -> bool:
        return not self.full[self.wsel]

    def edge(self, s_valid: bool, m_ready: bool) -> None:
        en = not self.out_valid or m_ready
        issue = en and self.full[self.rsel]
        step = self.issued
        if s_valid and not self.full[self.wsel]:
            self.wbeat += 1
            if self.wbeat == self.in_beats:
                self.wbeat, self.full[self.wsel], self.wsel = 0, True, 1 - self.wsel
        if issue:
            self.issued += 1
            if self.issued == self.issues:
                self.issued, self.full[self.rsel], self.rsel = 0, False, 1 - self.rsel
        if en:
            self.advance(issue, step)

    @abc.abstractmethod
    def advance(self, issue: bool, step: int) -> None:
        """The enabled pipeline behind the issue."""


class _Dense(_DoubleBuffered):
    def __init__(self, stage: DenseStage) -> None:
        super().__init__(stage.n_in // stage.src.elems, stage.steps)
        self.sf = stage.n_in // stage.simd
        self.pipe = [False] * stage.dot_latency  # issued steps that finish a neuron fold
        self.done = False

    def advance(self, issue: bool, step: int) -> None:
        self.out_valid, self.done = self.done, self.pipe[-1]
        self.pipe = [issue and step % self.sf == self.sf - 1, *self.pipe[:-1]]


class _Window(_Stage):
    """fg_window: per output position, the beat count that holds its last real pixel
    (``thr``) and the first beat it or a later position reads (``free``); see its header."""

    def __init__(self, stage: WindowStage) -> None:
        super().__init__()
        g = stage.geometry
        groups = g.c // stage.src.elems
        self.frame = g.h * g.w * groups
        self.limit = min(((g.kh - 1) * g.w + g.kw + g.sw) * groups, 2 * self.frame)
        self.beats = g.taps * groups  # window beats per position

        def beat(y: int, x: int) -> int:  # the first beat of the nearest real pixel
            return (min(max(y, 0), g.h - 1) * g.w + min(max(x, 0), g.w - 1)) * groups

        self.thr: list[int] = []
        self.free: list[int] = []
        for oy in range(g.oh):
            y0 = oy * g.sh - g.pt
            for ox in range(g.ow):
                x0 = ox * g.sw - g.pl
                first, next_row = beat(y0, x0), beat(y0 + g.sh, 0)
                lower = oy < g.oh - 1 and y0 + g.sh <= g.h - 1 and next_row < first
                self.free.append(next_row if lower else first)
                self.thr.append(beat(y0 + g.kh - 1, x0 + g.kw - 1) + groups)
        self.wcount = self.ahead = self.pos = self.beat = 0  # ahead: write frame - read frame

    def ready(self, m_ready: bool) -> bool:
        return self.ahead * self.frame + self.wcount - self.free[self.pos] < self.limit

    def edge(self, s_valid: bool, m_ready: bool) -> None:
        en = not self.out_valid or m_ready
        issue = en and (self.ahead >= 1 or (self.ahead == 0 and self.wcount >= self.thr[self.pos]))
        if s_valid and self.ready(m_ready):
            self.wcount += 1
            if self.wcount == self.frame:
                self.wcount, self.ahead = 0, self.ahead + 1
        if issue:
            self.beat += 1
            if self.beat == self.beats:
                self.beat, self.pos = 0, self.pos + 1
                if self.pos == len(self.thr):
                    self.pos, self.ahead = 0, self.ahead - 1
        if en:
            self.out_valid = issue


def _model(stage: Stage) -> _Stage:
    if isinstance(stage, DenseStage):
        return _Dense(stage)
    if isinstance(stage, WindowStage):
        return _Window(stage)
    return _Register(stage.taps if isinstance(stage, PoolStage) else 1)


class _Node(abc.ABC):
    """A stage of the DAG with its input and output handshakes as lists (one per wire)."""

    @abc.abstractmethod
    def valids(self) -> list[bool]:
        """Output valids, from the registers alone."""

    @abc.abstractmethod
    def readies(self, s_valid: list[bool], m_ready: list[bool]) -> list[bool]:
        """Input readies this cycle."""

    @abc.abstractmethod
    def edge(self, s_valid: list[bool], m_ready: list[bool]) -> None:
        """One clock edge."""


class _Single(_Node):
    """A one-input, one-output stage of the chain models above."""

    def __init__(self, model: _Stage) -> None:
        self.model = model

    def valids(self) -> list[bool]:
        return [self.model.out_valid]

    def readies(self, s_valid: list[bool], m_ready: list[bool]) -> list[bool]:
        return [self.model.ready(m_ready[0])]

    def edge(self, s_valid: list[bool], m_ready: list[bool]) -> None:
        self.model.edge(s_valid[0], m_ready[0])


class _Fork(_Node):
    """fg_fork: a beat enters every FIFO when all have room; a FIFO's head is its output."""

    def __init__(self, stage: ForkStage) -> None:
        self.depth = stage.depth
        self.counts = [0] * stage.copies

    def valids(self) -> list[bool]:
        return [c > 0 for c in self.counts]

    def readies(self, s_valid: list[bool], m_ready: list[bool]) -> list[bool]:
        return [all(c < self.depth for c in self.counts)]

    def edge(self, s_valid: list[bool], m_ready: list[bool]) -> None:
        push = s_valid[0] and self.readies(s_valid, m_ready)[0]
        self.counts = [c + push - (c > 0 and r) for c, r in zip(self.counts, m_ready, strict=True)]


class _Merge(_Node):
    """fg_merge_in per input (a register emitting its beat in ``pieces``), then fg_merge: an
    Add takes a piece of every input at once, a Concatenate ``pixel_beats[k]`` of input k in turn."""

    def __init__(self, stage: MergeStage) -> None:
        self.pieces = [s.elems // stage.dst.elems for s in stage.srcs]
        self.concat = isinstance(stage.layer, Concatenate)
        self.pixel_beats = stage.pixel_beats
        self.held = [False] * len(self.pieces)
        self.piece = [0] * len(self.pieces)
        self.sel = self.cnt = 0
        self.out_valid = False

    def _core(self, m_ready: bool) -> tuple[bool, list[bool]]:
        """fg_merge's take and its readies of the fg_merge_in outputs."""
        en = not self.out_valid or m_ready
        if self.concat:
            take = en and self.held[self.sel]
            return take, [en and k == self.sel for k in range(len(self.held))]
        take = en and all(self.held)
        return take, [take] * len(self.held)

    def valids(self) -> list[bool]:
        return [self.out_valid]

    def readies(self, s_valid: list[bool], m_ready: list[bool]) -> list[bool]:
        _, pops = self._core(m_ready[0])
        return [
            not h or (p == n - 1 and r) for h, p, n, r in zip(self.held, self.piece, self.pieces, pops, strict=True)
        ]

    def edge(self, s_valid: list[bool], m_ready: list[bool]) -> None:
        take, pops = self._core(m_ready[0])
        takes = [v and r for v, r in zip(s_valid, self.readies(s_valid, m_ready), strict=True)]
        for k, n in enumerate(self.pieces):
            if self.held[k] and pops[k]:
                self.piece[k] = (self.piece[k] + 1) % n
                self.held[k] = self.piece[k] != 0
            if takes[k]:
                self.held[k], self.piece[k] = True, 0
        if self.concat and take:
            self.cnt += 1
            if self.cnt == self.pixel_beats[self.sel]:
                self.cnt, self.sel = 0, (self.sel + 1) % len(self.pieces)
        if not self.out_valid or m_ready[0]:
            self.out_valid = take


def _node(stage: Stage) -> _Node:
    if isinstance(stage, ForkStage):
        return _Fork(stage)
    if isinstance(stage, MergeStage):
        return _Merge(stage)
    return _Single(_model(stage))


def output_cycles(p: Plan, frames: int) -> tuple[int, ...]:
    """Cycle of each frame's last output beat, counted from the first input beat, inputs back to back.

    Per cycle: every wire's valid from the registers, readies from the sink backwards (the
    stages are in topological order; each wire has one reader), then every clock edge.
    """
    nodes = [_node(stage) for stage in p.stages]
    drives = [wires(stage) for stage in p.stages]
    to_send = frames * p.input.beats
    out_beats = p.output.beats
    # No frame takes longer than every stage working on it in turn: beyond that, a deadlock.
    limit = (frames + 2) * (p.input.beats + sum(s.period + s.latency for s in p.stages) + 1)
    ends: list[int] = []
    received = 0
    cycle = 0
    while len(ends) < frames:
        if cycle > limit:
            raise UnsupportedLayerError(
                f"graph {p.graph.name}: the cycle model finds no progress after {cycle} cycles (a deadlock of its "
                "branches): this generator bug must not happen; please report the graph"
            )
        valid = {p.input_wire: to_send > 0}
        for node, out in zip(nodes, drives, strict=True):
            valid.update(zip(out, node.valids(), strict=True))
        ready = {p.output_wire: True}  # the sink is always ready
        for node, srcs, out in zip(reversed(nodes), reversed(p.sources), reversed(drives), strict=True):
            ready.update(zip(srcs, node.readies([valid[w] for w in srcs], [ready[w] for w in out]), strict=True))
        if valid[p.input_wire] and ready[p.input_wire]:
            to_send -= 1
        if valid[p.output_wire]:
            received += 1
            if received % out_beats == 0:
                ends.append(cycle)
        for node, srcs, out in zip(nodes, p.sources, drives, strict=True):
            node.edge([valid[w] for w in srcs], [ready[w] for w in out])
        cycle += 1
    return tuple(ends)


def latency_cycles(graph: Graph) -> int:
    """Cycles from the first input beat accepted to the last output beat of one inference."""
    return output_cycles(plan(graph), 1)[0]


def interval_cycles(graph: Graph) -> int:
    """Cycles between successive inferences in steady state, inputs presented back to back."""
    ends = output_cycles(plan(graph), STEADY_FRAMES)
    return ends[-1] - ends[-2]
