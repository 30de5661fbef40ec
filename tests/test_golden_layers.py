"""Golden model of the convolution, pooling and element-wise layers against oracles nobody here wrote.

- TensorFlow's ``tf.nn`` ops in float64 on the quantized values: exact while every partial
  sum fits 53 bits (all products and sums are integers on one grid), so compared with ``==``.
- Plain-loop references on ``fractions.Fraction`` for what float64 cannot hold (wide
  accumulators, averages over windows that are not a power of two), each rounded by
  ``test_fixed.reference`` (the cast by its definition, itself checked against g++ ap_fixed)
  or, for minifloats, by nearest-even over the value table ml_dtypes decodes.
"""

from __future__ import annotations

import functools
import itertools
from bisect import bisect_right
from collections.abc import Sequence
from fractions import Fraction
from types import ModuleType
from typing import Any

import ml_dtypes
import numpy as np
import pytest
from graphs import _uniform
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fixed import reference as fixed_reference

from fpga_gen.formats import FixedPoint, Format, MiniFloat, parse_format
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import Conv, Graph, GraphBuilder, Pool, evaluate_ints, quantize_inputs

Pads = tuple[tuple[int, int], ...]
Padding = str | Pads
PoolCase = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], Padding]  # input shape, pool, strides, padding
ROUNDINGS = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV")
# Narrow outputs (inputs are fixed<8,3>, in [-4, 4)): every rounding mode, ties and overflow happen.
ROUNDED = [f"fixed<6,2,{q},SAT>" for q in ROUNDINGS] + [
    "fixed<6,2,RND_CONV,WRAP>",
    "fixed<6,2,RND,SAT_SYM>",
    "fixed<5,1,RND_INF,SAT_ZERO>",
    "ufixed<5,2,RND_ZERO,SAT>",
]
MINIFLOATS = {  # name -> (ml_dtypes type, bits)
    "e4m3": (ml_dtypes.float8_e4m3fn, 8),
    "e3m2": (ml_dtypes.float6_e3m2fn, 6),
    "e2m3": (ml_dtypes.float6_e2m3fn, 6),
    "e2m1": (ml_dtypes.float4_e2m1fn, 4),
}


# -- exact references ---------------------------------------------------------------------------


def fractions(x: np.ndarray) -> np.ndarray:
    out = np.empty(x.shape, dtype=object)
    out.flat[:] = [Fraction(float(v)) for v in x.flat]
    return out


@functools.cache
def _magnitudes(name: str) -> tuple[Fraction, ...]:
    """Non-negative finite values of a minifloat in code order (so a code's parity is its index's)."""
    dtype, bits = MINIFLOATS[name]
    codes = np.arange(1 << (bits - 1), dtype=np.uint8)
    return tuple(Fraction(float(v)) for v in codes.view(dtype).astype(np.float64) if np.isfinite(v))


def round_minifloat(name: str, q: Fraction) -> Fraction:
    """Nearest value, ties to the even code, saturating at the largest finite value."""
    mags = _magnitudes(name)
    a = abs(q)
    if a >= mags[-1]:
        r = mags[-1]
    else:
        i = bisect_right(mags, a) - 1
        below, above = a - mags[i], mags[i + 1] - a
        r = mags[i] if below < above or (below == above and i % 2 == 0) else mags[i + 1]
    return -r if q < 0 else r


def round_once(fmt: Format, q: Fraction) -> Fraction:
    if isinstance(fmt, FixedPoint):
        return Fraction(fixed_reference(q, fmt)) / Fraction(2) ** fmt.frac
    assert isinstance(fmt, MiniFloat)
    return round_minifloat(str(fmt), q)


def rounded(fmt: Format, exact: np.ndarray) -> np.ndarray:
    """Each exact rational of ``exact`` rounded once into ``fmt``, as float64 (exact: narrow formats)."""
    return np.array([float(round_once(fmt, q)) for q in exact.flat], dtype=np.float64).reshape(exact.shape)


