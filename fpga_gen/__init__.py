"""fpga_gen: bit-exact FPGA accelerators for quantized neural networks.

Public API (DESIGN.md §7)::

    graph = fpga_gen.from_qkeras(model)
    y = graph.predict(x)
    project = fpga_gen.build(graph, board="pynq-z2", out="build/mlp")
    project.csim(x); project.cosim(x); project.report()

TensorFlow is imported only by ``from_qkeras`` (and the other front-ends), on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fpga_gen import boards
from fpga_gen import kinds as kinds  # registers every layer kind's handlers with the levels that dispatch on kinds
from fpga_gen.errors import FpgaGenError
from fpga_gen.formats import Format
from fpga_gen.ir import Graph, load
from fpga_gen.project import Project, build, open_project

if TYPE_CHECKING:
    from fpga_gen.frontends.keras_ptq import FormatSpec

__version__ = "0.1.0"


def from_qkeras(model: Any, input_format: Format | str | None = None) -> Graph:
    """QKeras / Keras model -> Graph (imports TensorFlow on first use)."""
    from fpga_gen.frontends.qkeras import from_qkeras as convert

    return convert(model, input_format)


def quantize(
    model: Any,
    weights: FormatSpec = "e4m3",
    activations: FormatSpec = "fixed<8,3,RND_CONV,SAT>",
    calibration: Any = None,
    *,
    per_channel: bool = False,
    method: str = "max",
    percentile: float = 99.99,
) -> Graph:
    """Float Keras model + calibration inputs -> quantized Graph (imports TensorFlow on first use).

    See ``fpga_gen.frontends.keras_ptq.quantize``.
    """
    from fpga_gen.frontends.keras_ptq import quantize as convert

    return convert(
        model, weights, activations, calibration, per_channel=per_channel, method=method, percentile=percentile
    )


__all__ = ["FpgaGenError", "Graph", "Project", "boards", "build", "from_qkeras", "load", "open_project", "quantize"]
