"""Four products per DSP slice (AMD WP521, INT4): two PE rows' weights packed in the B operand
and two output positions' inputs on the pre-adder (``DspPrimitive.quad_shift``), the four
SIMD-wide partial sums recovered field by field (``boards.dsp.quad_fields``).

The field model is checked against plain integer dot products, exhaustively for one lane and at
random for cascades; the conditions refuse exactly where a port or a field would wrap.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpga_gen.boards.dsp import DSP48E1, DSP48E2, DspPrimitive, quad_fields, quad_product
from fpga_gen.formats import FixedPoint, parse_format
from fpga_gen.formats.sizing import int_range

U4, S4 = "ufixed<4,0>", "fixed<4,0>"


def _fixed(name: str) -> FixedPoint:
    fmt = parse_format(name)
    assert isinstance(fmt, FixedPoint)
    return fmt


def _dots(x0: list[int], x1: list[int], w0: list[int], w1: list[int]) -> tuple[int, int, int, int]:
    def dot(a: list[int], b: list[int]) -> int:
        return sum(i * j for i, j in zip(a, b, strict=True))

    return dot(x0, w0), dot(x0, w1), dot(x1, w0), dot(x1, w1)


# -- the field model ----------------------------------------------------------------------------


@pytest.mark.parametrize("x_name", [U4, S4])
def test_one_lane_exhaustive(x_name: str) -> None:
    """Every 4-bit x0, x1 and 4-bit w0, w1 on one slice: the four products come back exactly."""
    x_fmt, w_fmt = _fixed(x_name), _fixed(S4)
    k = DSP48E2.quad_shift(x_fmt, w_fmt, 2, 1)
    assert k is not None
    xs, ws = range(x_fmt.min_int, x_fmt.max_int + 1), range(w_fmt.min_int, w_fmt.max_int + 1)
    for x0, x1, w0, w1 in product(xs, xs, ws, ws):
        p = quad_product([x0], [x1], [w0], [w1], k, DSP48E2)
        assert quad_fields(p, k) == (x0 * w0, x0 * w1, x1 * w0, x1 * w1)


@settings(max_examples=300, deadline=None)
@given(
    x_bits=st.integers(2, 5),
    x_signed=st.booleans(),
    w_bits=st.integers(2, 5),
    simd=st.integers(1, 16),
    dsp=st.sampled_from([DSP48E1, DSP48E2]),
    extreme=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_cascade_fields_are_exact(
    x_bits: int, x_signed: bool, w_bits: int, simd: int, dsp: DspPrimitive, extreme: bool, seed: int
) -> None:
    """Whenever quad_shift packs, a cascade of simd slices gives the four dot products exactly, for
    random codes and for the formats' extremes (every lane at the same corner, which sets the
    fields' bounds)."""
    x_fmt, w_fmt = FixedPoint(x_bits, 1, signed=x_signed), FixedPoint(w_bits, 1)
    k = dsp.quad_shift(x_fmt, w_fmt, 2, simd)
    if k is None:
        return
    x_lo, x_hi, _ = int_range(x_fmt)
    w_lo, w_hi, _ = int_range(w_fmt)
    rng = np.random.default_rng(seed)
    if extreme:
        corner = [int(rng.choice([lo, hi])) for lo, hi in ((x_lo, x_hi), (x_lo, x_hi), (w_lo, w_hi), (w_lo, w_hi))]
        x0, x1, w0, w1 = ([v] * simd for v in corner)
    else:
        x0, x1 = (rng.integers(x_lo, x_hi, simd, endpoint=True).tolist() for _ in range(2))
        w0, w1 = (rng.integers(w_lo, w_hi, simd, endpoint=True).tolist() for _ in range(2))
    assert quad_fields(quad_product(x0, x1, w0, w1, k, dsp), k) == _dots(x0, x1, w0, w1)


def test_quad_conditions() -> None:
    """4-bit x 4-bit packs on a DSP48E2 up to simd = 8 with K = 11 (the fields hold [-960, 840]);
    a wider input would wrap the pre-adder, an 8-bit format every field; pe must pair rows."""
    u4, s4 = _fixed(U4), _fixed(S4)
    assert [DSP48E2.quad_shift(u4, s4, 2, simd) for simd in (1, 4, 8, 9)] == [8, 10, 11, None]
    assert DSP48E2.quad_shift(u4, s4, 3, 4) is None  # odd pe: rows pair up only two by two
    assert DSP48E2.quad_shift(u4, s4, 1, 4) is None
    assert DSP48E2.quad_shift(_fixed("fixed<8,0>"), s4, 2, 1) is None
    assert DSP48E2.quad_shift(u4, _fixed("fixed<8,0>"), 2, 1) is None
    assert DSP48E2.quad_shift(parse_format("e2m1"), s4, 2, 1) is None
    assert DSP48E1.quad_shift(u4, s4, 2, 4) == 10  # 15 * 2**20 + 15 fits its 25-bit pre-adder
    assert DSP48E1.quad_shift(u4, s4, 2, 8) is None  # 15 * 2**22 does not


def test_refusal_is_tight() -> None:
    """At K one below what quad_shift picks, some corner of the formats breaks a field."""
    u4, s4 = _fixed(U4), _fixed(S4)
    for simd in (1, 2, 4, 8):
        k = DSP48E2.quad_shift(u4, s4, 2, simd)
        assert k is not None
        corners = product((0, 15), (0, 15), (-8, 7), (-8, 7))
        assert any(
            quad_fields(quad_product([a] * simd, [b] * simd, [c] * simd, [d] * simd, k - 1, DSP48E2), k - 1)
            != _dots([a] * simd, [b] * simd, [c] * simd, [d] * simd)
            for a, b, c, d in corners
        )