def golden_exact(graph: Graph, x: np.ndarray) -> np.ndarray:
    """The golden model's output integers as exact rationals (predict would round wide ones to float64)."""
    ints, _ = quantize_inputs(graph, x)
    frac = exact_fixed(graph.output.output.format).frac
    exact: np.ndarray = np.vectorize(lambda n: Fraction(int(n)) / Fraction(2) ** frac, otypes=[object])(
        evaluate_ints(graph, ints)
    )
    return exact


def _taps(o: int, size: int, k: int, s: int, before: int) -> range:
    """Input indices a window covers at output index ``o``, padding left out."""
    start = o * s - before
    return range(max(start, 0), min(start + k, size))


def _out_size(size: int, k: int, s: int, pads: tuple[int, int]) -> int:
    return (size + pads[0] + pads[1] - k) // s + 1


def pool_reference(x: np.ndarray, function: str, pool: Sequence[int], strides: Sequence[int], pads: Pads) -> np.ndarray:
    """Max or exact mean per window and channel over the non-padded taps, one window at a time."""
    spatial = x.shape[1:-1]
    geometry = list(zip(spatial, pool, strides, pads, strict=True))
    outs = [_out_size(n, k, s, p) for n, k, s, p in geometry]
    y = np.empty((len(x), *outs, x.shape[-1]), dtype=object)
    exact = fractions(x)
    for pos in itertools.product(*map(range, outs)):
        ranges = [_taps(o, n, k, s, p[0]) for o, (n, k, s, p) in zip(pos, geometry, strict=True)]
        block = exact[(slice(None), *(slice(r.start, r.stop) for r in ranges))].reshape(len(x), -1, x.shape[-1])
        for b, c in itertools.product(range(len(x)), range(x.shape[-1])):
            taps = list(block[b, :, c])
            y[(b, *pos, c)] = max(taps) if function == "max" else sum(taps, Fraction(0)) / len(taps)
    return y


def conv_reference(
    x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, strides: Sequence[int], pads: Pads, depthwise: bool
) -> np.ndarray:
    """Exact convolution in rationals, tap by tap; padded taps contribute nothing (they are zeros)."""
    rank = x.ndim - 2
    spatial, kernel, c_in = x.shape[1:-1], w.shape[:rank], w.shape[rank]
    outs = [_out_size(n, k, s, p) for n, k, s, p in zip(spatial, kernel, strides, pads, strict=True)]
    channels = c_in * w.shape[-1] if depthwise else w.shape[-1]
    xs, ws = fractions(x), fractions(w)
    y = np.empty((len(x), *outs, channels), dtype=object)
    for b, pos, co in itertools.product(range(len(x)), itertools.product(*map(range, outs)), range(channels)):
        acc = Fraction(0) if bias is None else Fraction(float(bias[co]))
        for tap in itertools.product(*map(range, kernel)):
            at = [o * s - p[0] + t for o, s, p, t in zip(pos, strides, pads, tap, strict=True)]
            if any(not 0 <= i < n for i, n in zip(at, spatial, strict=True)):
                continue
            if depthwise:
                ci, m = divmod(co, w.shape[-1])
                acc += xs[(b, *at, ci)] * ws[(*tap, ci, m)]
            else:
                acc += sum((xs[(b, *at, ci)] * ws[(*tap, ci, co)] for ci in range(c_in)), Fraction(0))
        y[(b, *pos, co)] = acc
    return y


def test_minifloat_reference_agrees_with_ml_dtypes() -> None:
    """round_minifloat is trusted below because it matches ml_dtypes wherever ml_dtypes is exact."""
    x = np.linspace(-500, 500, 16001).astype(np.float32).astype(np.float64)  # midpoints and beyond max
    for name, (dtype, _) in MINIFLOATS.items():
        top = float(_magnitudes(name)[-1])
        want = np.clip(x, -top, top).astype(np.float32).astype(dtype).astype(np.float64)
        assert np.array_equal(rounded(parse_format(name), fractions(x)), want), name


# -- convolutions -------------------------------------------------------------------------------


