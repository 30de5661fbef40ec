"""Values of the IR: tensor specs and stored (quantized) weight tensors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import GraphError
from fpga_gen.formats import Format
from fpga_gen.formats.sizing import exact_fixed

Shape = tuple[int, ...]


@dataclass(frozen=True)
class TensorSpec:
    """Shape of one sample (no batch axis) and the number format of every element."""

    shape: Shape
    format: Format

    def __post_init__(self) -> None:
        if not self.shape or any(int(d) < 1 for d in self.shape):
            raise GraphError(f"tensor shape {self.shape} must be non-empty with every dimension >= 1")

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __str__(self) -> str:
        return f"{'x'.join(map(str, self.shape))} {self.format}"


@dataclass(frozen=True, eq=False)
class Tensor:
    """A constant tensor (weights, bias) stored as the hardware's bit patterns.

    ``codes`` are what ``format.to_codes`` returns; the array is made read-only so a
    frozen layer really is immutable. Equality compares format, shape and every code.
    """

    format: Format
    codes: npt.NDArray[np.int64] = field(repr=False)

    def __post_init__(self) -> None:
        codes = np.array(self.codes, dtype=np.int64, copy=True)
        codes.setflags(write=False)
        object.__setattr__(self, "codes", codes)

    @classmethod
    def from_values(cls, format: Format, values: npt.ArrayLike) -> Tensor:
        """Store ``values``, which must already be exactly representable in ``format``."""
        return cls(format, format.to_codes(np.asarray(values, dtype=np.float64)))

    @property
    def shape(self) -> Shape:
        return tuple(int(d) for d in self.codes.shape)

    @property
    def values(self) -> npt.NDArray[np.float64]:
        return self.format.from_codes(self.codes)

    @property
    def ints(self) -> npt.NDArray[Any]:
        """Exact integers on the format's grid: value = int * 2**-exact_fixed(format).frac."""
        return exact_fixed(self.format).to_int(self.values)

    def digest(self) -> str:
        """Short content hash: lets the canonical text form show that weights changed."""
        h = hashlib.sha256(str(self.format).encode())
        h.update(repr(self.shape).encode())
        h.update(np.ascontiguousarray(self.codes).tobytes())
        return h.hexdigest()[:12]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tensor):
            return NotImplemented
        return self.format == other.format and np.array_equal(self.codes, other.codes)

    def __hash__(self) -> int:
        return hash(self.digest())

    def __str__(self) -> str:
        return f"{'x'.join(map(str, self.shape))} {self.format} sha256:{self.digest()}"
