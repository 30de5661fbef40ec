"""Build a Graph layer by layer from float weights and chosen formats.

This is how a user quantizes a float network by hand (before or without a front-end):
every weight is rounded with ``format.quantize`` (the format's own rounding and overflow
modes), so what is stored is exactly what the format can hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import GraphError
from fpga_gen.formats import Format, parse_format
from fpga_gen.formats.sizing import accumulator_format
from fpga_gen.ir.graph import Graph
from fpga_gen.ir.layers import Activation, Dense, Input, Layer, Output
from fpga_gen.ir.tensor import Tensor, TensorSpec

FormatLike = Format | str


def as_format(fmt: FormatLike) -> Format:
    return parse_format(fmt) if isinstance(fmt, str) else fmt


@dataclass
class GraphBuilder:
    """Appends layers to a chain that starts at one Input; ``build()`` closes it with an Output."""

    name: str
    input_shape: tuple[int, ...]
    input_format: FormatLike
    _layers: list[Layer] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        spec = TensorSpec(tuple(self.input_shape), as_format(self.input_format))
        self._layers.append(Input(name="input", output=spec))

    @property
    def last(self) -> Layer:
        return self._layers[-1]

    def _name(self, kind: str, name: str | None) -> str:
        return name or f"{kind}{sum(1 for l in self._layers if l.kind.lower() == kind)}"

    def dense(
        self,
        weight: npt.ArrayLike,
        weight_format: FormatLike,
        bias: npt.ArrayLike | None = None,
        bias_format: FormatLike | None = None,
        *,
        activation: str = "linear",
        output_format: FormatLike | None = None,
        name: str | None = None,
    ) -> GraphBuilder:
        """Add a Dense layer; without ``output_format`` it keeps the exact accumulator."""
        name = self._name("dense", name)
        wfmt = as_format(weight_format)
        w = Tensor.from_values(wfmt, wfmt.quantize(np.asarray(weight, dtype=np.float64)))
        b = None
        if bias is not None:
            if bias_format is None:
                raise GraphError(f"layer {name}: a bias needs a bias_format")
            bfmt = as_format(bias_format)
            b = Tensor.from_values(bfmt, bfmt.quantize(np.asarray(bias, dtype=np.float64)))
        in_fmt = self.last.output.format
        exact = accumulator_format(in_fmt, wfmt, w.shape[0], None if b is None else b.format)
        out_fmt = as_format(output_format) if output_format is not None else exact
        spec = TensorSpec((w.shape[1],), out_fmt)
        self._layers.append(
            Dense(name=name, inputs=(self.last.name,), output=spec, weight=w, bias=b, activation=activation)
        )
        return self

    def activation(self, function: str, output_format: FormatLike, *, name: str | None = None) -> GraphBuilder:
        spec = TensorSpec(self.last.output.shape, as_format(output_format))
        self._layers.append(
            Activation(name=self._name("activation", name), inputs=(self.last.name,), output=spec, function=function)
        )
        return self

    def build(self) -> Graph:
        out = Output(name="output", inputs=(self.last.name,), output=self.last.output)
        return Graph((*self._layers, out), name=self.name)
