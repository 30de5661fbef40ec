"""The resource estimate of a scheduled design, per layer, and its fit against a board.

The estimate is the RTL plan's (``backends/rtl/walk.plan``): each stage costs itself
(``Stage.cost``, by the rules of ``backends/rtl/cost.py``), the same stages the Verilog writer
instantiates; a layer's estimate is the sum of its stages'. DSP slices are exact, LUT and FF
counts first-order; Yosys' counts of the same stages (``backends/rtl/yosys.py``,
``yosys_per_layer``) are the measured figures.

``Estimator`` judges the fit of the graphs a build schedules (``passes.schedule`` asks it),
planning each once with the board's DSP primitive.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from fpga_gen import boards
from fpga_gen.backends.rtl.cost import Resources
from fpga_gen.backends.rtl.stages import Plan, Stage
from fpga_gen.backends.rtl.walk import plan
from fpga_gen.backends.rtl.yosys import YosysCounts
from fpga_gen.boards import Board
from fpga_gen.errors import ResourceError
from fpga_gen.ir import Graph, MatMul
from fpga_gen.passes import FoldConfig, fitting_fold, fold


def board_resources(board: Board) -> Resources:
    """What ``board`` offers, as Resources."""
    return Resources(board.dsp, board.lut, board.ff, float(board.bram36), board.uram)


def estimate(p: Plan) -> dict[str, Resources]:
    """Resources per layer of a plan, keyed by layer name in graph order: every layer but Input
    and Output (a Reshape is zero: no hardware), and the Input too when a fork copies it to
    several readers (the fork's FIFOs are its cost)."""
    return _per_layer(p, lambda stage: stage.cost())


def _per_layer(p: Plan, cost: Callable[[Stage], Resources]) -> dict[str, Resources]:
    """``cost`` of each stage gathered per layer, keyed as ``estimate`` documents."""
    graph = p.graph
    out = {l.name: Resources() for l in graph.layers[1:-1]}
    for stage in p.stages:
        out[stage.layer.name] = out.get(stage.layer.name, Resources()) + cost(stage)
    order = {l.name: i for i, l in enumerate(graph.layers)}
    return dict(sorted(out.items(), key=lambda item: order[item[0]]))


def total(per_layer: dict[str, Resources]) -> Resources:
    return sum(per_layer.values(), Resources())


def yosys_per_layer(p: Plan, counts: YosysCounts) -> dict[str, Resources]:
    """``synth_counts``' per-stage cells gathered per layer, keyed as ``estimate`` keys them; LUTs
    count logic, distributed RAM and shift registers alike, as the estimate does."""

    def cells(stage: Stage) -> Resources:
        c = counts.stages[stage.name]
        return Resources(c.dsp, c.lut + c.lutram + c.srl, c.ff, c.bram36, c.uram)

    return _per_layer(p, cells)


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
    return fit_of(estimate(plan(graph, target.dsp_kind)), target)


def fit_of(per_layer: dict[str, Resources], board: Board) -> Fit:
    """The totals of an ``estimate`` already made (for ``board``'s DSP kind) against ``board``."""
    return Fit(board.name, board.dsp_kind, total(per_layer), board_resources(board))


class Estimator:
    """The fit of scheduled graphs on one board: each graph planned once, with the board's DSP
    primitive (``plan``), for the schedule pass's search and the build that follows it."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self._plans: dict[int, tuple[Graph, Plan]] = {}  # by id(graph); the graph kept alive with its plan

    def plan(self, graph: Graph) -> Plan:
        known = self._plans.get(id(graph))
        if known is None:
            known = self._plans[id(graph)] = (graph, plan(graph, self.board.dsp_kind))
        return known[1]

    def fit(self, graph: Graph) -> Fit:
        return fit_of(estimate(self.plan(graph)), self.board)

    def fits(self, graph: Graph) -> bool:
        return self.fit(graph).fits


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
    fix = fitting_fold(graph, base, lambda g: fit(g, target).fits, target.dsp)
    if fix is not None:
        cfg, folded = fix
        folds = ", ".join(f"{l.name} {l.fold}" for l in folded.layers if isinstance(l, MatMul) and l.fold)
        raise ResourceError(
            f"{head}. Fold it smaller: {cfg!r} in "
            f"fpga_gen.passes.schedule gives {folds} ({_summary(fit(folded, target).need)}); "
            "or pass --allow-overfit"
        )
    slowest = FoldConfig(max_dsp=10**9, target_cycles=10**12, max_simd=1, max_lanes=10**9)
    slow = fold(graph, slowest)
    others = [name for name in boards.known() if fit(slow, name).fits]
    raise ResourceError(
        f"{head}; no folding fits it (the slowest, pe=simd=1 everywhere, needs "
        f"{_summary(fit(slow, target).need)}). "
        + (f"It fits {', '.join(others)}" if others else "It fits none of the shipped boards")
        + ": choose a bigger board, narrower weight formats or a smaller model, or pass --allow-overfit"
    )


def _summary(r: Resources) -> str:
    return f"{r.dsp} DSP, {r.lut} LUT, {r.ff} FF, {_amount(r.bram36)} BRAM36"