def conv_graph(
    x_shape: tuple[int, ...],
    w: np.ndarray,
    bias: np.ndarray | None,
    formats: tuple[str, str, str],
    *,
    strides: int | tuple[int, ...],
    padding: Padding,
    depthwise: bool,
    output_format: str | None = None,
) -> Graph:
    in_fmt, w_fmt, b_fmt = formats
    b = GraphBuilder("conv", x_shape, in_fmt)
    b.conv(w, w_fmt, bias, b_fmt, strides=strides, padding=padding, depthwise=depthwise, output_format=output_format)
    return b.build()


def tf_padding(pads: Padding) -> str | list[list[int]]:
    """TF's spelling: 'SAME' / 'VALID', or explicit pads with the batch and channel axes unpadded."""
    return pads.upper() if isinstance(pads, str) else [[0, 0], *map(list, pads), [0, 0]]


def tf_conv(tf: ModuleType, x: np.ndarray, w: np.ndarray, strides: tuple[int, ...], pads: Padding, dw: bool) -> Any:
    """tf.nn.conv1d / conv2d / depthwise_conv2d in float64; 1-D explicit or depthwise pads go through 2-D."""
    rank = x.ndim - 2
    if rank == 1 and not dw and isinstance(pads, str):
        return tf.nn.conv1d(tf.constant(x), tf.constant(w), strides[0], tf_padding(pads)).numpy()
    if rank == 1:  # a height-1 image: TF's depthwise op wants equal strides, the height stride never moves
        y = tf_conv(
            tf, x[:, None], w[None], (strides[0], strides[0]), pads if isinstance(pads, str) else ((0, 0), *pads), dw
        )
        return y[:, 0]
    op = tf.nn.depthwise_conv2d if dw else tf.nn.conv2d
    return op(tf.constant(x), tf.constant(w), [1, *strides, 1], tf_padding(pads)).numpy()


def check_conv_against_tf(
    tf: ModuleType,
    seed: int,
    x_shape: tuple[int, ...],
    kernel: tuple[int, ...],
    last: int,
    strides: tuple[int, ...],
    padding: Padding,
    depthwise: bool,
    bias: bool,
    formats: tuple[str, str, str] = ("fixed<8,3>", "fixed<6,1>", "fixed<8,2>"),
) -> None:
    """The golden conv (output = its exact accumulator) == TF's float64 conv + bias."""
    rng = np.random.default_rng(seed)
    x = _uniform(rng, formats[0], (5, *x_shape))
    w = _uniform(rng, formats[1], (*kernel, x_shape[-1], last))
    b = _uniform(rng, formats[2], (x_shape[-1] * last if depthwise else last,)) if bias else None
    graph = conv_graph(x_shape, w, b, formats, strides=strides, padding=padding, depthwise=depthwise)
    conv = graph.layers[1]
    assert isinstance(conv, Conv) and conv.accumulator(graph.input.output.format).width <= 53
    want = tf_conv(tf, x, w, strides, padding, depthwise) + (0.0 if b is None else b)
    assert np.array_equal(graph.predict(x), want)


CONV_SHAPES = {  # rank -> (input shape, kernel, explicit asymmetric pads)
    1: ((9, 3), (3,), ((0, 2),)),
    2: ((7, 6, 3), (3, 2), ((2, 0), (0, 1))),
}


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("padding", ["same", "valid", "explicit"])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize(
    ("rank", "depthwise", "last"),
    [(1, False, 4), (2, False, 4), (1, True, 1), (1, True, 2), (2, True, 1), (2, True, 2)],
    ids=["conv1d", "conv2d", "dw1d", "dw1d-mult2", "dw2d", "dw2d-mult2"],
)
def test_conv_matches_tensorflow(
    tf: ModuleType, rank: int, depthwise: bool, last: int, stride: int, padding: str, bias: bool
) -> None:
    x_shape, kernel, explicit = CONV_SHAPES[rank]
    pads: Padding = explicit if padding == "explicit" else padding
    check_conv_against_tf(tf, stride + 3 * rank, x_shape, kernel, last, (stride,) * rank, pads, depthwise, bias)


