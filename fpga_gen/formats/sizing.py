"""Exact sizing of products and accumulators (the arithmetic rule of DESIGN.md §3).

Every format's finite values are integers on a grid 2**-frac: ``exact_fixed`` gives the
narrowest FixedPoint holding them all. Products and sums of any two formats are then
fixed-point numbers whose exact range follows from those integer ranges. For minifloat x
minifloat this is the Kulisch accumulator; it is never wider than the bound of Aggarwal
et al. 2023 ("Post-Training Quantization with Low-precision Minifloats and Integers on
FPGAs"), 2**Ea + Ma + 2**Eb + Mb + ceil(log2 n) - 1 bits, and narrower when the formats'
top codes are NaN or inf.
"""

from __future__ import annotations

from fpga_gen.errors import FormatError
from fpga_gen.formats.base import Format
from fpga_gen.formats.fixed import FixedPoint
from fpga_gen.formats.minifloat import MiniFloat
from fpga_gen.formats.ternary import _Signed


def fit_range(lo: int, hi: int, frac: int) -> FixedPoint:
    """Narrowest FixedPoint on grid 2**-frac whose integer range contains [lo, hi]."""
    if lo < 0:
        width = max((-lo - 1).bit_length(), hi.bit_length()) + 1
        return FixedPoint(width, width - frac, signed=True)
    width = max(hi.bit_length(), 1)
    return FixedPoint(width, width - frac, signed=False)


def int_range(fmt: Format) -> tuple[int, int, int]:
    """(lowest, highest) finite value of ``fmt`` as integers on its grid 2**-frac, and frac."""
    if isinstance(fmt, FixedPoint | MiniFloat | _Signed):
        return fmt.min_int, fmt.max_int, fmt.frac
    raise FormatError(f"no exact fixed-point equivalent is known for format {fmt}")


def exact_fixed(fmt: Format) -> FixedPoint:
    """The narrowest FixedPoint that holds every finite value of ``fmt`` exactly."""
    return fmt if isinstance(fmt, FixedPoint) else fit_range(*int_range(fmt))


def _product_range(a: Format, b: Format) -> tuple[int, int, int]:
    """(lowest, highest) product as integers on grid 2**-frac, and that frac."""
    alo, ahi, afrac = int_range(a)
    blo, bhi, bfrac = int_range(b)
    corners = [x * y for x in (alo, ahi) for y in (blo, bhi)]
    return min(corners), max(corners), afrac + bfrac


def product_format(a: Format, b: Format) -> FixedPoint:
    """Narrowest format holding every product of a value of ``a`` and one of ``b``."""
    return fit_range(*_product_range(a, b))


def accumulator_format(a: Format, b: Format, fan_in: int, bias: Format | None = None) -> FixedPoint:
    """Narrowest format holding every sum of ``fan_in`` products plus an optional bias.

    Bounds are taken over the whole format ranges (not the actual weights), so the
    result never overflows whatever the data; products and bias are aligned to the
    finer of their two grids.
    """
    if fan_in < 1:
        raise FormatError(f"fan-in {fan_in} must be >= 1")
    plo, phi, frac = _product_range(a, b)
    lo, hi = fan_in * plo, fan_in * phi
    if bias is not None:
        blo, bhi, bfrac = int_range(bias)
        # align both sums to the finer of the two grids
        shift_sum, shift_bias = max(bfrac - frac, 0), max(frac - bfrac, 0)
        lo, hi = (lo << shift_sum) + (blo << shift_bias), (hi << shift_sum) + (bhi << shift_bias)
        frac = max(frac, bfrac)
    return fit_range(lo, hi, frac)
