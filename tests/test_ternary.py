"""Ternary and binary formats: levels, codes, per-channel scales, names, errors."""

from __future__ import annotations

import numpy as np
import pytest

from fpga_gen.errors import FormatError
from fpga_gen.formats import Binary, Ternary, parse_format
from fpga_gen.formats.sizing import exact_fixed


def test_ternary_quantize_codes_and_round_trip() -> None:
    t = Ternary(0.5)
    x = np.array([-1.0, -0.26, -0.25, 0.0, 0.25, 0.2500001, 3.0])
    q = t.quantize(x)
    assert np.array_equal(q, [-0.5, -0.5, 0.0, 0.0, 0.0, 0.5, 0.5])  # ties at scale/2 go to 0
    codes = t.to_codes(q)
    assert np.array_equal(codes, [0b11, 0b11, 0, 0, 0, 0b01, 0b01])
    assert np.array_equal(t.from_codes(codes), q)
    assert t.bits == 2 and t.cpp_type() == "ap_int<2>"


def test_binary_is_the_sign_with_zero_positive() -> None:
    b = Binary(0.25)
    q = b.quantize([-3.0, -0.0, 0.0, 1e-9])
    assert np.array_equal(q, [-0.25, 0.25, 0.25, 0.25])
    assert np.array_equal(b.to_codes(q), [1, 0, 0, 0])
    assert np.array_equal(b.from_codes([0, 1]), [0.25, -0.25])


def test_per_channel_scales_follow_the_last_axis() -> None:
    t = Ternary((0.5, 0.25, 0.375))
    w = np.array([[1.0, 1.0, 1.0], [-0.3, -0.1, 0.1], [0.0, 0.2, -0.2]])
    q = t.quantize(w)
    assert np.array_equal(q, [[0.5, 0.25, 0.375], [-0.5, 0.0, 0.0], [0.0, 0.25, -0.375]])
    assert np.array_equal(t.from_codes(t.to_codes(q)), q)
    assert exact_fixed(t).frac == 3  # 0.375 needs 3 fractional bits
    with pytest.raises(FormatError, match="last axis of 3"):
        t.quantize(np.zeros((3, 2)))


def test_cast_int_rounds_an_accumulator_to_a_level() -> None:
    t = Ternary(0.5)
    assert np.array_equal(t.cast_int(np.array([-9, -2, 2, 3, 100]), 3), [-1, 0, 0, 1, 1])


@pytest.mark.parametrize(
    "fmt", [Ternary(0.5), Ternary((0.5,)), Ternary((0.375, 0.25)), Binary(2.0), Binary((1.0, 0.5))]
)
def test_names_round_trip(fmt: Ternary | Binary) -> None:
    assert parse_format(str(fmt)) == fmt


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Ternary(0.0), "positive"),
        (lambda: Ternary(-1.0), "positive"),
        (lambda: Ternary(0.1), "significant bits"),
        (lambda: Binary(()), "at least one"),
        (lambda: Ternary(0.5).to_codes([0.25]), "not a level"),
        (lambda: Ternary(0.5).from_codes([2]), "0b00, 0b01 and 0b11"),
        (lambda: parse_format("ternary<abc>"), "positive scales"),
    ],
)
def test_errors(make, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FormatError, match=match):
        make()
