"""FixedPoint against g++ compiling real ap_fixed casts, and against an exact Python reference.

The oracle covers every rounding mode x overflow mode x signedness, widths 1..18 and integer
bits -3..width+3 (each (width, integer) pair under several modes: ap_fixed's logic is invariant
when the input exponent and the integer bits move together, so the full cross product would
only add compile time), casts from double and from a 64-bit ap_fixed accumulator, plus a few
wide targets. Results are compared with ``np.array_equal``: bit-exact or wrong.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Any

import apfixed_oracle as oracle
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpga_gen.errors import FormatError
from fpga_gen.formats import OVERFLOW_MODES, ROUNDING_MODES, FixedPoint, Format, parse_format

COMBOS = [(signed, q, o) for signed in (True, False) for q in ROUNDING_MODES for o in OVERFLOW_MODES]
COMBO_IDS = [f"{'s' if s else 'u'}-{q}-{o}" for s, q, o in COMBOS]
# Source grid minus target grid, in bits, for the accumulator casts (64 and beyond shift out the
# whole 64-bit source, which ap_fixed handles on a separate path).
SHIFTS = (-5, -1, 0, 1, 2, 3, 6, 13, 30, 52, 62, 63, 64, 70)
WIDE = (54, 63, 64, 65, 100, 128)
ACCUMULATOR_WIDTHS = (1, 2, 3, 4, 5, 7, 9, 13, 18)  # fewer than for doubles: each case costs ~20 ms of g++
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

# (signed, rounding, overflow) -> [(case, inputs, g++ mantissas)]
Oracle = dict[tuple[bool, str, str], list[tuple[oracle.Case, npt.NDArray[Any], npt.NDArray[Any]]]]

oracle_group = pytest.mark.xdist_group("apfixed_oracle")  # one worker compiles, the others need not


def fmt_of(case: oracle.Case) -> FixedPoint:
    return FixedPoint(case.width, case.integer, case.signed, case.rounding, case.overflow)


def oracle_cases() -> list[oracle.Case]:
    cases = []
    for c, (signed, q, o) in enumerate(COMBOS):
        # Rotations: for each width the 56 combos sweep every integer in [-3, w + 3] (w + 7 <= 56
        # values), and the combos share out the shifts.
        for w in range(1, 19):
            cases.append(oracle.Case(w, -3 + (c + w) % (w + 7), signed, q, o))
        for w in ACCUMULATOR_WIDTHS:
            integer = -3 + (c + 3 * w + 5) % (w + 7)
            cases.append(oracle.Case(w, integer, signed, q, o, w - integer + SHIFTS[(c + w) % len(SHIFTS)]))
        w = WIDE[c % len(WIDE)]
        cases.append(oracle.Case(w, (c * 7) % (w + 8) - 4, signed, q, o))
        integer = (c * 5) % (w + 8) - 4
        cases.append(oracle.Case(w, integer, signed, q, o, w - integer + SHIFTS[c % len(SHIFTS)]))
        # The extremes FixedPoint allows: lsb 2**-1021, and values up to 2**1023.
        w = (1, 5, 12)[c % 3]
        cases.append(oracle.Case(w, w - 1021 if c % 2 else 1023, signed, q, o))
    return cases


def mantissa_points(case: oracle.Case, rng: random.Random) -> list[int]:
    """Target mantissas worth probing: both ends of the range, zero, wrap-around images, random."""
    w = case.width
    lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if case.signed else (0, (1 << w) - 1)
    span = 1 << w
    points = {*range(lo - 3, lo + 4), *range(-4, 5), *range(hi - 3, hi + 4)}
    points |= {lo - span, lo - span + 1, hi + span, hi + span - 1, 2 * span, -2 * span, 3 * span + 1, -3 * span - 1}
    if w <= 6:
        points |= set(range(lo - span, hi + span + 1))
    points |= {rng.randrange(lo - 2 * span, hi + 2 * span) for _ in range(16)}
    return sorted(points)


def double_inputs(case: oracle.Case, rng: random.Random) -> npt.NDArray[np.float64]:
    """Grid points, ties, quarter points, their float neighbours, range edges and extremes."""
    frac = case.width - case.integer
    k = np.array(mantissa_points(case, rng), dtype=np.float64)  # huge mantissas round: still fine inputs
    with np.errstate(over="ignore"):  # formats near the float64 limits: overflowing inputs become inf
        grid = np.ldexp(k, -frac)
        ties = np.ldexp(2 * k + 1, -frac - 1)
        quarters = np.concatenate([np.ldexp(4 * k + 1, -frac - 2), np.ldexp(4 * k + 3, -frac - 2)])
        edges = np.ldexp(1.0, [case.integer + j for j in range(-3, 4)] + [-frac - j for j in range(4)])
        # Integers beyond 2**53 on the scaled grid (their float ulp exceeds the lsb): WRAP keeps low bits.
        big = np.ldexp([2.0**52 + 2.0**j + 1 for j in (0, 7, 30)], np.array([[1], [2], [case.width], [60]]) - frac)
        magnitudes = np.ldexp(rng.uniform(1, 2), [rng.randint(-frac - 8, case.integer + 8) for _ in range(24)])
        spread = np.ldexp([rng.uniform(-1, 1) for _ in range(16)], case.integer + 1)
    near = [np.nextafter(v, d) for v in (grid, ties) for d in (-np.inf, np.inf)]
    extremes = [1e30, 1e300, 1e-30, 2.2250738585072014e-308, 1.7976931348623157e308, np.inf]
    # Subnormals, which ap_fixed misreads (see fixed.py): they must still round like their true value.
    subnormals = [5e-324, 2.0**-1023, 2.0**-1024, 3 * 2.0**-1026, math.nextafter(2.0**-1022, 0)]
    specials = np.concatenate([extremes, subnormals, edges, big.ravel(), magnitudes, spread])
    values = np.concatenate([grid, ties, quarters, *near, specials, -specials, [0.0]])
    return np.append(np.unique(values), -0.0)


def int_inputs(case: oracle.Case, rng: random.Random) -> npt.NDArray[np.int64]:
    """Accumulators on grid 2**-source_frac around the target's grid points, ties and edges."""
    assert case.source_frac is not None
    shift = case.source_frac - (case.width - case.integer)
    points = mantissa_points(case, rng)
    if shift >= 0:
        half = 1 << shift >> 1
        offsets = {0, 1, -1, (1 << shift) - 1, half - 1, half, half + 1}
        values = {(k << shift) + o for k in points for o in offsets}
    else:
        values = {(k >> -shift) + o for k in points for o in (-1, 0, 1)}
    values |= {0, 1, -1, 2, -2, 3, -3, INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, 1 << 62, -(1 << 62)}
    values |= {rng.choice((-1, 1)) * rng.randrange(1 << (bits - 1), 1 << bits) for bits in range(1, 64)}
    return np.array(sorted(v for v in values if INT64_MIN <= v <= INT64_MAX), dtype=np.int64)


