"""Fixed-point numbers, bit-exact with the Vitis HLS ``ap_fixed`` / ``ap_ufixed`` types.

A ``FixedPoint(width, integer)`` value is ``n * 2**-frac`` with ``frac = width - integer`` and
``n`` a ``width``-bit integer mantissa (two's complement when signed). A cast first rounds the
exact input onto the grid (``rounding``), then folds values outside the mantissa range back
in (``overflow``), exactly as ``ap_fixed<W,I,Q,O>`` does. All arithmetic is exact: floats are
only scaled by powers of two and rounded with floor, mantissas are integers (int64 up to
62 bits, Python integers in object arrays beyond).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import FormatError
from fpga_gen.formats.base import Format

ROUNDING_MODES = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV")
OVERFLOW_MODES = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")

# AP_INT_MAX_W, the default widest ap_[u]fixed of the ap_types headers.
MAX_WIDTH = 1024
# Beyond this many bits, mantissas and codes are Python integers (dtype=object) rather than int64:
# the margin keeps every intermediate (a carry, a mantissa times two) inside int64.
INT64_MAX_WIDTH = 62
# Every value of a format must be a finite float64 (|value| < 2**integer <= 2**1023) and its lsb a
# normal float64 (frac <= 1022): the exact float algorithms below rely on both. One bit less of
# frac because ap_fixed reads a subnormal double 0.m * 2**-1022 as 1.m * 2**-1023 (it always sets
# the hidden bit): from lsb 2**-1021 up, both readings are below half an lsb and round alike.
_MAX_INTEGER = 1023
_MAX_FRAC = 1021

IntArray = npt.NDArray[np.int64] | npt.NDArray[np.object_]
_AnyArray = npt.NDArray[Any]
_BoolArray = npt.NDArray[np.bool_]

_INT_RE = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class FixedPoint(Format):
    """``ap_fixed<width, integer, rounding, overflow>`` (``ap_ufixed`` when not ``signed``).

    ``integer`` may be negative or larger than ``width``, as in C++. Rounding modes are
    ``ROUNDING_MODES`` (``TRN``: floor, ``TRN_ZERO``: toward zero, ``RND``: ties up,
    ``RND_ZERO``: ties toward zero, ``RND_MIN_INF``: ties down, ``RND_INF``: ties away from
    zero, ``RND_CONV``: ties to even); overflow modes are ``OVERFLOW_MODES`` (``WRAP``: keep the
    low ``width`` bits, ``SAT``: clamp, ``SAT_ZERO``: overflowed values become 0, ``SAT_SYM``:
    clamp to ``[-max, max]``; the signed minimum itself becomes ``-max`` too, but a signed
    width-1 format keeps its only negative value ``-lsb``, and unsigned ``SAT_SYM`` is ``SAT``).
    """

    width: int
    integer: int
    signed: bool = True
    rounding: str = "TRN"
    overflow: str = "WRAP"

    def __post_init__(self) -> None:
        width = _check_int("width", self.width)
        integer = _check_int("integer", self.integer)
        if not 1 <= width <= MAX_WIDTH:
            raise FormatError(f"fixed-point width={width} is invalid: use a width in [1, {MAX_WIDTH}]")
        if integer > _MAX_INTEGER:
            raise FormatError(
                f"fixed-point integer={integer} is too large: values must stay below 2**{_MAX_INTEGER} "
                f"to be float64 numbers; use integer <= {_MAX_INTEGER}"
            )
        if width - integer > _MAX_FRAC:
            raise FormatError(
                f"fixed-point width={width}, integer={integer} has {width - integer} fractional bits: "
                f"its lsb would be below 2**-{_MAX_FRAC}; use integer >= {width - _MAX_FRAC}"
            )
        if not isinstance(self.signed, bool | np.bool_):
            raise FormatError(f"fixed-point signed={self.signed!r} is invalid: use True or False")
        if self.rounding not in ROUNDING_MODES:
            raise FormatError(
                f"fixed-point rounding={self.rounding!r} is not a rounding mode: use one of {', '.join(ROUNDING_MODES)}"
            )
        if self.overflow not in OVERFLOW_MODES:
            raise FormatError(
                f"fixed-point overflow={self.overflow!r} is not an overflow mode: "
                f"use one of {', '.join(OVERFLOW_MODES)}"
            )
        # Normalize numpy scalars so that equal formats compare and hash equal.
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "integer", integer)
        object.__setattr__(self, "signed", bool(self.signed))

    # -- derived properties --------------------------------------------------------------------

    @property
    def frac(self) -> int:
        """Fractional bits: the grid is ``2**-frac`` (negative when ``integer > width``)."""
        return self.width - self.integer

    @property
    def bits(self) -> int:
        return self.width

    @property
    def lsb(self) -> float:
        """The value of one mantissa step, ``2**-frac``."""
        return 2.0**-self.frac

    @property
    def min_int(self) -> int:
        """Smallest stored mantissa. ``SAT_SYM`` casts never produce it when signed and width > 1."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_int(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def min_value(self) -> float:
        """``min_int * lsb`` (rounded to nearest float64 when width > 53)."""
        return self._int_to_float(self.min_int)

    @property
    def max_value(self) -> float:
        """``max_int * lsb`` (rounded to nearest float64 when width > 53)."""
        return self._int_to_float(self.max_int)

    # -- casts ---------------------------------------------------------------------------------

    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Cast float64 values as ``ap_fixed<W,I,Q,O>(double)`` does: round, then overflow.

        Exact for every float64 input. ``±inf`` acts as ``±2**1024``, which is how the ap_fixed
        constructor reads it (it saturates, or wraps to 0). The result is exact whenever it has
        at most 53 significant bits (always when width <= 53); wider mantissas are rounded to
        the nearest float64, ties to even (``quantize_int`` keeps them exact). NaN raises.
        """
        n = self.quantize_int(x)
        return self._ints_to_floats(n.ravel()).reshape(n.shape)

    def quantize_int(self, x: npt.ArrayLike) -> IntArray:
        """Like ``quantize`` but returns the exact integer mantissas (int64 up to 62 bits, else object)."""
        a = _as_floats(x, "quantize")
        nan = np.flatnonzero(np.isnan(a))
        if nan.size:
            raise FormatError(
                f"cannot quantize NaN (flat index {nan[0]}) to {self}: ap_fixed has no NaN; "
                "remove or replace NaNs first"
            )
        shape = a.shape
        a = a.ravel()
        if self.overflow == "WRAP":
            # x mod 2**integer keeps the sign and the low `width` integer bits of the scaled value,
            # which is all rounding and wrapping look at. It is exact (fmod always is) and keeps
            # the scaled value finite. inf (read as 2**1024 by ap_fixed) wraps to 0.
            a = np.fmod(np.where(np.isinf(a), 0.0, a), 2.0**self.integer)
        with np.errstate(over="ignore"):  # saturating modes only: inf is then just out of range
            y = np.ldexp(a, self.frac)
        # A nonzero value that underflows to 0 has |scaled| < 0.5: every mode treats any such
        # value of the same sign alike, so stand in a quarter with that sign.
        y = np.where((y == 0) & (a != 0), np.copysign(0.25, a), y)
        fl = np.floor(y)
        if self.rounding != "TRN":
            # Classify the dropped fraction on |y|: |y| - floor(|y|) is exact, whereas y - floor(y)
            # rounds for small negative y (e.g. 1 - 2**-60). inf has no fraction.
            finite = np.isfinite(y)
            ay = np.abs(y)
            f = np.zeros_like(y)
            np.subtract(ay, np.floor(ay), out=f, where=finite)
            negative = y < 0
            inexact = f != 0
            tie = f == 0.5
            above = np.where(negative, inexact & (f < 0.5), f > 0.5)  # y - floor(y) = 1 - f when y < 0
            up = _round_up(self.rounding, np.where(finite, fl, 0.0), above, tie, inexact, negative)
            fl = np.where(up, fl + 1, fl)
        if self.width <= INT64_MAX_WIDTH:
            # Every mantissa lies in [-2**61, 2**62 - 1], so clipping at +-2**62 keeps overflowed
            # values overflowed (and WRAP values are already below 2**width).
            n: _AnyArray = np.clip(fl, -(2.0**62), 2.0**62).astype(np.int64)
        else:
            beyond = 1 << (self.width + 1)  # any value past the range stands in for +-inf
            n = _object_array(int(v) if math.isfinite(v) else (beyond if v > 0 else -beyond) for v in fl.tolist())
        return self._overflow(n).reshape(shape)

    def cast_int(self, n: npt.ArrayLike, frac: int) -> IntArray:
        """Cast exact values ``n * 2**-frac`` (integer ``n``) to this format's mantissas.

        This is ``ap_fixed<W,I,Q,O> y = acc;`` for an accumulator ``acc`` on grid ``2**-frac``:
        rounding then overflow, in pure integer arithmetic. ``n`` may be an int64 array or an
        object array of Python integers of any size. The result is int64 when width <= 62 and
        an object array of Python integers otherwise.
        """
        if isinstance(frac, bool) or not isinstance(frac, int | np.integer):
            raise FormatError(f"cast_int frac={frac!r} is invalid: pass the source grid's fractional bits as an int")
        arr = _as_ints(n, "cast_int")
        shape = arr.shape
        arr = arr.ravel()
        shift = int(frac) - self.frac  # bits dropped (> 0) or appended (< 0)
        if arr.dtype != object and not self._int64_safe(arr, shift):
            arr = arr.astype(object)
        if shift > 0:
            fl = arr >> shift
            if self.rounding != "TRN":
                rem, half = arr & ((1 << shift) - 1), 1 << (shift - 1)
                up = _round_up(self.rounding, fl, rem > half, rem == half, rem != 0, arr < 0)
                fl = np.where(up, fl + 1, fl)
        else:
            fl = arr << -shift
        out = self._overflow(fl)
        return (out.astype(np.int64) if self.width <= INT64_MAX_WIDTH else out).reshape(shape)

    # -- exact conversions ---------------------------------------------------------------------

    def to_int(self, x: npt.ArrayLike) -> IntArray:
        """Representable float64 values -> integer mantissas ``n`` with ``x == n * lsb``.

        int64 when width <= 62, object array of Python integers otherwise. Raises FormatError
        naming the first value that is off the grid or out of range.
        """
        a = _as_floats(x, "to_int")
        shape = a.shape
        a = a.ravel()
        with np.errstate(over="ignore"):  # inf fails the range check below
            y = np.ldexp(a, self.frac)
        # The round trip back catches values that underflowed while scaling.
        ok = np.isfinite(y) & (np.floor(y) == y) & (np.ldexp(y, -self.frac) == a)
        if self.width <= INT64_MAX_WIDTH:
            ok &= np.abs(y) <= 2.0**62
            n: _AnyArray = np.where(ok, y, 0.0).astype(np.int64)
        else:
            n = _object_array(int(v) if good else 0 for v, good in zip(y.tolist(), ok.tolist(), strict=True))
        ok &= (n >= self.min_int) & (n <= self.max_int)
        bad = np.flatnonzero(~ok)
        if bad.size:
            value = float(a[bad[0]])
            if math.isfinite(value) and math.isfinite(y[bad[0]]) and y[bad[0]] == math.floor(y[bad[0]]):
                why = f"it lies outside [{self.min_value!r}, {self.max_value!r}]"
            else:
                why = f"it is not a multiple of the lsb {self.lsb!r}"
            raise FormatError(
                f"value {value!r} (flat index {bad[0]}) is not representable in {self}: {why}; quantize() it first"
            )
        return n.reshape(shape)

    def from_int(self, n: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Integer mantissas in ``[min_int, max_int]`` -> float64 values ``n * lsb``.

        Exact when the mantissa fits in 53 bits (always when width <= 53); otherwise rounded to
        the nearest float64, ties to even.
        """
        flat, shape = self._flat_ints(n, "from_int")
        bad = np.flatnonzero((flat < self.min_int) | (flat > self.max_int))
        if bad.size:
            raise FormatError(
                f"mantissa {flat[bad[0]]} (flat index {bad[0]}) is outside [{self.min_int}, {self.max_int}] "
                f"of {self}: cast it with cast_int() first"
            )
        return self._ints_to_floats(flat).reshape(shape)

    def to_codes(self, x: npt.ArrayLike) -> IntArray:
        """Representable values -> bit patterns in ``[0, 2**width)`` (two's complement when signed).

        Same dtype rule as ``to_int``.
        """
        return self.to_int(x) & ((1 << self.width) - 1)

    def from_codes(self, codes: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Bit patterns in ``[0, 2**width)`` -> values (inverse of ``to_codes``)."""
        flat, shape = self._flat_ints(codes, "from_codes")
        bad = np.flatnonzero((flat < 0) | (flat >= 1 << self.width))
        if bad.size:
            raise FormatError(
                f"code {flat[bad[0]]} (flat index {bad[0]}) does not fit the {self.width} bits of {self}: "
                f"codes are unsigned, in [0, 2**{self.width})"
            )
        if self.signed:
            flat = np.where(flat > self.max_int, flat - (1 << self.width), flat)
        return self._ints_to_floats(flat).reshape(shape)

    # -- spelling ------------------------------------------------------------------------------

    def cpp_type(self) -> str:
        name = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{name}<{','.join(self._params('AP_'))}>"

    def __str__(self) -> str:
        name = "fixed" if self.signed else "ufixed"
        return f"{name}<{','.join(self._params(''))}>"

    def _params(self, prefix: str) -> list[str]:
        # Trailing default modes are left out, as C++ code usually spells them.
        params = [str(self.width), str(self.integer)]
        if self.rounding != "TRN" or self.overflow != "WRAP":
            params.append(prefix + self.rounding)
        if self.overflow != "WRAP":
            params.append(prefix + self.overflow)
        return params

    # -- helpers -------------------------------------------------------------------------------

    def _overflow(self, n: _AnyArray) -> _AnyArray:
        """Apply the overflow mode to exact rounded mantissas (int64 or object, 1-d)."""
        lo, hi = self.min_int, self.max_int
        if self.overflow == "WRAP":
            low = n & ((1 << self.width) - 1)
            return np.where(low > hi, low - (1 << self.width), low) if self.signed else low
        if self.overflow == "SAT_ZERO":
            return np.where((n < lo) | (n > hi), 0, n)
        if self.overflow == "SAT_SYM" and self.signed and self.width > 1:
            lo += 1  # ap_fixed saturates to the pattern 10...01, which is the minimum when width is 1
        return np.where(n < lo, lo, np.where(n > hi, hi, n))

    def _flat_ints(self, n: npt.ArrayLike, what: str) -> tuple[_AnyArray, tuple[int, ...]]:
        """Integers as a 1-d array (Python ints past 62 bits, where int64 arithmetic could overflow)."""
        arr = _as_ints(n, what)
        flat = arr.ravel()
        return (flat.astype(object) if self.width > INT64_MAX_WIDTH else flat), arr.shape

    def _int64_safe(self, arr: npt.NDArray[np.int64], shift: int) -> bool:
        """Whether cast_int can run in int64 without any intermediate overflowing."""
        if self.width > INT64_MAX_WIDTH or shift > INT64_MAX_WIDTH:
            return False
        if shift >= 0 or arr.size == 0:
            return True
        biggest = max(abs(int(arr.min())), abs(int(arr.max())))
        return biggest.bit_length() - shift <= INT64_MAX_WIDTH

    def _int_to_float(self, n: int) -> float:
        # int / int and float(int) are correctly rounded in Python.
        return n / (1 << self.frac) if self.frac > 0 else float(n << -self.frac)

    def _ints_to_floats(self, n: _AnyArray) -> npt.NDArray[np.float64]:
        if n.dtype != object:
            return np.ldexp(n.astype(np.float64), -self.frac)
        return np.array([self._int_to_float(v) for v in n.tolist()], dtype=np.float64)


def parse_fixed(name: str, args: Sequence[str]) -> FixedPoint:
    """Read the arguments of ``fixed<...>``, ``ufixed<...>``, ``ap_fixed<...>`` or ``ap_ufixed<...>``.

    Modes may be spelled with or without the ``AP_`` prefix in every form; the ``ap_`` forms
    also accept ap_fixed's fifth parameter (saturation bits) when it is 0.
    """
    ap = name.startswith("ap_")
    most = 5 if ap else 4
    if not 2 <= len(args) <= most:
        raise FormatError(f"{name} takes 2 to {most} parameters (width, integer, rounding, overflow), got {len(args)}")
    width = _parse_int(name, "width", args[0])
    integer = _parse_int(name, "integer", args[1])
    rounding = _parse_mode(name, args[2], ROUNDING_MODES) if len(args) > 2 else "TRN"
    overflow = _parse_mode(name, args[3], OVERFLOW_MODES) if len(args) > 3 else "WRAP"
    if len(args) > 4 and _parse_int(name, "saturation bits", args[4]) != 0:
        raise FormatError(f"{name} saturation bits {args[4].strip()} are not supported: drop the parameter or use 0")
    return FixedPoint(width, integer, signed=name in ("fixed", "ap_fixed"), rounding=rounding, overflow=overflow)


def _parse_int(name: str, what: str, text: str) -> int:
    text = text.strip()
    if not _INT_RE.fullmatch(text):
        raise FormatError(f"{name} {what} {text!r} is not an integer")
    return int(text)


def _parse_mode(name: str, text: str, modes: tuple[str, ...]) -> str:
    mode = text.strip().upper().removeprefix("AP_")
    if mode not in modes:
        raise FormatError(f"{name} mode {text.strip()!r} is unknown: use one of {', '.join(modes)}")
    return mode


def _check_int(what: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise FormatError(f"fixed-point {what}={value!r} is invalid: it must be an int")
    return int(value)


def _round_up(
    mode: str, fl: _AnyArray, above: _BoolArray, tie: _BoolArray, inexact: _BoolArray, negative: _BoolArray
) -> _BoolArray:
    """Where rounding adds one to the floor ``fl``, given how the dropped fraction compares to a half."""
    if mode == "TRN_ZERO":
        return negative & inexact
    if mode == "RND":
        return above | tie
    if mode == "RND_ZERO":
        return above | (tie & negative)
    if mode == "RND_MIN_INF":
        return above
    if mode == "RND_INF":
        return above | (tie & ~negative)
    odd: _BoolArray = fl % 2 != 0
    return above | (tie & odd)  # RND_CONV: ties to even


def _as_floats(x: npt.ArrayLike, what: str) -> npt.NDArray[np.float64]:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise FormatError(f"{what} needs real numbers, got {x!r:.80}: {err}") from err


def _as_ints(n: npt.ArrayLike, what: str) -> _AnyArray:
    """int64 array, or object array of Python ints when some value does not fit int64."""
    arr = np.asarray(n)
    if arr.dtype.kind == "i" or (arr.dtype.kind == "u" and arr.dtype.itemsize < 8):
        return arr.astype(np.int64)
    if arr.dtype.kind in "uO":
        flat = arr.ravel().tolist()
        bad = [v for v in flat if isinstance(v, bool) or not isinstance(v, int | np.integer)]
        if bad:
            raise FormatError(f"{what} needs integers, got {bad[0]!r} ({type(bad[0]).__name__})")
        return _object_array(int(v) for v in flat).reshape(arr.shape)
    raise FormatError(f"{what} needs integers, got an array of dtype {arr.dtype}; use quantize() for real values")


def _object_array(values: Any) -> npt.NDArray[np.object_]:
    """1-d object array of the given Python values (never a nested array)."""
    items = list(values)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out
