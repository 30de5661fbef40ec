"""fpga_gen: bit-exact FPGA accelerators for quantized neural networks.

Public API (DESIGN.md §7)::

    graph = fpga_gen.from_qkeras(model)
    y = graph.predict(x)
    project = fpga_gen.build(graph, board="pynq-z2", out="build/mlp")
    project.csim(x); project.cosim(x); project.report()

TensorFlow is imported only by ``from_qkeras`` (and the other front-ends), on first use.
"""

from __future__ import annotations

from typing import Any

from fpga_gen import boards
from fpga_gen.errors import FpgaGenError
from fpga_gen.formats import Format
from fpga_gen.ir import Graph, load
from fpga_gen.project import Project, build, open_project

__version__ = "0.1.0"


def from_qkeras(model: Any, input_format: Format | str | None = None) -> Graph:
    """QKeras / Keras model -> Graph (imports TensorFlow on first use)."""
    from fpga_gen.frontends.qkeras import from_qkeras as convert

    return convert(model, input_format)


__all__ = ["FpgaGenError", "Graph", "Project", "boards", "build", "from_qkeras", "load", "open_project"]
