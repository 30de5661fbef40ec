"""Passes: pure functions Graph -> Graph, applied in the order of ``PIPELINE``."""

from fpga_gen.passes.fold import FoldConfig, dsp_count, engine_cycles, fold, fold_candidates
from fpga_gen.passes.fuse import fuse_activations
from fpga_gen.passes.pipeline import lower

__all__ = ["FoldConfig", "dsp_count", "engine_cycles", "fold", "fold_candidates", "fuse_activations", "lower"]