@pytest.mark.parametrize(
    "formats",
    [("e4m3", "e2m1", "e3m2"), ("ufixed<6,2>", "ternary<0.5>", "fixed<10,4>"), ("e2m3", "binary<0.25>", "e4m3")],
)
def test_conv_mixed_formats_match_tensorflow(tf: ModuleType, formats: tuple[str, str, str]) -> None:
    check_conv_against_tf(tf, 1, (6, 5, 2), (3, 3), 3, (2, 2), "same", False, True, formats)
    check_conv_against_tf(tf, 2, (6, 5, 2), (2, 3), 2, (1, 1), ((1, 0), (2, 1)), True, True, formats)


@st.composite
def conv_geometries(draw: st.DrawFn) -> dict[str, Any]:
    rank = draw(st.sampled_from([1, 2]))
    depthwise = draw(st.booleans())
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    if depthwise or draw(st.booleans()):
        strides = (draw(st.integers(1, 3)),) * rank  # TF's depthwise op needs equal strides
    else:
        strides = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    mode = draw(st.sampled_from(["same", "valid", "explicit"]))
    pads = tuple((draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))) for k in kernel)
    smallest = {
        "same": [1] * rank,
        "valid": list(kernel),
        "explicit": [max(k - a - b, 1) for k, (a, b) in zip(kernel, pads, strict=True)],
    }
    x_shape = (*(draw(st.integers(n, 7)) for n in smallest[mode]), draw(st.integers(1, 3)))
    return {
        "seed": draw(st.integers(0, 2**16)),
        "x_shape": x_shape,
        "kernel": kernel,
        "last": draw(st.integers(1, 3)),
        "strides": strides,
        "padding": pads if mode == "explicit" else mode,
        "depthwise": depthwise,
        "bias": draw(st.booleans()),
    }


@settings(max_examples=40, deadline=None)
@given(conv_geometries())
def test_conv_geometry_property(tf: ModuleType, case: dict[str, Any]) -> None:
    check_conv_against_tf(tf, **case)


WIDE = {  # accumulators past float64 (int64 path) and past int64 (Python integers)
    "int64": ("fixed<26,8>", "fixed<26,4>", "fixed<30,10>"),
    "pyint": ("fixed<32,10>", "fixed<32,2>", "fixed<40,20>"),
}


@pytest.mark.parametrize("width", sorted(WIDE))
@pytest.mark.parametrize(
    ("x_shape", "kernel", "last", "depthwise", "padding"),
    [
        ((5, 4, 2), (3, 3), 2, False, "same"),
        ((5, 4, 2), (3, 3), 2, True, ((1, 2), (0, 1))),
        ((7, 2), (5,), 3, False, ((3, 1),)),
        ((10, 2), (9,), 2, True, "same"),
    ],
    ids=["conv2d", "dw2d", "conv1d", "dw1d"],
)
def test_wide_conv_matches_exact_reference(
    width: str, x_shape: tuple[int, ...], kernel: tuple[int, ...], last: int, depthwise: bool, padding: Padding
) -> None:
    formats = WIDE[width]
    rng = np.random.default_rng(len(x_shape) + last)
    in_fmt, w_fmt = parse_format(formats[0]), parse_format(formats[1])
    x = _uniform(rng, formats[0], (3, *x_shape))
    w = _uniform(rng, formats[1], (*kernel, x_shape[-1], last))
    b = _uniform(rng, formats[2], (x_shape[-1] * last if depthwise else last,))
    # extreme operands make the sums really need the wide accumulator (random ones mostly cancel)
    assert isinstance(in_fmt, FixedPoint) and isinstance(w_fmt, FixedPoint)
    x[0], x[1], w[..., 0] = in_fmt.max_value, in_fmt.min_value, w_fmt.max_value
    strides = (2, 1)[: len(kernel)]
    graph = conv_graph(x_shape, w, b, formats, strides=strides, padding=padding, depthwise=depthwise)
    acc_width = exact_fixed(graph.output.output.format).width
    assert (53 < acc_width <= 63) if width == "int64" else acc_width > 63
    conv = graph.layers[1]
    assert isinstance(conv, Conv)
    exact = conv_reference(x, w, b, strides, conv.padding, depthwise)
    assert np.array_equal(golden_exact(graph, x), exact)
    out = "fixed<20,12,RND_CONV,SAT>"  # one rounding of the wide sum, saturating where it does not fit
    narrow = conv_graph(
        x_shape, w, b, formats, strides=strides, padding=padding, depthwise=depthwise, output_format=out
    )
    assert np.array_equal(narrow.predict(x), rounded(parse_format(out), exact))


