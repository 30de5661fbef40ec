"""Random, scheduled test graphs built through the public GraphBuilder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise

import numpy as np

from fpga_gen.formats import Binary, FixedPoint, MiniFloat, Ternary, parse_format
from fpga_gen.formats.sizing import exact_fixed, int_range
from fpga_gen.ir import Fold, Graph, MatMul
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.passes import FoldConfig, fold, fuse_activations


def random_mlp(
    seed: int,
    sizes: Sequence[int] = (16, 8, 4),
    *,
    input_format: str = "fixed<8,3>",
    weight_format: str = "fixed<6,1>",
    bias_format: str | None = "fixed<8,2>",
    act_format: str = "ufixed<8,3,RND_CONV,SAT>",
    relu: bool = True,
    last_format: str | None = None,
    folds: Sequence[Fold] | None = None,
    max_dsp: int = 10_000,
) -> Graph:
    """An MLP of ``sizes`` with uniformly random weights over each format's whole range.

    Hidden layers are Dense -> Activation(relu or linear) into ``act_format``; the last
    layer keeps its exact accumulator unless ``last_format`` is given. The graph comes
    back fused and folded (``folds`` per Dense, else the fastest fold within ``max_dsp``).
    """
    rng = np.random.default_rng(seed)
    b = GraphBuilder(f"mlp{seed}", (sizes[0],), input_format)
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        w = _uniform(rng, weight_format, (n_in, n_out))
        bias = _uniform(rng, bias_format, (n_out,)) if bias_format else None
        b.dense(w, weight_format, bias, bias_format)
        last = i == len(sizes) - 2
        if not last:
            b.activation("relu" if relu else "linear", act_format)
        elif last_format is not None:
            b.activation("relu" if relu else "linear", last_format)
    graph = fuse_activations(b.build())
    return fold(graph, FoldConfig(max_dsp=max_dsp)) if folds is None else with_folds(graph, folds)


def random_cnn(
    seed: int,
    input_shape: tuple[int, ...] = (8, 8, 2),
    *,
    input_format: str = "fixed<8,3>",
    weight_format: str = "fixed<6,1>",
    bias_format: str | None = "fixed<8,2>",
    act_format: str = "ufixed<8,3,RND_CONV,SAT>",
    kernel: int = 3,
    channels: int = 4,
    strides: int = 1,
    padding: str = "same",
    depthwise: bool = False,
    pool: str | None = "max",
    pool_size: int = 2,
    dense_out: int | None = 4,
    folds: Sequence[Fold] | None = None,
    max_dsp: int = 10_000,
) -> Graph:
    """conv (or depthwise conv) -> activation -> pool -> flatten -> dense, channels-last.

    ``input_shape`` (L, C) gives 1-D layers, (H, W, C) 2-D ones; ``channels`` is the
    convolution's output channels (the depthwise multiplier is channels // C). ``pool`` None
    and ``dense_out`` None leave those layers out. Fused and folded as in ``random_mlp``.
    """
    rng = np.random.default_rng(seed)
    rank = len(input_shape) - 1
    b = GraphBuilder(f"cnn{seed}", input_shape, input_format)
    c_in = input_shape[-1]
    last_axis = max(channels // c_in, 1) if depthwise else channels
    w = _uniform(rng, weight_format, (*(kernel,) * rank, c_in, last_axis))
    n_out = c_in * last_axis if depthwise else channels
    bias = _uniform(rng, bias_format, (n_out,)) if bias_format else None
    b.conv(w, weight_format, bias, bias_format, strides=strides, padding=padding, depthwise=depthwise)
    b.activation("relu", act_format)
    if pool is not None:
        b.pool(pool, pool_size, output_format=act_format if pool == "avg" else None)
    if dense_out is not None:
        b.flatten()
        n_in = b.last.output.size
        b.dense(_uniform(rng, weight_format, (n_in, dense_out)), weight_format)
    graph = fuse_activations(b.build())
    return fold(graph, FoldConfig(max_dsp=max_dsp)) if folds is None else with_folds(graph, folds)


def with_folds(graph: Graph, folds: Sequence[Fold]) -> Graph:
    """``graph`` with the given folds on its matmul layers (Dense, convolutions), in order."""
    it = iter(folds)
    return graph.with_layers(tuple(replace(l, fold=next(it)) if isinstance(l, MatMul) else l for l in graph.layers))


def random_inputs(seed: int, graph: Graph, n: int) -> np.ndarray:
    """Float inputs spread a little beyond the input format's range (so saturation is exercised).

    Minifloat inputs are half uniform, half log-uniform in magnitude, so that small
    binades and subnormals are hit as often as large ones.
    """
    fmt = graph.input.output.format
    lo, hi = float(exact_fixed(fmt).from_int(int_range(fmt)[0])), float(exact_fixed(fmt).from_int(int_range(fmt)[1]))
    rng = np.random.default_rng(seed)
    shape = (n, *graph.input.output.shape)
    span = hi - lo
    x = rng.uniform(lo - span / 8, hi + span / 8, size=shape)
    if isinstance(fmt, MiniFloat):
        tiny = np.exp2(rng.uniform(fmt.emin - fmt.mantissa_bits - 1, np.log2(hi) + 0.5, size=shape))
        x = np.where(rng.random(shape) < 0.5, x, tiny * rng.choice([-1.0, 1.0], size=shape))
    return x


def _uniform(rng: np.random.Generator, fmt_name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Values drawn uniformly from all values of the format (fixed: mantissas; others: codes)."""
    fmt = parse_format(fmt_name)
    if isinstance(fmt, FixedPoint):
        return fmt.from_int(rng.integers(fmt.min_int, fmt.max_int, size=shape, endpoint=True))
    if isinstance(fmt, Ternary | Binary):
        levels = [-1, 0, 1] if isinstance(fmt, Ternary) else [-1, 1]
        scaled: np.ndarray = rng.choice(levels, size=shape) * fmt.scales[0]
        return scaled
    values = fmt.from_codes(np.arange(2**fmt.bits))
    return rng.choice(values[np.isfinite(values)], size=shape)


