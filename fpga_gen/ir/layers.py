"""Layer kinds of the IR. Every layer is a frozen value; passes build new ones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from fpga_gen.errors import GraphError
from fpga_gen.formats import FixedPoint, Format
from fpga_gen.formats.sizing import accumulator_format
from fpga_gen.ir.tensor import Tensor, TensorSpec

# Layer names become C++ and Verilog identifiers, so they are checked here, once.
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
ACTIVATIONS = ("linear", "relu")


@dataclass(frozen=True)
class Fold:
    """How a matmul layer is folded onto the DSP array: PE rows x SIMD lanes."""

    pe: int
    simd: int

    def __post_init__(self) -> None:
        if self.pe < 1 or self.simd < 1:
            raise GraphError(f"fold pe={self.pe} simd={self.simd}: both must be >= 1")

    def __str__(self) -> str:
        return f"pe={self.pe} simd={self.simd}"


@dataclass(frozen=True, kw_only=True)
class Layer:
    """Common part of every layer: its name, the layers it reads, its output tensor."""

    kind: ClassVar[str] = "layer"
    name: str
    inputs: tuple[str, ...]
    output: TensorSpec

    def __post_init__(self) -> None:
        if not _IDENTIFIER.fullmatch(self.name):
            raise GraphError(
                f"layer name {self.name!r} is not a valid identifier: use a letter followed "
                "by letters, digits or '_' (at most 63 characters)"
            )

    def attributes(self) -> dict[str, str]:
        """Kind-specific attributes, as they appear in the canonical text form."""
        return {}


@dataclass(frozen=True, kw_only=True)
class Input(Layer):
    kind: ClassVar[str] = "Input"
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Output(Layer):
    kind: ClassVar[str] = "Output"


@dataclass(frozen=True, kw_only=True)
class Activation(Layer):
    """Element-wise function of the input, then one rounding into ``output.format``."""

    kind: ClassVar[str] = "Activation"
    function: str = "linear"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_activation(self.name, self.function)

    def attributes(self) -> dict[str, str]:
        return {"function": self.function}


@dataclass(frozen=True, kw_only=True)
class Dense(Layer):
    """y = round(activation(x @ weight + bias)) with an exact accumulator.

    ``weight`` has Keras' layout (n_in, n_out). The product and the sum are exact; the
    only rounding is the conversion of the accumulator into ``output.format``.
    """

    kind: ClassVar[str] = "Dense"
    weight: Tensor
    bias: Tensor | None = None
    activation: str = "linear"
    fold: Fold | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_activation(self.name, self.activation)
        if len(self.weight.shape) != 2:
            raise GraphError(f"layer {self.name}: weight shape {self.weight.shape} must be (n_in, n_out)")
        if self.output.shape != (self.n_out,):
            raise GraphError(
                f"layer {self.name}: output shape {self.output.shape} does not match weight shape {self.weight.shape}"
            )
        if self.bias is not None and self.bias.shape != (self.n_out,):
            raise GraphError(f"layer {self.name}: bias shape {self.bias.shape} must be ({self.n_out},)")

    @property
    def n_in(self) -> int:
        return self.weight.shape[0]

    @property
    def n_out(self) -> int:
        return self.weight.shape[1]

    @property
    def bias_format(self) -> Format | None:
        return None if self.bias is None else self.bias.format

    def accumulator(self, input_format: Format) -> FixedPoint:
        """The narrowest accumulator that holds every possible sum exactly."""
        return accumulator_format(input_format, self.weight.format, self.n_in, self.bias_format)

    def attributes(self) -> dict[str, str]:
        attrs = {"weight": str(self.weight), "bias": str(self.bias) if self.bias else "none"}
        attrs["activation"] = self.activation
        if self.fold is not None:
            attrs["fold"] = str(self.fold)
        return attrs


def _check_activation(layer: str, function: str) -> None:
    if function not in ACTIVATIONS:
        raise GraphError(f"layer {layer}: activation {function!r} is not one of {ACTIVATIONS}")


LAYER_KINDS: dict[str, type[Layer]] = {cls.kind: cls for cls in (Input, Dense, Activation, Output)}
