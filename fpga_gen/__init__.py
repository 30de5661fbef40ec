"""fpga_gen: bit-exact FPGA accelerators for quantized neural networks.

Public API (DESIGN.md §7)::

    graph = fpga_gen.from_qkeras(model)
    y = graph.predict(x)
    project = fpga_gen.build(graph, board="pynq-z2", out="build/mlp")
    project.csim(x); project.cosim(x); project.report()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fpga_gen import boards
from fpga_gen.errors import FpgaGenError
from fpga_gen.ir import Graph, load

if TYPE_CHECKING:
    from pathlib import Path

    from fpga_gen.formats import Format
    from fpga_gen.passes import FoldConfig
    from fpga_gen.project import Project

__version__ = "0.1.0"


def from_qkeras(model: Any, input_format: Format | str | None = None) -> Graph:
    """QKeras / Keras model -> Graph (imports TensorFlow on first use)."""
    from fpga_gen.frontends.qkeras import from_qkeras as convert

    return convert(model, input_format)


def build(
    graph: Graph,
    board: str | Path | boards.Board = "pynq-z2",
    out: str | Path = "build/fpga_gen",
    fold: FoldConfig | None = None,
) -> Project:
    """Schedule ``graph`` for ``board`` and write its HLS and RTL projects into ``out``."""
    from fpga_gen.project import build as build_project

    return build_project(graph, board, out, fold)


def open_project(path: str | Path) -> Project:
    """Re-open a project directory written by ``build``."""
    from fpga_gen.project import open_project as reopen

    return reopen(path)


__all__ = ["FpgaGenError", "Graph", "boards", "build", "from_qkeras", "load", "open_project"]
