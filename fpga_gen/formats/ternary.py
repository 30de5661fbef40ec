"""Ternary and binary weights: {-1, 0, +1} * scale and {-1, +1} * scale.

``scale`` is one positive constant for the whole tensor or a tuple of constants, one per
output channel (the last axis). Each scale must be exactly a fixed-point constant (a
float64 with at most 24 significant bits, e.g. a power of two or 0.375), so products
stay exact. The hardware needs no multiplier: it adds or subtracts the input and applies
the scale once per output (a shift when it is a power of two).

Codes: ternary uses two bits, two's complement of the sign (+1 -> 0b01, -1 -> 0b11,
0 -> 0b00); binary uses one bit, 0 for +1 and 1 for -1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import FormatError
from fpga_gen.formats.base import Format

# A scale is a fixed-point constant: a short significand, like a DSP or a shift can apply.
MAX_SCALE_BITS = 24

Scale = float | tuple[float, ...]


def _check_scale(kind: str, scale: Scale) -> tuple[float, ...]:
    values = scale if isinstance(scale, tuple) else (scale,)
    if not values:
        raise FormatError(f"{kind} needs at least one scale")
    for s in values:
        if isinstance(s, bool) or not isinstance(s, int | float) or not np.isfinite(s) or s <= 0:
            raise FormatError(f"{kind} scale {s!r} must be a positive finite number")
        mantissa, _ = np.frexp(float(s))
        if np.ldexp(mantissa, MAX_SCALE_BITS) != np.round(np.ldexp(mantissa, MAX_SCALE_BITS)):
            raise FormatError(
                f"{kind} scale {s!r} has more than {MAX_SCALE_BITS} significant bits: use a power "
                "of two or a short fixed-point constant such as 0.375"
            )
    return tuple(float(s) for s in values)


@dataclass(frozen=True)
class _Signed(Format):
    """Shared body of Ternary and Binary: sign levels times a (per-channel) scale."""

    scale: Scale = 1.0

    def __post_init__(self) -> None:
        values = _check_scale(self._kind, self.scale)
        object.__setattr__(self, "scale", values if isinstance(self.scale, tuple) else values[0])

    _kind: ClassVar[str] = "ternary"
    _levels: ClassVar[tuple[int, ...]] = (-1, 0, 1)

    @property
    def scales(self) -> npt.NDArray[np.float64]:
        return np.atleast_1d(np.asarray(self.scale, dtype=np.float64))

    @property
    def per_channel(self) -> bool:
        return isinstance(self.scale, tuple)

    def _broadcast(self, v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        s = self.scales
        if self.per_channel and (v.ndim == 0 or v.shape[-1] != len(s)):
            raise FormatError(f"{self}: {len(s)} per-channel scales need a last axis of {len(s)}, got shape {v.shape}")
        return s if self.per_channel else s[0] * np.ones(1)

    def levels(self, x: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Representable values -> their sign levels (-1, 0, +1)."""
        v = np.asarray(x, dtype=np.float64)
        t = v / self._broadcast(v)
        if not np.all(np.isin(t, self._levels)):
            bad = v[~np.isin(t, self._levels)]
            raise FormatError(f"value {bad.ravel()[0]!r} is not a level of {self}; quantize() it first")
        return t.astype(np.int64)

    def from_levels(self, t: npt.ArrayLike) -> npt.NDArray[np.float64]:
        lv = np.asarray(t, dtype=np.int64)
        return lv * self._broadcast(lv.astype(np.float64))

    @property
    def bits(self) -> int:
        return 2 if len(self._levels) == 3 else 1

    @property
    def frac(self) -> int:
        """Every value is an integer times 2**-frac (the finest grid any scale needs)."""
        return max(Fraction(float(s)).denominator.bit_length() - 1 for s in self.scales)  # dyadic: 2**k

    def scale_ints(self) -> tuple[int, ...]:
        """Each scale as an integer on the format's grid, ``scale = n * 2**-frac`` (exact: the scales
        are dyadic): the constant the hardware multiplies a sum of levels by."""
        return tuple(int(Fraction(float(s)) * 2**self.frac) for s in self.scales)

    @property
    def max_int(self) -> int:
        return max(self.scale_ints())

    @property
    def min_int(self) -> int:
        return -self.max_int

    def cast_int(self, n: npt.ArrayLike, frac: int) -> npt.NDArray[Any]:
        """Round exact integers ``n * 2**-frac`` to a level (per output channel: last axis)."""
        arr = np.asarray(n)
        values = arr.astype(np.float64) * 2.0**-frac
        if arr.dtype == object or np.any(np.abs(arr) >= 2**53):
            raise FormatError(f"{self}: accumulators wider than 53 bits cannot be rounded to ternary/binary levels")
        q = self.quantize(values)
        return np.ldexp(q, self.frac).astype(np.int64)

    def cpp_type(self) -> str:
        return "ap_int<2>" if self.bits == 2 else "ap_uint<1>"

    def __str__(self) -> str:
        # a trailing comma marks a per-channel tuple of one scale
        trail = "," if self.per_channel and len(self.scales) == 1 else ""
        return f"{self._kind}<{', '.join(repr(float(s)) for s in self.scales)}{trail}>"


@dataclass(frozen=True)
class Ternary(_Signed):
    """Values {-1, 0, +1} * scale; ``quantize`` picks the nearest (a tie goes to 0)."""

    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        v = np.asarray(x, dtype=np.float64)
        s = self._broadcast(v)
        t = np.where(np.abs(v) > s / 2, np.sign(v), 0.0)
        return t * s

    def to_codes(self, x: npt.ArrayLike) -> npt.NDArray[Any]:
        return self.levels(x) & 0b11

    def from_codes(self, codes: npt.ArrayLike) -> npt.NDArray[np.float64]:
        c = np.asarray(codes, dtype=np.int64)
        if np.any(c == 0b10) or np.any((c < 0) | (c > 3)):
            raise FormatError(f"ternary codes are 0b00, 0b01 and 0b11; got {c[(c == 2) | (c < 0) | (c > 3)][0]}")
        return self.from_levels(np.where(c == 0b11, -1, c))


@dataclass(frozen=True)
class Binary(_Signed):
    """Values {-1, +1} * scale; ``quantize`` is the sign, with 0 -> +1 (as QKeras' binary)."""

    _kind: ClassVar[str] = "binary"
    _levels: ClassVar[tuple[int, ...]] = (-1, 1)

    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        v = np.asarray(x, dtype=np.float64)
        return np.where(v < 0, -1.0, 1.0) * self._broadcast(v)

    def to_codes(self, x: npt.ArrayLike) -> npt.NDArray[Any]:
        return (self.levels(x) < 0).astype(np.int64)

    def from_codes(self, codes: npt.ArrayLike) -> npt.NDArray[np.float64]:
        c = np.asarray(codes, dtype=np.int64)
        if np.any((c < 0) | (c > 1)):
            raise FormatError("binary codes are 0 (+1) and 1 (-1)")
        return self.from_levels(1 - 2 * c)


def parse_signed(name: str, args: Sequence[str]) -> Format:
    """``ternary<0.5>``, ``binary<1.0>``; per-channel: ``ternary<0.5, 0.25, ...>``."""
    texts = [a.strip() for a in args]
    per_channel = len(texts) > 1 or (texts and texts[-1] == "")
    try:
        scales = tuple(float(t) for t in texts if t)
    except ValueError as err:
        raise FormatError(f"{name}<...> takes positive scales, got {', '.join(texts)!r}") from err
    cls = Ternary if name == "ternary" else Binary
    return cls(scales if per_channel else scales[0])