@pytest.fixture(scope="module")
def apfixed(request: pytest.FixtureRequest) -> Oracle:
    """Every oracle case with its inputs and g++'s mantissas, grouped by (signed, rounding, overflow)."""
    cases = oracle_cases()
    inputs = []
    for case in cases:
        rng = random.Random(case.table_line())
        inputs.append(double_inputs(case, rng) if case.source_frac is None else int_inputs(case, rng))
    outputs = oracle.run(cases, inputs, request.config.cache.mkdir("apfixed_oracle"))
    grouped: Oracle = {combo: [] for combo in COMBOS}
    for case, x, expected in zip(cases, inputs, outputs, strict=True):
        grouped[(case.signed, case.rounding, case.overflow)].append((case, x, expected))
    return grouped


def first_mismatch(got: npt.NDArray[Any], expected: npt.NDArray[Any], x: npt.NDArray[Any]) -> str:
    i = int(np.flatnonzero(got != expected)[0])
    shown = float(x[i]).hex() if x.dtype == np.float64 else int(x[i])
    return f"input {shown}: got {got[i]}, g++ gives {expected[i]}"


def exact_floats(n: npt.NDArray[Any], frac: int) -> npt.NDArray[np.float64]:
    """n * 2**-frac correctly rounded to float64 (Fraction -> float is), independent of FixedPoint."""
    return np.array([float(Fraction(int(v)) / Fraction(2) ** frac) for v in n], dtype=np.float64)


