"""Exact sizing of products and accumulators (the arithmetic rule of DESIGN.md §3)."""

from __future__ import annotations

from fpga_gen.errors import FormatError
from fpga_gen.formats.fixed import FixedPoint


def fit_range(lo: int, hi: int, frac: int) -> FixedPoint:
    """Narrowest FixedPoint on grid 2**-frac whose integer range contains [lo, hi]."""
    if lo < 0:
        width = max((-lo - 1).bit_length(), hi.bit_length()) + 1
        return FixedPoint(width, width - frac, signed=True)
    width = max(hi.bit_length(), 1)
    return FixedPoint(width, width - frac, signed=False)


def product_format(a: FixedPoint, b: FixedPoint) -> FixedPoint:
    """Narrowest format holding every product of a value of ``a`` and one of ``b``."""
    corners = [x * y for x in (a.min_int, a.max_int) for y in (b.min_int, b.max_int)]
    return fit_range(min(corners), max(corners), a.frac + b.frac)


def accumulator_format(a: FixedPoint, b: FixedPoint, fan_in: int, bias: FixedPoint | None = None) -> FixedPoint:
    """Narrowest format holding every sum of ``fan_in`` products plus an optional bias.

    Bounds are taken over the whole format ranges (not the actual weights), so the
    result never overflows whatever the data; products and bias are aligned to the
    finer of their two grids.
    """
    if fan_in < 1:
        raise FormatError(f"fan-in {fan_in} must be >= 1")
    prod = product_format(a, b)
    frac = prod.frac if bias is None else max(prod.frac, bias.frac)
    lo, hi = fan_in * prod.min_int << (frac - prod.frac), fan_in * prod.max_int << (frac - prod.frac)
    if bias is not None:
        lo += bias.min_int << (frac - bias.frac)
        hi += bias.max_int << (frac - bias.frac)
    return fit_range(lo, hi, frac)
