"""MiniFloat against ml_dtypes (the oracle) for every preset it ships, and exact integer casts.

ml_dtypes casts float64 through float32, so every input here is float32-representable.
Its conversions do not saturate for formats with inf/NaN; the saturating results of
fpga_gen are compared against ml_dtypes applied to the input clipped to [-max, max]. For
the FP6/FP4 formats (no inf, no NaN) ml_dtypes itself saturates.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpga_gen.errors import FormatError
from fpga_gen.formats import parse_format
from fpga_gen.formats.minifloat import PRESETS, MiniFloat

ORACLE = {
    "e4m3": ml_dtypes.float8_e4m3fn,
    "e5m2": ml_dtypes.float8_e5m2,
    "e3m2": ml_dtypes.float6_e3m2fn,
    "e2m3": ml_dtypes.float6_e2m3fn,
    "e2m1": ml_dtypes.float4_e2m1fn,
    "e4m3fnuz": ml_dtypes.float8_e4m3fnuz,
    "e5m2fnuz": ml_dtypes.float8_e5m2fnuz,
}
NAMES = sorted(ORACLE)


def _ml(name: str, x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32).astype(ORACLE[name]).astype(np.float64)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values, NaN where NaN, and the same sign of zero."""
    return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a) & (a == 0), np.signbit(b) & (b == 0))


def _finite_values(fmt: MiniFloat) -> np.ndarray:
    v = fmt.from_codes(np.arange(2**fmt.bits))
    return np.unique(v[np.isfinite(v)])


@pytest.mark.parametrize("name", NAMES)
def test_every_code_decodes_like_ml_dtypes(name: str) -> None:
    fmt = PRESETS[name]
    codes = np.arange(2**fmt.bits)
    ref = codes.astype(np.uint8).view(ORACLE[name]).astype(np.float64)
    assert _same(fmt.from_codes(codes), ref)
    assert fmt.max_value == float(ml_dtypes.finfo(ORACLE[name]).max)
    finite = ~np.isnan(ref)
    assert np.array_equal(fmt.to_codes(ref[finite]), codes[finite])


@pytest.mark.parametrize("name", NAMES)
def test_midpoints_and_their_neighbours_round_to_even_like_ml_dtypes(name: str) -> None:
    fmt = PRESETS[name]
    values = _finite_values(fmt)
    mids = (values[1:] + values[:-1]) / 2  # exact: few significant bits
    x = np.concatenate(
        [mids, np.nextafter(mids.astype(np.float32), np.inf), np.nextafter(mids.astype(np.float32), -np.inf)]
    )
    x = x.astype(np.float32).astype(np.float64)
    assert _same(fmt.quantize(x), _ml(name, x))
    assert _same(fmt.quantize(values), values)


@pytest.mark.parametrize("name", NAMES)
def test_random_values_subnormals_and_zero_signs(name: str) -> None:
    fmt = PRESETS[name]
    rng = np.random.default_rng(len(name))
    tiny = fmt.min_normal
    x = (
        np.concatenate(
            [
                rng.uniform(-fmt.max_value, fmt.max_value, 20_000),
                rng.uniform(-2 * tiny, 2 * tiny, 20_000),  # the subnormal range and around it
                np.exp2(rng.uniform(np.log2(tiny) - 6, np.log2(fmt.max_value), 20_000)) * rng.choice([-1, 1], 20_000),
                [0.0, -0.0, tiny / 4, -tiny / 4, 1e-30, -1e-30],
            ]
        )
        .astype(np.float32)
        .astype(np.float64)
    )
    assert _same(fmt.quantize(x), _ml(name, x))


@pytest.mark.parametrize("name", NAMES)
def test_overflow(name: str) -> None:
    fmt = PRESETS[name]
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-4, 4, 5000) * fmt.max_value, [np.inf, -np.inf, 1e30, -1e30]])
    x = x.astype(np.float32).astype(np.float64)
    # Saturating (the default): ml_dtypes on the clipped input.
    assert _same(fmt.quantize(x), _ml(name, np.clip(x, -fmt.max_value, fmt.max_value)))
    # Non-saturating: inf or NaN exactly where ml_dtypes gives them; raises without either.
    nonsat = replace(fmt, saturating=False)
    if fmt.inf or fmt.nan:
        assert _same(nonsat.quantize(x), _ml(name, x))
    else:
        with pytest.raises(FormatError, match="no inf or NaN"):
            nonsat.quantize(x)