@oracle_group
@pytest.mark.parametrize(("signed", "rounding", "overflow"), COMBOS, ids=COMBO_IDS)
def test_quantize_matches_apfixed(apfixed: Oracle, signed: bool, rounding: str, overflow: str) -> None:
    for case, x, expected in apfixed[(signed, rounding, overflow)]:
        if case.source_frac is not None:
            continue
        fmt = fmt_of(case)
        got = fmt.quantize_int(x)
        assert got.dtype == (np.int64 if case.width <= 62 else object)
        assert np.array_equal(got, expected), f"{fmt}: {first_mismatch(got, expected, x)}"
        assert np.array_equal(fmt.quantize(x), exact_floats(expected, fmt.frac)), str(fmt)


@oracle_group
@pytest.mark.parametrize(("signed", "rounding", "overflow"), COMBOS, ids=COMBO_IDS)
def test_cast_int_matches_apfixed(apfixed: Oracle, signed: bool, rounding: str, overflow: str) -> None:
    for case, n, expected in apfixed[(signed, rounding, overflow)]:
        if case.source_frac is None:
            continue
        fmt = fmt_of(case)
        got = fmt.cast_int(n, case.source_frac)
        message = f"{fmt} from ap_fixed<64,{64 - case.source_frac}>"
        assert np.array_equal(got, expected), f"{message}: {first_mismatch(got, expected, n)}"
        # The same accumulator as Python integers (the object path) must agree too.
        assert np.array_equal(fmt.cast_int(n.astype(object), case.source_frac), expected), message


# -- the pure-Python reference, for what the 64-bit oracle cannot feed -------------------------