# -- pooling ------------------------------------------------------------------------------------


def pool_graph(
    x_shape: tuple[int, ...],
    function: str,
    pool: tuple[int, ...],
    strides: tuple[int, ...],
    padding: Padding,
    in_fmt: str = "fixed<8,3>",
    output_format: str | None = None,
) -> Graph:
    b = GraphBuilder("pool", x_shape, in_fmt)
    return b.pool(function, pool, strides=strides, padding=padding, output_format=output_format).build()


def test_tensorflow_average_leaves_padding_out(tf: ModuleType) -> None:
    """What TF (and Keras) do, which the IR adopts: padded taps are not counted in the mean."""
    x = np.arange(1.0, 26.0).reshape(1, 5, 5, 1)
    y = tf.nn.avg_pool(tf.constant(x), 3, 1, "SAME").numpy()
    assert y[0, 0, 0, 0] == (1 + 2 + 6 + 7) / 4  # 4 real taps of 9
    assert np.array_equal(tf.nn.avg_pool(tf.constant(np.ones_like(x)), 3, 2, "SAME").numpy(), np.ones((1, 3, 3, 1)))
    graph = pool_graph((5, 5, 1), "avg", (3, 3), (1, 1), "same", "ufixed<5,5>", "ufixed<16,5>")
    assert graph.predict(x)[0, 0, 0, 0] == 4.0


# Windows whose non-padded tap counts are all powers of two for avg (the mean is then exact in
# float64 and in fixed<16,4>); max takes any window.
POOLS_VS_TF = [
    ("avg", (5, 7, 2), (2, 2), (2, 2), "same"),
    ("avg", (4, 5, 2), (2, 2), (1, 1), "same"),
    ("avg", (6, 8, 2), (2, 4), (2, 4), "valid"),
    ("avg", (8, 6, 2), (4, 4), (2, 2), "valid"),
    ("avg", (7, 3), (2,), (2,), "same"),
    ("avg", (9, 3), (4,), (1,), "valid"),
    ("max", (5, 7, 2), (3, 3), (2, 2), "same"),
    ("max", (6, 5, 2), (3, 2), (1, 2), "same"),
    ("max", (6, 6, 2), (2, 3), (2, 3), "valid"),
    ("max", (7, 3), (3,), (2,), "same"),
    ("max", (9, 3), (4,), (3,), "valid"),
    ("max", (5, 6, 2), (3, 3), (1, 2), ((2, 0), (0, 1))),  # explicit pads: TF takes them for 2-D max only
    ("max", (6, 5, 2), (2, 3), (2, 1), ((1, 0), (2, 2))),
]


@pytest.mark.parametrize(("function", "x_shape", "pool", "strides", "padding"), POOLS_VS_TF)
def test_pool_matches_tensorflow(
    tf: ModuleType,
    function: str,
    x_shape: tuple[int, ...],
    pool: tuple[int, ...],
    strides: tuple[int, ...],
    padding: Padding,
) -> None:
    x = _uniform(np.random.default_rng(len(x_shape) + pool[0]), "fixed<8,3>", (6, *x_shape))
    out = "fixed<16,4>" if function == "avg" else None
    graph = pool_graph(x_shape, function, pool, strides, padding, output_format=out)
    op = tf.nn.avg_pool if function == "avg" else tf.nn.max_pool
    assert np.array_equal(graph.predict(x), op(tf.constant(x), pool, strides, tf_padding(padding)).numpy())


POOLS_ROUNDED: list[PoolCase] = [  # tap counts 1 to 9, none a power of two in places; explicit asymmetric pads
    ((6, 5, 2), (3, 3), (2, 2), "same"),
    ((7, 3), (3,), (1,), ((2, 1),)),
    ((5, 6, 1), (3, 2), (1, 2), ((0, 2), (1, 0))),
]


