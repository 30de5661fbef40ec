"""Scheduling: every matmul folded onto the DSP array, small enough that the design fits its board.

``schedule`` folds with a ``FoldConfig`` (``fold``). Given a judge of fit -- the resource
estimate against a board, ``resources.Estimator.fits`` -- and a folding that does not fit, it
takes the largest lane budget whose folding does (``fitting_fold``): minifloat engines are
LUT-bound, not DSP-bound, so the DSP budget alone can overfill the fabric. The pass knows
nothing of boards or estimates; it asks the judge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from fpga_gen.errors import ResourceError
from fpga_gen.ir import Graph, MatMul
from fpga_gen.passes.fold import FoldConfig, fold

# Whether a scheduled graph fits (raises ResourceError for a design it cannot even judge,
# such as an operand too wide for the DSP slice).
Judge = Callable[[Graph], bool]


def schedule(graph: Graph, config: FoldConfig, fits: Judge | None = None) -> Graph:
    """``graph`` folded by ``config``; with ``fits``, refolded to the largest lane budget that fits
    when that folding does not (unchanged when nothing fits: the caller reports it)."""
    folded = fold(graph, config)
    if fits is None or fits(folded):
        return folded
    found = fitting_fold(folded, config, fits, config.max_dsp)
    return folded if found is None else found[1]


def fitting_fold(graph: Graph, base: FoldConfig, fits: Judge, max_dsp: int) -> tuple[FoldConfig, Graph] | None:
    """The largest lane budget (DSPs, at most ``max_dsp``, and multiplier-free lanes alike) whose
    folding of ``graph`` fits, by bisection (fewer lanes never need more resources); None when
    even one lane per matmul layer does not fit."""

    def attempt(lanes: int) -> tuple[FoldConfig, Graph] | None:
        cfg = replace(base, max_dsp=min(lanes, max_dsp), max_lanes=lanes, target_cycles=None)
        try:
            folded = fold(graph, cfg)
            return (cfg, folded) if fits(folded) else None
        except ResourceError:  # no folding within this budget, or one the slices cannot run
            return None

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