def reference(value: Fraction | float, fmt: FixedPoint) -> int:
    """The cast by its definition, on exact rationals (inf reads as 2**1024, as in ap_fixed)."""
    if isinstance(value, float) and math.isinf(value):
        value = Fraction(2**1024) * (1 if value > 0 else -1)
    scaled = Fraction(value) * Fraction(2) ** fmt.frac
    floor = math.floor(scaled)
    above, tie = scaled - floor > Fraction(1, 2), scaled - floor == Fraction(1, 2)
    rounded: int = {
        "TRN": floor,
        "TRN_ZERO": math.trunc(scaled),
        "RND": floor + (above or tie),
        "RND_ZERO": floor + (above or (tie and scaled < 0)),
        "RND_MIN_INF": floor + above,
        "RND_INF": floor + (above or (tie and scaled > 0)),
        "RND_CONV": round(scaled),  # Fraction rounds ties to even
    }[fmt.rounding]
    span = 1 << fmt.width
    lo, hi = (-span // 2, span // 2 - 1) if fmt.signed else (0, span - 1)
    if fmt.overflow == "WRAP":
        return lo + (rounded - lo) % span
    if fmt.overflow == "SAT_ZERO":
        return rounded if lo <= rounded <= hi else 0
    if fmt.overflow == "SAT_SYM" and fmt.signed and fmt.width > 1:
        lo = -hi  # the signed minimum itself saturates too; width 1 keeps its only negative value
    return min(max(rounded, lo), hi)


@oracle_group
def test_reference_matches_apfixed(apfixed: Oracle) -> None:
    """The reference is trusted below only because it reproduces g++ on a sample of every combo."""
    for entries in apfixed.values():
        for case, x, expected in entries[::5]:
            fmt = fmt_of(case)
            for i in range(0, len(x), 7):
                value = float(x[i]) if case.source_frac is None else int(x[i]) / Fraction(2) ** case.source_frac
                assert reference(value, fmt) == expected[i], f"{fmt}: {x[i]!r}"


formats = st.builds(
    lambda width, integer_offset, signed, rounding, overflow: FixedPoint(
        width, width - integer_offset, signed, rounding, overflow
    ),
    st.one_of(st.integers(1, 20), st.integers(21, 300)),
    st.integers(-12, 40),
    st.booleans(),
    st.sampled_from(ROUNDING_MODES),
    st.sampled_from(OVERFLOW_MODES),
)


@settings(max_examples=300, deadline=None)
@given(formats, st.lists(st.integers(-(2**400), 2**400), min_size=1, max_size=20), st.integers(-50, 450))
def test_cast_int_wide_matches_reference(fmt: FixedPoint, n: list[int], frac: int) -> None:
    ints = np.empty(len(n), dtype=object)
    ints[:] = n
    got = fmt.cast_int(ints, frac)
    assert got.dtype == (np.int64 if fmt.width <= 62 else object)
    assert got.tolist() == [reference(Fraction(v, 1) / Fraction(2) ** frac, fmt) for v in n]


@settings(max_examples=300, deadline=None)
@given(formats, st.lists(st.floats(allow_nan=False), min_size=1, max_size=20))
def test_quantize_matches_reference(fmt: FixedPoint, xs: list[float]) -> None:
    assert fmt.quantize_int(xs).tolist() == [reference(x, fmt) for x in xs]


# -- exact conversions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt",
    [FixedPoint(w, i, s) for w in (1, 2, 5, 8, 10) for i in (-3, 0, 1, w, w + 2) for s in (True, False)],
    ids=str,
)
def test_every_value_round_trips(fmt: FixedPoint) -> None:
    n = np.arange(fmt.min_int, fmt.max_int + 1, dtype=np.int64)
    values = fmt.from_int(n)
    assert np.array_equal(values, np.ldexp(n.astype(np.float64), -fmt.frac))
    assert np.array_equal(fmt.to_int(values), n)
    assert np.array_equal(fmt.quantize(values), values)
    codes = fmt.to_codes(values)
    assert codes.dtype == np.int64
    assert sorted(codes.tolist()) == list(range(2**fmt.width))
    assert np.array_equal(fmt.from_codes(codes), values)
    assert fmt.min_value == values[0] and fmt.max_value == values[-1]


@pytest.mark.parametrize(
    "fmt", [FixedPoint(63, 5), FixedPoint(64, 64, False), FixedPoint(128, -3), FixedPoint(1024, 1023)], ids=str
)
def test_wide_round_trips_use_python_ints(fmt: FixedPoint) -> None:
    n = np.empty(6, dtype=object)
    n[:] = [fmt.min_int, fmt.min_int + 1, 0, 1, fmt.max_int - 1, fmt.max_int]
    values = fmt.from_int(n)
    assert values.tolist() == [float(Fraction(v) / Fraction(2) ** fmt.frac) for v in n]  # nearest float64
    exact = [0.0, float(fmt.lsb), float(fmt.min_value) if fmt.signed else 0.0]
    assert fmt.to_int(exact).tolist() == [0, 1, fmt.min_int if fmt.signed else 0]
    codes = fmt.to_codes(exact)
    assert codes.dtype == object and codes.tolist()[-1] == (2 ** (fmt.width - 1) if fmt.signed else 0)
    assert fmt.from_codes(codes).tolist() == exact


def test_wide_formats_take_int64_and_uint64_inputs() -> None:
    fmt = FixedPoint(64, 10)  # 2**64 - 1 and friends do not fit int64 arithmetic
    assert fmt.from_codes(np.array([5, 2**62])).tolist() == [5 * 2.0**-54, 256.0]
    assert fmt.from_codes(np.array([2**64 - 1], dtype=np.uint64)).tolist() == [-(2.0**-54)]
    assert fmt.from_int(np.array([-(2**62)])).tolist() == [-256.0]
    assert FixedPoint(64, 64, False).from_int(np.array([2**64 - 1], dtype=np.uint64)).tolist() == [2.0**64]