@pytest.mark.parametrize("out", ROUNDED + list(MINIFLOATS))
@pytest.mark.parametrize("function", ["avg", "max"])
def test_pool_rounds_once_like_exact_reference(function: str, out: str) -> None:
    fmt = parse_format(out)
    for k, (x_shape, pool, strides, padding) in enumerate(POOLS_ROUNDED):
        x = _uniform(np.random.default_rng(k), "fixed<8,3>", (6, *x_shape))
        graph = pool_graph(x_shape, function, pool, strides, padding, output_format=out)
        layer = graph.layers[1]
        assert isinstance(layer, Pool)
        exact = pool_reference(x, function, pool, strides, layer.padding)
        assert np.array_equal(graph.predict(x), rounded(fmt, exact)), (out, x_shape)


def test_pool_of_minifloat_input() -> None:
    x = _uniform(np.random.default_rng(5), "e4m3", (6, 5, 7, 2))
    for function, out in [("avg", "fixed<14,8,RND_CONV,SAT>"), ("avg", "e4m3"), ("max", "fixed<10,8,RND,SAT>")]:
        graph = pool_graph((5, 7, 2), function, (3, 2), (2, 2), "same", "e4m3", out)
        exact = pool_reference(x, function, (3, 2), (2, 2), ((1, 1), (0, 1)))
        assert np.array_equal(graph.predict(x), rounded(parse_format(out), exact)), (function, out)


@st.composite
def pool_geometries(draw: st.DrawFn) -> dict[str, Any]:
    rank = draw(st.sampled_from([1, 2]))
    pool = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    pads = tuple((draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))) for k in pool)
    return {
        "x_shape": (*(draw(st.integers(max(k - a - b, 1), 6)) for k, (a, b) in zip(pool, pads, strict=True)), 2),
        "function": draw(st.sampled_from(["avg", "max"])),
        "pool": pool,
        "strides": tuple(draw(st.integers(1, 3)) for _ in range(rank)),
        "padding": pads,
        "output_format": draw(st.sampled_from([*ROUNDED, *MINIFLOATS])),
    }


@settings(max_examples=60, deadline=None)
@given(pool_geometries(), st.integers(0, 2**16))
def test_pool_geometry_property(case: dict[str, Any], seed: int) -> None:
    x = _uniform(np.random.default_rng(seed), "fixed<8,3>", (3, *case["x_shape"]))
    exact = pool_reference(x, case["function"], case["pool"], case["strides"], case["padding"])
    graph = pool_graph(**case)
    assert np.array_equal(graph.predict(x), rounded(parse_format(case["output_format"]), exact))


@pytest.mark.parametrize("x_shape", [(4, 4, 3), (8, 2)])
def test_global_pool_matches_tensorflow(tf: ModuleType, x_shape: tuple[int, ...]) -> None:
    x = _uniform(np.random.default_rng(3), "fixed<8,3>", (5, *x_shape))
    axes = tuple(range(1, len(x_shape)))
    for function, op in (("max", tf.reduce_max), ("avg", tf.reduce_mean)):  # 16 and 8 taps: exact means
        graph = GraphBuilder("gp", x_shape, "fixed<8,3>").global_pool(function, output_format="fixed<16,4>").build()
        assert np.array_equal(graph.predict(x), op(tf.constant(x), axis=axes).numpy()), function


@pytest.mark.parametrize("out", ROUNDED + list(MINIFLOATS))
def test_global_pool_rounds_once_like_exact_reference(out: str) -> None:
    for x_shape in [(3, 5, 2), (6, 3)]:  # 15 and 6 taps
        x = _uniform(np.random.default_rng(len(x_shape)), "fixed<8,3>", (5, *x_shape))
        axes = tuple(range(1, len(x_shape)))
        for function in ("avg", "max"):
            graph = GraphBuilder("gp", x_shape, "fixed<8,3>").global_pool(function, output_format=out).build()
            exact = pool_reference(x, function, x_shape[:-1], (1,) * len(axes), ((0, 0),) * len(axes))
            want = rounded(parse_format(out), exact.reshape(len(x), -1))
            assert np.array_equal(graph.predict(x), want), (function, x_shape)


