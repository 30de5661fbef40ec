"""The ordered pass pipeline from a front-end Graph to a lowered Graph, ready to schedule."""

from __future__ import annotations

from fpga_gen.ir import Graph
from fpga_gen.passes.fuse import fuse_activations


def lower(graph: Graph) -> Graph:
    """The graph passes every build runs before scheduling: fuse activations into their matmuls."""
    return fuse_activations(graph)
