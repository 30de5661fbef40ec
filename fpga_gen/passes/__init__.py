"""Passes: pure functions Graph -> Graph. ``lower`` runs the graph passes, ``schedule`` folds onto the hardware."""

from fpga_gen.passes.fold import FoldConfig, dsp_count, engine_cycles, fold, fold_candidates, quad_shift
from fpga_gen.passes.fuse import fuse_activations
from fpga_gen.passes.pipeline import lower
from fpga_gen.passes.schedule import Judge, fitting_fold, schedule

__all__ = [
    "FoldConfig",
    "Judge",
    "dsp_count",
    "engine_cycles",
    "fitting_fold",
    "fold",
    "fold_candidates",
    "fuse_activations",
    "lower",
    "quad_shift",
    "schedule",
]