def test_nan_input() -> None:
    assert np.isnan(PRESETS["e4m3"].quantize([np.nan])[0])
    with pytest.raises(FormatError, match="no NaN"):
        PRESETS["e2m1"].quantize([np.nan])


def test_float64_inputs_are_rounded_once() -> None:
    # ml_dtypes rounds 1.0625 + 2**-40 through float32 to 1.0625, a tie, then to 1.0: double rounding.
    x = 1.0625 + 2.0**-40
    assert PRESETS["e4m3"].quantize([x])[0] == 1.125


def test_names_round_trip() -> None:
    for name, fmt in PRESETS.items():
        assert str(fmt) == name and parse_format(name) == fmt
    odd = MiniFloat(3, 4, bias=2, subnormals=False, saturating=False)
    assert str(odd) == "minifloat<3, 4, bias=2, subnormals=false, saturating=false>"
    assert parse_format(str(odd)) == odd
    assert parse_format("minifloat<4,3,nan=true>") == PRESETS["e4m3"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("minifloat<0,3>", "exponent_bits"),
        ("minifloat<4,3,inf=true>", "needs nan=True"),
        ("minifloat<4,3,colour=red>", "key=value"),
        ("minifloat<1,0,inf=true,nan=true>", "no exponent field"),
        ("e9m9", "unknown number format"),
    ],
)
def test_bad_formats(text: str, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        parse_format(text)


def _reference_cast(fmt: MiniFloat, n: np.ndarray, frac: int) -> np.ndarray:
    """Nearest finite value by brute force over all of them: on a tie the even code, and
    between 0 and the smallest normal of a flushing format, 0. (Distances are exact in
    float64: every number here has few significant bits.)"""
    values = _finite_values(fmt)
    odd = fmt.to_codes(np.abs(values)) & 1
    x = np.ldexp(n.astype(np.float64), -frac)[:, None]
    key = np.lexsort(
        (np.abs(values)[None, :].repeat(len(x), 0), odd[None, :].repeat(len(x), 0), np.abs(values - x)), axis=1
    )
    best = values[key[:, 0]]
    return np.ldexp(best, fmt.frac).astype(np.int64)


@pytest.mark.parametrize(
    "fmt", [PRESETS["e2m1"], PRESETS["e3m2"], PRESETS["e2m3"], MiniFloat(3, 1, bias=4, subnormals=False)]
)
def test_cast_int_is_nearest_even_by_brute_force(fmt: MiniFloat) -> None:
    for frac in (fmt.frac + 3, fmt.frac, fmt.frac - 2):
        span = 2 * fmt.max_int << max(frac - fmt.frac, 0)
        n = np.arange(-span, span + 1)
        assert np.array_equal(fmt.cast_int(n, frac), _reference_cast(fmt, n, frac)), frac


@given(st.integers(min_value=-(2**80), max_value=2**80), st.integers(min_value=-40, max_value=60))
def test_cast_int_matches_quantize(n: int, frac: int) -> None:
    fmt = PRESETS["e5m2"]
    value = Fraction(n) / 2**frac if frac >= 0 else Fraction(n * 2**-frac)
    if Fraction(float(value)) != value:
        return  # quantize takes float64; those values are covered by the brute-force test
    want = fmt.quantize([float(value)])[0]
    got = fmt.cast_int(np.array([n], dtype=object), frac)[0]
    assert Fraction(got, 2**fmt.frac) == Fraction(float(want))


@pytest.mark.parametrize(
    "name", ["e2m1", "e3m2", "e4m3", "e5m2", "e4m3fnuz", "minifloat<3,2,bias=-3>", "minifloat<2,0>"]
)
def test_cast_int_int64_path_equals_python_integers(name: str) -> None:
    fmt = parse_format(name)
    rng = np.random.default_rng(3)
    n = np.concatenate(
        [
            rng.integers(-(2**20), 2**20, 5000),
            rng.integers(-(2**61), 2**61, 1000),
            np.arange(-3000, 3000),
            [2**62 - 1, 0],
        ]
    ).astype(np.int64)
    for frac in (-5, 0, 3, fmt.frac, fmt.frac + 7, 30):
        assert np.array_equal(fmt.cast_int(n, frac), fmt.cast_int(n.astype(object), frac).astype(np.int64)), frac