def every_kind() -> Graph:
    """One graph with a layer of every kind, 2-D and 1-D, branches, explicit asymmetric pads and folds."""
    rng = np.random.default_rng(0)
    act = "fixed<10,4,RND,SAT>"

    def u(fmt: str, *shape: int) -> np.ndarray:
        return _uniform(rng, fmt, shape)

    b = GraphBuilder("every", (6, 6, 2), "fixed<8,3>")
    w, bias = u("fixed<6,1>", 3, 3, 2, 4), u("fixed<8,2>", 4)
    b.conv(w, "fixed<6,1>", bias, "fixed<8,2>", strides=(1, 2), padding=((1, 0), (0, 2)), name="c2", output_format=act)
    b.conv(u("fixed<6,1>", 2, 2, 4, 2), "fixed<6,1>", strides=2, padding="same", depthwise=True, name="dw2")
    b.pool("max", 2, padding="same", name="p2", output_format=act)
    b.scale_shift(u("fixed<6,2>", 8), "fixed<6,2>", u("fixed<6,2>", 8), "fixed<6,2>", output_format=act, name="ss")
    b.threshold(np.sort(u("fixed<8,3>", 8, 3), axis=1), u("fixed<4,4>", 8, 4), "fixed<4,4>", name="th")
    b.reshape((2, 8), name="rs")
    b.conv(u("e2m1", 2, 8, 3), "e2m1", padding=((1, 0),), name="c1", output_format=act)
    b.conv(u("ternary<0.5>", 2, 3, 2), "ternary<0.5>", padding="same", depthwise=True, name="dw1", output_format=act)
    b.pool("avg", 2, strides=1, padding=((1, 0),), name="p1", output_format="e4m3")
    b.add("dw1", "p1", name="sum")
    b.concatenate("sum", "dw1", output_format=act, name="cat")
    b.global_pool("avg", output_format=act, name="gp")
    b.dense(u("fixed<6,1>", 12, 3), "fixed<6,1>", name="d")
    b.activation("relu", "ufixed<8,3,RND_CONV,SAT>", name="act")
    return with_folds(b.build(), [Fold(2, 3), Fold(8, 1), Fold(1, 8), Fold(6, 2), Fold(3, 4)])