# -- element-wise layers ------------------------------------------------------------------------


def test_scale_shift_exact_output_matches_numpy() -> None:
    rng = np.random.default_rng(11)
    x = _uniform(rng, "fixed<8,3>", (6, 4, 5, 3))
    for scale_fmt, shift_fmt in [("fixed<8,2>", "fixed<10,4>"), ("e4m3", "e2m1"), ("ternary<0.5>", "fixed<4,4>")]:
        scale, shift = _uniform(rng, scale_fmt, (3,)), _uniform(rng, shift_fmt, (3,))
        b = GraphBuilder("ss", (4, 5, 3), "fixed<8,3>")
        linear = b.scale_shift(scale, scale_fmt, shift, shift_fmt).build()
        assert np.array_equal(linear.predict(x), x * scale + shift), scale_fmt  # float64 is exact here
        b = GraphBuilder("ss", (4, 5, 3), "fixed<8,3>")
        relu = b.scale_shift(scale, scale_fmt, shift, shift_fmt, activation="relu").build()
        assert np.array_equal(relu.predict(x), np.maximum(x * scale + shift, 0.0)), scale_fmt


@pytest.mark.parametrize("out", ROUNDED + list(MINIFLOATS))
def test_scale_shift_rounds_once_like_exact_reference(out: str) -> None:
    rng = np.random.default_rng(12)
    x = _uniform(rng, "fixed<8,3>", (40, 3))
    scale, shift = _uniform(rng, "fixed<9,1>", (3,)), _uniform(rng, "fixed<12,3>", (3,))
    for activation in ("linear", "relu"):
        b = GraphBuilder("ss", (3,), "fixed<8,3>")
        graph = b.scale_shift(
            scale, "fixed<9,1>", shift, "fixed<12,3>", activation=activation, output_format=out
        ).build()
        exact = fractions(x) * fractions(scale) + fractions(shift)
        if activation == "relu":
            exact = np.where(exact < 0, 0, exact)
        assert np.array_equal(graph.predict(x), rounded(parse_format(out), exact)), activation


THRESHOLDS = [
    [-1.0, -0.0625, 0.5, 1.5],  # on the fixed<6,2> grid: inputs hit them exactly (ties x == t)
    [-np.inf, -3.0, 5.0, np.inf],  # beyond the input range: met always, always, never, never
    [-0.33, 0.01, 0.01, 1.97],  # off the grid, one repeated
]
VALUES = [[7, 5, 2, 0, -3], [1, 2, 3, 4, 5], [-1, 6, 6, 0, 0]]  # descending, ascending, neither


@pytest.mark.parametrize(("in_fmt", "shape"), [("fixed<6,2>", (3,)), ("fixed<6,2>", (2, 3, 3)), ("e2m1", (3,))])
def test_threshold_counts_thresholds_met(in_fmt: str, shape: tuple[int, ...]) -> None:
    fmt = parse_format(in_fmt)
    grid = exact_fixed(fmt)
    every = grid.from_int(np.arange(grid.min_int, grid.max_int + 1))
    every = np.unique(fmt.quantize(every))  # every value of the input format, each channel
    x = np.concatenate(
        [
            np.broadcast_to(every.reshape(-1, *[1] * len(shape)), (len(every), *shape)),
            fmt.quantize(_uniform(np.random.default_rng(2), "fixed<6,2>", (30, *shape))),
        ]
    )
    graph = GraphBuilder("th", shape, in_fmt).threshold(THRESHOLDS, VALUES, "fixed<5,4>").build()
    t = np.array(THRESHOLDS)
    count = (x[..., None] >= t).sum(axis=-1)
    want = np.array(VALUES, dtype=np.float64)[np.arange(3), count]
    assert np.array_equal(graph.predict(x), want)


ADD_FORMATS = ("fixed<8,3>", "ufixed<6,2,RND,SAT>", "e2m3")


def _branches(shape: tuple[int, ...]) -> GraphBuilder:
    """input (fixed<8,3>) -> a (ufixed<6,2>) -> b (e2m3): three tensors of three formats."""
    b = GraphBuilder("branches", shape, ADD_FORMATS[0])
    return b.activation("linear", ADD_FORMATS[1], name="a").activation("linear", ADD_FORMATS[2], name="b")