def test_shapes_and_dtypes_are_kept() -> None:
    fmt = FixedPoint(8, 3, rounding="RND", overflow="SAT")
    x = np.linspace(-5, 5, 24).reshape(2, 3, 4)
    assert fmt.quantize(x).shape == (2, 3, 4) and fmt.quantize(x).dtype == np.float64
    assert fmt.quantize_int(x).shape == (2, 3, 4)
    assert fmt.cast_int(np.arange(12).reshape(3, 4), 7).shape == (3, 4)
    assert fmt.quantize(1.3).shape == () and float(fmt.quantize(1.3)) == 1.3125
    assert fmt.to_codes(fmt.quantize(x)).shape == (2, 3, 4)
    assert fmt.cast_int(np.array([3, 4], dtype=np.uint8), 0).tolist() == [96, 127]
    assert fmt.cast_int([2**70], 70).tolist() == [32]  # a Python-int list beyond int64
    assert FixedPoint(100, 10).cast_int(np.array([5]), 0).dtype == object


def test_quantize_special_values() -> None:
    fmt = FixedPoint(4, 2, rounding="RND", overflow="SAT")
    assert fmt.quantize([np.inf, -np.inf, -0.0, 5e-324, -5e-324]).tolist() == [1.75, -2.0, 0.0, 0.0, 0.0]
    assert FixedPoint(4, 2).quantize([np.inf, -np.inf, -5e-324]).tolist() == [0.0, 0.0, -0.25]
    assert FixedPoint(1, 1, overflow="SAT_SYM").quantize([-3.0, -0.5, 3.0]).tolist() == [-1.0, -1.0, 0.0]
    assert FixedPoint(3, 3, overflow="SAT_SYM").quantize([-4.0, -9.0]).tolist() == [-3.0, -3.0]


def test_not_representable_values_are_named() -> None:
    fmt = FixedPoint(8, 3)
    with pytest.raises(FormatError, match=r"0\.3 .*not representable in fixed<8,3>.*multiple of the lsb"):
        fmt.to_int([0.5, 0.3])
    with pytest.raises(FormatError, match=r"4\.0 .*outside \[-4\.0, 3\.96875\]"):
        fmt.to_codes([4.0])
    with pytest.raises(FormatError, match="not representable"):
        fmt.to_int([np.nan])
    with pytest.raises(FormatError, match="not representable"):
        FixedPoint(8, 20).to_int([5e-324])  # scales to 0.0, which alone would look like a grid point
    with pytest.raises(FormatError, match=r"mantissa 128 .*\[-128, 127\]"):
        fmt.from_int([1, 128])
    with pytest.raises(FormatError, match=r"code 256 .*\[0, 2\*\*8\)"):
        fmt.from_codes([256])
    with pytest.raises(FormatError, match="code -1"):
        fmt.from_codes([-1])
    with pytest.raises(FormatError, match="NaN"):
        fmt.quantize([1.0, np.nan])
    with pytest.raises(FormatError, match="real numbers"):
        fmt.quantize(["a"])
    with pytest.raises(FormatError, match="dtype float64; use quantize"):
        fmt.cast_int(np.array([1.5]), 3)
    with pytest.raises(FormatError, match="needs integers"):
        fmt.from_int(np.array([1, "x"], dtype=object))
    with pytest.raises(FormatError, match="frac"):
        fmt.cast_int([1], 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 0, "integer": 0}, r"width=0 is invalid: use a width in \[1, 1024\]"),
        ({"width": 1025, "integer": 0}, "width=1025"),
        ({"width": True, "integer": 0}, "width=True is invalid: it must be an int"),
        ({"width": 8.0, "integer": 0}, "width=8.0"),
        ({"width": 8, "integer": 1024}, "integer <= 1023"),
        ({"width": 8, "integer": -1014}, r"lsb would be below 2\*\*-1021; use integer >= -1013"),
        ({"width": 8, "integer": 3, "signed": 1}, "signed=1"),
        ({"width": 8, "integer": 3, "rounding": "AP_RND"}, "rounding='AP_RND' is not a rounding mode: use one of TRN,"),
        ({"width": 8, "integer": 3, "overflow": "SATURATE"}, "overflow='SATURATE' .*WRAP, SAT, SAT_ZERO, SAT_SYM"),
    ],
)
def test_invalid_formats_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(FormatError, match=message):
        FixedPoint(**kwargs)


