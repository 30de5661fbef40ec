"""Minifloats (FP8 / FP6 / FP4 and any sign + ExMy format), round to nearest even.

A ``MiniFloat(E, M)`` code is ``sign | exponent field (E bits) | mantissa field (M bits)``.
Field 0 holds zero and the subnormals ``2**emin * m / 2**M`` (``emin = 1 - bias``); the
other fields hold normals ``2**(field - bias) * (1 + m / 2**M)``. Special codes:

- ``inf=True`` (needs ``nan=True``): IEEE style, the top field is reserved: m = 0 is
  infinity, m != 0 is NaN (OCP E5M2).
- ``nan=True, inf=False``: the top field holds normals except its all-ones mantissa, which
  is NaN (OCP E4M3 "FN"; with M = 0 the whole top field is NaN).
- ``fnuz=True`` (needs ``nan=True``, no inf): the negative-zero code is the only NaN and
  there is no -0 (the "FNUZ" formats of ml_dtypes / AMD / Graphcore).
- none of them: every code is a finite value (OCP MX FP6 / FP4).

Every finite value is an integer multiple of the smallest subnormal step
``2**-frac`` with ``frac = M - emin``: that integer mantissa is what the exact arithmetic
(products, Kulisch accumulators) works on, exactly as for ``FixedPoint``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import FormatError
from fpga_gen.formats.base import Format

IntArray = npt.NDArray[Any]

MAX_EXPONENT_BITS = 8
MAX_MANTISSA_BITS = 23


@dataclass(frozen=True)
class MiniFloat(Format):
    """Sign + ``exponent_bits`` + ``mantissa_bits``; ``bias`` defaults to 2**(E-1) - 1.

    ``saturating``: a finite value beyond ``max_value`` becomes ±max; otherwise it becomes
    inf (if the format has it), else NaN (if it has it), else ``quantize`` raises.
    ``subnormals=False`` flushes: field 0 holds only zero, and values below the smallest
    normal round to 0 or to it, whichever is nearer (a tie goes to 0).
    """

    exponent_bits: int
    mantissa_bits: int
    bias: int = None  # type: ignore[assignment]  # None -> the IEEE default, resolved below
    subnormals: bool = True
    inf: bool = False
    nan: bool = False
    saturating: bool = True
    fnuz: bool = False

    def __post_init__(self) -> None:
        e, m = self.exponent_bits, self.mantissa_bits
        for name, value, lo, hi in (
            ("exponent_bits", e, 1, MAX_EXPONENT_BITS),
            ("mantissa_bits", m, 0, MAX_MANTISSA_BITS),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise FormatError(f"minifloat {name}={value!r} must be an integer in {lo}..{hi}")
        if self.bias is None:
            object.__setattr__(self, "bias", 2 ** (e - 1) - 1)
        if isinstance(self.bias, bool) or not isinstance(self.bias, int):
            raise FormatError(f"minifloat bias={self.bias!r} must be an integer")
        if self.inf and not self.nan:
            raise FormatError("a minifloat with inf=True needs nan=True (IEEE layout: the top exponent field)")
        if self.fnuz and (not self.nan or self.inf):
            raise FormatError("fnuz=True needs nan=True and inf=False (NaN takes the negative-zero code)")
        if self._top_field < 1:
            raise FormatError(f"{self}: no exponent field is left for normal numbers; use more exponent bits")

    # -- layout ------------------------------------------------------------------------------
    @property
    def bits(self) -> int:
        return 1 + self.exponent_bits + self.mantissa_bits

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal (and of every subnormal)."""
        return 1 - self.bias

    @property
    def frac(self) -> int:
        """Every finite value is an integer times 2**-frac (the smallest subnormal step)."""
        return self.mantissa_bits - self.emin

    @property
    def _top_field(self) -> int:
        """The largest exponent field holding finite numbers."""
        top = (1 << self.exponent_bits) - 1
        return top - 1 if self.inf or (self.nan and not self.fnuz and self.mantissa_bits == 0) else top

    @property
    def _top_mantissa(self) -> int:
        m = (1 << self.mantissa_bits) - 1
        return m - 1 if self.nan and not self.inf and not self.fnuz and self.mantissa_bits > 0 else m

    @property
    def max_int(self) -> int:
        """``max_value`` as an integer mantissa on the 2**-frac grid."""
        return ((1 << self.mantissa_bits) + self._top_mantissa) << (self._top_field - 1)

    @property
    def min_int(self) -> int:
        return -self.max_int

    @property
    def max_value(self) -> float:
        return float(np.ldexp(float(self.max_int), -self.frac))

    @property
    def min_normal(self) -> float:
        return float(np.ldexp(1.0, self.emin))

    def covering(self, max_abs: float) -> MiniFloat:
        """The same format with the bias that puts ``max_abs`` in its top binade.

        A minifloat's bias is its power-of-two scale: this is per-tensor scaling that
        keeps the most resolution while ``max_abs`` stays representable without
        saturating.
        """
        if not np.isfinite(max_abs) or max_abs <= 0:
            raise FormatError(f"covering() needs a positive finite range, got {max_abs!r}")
        shift = int(np.floor(np.log2(self.max_value / max_abs)))
        return replace(self, bias=self.bias + shift)

    # -- casts -------------------------------------------------------------------------------
    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Round float64 values to the nearest value, ties to even; exact for every float64."""
        v = _as_floats(x)
        a = np.abs(v)
        with np.errstate(invalid="ignore"):
            _, e = np.frexp(a)
            step = np.ldexp(1.0, np.maximum(e - 1, self.emin) - self.mantissa_bits)
            r = np.rint(a / step) * step  # a / step is exact: a power-of-two scaling
        if not self.subnormals:
            tiny = r < self.min_normal
            r = np.where(tiny, np.where(a > self.min_normal / 2, self.min_normal, 0.0), r)
        over = ~(r <= self.max_value)  # also catches +inf and NaN
        nans = np.isnan(v)
        if np.any(over & ~nans):
            r = np.where(over & ~nans, self._overflow_value(), r)
        if np.any(nans):
            if not self.nan:
                raise FormatError(f"{self} has no NaN; the input holds NaN")
            r = np.where(nans, np.nan, r)
        out: npt.NDArray[np.float64] = np.copysign(r, v)
        if self.fnuz:
            out = np.where(out == 0, 0.0, out)  # no negative zero
        return out

    def _overflow_value(self) -> float:
        if self.saturating:
            return self.max_value
        if self.inf:
            return float("inf")
        if self.nan:
            return float("nan")
        raise FormatError(
            f"a value exceeds {self.max_value} (max of {self}), which has no inf or NaN: "
            "clip the input or use a saturating format"
        )

    def to_int(self, x: npt.ArrayLike) -> IntArray:
        """Finite representable values -> signed integer mantissas on the 2**-frac grid."""
        v = _as_floats(x)
        if not np.all(np.isfinite(v)) or not np.array_equal(self.quantize(v), v):
            bad = v[~np.isfinite(v) | (self.quantize(np.where(np.isfinite(v), v, 0)) != v)]
            raise FormatError(f"value {bad.ravel()[0]!r} is not a finite value of {self}")
        return np.ldexp(v, self.frac).astype(np.int64)

    def from_int(self, n: npt.ArrayLike) -> npt.NDArray[np.float64]:
        arr = np.asarray(n)
        if arr.size and (np.max(arr) > self.max_int or np.min(arr) < self.min_int):
            raise FormatError(f"integer mantissa out of range [{self.min_int}, {self.max_int}] of {self}")
        values = np.ldexp(arr.astype(np.float64), -self.frac)
        if not np.array_equal(self.quantize(values), values):
            raise FormatError(f"some integer mantissas are not values of {self} (too many significant bits)")
        return values

    def cast_int(self, n: npt.ArrayLike, frac: int) -> IntArray:
        """Exact integers ``n * 2**-frac`` -> integer mantissas of this format (RNE, saturating).

        Zero results are +0 (integers carry no sign of zero). Non-saturating formats raise
        on overflow: inf and NaN have no integer mantissa.
        """
        arr = np.asarray(n)
        if arr.dtype.kind == "i" and self.subnormals:
            return self._round_int64(arr.astype(np.int64), frac)
        out = np.empty(arr.shape, dtype=object if arr.dtype == object else np.int64)
        flat = out.reshape(-1)
        for i, value in enumerate(arr.reshape(-1).tolist()):
            flat[i] = self._round_int(int(value), frac)
        return out

    def _round_int64(self, n: npt.NDArray[np.int64], frac: int) -> npt.NDArray[np.int64]:
        """``_round_int`` vectorized for int64 (|n| < 2**62) and formats with subnormals."""
        mag = np.abs(n)
        _, e = np.frexp(mag.astype(np.float64))
        e = e.astype(np.int64)
        e = np.where((mag > 0) & (mag < np.left_shift(1, np.maximum(e - 1, 0))), e - 1, e)  # float64 rounded up
        drop = np.maximum(e - 1 - frac, self.emin) - self.mantissa_bits + frac
        d = np.clip(drop, 1, 62)  # the shift amounts where rounding happens
        q, rem, half = mag >> d, mag & ((1 << d) - 1), 1 << (d - 1)
        q = q + ((rem > half) | ((rem == half) & (q & 1 == 1)))
        mag = np.where(drop > 0, q << d, mag)
        shift = self.frac - frac
        if shift >= 0:
            over = mag > (self.max_int >> shift)
            mag = np.where(over, self.max_int, mag << shift)
        else:
            mag = mag >> -shift
            over = mag > self.max_int
            mag = np.where(over, self.max_int, mag)
        if np.any(over) and not self.saturating:
            raise FormatError(f"{self}: an accumulator value overflows a non-saturating format; use saturating=True")
        return np.where(n < 0, -mag, mag)

    def _round_int(self, n: int, frac: int) -> int:
        mag = abs(n)
        if mag == 0:
            return 0
        # exponent of the value's binade, clamped into the subnormal range
        exp = max(mag.bit_length() - 1 - frac, self.emin)
        drop = exp - self.mantissa_bits + frac  # low bits of n below this binade's step
        if drop > 0:
            q, rem = divmod(mag, 1 << drop)
            half = 1 << (drop - 1)
            q += rem > half or (rem == half and q & 1)
            mag = q << drop
        # mag is now on this format's grid, expressed on the 2**-frac grid
        shift = self.frac - frac
        mag = mag << shift if shift >= 0 else mag >> -shift
        if not self.subnormals and 0 < mag < 1 << self.mantissa_bits:
            full = abs(n) << max(shift, 0) if shift >= 0 else abs(n)
            limit = (1 << self.mantissa_bits) if shift >= 0 else (1 << self.mantissa_bits) << -shift
            mag = (1 << self.mantissa_bits) if 2 * full > limit else 0
        if mag > self.max_int:
            if not self.saturating:
                raise FormatError(
                    f"{self}: an accumulator value overflows a non-saturating format; use saturating=True"
                )
            mag = self.max_int
        return -mag if n < 0 else mag

    def to_codes(self, x: npt.ArrayLike) -> IntArray:
        """Representable values (NaN and ±inf where the format has them) -> bit patterns."""
        v = _as_floats(x)
        q = self.quantize(np.where(np.isfinite(v), v, 0.0))
        finite = np.isfinite(v)
        if not np.array_equal(q[finite], v[finite]):
            bad = v[finite][q[finite] != v[finite]]
            raise FormatError(f"value {bad[0]!r} is not representable in {self}; quantize() it first")
        if (np.any(np.isnan(v)) and not self.nan) or (np.any(np.isinf(v)) and not self.inf):
            raise FormatError(f"{self} cannot hold inf/NaN values present in the input")
        m_bits, sign_shift = self.mantissa_bits, self.exponent_bits + self.mantissa_bits
        a = np.abs(np.where(finite, v, 0.0))
        _, e = np.frexp(a)
        field = np.where(a >= self.min_normal, e - 1 + self.bias, 0)
        step_exp = np.where(field > 0, e - 1, self.emin) - m_bits
        mant = np.ldexp(a, -step_exp).astype(np.int64) - np.where(field > 0, 1 << m_bits, 0)
        codes = (np.signbit(v).astype(np.int64) << sign_shift) | (field.astype(np.int64) << m_bits) | mant
        top = (2**self.exponent_bits - 1) << m_bits
        codes = np.where(np.isinf(v), (np.signbit(v).astype(np.int64) << sign_shift) | top, codes)
        return np.where(np.isnan(v), self._nan_code, codes).astype(np.int64)

    @property
    def _nan_code(self) -> int:
        if self.fnuz:
            return 1 << (self.bits - 1)
        return (1 << (self.bits - 1)) - 1  # positive sign, all ones below (also IEEE's quiet NaN)

    def from_codes(self, codes: npt.ArrayLike) -> npt.NDArray[np.float64]:
        c = np.asarray(codes).astype(np.int64)
        if c.size and (c.min() < 0 or c.max() >= 1 << self.bits):
            raise FormatError(f"codes must lie in [0, {2**self.bits}) for {self}")
        m_bits = self.mantissa_bits
        sign = (c >> (self.bits - 1)) & 1
        field = (c >> m_bits) & (2**self.exponent_bits - 1)
        mant = c & ((1 << m_bits) - 1)
        if not self.subnormals:
            mant = np.where(field == 0, 0, mant)  # flushing hardware reads field 0 as zero (DAZ)
        normal = np.ldexp(1.0 + mant / 2.0**m_bits, field - self.bias)
        value = np.where(field == 0, np.ldexp(mant.astype(np.float64), self.emin - m_bits), normal)
        value = np.where(sign == 1, -value, value)
        top = field == 2**self.exponent_bits - 1
        if self.inf:
            value = np.where(top & (mant == 0), np.where(sign == 1, -np.inf, np.inf), value)
            value = np.where(top & (mant != 0), np.nan, value)
        elif self.fnuz:
            value = np.where(c == self._nan_code, np.nan, value)
        elif self.nan:
            value = np.where(top & (mant == (1 << m_bits) - 1), np.nan, value)
        return value

    # -- names -------------------------------------------------------------------------------
    def cpp_type(self) -> str:
        flags = [f"fg::MF_{f.name.upper()}" for f in fields(self)[3:] if getattr(self, f.name)]
        return f"fg::minifloat<{self.exponent_bits}, {self.mantissa_bits}, {self.bias}, {' | '.join(flags) or '0'}>"

    def __str__(self) -> str:
        for name, preset in PRESETS.items():
            if preset == self:
                return name
        default = MiniFloat(self.exponent_bits, self.mantissa_bits)
        extra = [
            f"{f.name}={_spell(getattr(self, f.name))}"
            for f in fields(self)[2:]
            if getattr(self, f.name) != getattr(default, f.name)
        ]
        return f"minifloat<{', '.join([str(self.exponent_bits), str(self.mantissa_bits), *extra])}>"


def _spell(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _as_floats(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise FormatError(f"a minifloat cast needs real numbers, got {x!r:.80}: {err}") from err


PRESETS: dict[str, MiniFloat] = {
    "e4m3": MiniFloat(4, 3, nan=True),  # OCP FP8 E4M3FN, max 448
    "e5m2": MiniFloat(5, 2, inf=True, nan=True),  # OCP FP8 E5M2, max 57344
    "e3m2": MiniFloat(3, 2),  # OCP MX FP6 E3M2, max 28
    "e2m3": MiniFloat(2, 3),  # OCP MX FP6 E2M3, max 7.5
    "e2m1": MiniFloat(2, 1),  # OCP MX FP4 E2M1, max 6
    "e4m3fnuz": MiniFloat(4, 3, bias=8, nan=True, fnuz=True),  # max 240
    "e5m2fnuz": MiniFloat(5, 2, bias=16, nan=True, fnuz=True),  # max 57344
}

_KEY_RE = re.compile(r"\s*([a-z_]+)\s*=\s*(\S+)\s*")


def parse_minifloat(name: str, args: Sequence[str]) -> MiniFloat:
    """``minifloat<E,M[,key=value...]>`` with keys bias, subnormals, inf, nan, saturating, fnuz."""
    if len(args) < 2:
        raise FormatError(f"{name} needs at least <E,M>")
    try:
        e, m = int(args[0]), int(args[1])
    except ValueError as err:
        raise FormatError(f"{name}<E,M>: E and M must be integers, got {args[0]!r}, {args[1]!r}") from err
    kwargs: dict[str, Any] = {}
    known = {f.name for f in fields(MiniFloat)[2:]}
    for arg in args[2:]:
        match = _KEY_RE.fullmatch(arg)
        if match is None or match.group(1) not in known:
            raise FormatError(f"{name}: {arg.strip()!r} is not key=value with a key in {sorted(known)}")
        key, text = match.groups()
        if key == "bias":
            try:
                kwargs[key] = int(text)
            except ValueError as err:
                raise FormatError(f"{name}: bias must be an integer, got {text!r}") from err
        elif text in ("true", "false"):
            kwargs[key] = text == "true"
        else:
            raise FormatError(f"{name}: {key} must be true or false, got {text!r}")
    return MiniFloat(e, m, **kwargs)
