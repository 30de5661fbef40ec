"""Exact product/accumulator sizing, checked by brute force over every value pair of small formats."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from fpga_gen.formats import Binary, FixedPoint, Format, MiniFloat, Ternary, parse_format
from fpga_gen.formats.sizing import accumulator_format, exact_fixed, product_format


def _values(fmt: Format) -> list[Fraction]:
    """Every finite value of a small format."""
    if isinstance(fmt, Ternary | Binary):
        v = np.outer([-1, 0, 1] if isinstance(fmt, Ternary) else [-1, 1], fmt.scales)
    else:
        v = fmt.from_codes(np.arange(2**fmt.bits))
    return sorted({Fraction(float(x)) for x in np.ravel(v) if np.isfinite(x)})


def _holds(fmt: FixedPoint, x: Fraction) -> bool:
    n = x * 2**fmt.frac
    return n.denominator == 1 and fmt.min_int <= n <= fmt.max_int


PAIRS = [
    ("e2m1", "e2m1"),
    ("e2m1", "e3m2"),
    ("e2m3", "fixed<4,2>"),
    ("ternary<0.5>", "fixed<5,2>"),
    ("binary<0.25>", "ufixed<3,1>"),
    ("fixed<3,1>", "ufixed<2,0>"),
    ("minifloat<2,0>", "minifloat<3,1,nan=true>"),
]


@pytest.mark.parametrize(("a", "b"), PAIRS)
@pytest.mark.parametrize("fan_in", [1, 2, 3, 7])
@pytest.mark.parametrize("bias", [None, "fixed<4,1>", "e2m1"])
def test_accumulator_is_smallest_that_never_overflows(a: str, b: str, fan_in: int, bias: str | None) -> None:
    fa, fb = parse_format(a), parse_format(b)
    products = [x * y for x in _values(fa) for y in _values(fb)]
    prod = product_format(fa, fb)
    assert all(_holds(prod, p) for p in products)
    bias_values = _values(parse_format(bias)) if bias else [Fraction(0)]
    lo = fan_in * min(products) + min(bias_values)  # every sum lies in [lo, hi] and both are reached
    hi = fan_in * max(products) + max(bias_values)
    acc = accumulator_format(fa, fb, fan_in, parse_format(bias) if bias else None)
    assert _holds(acc, lo) and _holds(acc, hi)
    narrower = FixedPoint(acc.width - 1, acc.integer - 1, acc.signed)  # same grid, one bit less
    assert acc.width == 1 or not (_holds(narrower, lo) and _holds(narrower, hi))
    coarser = FixedPoint(acc.width - 1, acc.integer, acc.signed)  # one fractional bit less
    assert acc.width == 1 or not all(_holds(coarser, p) for p in products + bias_values)


@pytest.mark.parametrize("name", ["e2m1", "e3m2", "e2m3", "e4m3", "e5m2"])
@pytest.mark.parametrize("fan_in", [1, 16, 64, 1000])
def test_kulisch_width_within_aggarwal_bound(name: str, fan_in: int) -> None:
    fmt = parse_format(name)
    assert isinstance(fmt, MiniFloat)
    e, m = fmt.exponent_bits, fmt.mantissa_bits
    bound = 2 * (2**e + m) + math.ceil(math.log2(fan_in)) - 1
    acc = accumulator_format(fmt, fmt, fan_in)
    assert acc.width <= bound
    if not (fmt.inf or fmt.nan):  # every top code is a number: the bound is tight
        assert acc.width == bound or fan_in == 1


def test_exact_fixed_holds_every_value() -> None:
    for name in ("e4m3", "e5m2fnuz", "e2m1", "ternary<0.375, 0.5>", "fixed<7,-2>"):
        fmt = parse_format(name)
        fx = exact_fixed(fmt)
        assert all(_holds(fx, v) for v in _values(fmt))