def _branch_values(x: np.ndarray) -> list[np.ndarray]:
    a = rounded(parse_format(ADD_FORMATS[1]), fractions(x))
    return [x, a, rounded(parse_format(ADD_FORMATS[2]), fractions(a))]


@pytest.mark.parametrize("out", [None, "fixed<6,3,RND_INF,SAT>", "fixed<7,3,TRN_ZERO,WRAP>", "e2m1"])
def test_add_of_mixed_formats(out: str | None) -> None:
    x = _uniform(np.random.default_rng(4), "fixed<8,3>", (50, 2, 3))
    for sources in (("input", "a", "b"), ("b", "input")):
        graph = _branches((2, 3)).add(*sources, output_format=out).build()
        parts = dict(zip(("input", "a", "b"), _branch_values(x), strict=True))
        exact = sum((fractions(parts[s]) for s in sources), np.zeros(x.shape, dtype=object))
        want = rounded(parse_format(out), exact) if out else exact.astype(np.float64)  # float64: the exact sum
        assert np.array_equal(graph.predict(x), want), (sources, out)


def test_wide_scale_shift_and_add_are_exact() -> None:
    """Past int64: an 80-bit product plus shift, and a sum of tensors 30 bits apart on their grids."""
    rng = np.random.default_rng(13)
    x = _uniform(rng, "fixed<40,30>", (20, 3))
    x[0] = parse_format("fixed<40,30>").quantize(np.full(3, -(2.0**29)))  # the extremes, as in hardware
    scale, shift = _uniform(rng, "fixed<40,20>", (3,)), _uniform(rng, "fixed<50,2>", (3,))
    scaled = GraphBuilder("ss", (3,), "fixed<40,30>").scale_shift(scale, "fixed<40,20>", shift, "fixed<50,2>").build()
    assert exact_fixed(scaled.output.output.format).width > 63
    assert np.array_equal(golden_exact(scaled, x), fractions(x) * fractions(scale) + fractions(shift))
    b = GraphBuilder("add", (3,), "fixed<40,30>").activation("linear", "fixed<62,22,RND,SAT>", name="a")
    summed = b.add("input", "a").build()
    assert exact_fixed(summed.output.output.format).width > 63
    a_fmt = parse_format("fixed<62,22,RND,SAT>")
    a = np.vectorize(lambda q: round_once(a_fmt, q), otypes=[object])(fractions(x))  # 62 bits: kept as rationals
    assert np.array_equal(golden_exact(summed, x), fractions(x) + a)


def test_concatenate_rounds_each_input_into_the_output_format() -> None:
    x = _uniform(np.random.default_rng(6), "fixed<8,3>", (20, 3, 4, 2))
    w = np.array([[[[1.0, 0.0, 0.5], [0.0, 1.0, -1.0]]]])  # 1x1 conv: 3 channels, exact accumulator
    b = GraphBuilder("cat", (3, 4, 2), "fixed<8,3>").activation("linear", "fixed<6,2,RND_CONV,SAT>", name="a")
    b.conv(w, "fixed<4,2>", source="input", name="c")
    out = parse_format("fixed<7,3,RND,SAT>")
    graph = b.concatenate("a", "c", "input", output_format=out).build()
    parts = [rounded(parse_format("fixed<6,2,RND_CONV,SAT>"), fractions(x)), x @ w[0, 0], x]
    want = np.concatenate([rounded(out, fractions(p)) for p in parts], axis=-1)
    assert np.array_equal(graph.predict(x), want)


def test_reshape_is_row_major() -> None:
    x = _uniform(np.random.default_rng(8), "fixed<8,3>", (4, 3, 4, 2))
    b = GraphBuilder("rs", (3, 4, 2), "fixed<8,3>").reshape((4, 6))
    assert np.array_equal(b.build().predict(x), x.reshape(4, 4, 6))
    assert np.array_equal(b.flatten().build().predict(x), x.reshape(4, 24))
