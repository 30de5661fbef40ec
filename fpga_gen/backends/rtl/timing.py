"""The exact cycle model of the generated RTL (one clock, input always valid, output always ready).

The stages of the chain (see ``plan``) pass beats with valid/ready handshakes, and a
windowed stage couples its neighbours (a window generator waits for a whole frame, then
its dense engine may hold it back), so the model replays the handshakes cycle by cycle:
each stage below is the register-level control of its Verilog module, nothing more.
Per cycle, ``ready`` is found from the sink backwards (fg_act and fg_pool pass their
output's ready through, fg_dense and fg_window answer from their own registers), a beat
moves where valid and ready meet, then every stage takes its clock edge.

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
* Window (fg_window): two frame buffers; a full buffer issues its window beats one per
  cycle from the cycle after its last beat was written, each leaving one cycle after its
  issue; the buffer frees the cycle after its last issue. Issue holds while the output
  beat is not accepted.

For chains of Dense and Activation stages this gives, in closed form (the first input
beat accepted in cycle 0, ``B_in`` top input beats per vector):
``latency = (B_in - 1) + sum(stage latency)`` and ``interval = max(B_in, max(stage period))``.
"""

from __future__ import annotations

import abc

from fpga_gen.backends.rtl.plan import DenseStage, Plan, PoolStage, Stage, WindowStage, plan
from fpga_gen.ir import Graph

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
    """Write one of two buffers while the other issues ``issues`` steps (fg_dense, fg_window)."""

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

    def advance(self, issue: bool, step: int) -> None:
        """The enabled pipeline behind the issue: fg_window's read register is its output."""
        self.out_valid = issue


class _Dense(_DoubleBuffered):
    def __init__(self, stage: DenseStage) -> None:
        super().__init__(stage.n_in // stage.src.elems, stage.steps)
        self.sf = stage.n_in // stage.simd
        self.pipe = [False] * stage.dot_latency  # issued steps that finish a neuron fold
        self.done = False

    def advance(self, issue: bool, step: int) -> None:
        self.out_valid, self.done = self.done, self.pipe[-1]
        self.pipe = [issue and step % self.sf == self.sf - 1, *self.pipe[:-1]]


def _model(stage: Stage) -> _Stage:
    if isinstance(stage, DenseStage):
        return _Dense(stage)
    if isinstance(stage, WindowStage):
        return _DoubleBuffered(stage.src.n // stage.src.elems, stage.dst.beats)
    return _Register(stage.taps if isinstance(stage, PoolStage) else 1)


def output_cycles(p: Plan, frames: int) -> tuple[int, ...]:
    """Cycle of each frame's last output beat, counted from the first input beat, inputs back to back."""
    models = [_model(stage) for stage in p.stages]
    to_send = frames * p.input.beats
    out_beats = p.output.beats
    ends: list[int] = []
    received = 0
    cycle = 0
    while len(ends) < frames:
        readies = [True] * (len(models) + 1)  # readies[i]: stage i's input ready; the sink is always ready
        for i in range(len(models) - 1, -1, -1):
            readies[i] = models[i].ready(readies[i + 1])
        valids = [to_send > 0] + [m.out_valid for m in models]
        if valids[0] and readies[0]:
            to_send -= 1
        if valids[-1]:
            received += 1
            if received % out_beats == 0:
                ends.append(cycle)
        for i, m in enumerate(models):
            m.edge(valids[i], readies[i + 1])
        cycle += 1
    return tuple(ends)


def latency_cycles(graph: Graph) -> int:
    """Cycles from the first input beat accepted to the last output beat of one inference."""
    return output_cycles(plan(graph), 1)[0]


def interval_cycles(graph: Graph) -> int:
    """Cycles between successive inferences in steady state, inputs presented back to back."""
    ends = output_cycles(plan(graph), STEADY_FRAMES)
    return ends[-1] - ends[-2]