def test_numpy_integer_parameters_are_normalized() -> None:
    fmt = FixedPoint(np.int64(8), np.int32(3), np.bool_(True))  # type: ignore[arg-type]
    assert fmt == FixedPoint(8, 3) and hash(fmt) == hash(FixedPoint(8, 3)) and type(fmt.width) is int


# -- spelling ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "text", "cpp"),
    [
        (FixedPoint(8, 3), "fixed<8,3>", "ap_fixed<8,3>"),
        (FixedPoint(8, 3, rounding="RND"), "fixed<8,3,RND>", "ap_fixed<8,3,AP_RND>"),
        (FixedPoint(8, 3, overflow="SAT"), "fixed<8,3,TRN,SAT>", "ap_fixed<8,3,AP_TRN,AP_SAT>"),
        (FixedPoint(6, 0, False, "RND_CONV", "SAT"), "ufixed<6,0,RND_CONV,SAT>", "ap_ufixed<6,0,AP_RND_CONV,AP_SAT>"),
        (FixedPoint(4, -2, False), "ufixed<4,-2>", "ap_ufixed<4,-2>"),
    ],
)
def test_spelling(fmt: FixedPoint, text: str, cpp: str) -> None:
    assert str(fmt) == text and fmt.cpp_type() == cpp
    assert parse_format(text) == fmt and parse_format(cpp) == fmt


@st.composite
def any_format(draw: st.DrawFn) -> FixedPoint:
    """Any valid format, mostly narrow ones; the integer bits range over all that is allowed."""
    width = draw(st.one_of(st.integers(1, 24), st.integers(1, 1024)))
    integer = draw(st.one_of(st.integers(max(-4, width - 1021), min(width + 4, 1023)), st.integers(width - 1021, 1023)))
    return FixedPoint(
        width,
        integer,
        draw(st.booleans()),
        draw(st.sampled_from(ROUNDING_MODES)),
        draw(st.sampled_from(OVERFLOW_MODES)),
    )


@settings(max_examples=300, deadline=None)
@given(any_format())
def test_parse_round_trips(fmt: FixedPoint) -> None:
    assert isinstance(fmt, Format) and fmt.bits == fmt.width
    assert parse_format(str(fmt)) == fmt
    assert parse_format(fmt.cpp_type()) == fmt


def test_parse_is_lenient_about_spacing_and_prefixes() -> None:
    expected = FixedPoint(8, -3, True, "RND_ZERO", "SAT_SYM")
    for text in (
        " fixed < 8 , -3 , RND_ZERO , SAT_SYM > ",
        "fixed<8,-3,AP_RND_ZERO,AP_SAT_SYM>",
        "ap_fixed<8, -3, AP_RND_ZERO, AP_SAT_SYM, 0>",
        "ap_fixed<8,-3,rnd_zero,sat_sym>",
    ):
        assert parse_format(text) == expected, text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("float<8,3>", r"unknown number format 'float<8,3>': accepted forms are fixed<W,I\[,Q\[,O\]\]>, ufixed"),
        ("fixed", "unknown number format 'fixed'"),
        ("fixed<8>", "fixed takes 2 to 4 parameters"),
        ("fixed<8,3,RND,SAT,0>", "fixed takes 2 to 4 parameters"),
        ("fixed<8,3.5>", "integer '3.5' is not an integer"),
        ("fixed<8,3,ROUND>", "mode 'ROUND' is unknown: use one of TRN, TRN_ZERO"),
        ("fixed<8,3,SAT>", "mode 'SAT' is unknown"),
        ("ap_fixed<8,3,AP_RND,AP_SAT,2>", "saturation bits 2 are not supported"),
        ("fixed<0,3>", "width=0 is invalid"),
    ],
)
def test_parse_errors_name_the_fix(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse_format(text)
    with pytest.raises(FormatError, match="must be given as text"):
        parse_format(8)  # type: ignore[arg-type]
