"""The handshake control of the rtl/ library modules, register by register: what the cycle
model (``timing.py``) replays. Each stage hands the replay its module's model (``Stage.timing``).
"""

from __future__ import annotations

import abc

from fpga_gen.backends.linebuffer import line_buffer_beats, marks
from fpga_gen.ir import WindowGeometry


class Node(abc.ABC):
    """The handshake control of one stage, with its input and output handshakes as lists (one per wire)."""

    @abc.abstractmethod
    def valids(self) -> list[bool]:
        """Output valids, from the registers alone."""

    @abc.abstractmethod
    def readies(self, s_valid: list[bool], m_ready: list[bool]) -> list[bool]:
        """Input readies this cycle."""

    @abc.abstractmethod
    def edge(self, s_valid: list[bool], m_ready: list[bool]) -> None:
        """One clock edge."""


class Link(Node):
    """A stage of one input and one output: ``ready`` and ``out_valid`` from its registers, ``clock`` an edge."""

    def __init__(self) -> None:
        self.out_valid = False

    def ready(self, m_ready: bool) -> bool:
        return not self.out_valid or m_ready  # a one-register stage: free, or emptying now

    @abc.abstractmethod
    def clock(self, s_valid: bool, m_ready: bool) -> None:
        """One clock edge, with this cycle's input valid and output ready."""

    def valids(self) -> list[bool]:
        return [self.out_valid]

    def readies(self, s_valid: list[bool], m_ready: list[bool]) -> list[bool]:
        return [self.ready(m_ready[0])]

    def edge(self, s_valid: list[bool], m_ready: list[bool]) -> None:
        self.clock(s_valid[0], m_ready[0])


class Register(Link):
    """fg_act, fg_chan (``taps`` = 1) and fg_pool: an output beat per ``taps`` input beats."""

    def __init__(self, taps: int = 1) -> None:
        super().__init__()
        self.taps = taps
        self.tap = 0

    def clock(self, s_valid: bool, m_ready: bool) -> None:
        if self.ready(m_ready):
            take = s_valid
            self.out_valid = take and self.tap == self.taps - 1
            if take:
                self.tap = (self.tap + 1) % self.taps


class DenseEngine(Link):
    """fg_dense: write one of two banks of ``vectors`` vectors of ``in_beats`` beats each (the last
    position of a frame of ``positions`` alone) while the other issues ``steps`` steps; every
    ``sf``-th step finishes a neuron fold, ``dot_latency`` cycles after its issue. With two vectors,
    each finished fold pushes the first vector's beat and keeps the second's; after the pair's
    last fold (an odd frame's last position excepted) the output drains those ``steps // sf``,
    and a finished fold waiting for the drain holds the pipeline."""

    def __init__(self, in_beats: int, steps: int, sf: int, dot_latency: int, vectors: int = 1, positions: int = 1):
        super().__init__()
        self.in_beats, self.steps, self.sf, self.vectors, self.positions = in_beats, steps, sf, vectors, positions
        self.nf = steps // sf
        self.full = [False, False]
        self.wsel = self.rsel = self.wbeat = self.wvec = self.wpos = self.issued = 0
        self.pipe = [False] * dot_latency  # issued steps that finish a neuron fold
        self.done = False
        self.draining = False
        self.ofold = self.didx = self.opos = 0  # folds of the pair pushed, beats drained, first position of the pair

    def ready(self, m_ready: bool) -> bool:
        return not self.full[self.wsel]

    def clock(self, s_valid: bool, m_ready: bool) -> None:
        out_en = not self.out_valid or m_ready
        en = out_en and not (self.draining and self.done)
        issue = en and self.full[self.rsel]
        step = self.issued
        if s_valid and not self.full[self.wsel]:
            self.wbeat += 1
            if self.wbeat == self.in_beats:
                bank_last = self.wvec == self.vectors - 1 or self.wpos == self.positions - 1
                self.wbeat, self.wpos = 0, (self.wpos + 1) % self.positions
                self.wvec = 0 if bank_last else self.wvec + 1
                if bank_last:
                    self.full[self.wsel], self.wsel = True, 1 - self.wsel
        if issue:
            self.issued += 1
            if self.issued == self.steps:
                self.issued, self.full[self.rsel], self.rsel = 0, False, 1 - self.rsel
        fold_push = self.done and en
        drain_push = self.draining and out_en
        if fold_push and self.vectors > 1:
            self.ofold += 1
            if self.ofold == self.nf:
                # a second vector unless the pair is an odd frame's last position
                self.draining, self.didx = self.opos + 1 < self.positions, 0
                self.ofold, self.opos = 0, (self.opos + 2) % (self.positions + self.positions % 2)
        elif drain_push:
            self.didx += 1
            self.draining = self.didx < self.nf
        if out_en:
            self.out_valid = fold_push or drain_push
        if en:
            self.done = self.pipe[-1]
            self.pipe = [issue and step % self.sf == self.sf - 1, *self.pipe[:-1]]


