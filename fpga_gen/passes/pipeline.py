"""The ordered pass pipeline from a front-end Graph to a scheduled Graph."""

from __future__ import annotations

from fpga_gen.ir import Graph
from fpga_gen.passes.fold import FoldConfig, fold
from fpga_gen.passes.fuse import fuse_activations


def lower(graph: Graph, config: FoldConfig) -> Graph:
    """Fuse activations, then fold every matmul onto the DSP array."""
    return fold(fuse_activations(graph), config)
