"""The interface every number format of fpga_gen implements."""

from __future__ import annotations

import abc
from typing import Any

import numpy as np
import numpy.typing as npt


class Format(abc.ABC):
    """A number format: how real values are rounded to it, stored in hardware and spelled in C++.

    Implementations are immutable and hashable (frozen dataclasses), so formats can be compared
    with ``==`` and used as dictionary keys.
    """

    @property
    @abc.abstractmethod
    def bits(self) -> int:
        """Storage width in bits of one value."""

    @abc.abstractmethod
    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Round float64 values to this format exactly as the hardware cast does."""

    @abc.abstractmethod
    def to_codes(self, x: npt.ArrayLike) -> npt.NDArray[Any]:
        """Representable values -> their hardware bit patterns, as unsigned integers in [0, 2**bits)."""

    @abc.abstractmethod
    def from_codes(self, codes: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Hardware bit patterns -> the values they stand for (inverse of ``to_codes``)."""

    @abc.abstractmethod
    def cast_int(self, n: npt.ArrayLike, frac: int) -> npt.NDArray[Any]:
        """Exact integers ``n * 2**-frac`` (an accumulator) -> this format, rounded once.

        Returns the results as integers on the grid of ``sizing.exact_fixed(self)``, the
        form in which the golden model carries every tensor.
        """

    @abc.abstractmethod
    def cpp_type(self) -> str:
        """The C++ (Vitis HLS) type holding one value, e.g. ``ap_fixed<8,3>``."""

    @abc.abstractmethod
    def __str__(self) -> str:
        """The canonical spelling, which ``parse_format`` reads back to an equal format."""