class StreamEngine(Link):
    """fg_vvau: a step per input beat, issued as it is accepted (its ready is the output register's
    enable); every ``sf``-th step finishes a neuron fold, ``dot_latency`` cycles after its issue."""

    def __init__(self, sf: int, dot_latency: int) -> None:
        super().__init__()
        self.sf = sf
        self.issued = 0
        self.pipe = [False] * dot_latency  # issued steps that finish a neuron fold
        self.done = False

    def clock(self, s_valid: bool, m_ready: bool) -> None:
        en = self.ready(m_ready)
        issue = en and s_valid
        last = issue and self.issued % self.sf == self.sf - 1
        self.issued += issue
        if en:
            self.out_valid, self.done = self.done, self.pipe[-1]
            self.pipe = [last, *self.pipe[:-1]]


class WindowGenerator(Link):
    """fg_window over ``g`` with ``groups`` beats per pixel, ``words`` of them per output beat and
    each window's words ``rep`` times over, its line buffer two frames at most (``linebuffer``);
    see its header. The order of the words does not change the timing."""

    def __init__(self, g: WindowGeometry, groups: int, words: int, rep: int = 1) -> None:
        super().__init__()
        self.frame = g.h * g.w * groups
        self.limit = line_buffer_beats(g, groups, 2)
        self.beats = g.taps * groups * rep // words  # window beats per position
        m = marks(g, groups)
        self.thr, self.free = m.thr, m.free
        self.wcount = self.ahead = self.pos = self.beat = 0  # ahead: write frame - read frame

    def ready(self, m_ready: bool) -> bool:
        return self.ahead * self.frame + self.wcount - self.free[self.pos] < self.limit

    def clock(self, s_valid: bool, m_ready: bool) -> None:
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


class Fork(Node):
    """fg_fork: a beat enters every one of ``copies`` FIFOs of ``depth`` beats when all have room;
    a FIFO's head is its output."""

    def __init__(self, depth: int, copies: int) -> None:
        self.depth = depth
        self.counts = [0] * copies

    def valids(self) -> list[bool]:
        return [c > 0 for c in self.counts]

    def readies(self, s_valid: list[bool], m_ready: list[bool]) -> list[bool]:
        return [all(c < self.depth for c in self.counts)]

    def edge(self, s_valid: list[bool], m_ready: list[bool]) -> None:
        push = s_valid[0] and self.readies(s_valid, m_ready)[0]
        self.counts = [c + push - (c > 0 and r) for c, r in zip(self.counts, m_ready, strict=True)]


class Merge(Node):
    """fg_merge_in per input (a register emitting its beat in ``pieces[k]``), then fg_merge: an Add
    takes a piece of every input at once, a Concatenate ``pixel_beats[k]`` of input k in turn."""

    def __init__(self, pieces: list[int], concat: bool, pixel_beats: tuple[int, ...]) -> None:
        self.pieces = pieces
        self.concat = concat
        self.pixel_beats = pixel_beats
        self.held = [False] * len(pieces)
        self.piece = [0] * len(pieces)
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
