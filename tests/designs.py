"""Small designs that cover the layers of real models between them (convolutions 1-D, 2-D,
depthwise and strided, pooling, ScaleShift, Threshold, branches), shared by the RTL and HLS tests."""

from __future__ import annotations

import numpy as np
from graphs import random_cnn, with_folds

from fpga_gen.formats import FixedPoint, MiniFloat, parse_format
from fpga_gen.ir import Fold, Graph
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.passes import FoldConfig, fold


def values(rng: np.random.Generator, fmt_name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform over the format's values (fixed: mantissas; minifloat: finite codes)."""
    fmt = parse_format(fmt_name)
    if isinstance(fmt, FixedPoint):
        return fmt.from_int(rng.integers(fmt.min_int, fmt.max_int, size=shape, endpoint=True))
    assert isinstance(fmt, MiniFloat)
    values = fmt.from_codes(np.arange(2**fmt.bits))
    return rng.choice(values[np.isfinite(values)], size=shape)


def conv2d_avg() -> Graph:
    """2-D, fixed point: conv 3x3 'same' (relu) -> avg pool 3x3 / 2 'same' (the count of real
    taps is 4, 6 or 9, rounded with RND into a narrower signed format) -> global max -> dense."""
    rng = np.random.default_rng(1)
    b = GraphBuilder("conv2d_avg", (6, 5, 2), "fixed<8,3>")
    b.conv(
        values(rng, "fixed<6,1>", (3, 3, 2, 4)),
        "fixed<6,1>",
        values(rng, "fixed<8,2>", (4,)),
        "fixed<8,2>",
        padding="same",
        activation="relu",
        output_format="ufixed<8,3,RND_CONV,SAT>",
    )
    b.pool("avg", 3, strides=2, padding="same", output_format="fixed<7,2,RND,SAT>")
    b.global_pool("max")
    b.dense(values(rng, "fixed<6,1>", (4, 3)), "fixed<6,1>")
    return with_folds(b.build(), [Fold(2, 6), Fold(1, 2)])


def conv1d_e4m3() -> Graph:
    """1-D, e4m3 weights and activations (a post-training-quantized shape): conv k3 / 2 'valid'
    -> max pool 3 / 1 'same' on minifloat codes (padding left out) -> global avg -> dense."""
    rng = np.random.default_rng(2)
    b = GraphBuilder("conv1d_e4m3", (12, 3), "fixed<8,3>")
    b.conv(
        values(rng, "e4m3", (3, 3, 4)),
        "e4m3",
        values(rng, "fixed<8,2>", (4,)),
        "fixed<8,2>",
        strides=2,
        activation="relu",
        output_format="e4m3",
    )
    b.pool("max", 3, strides=1, padding="same")
    b.global_pool("avg", output_format="fixed<8,4,RND_CONV,SAT>")
    b.dense(values(rng, "e4m3", (4, 2)), "e4m3")
    return with_folds(b.build(), [Fold(4, 3), Fold(2, 4)])


def depthwise_ternary() -> Graph:
    """Depthwise 3x3 (multiplier 2) with ternary weights scaled per multiplier (the weight's last
    axis: output c * 2 + m has scale m), strides 2, 'same' (asymmetric pads) -> ScaleShift (per
    channel, relu) -> Threshold (3 steps per channel) -> a pointwise Conv2D that ends the graph
    (its frame is 9 positions of 3 channels)."""
    rng = np.random.default_rng(3)
    b = GraphBuilder("dw_ternary", (5, 6, 2), "ufixed<6,2>")
    b.conv(
        rng.choice([-1.0, 0.0, 1.0], size=(3, 3, 2, 2)) * np.array([0.5, 0.75]),
        "ternary<0.5, 0.75>",
        strides=2,
        padding="same",
        depthwise=True,
        activation="relu",
        output_format="ufixed<6,2,RND_CONV,SAT>",
    )
    b.scale_shift(
        values(rng, "fixed<6,2>", (4,)),
        "fixed<6,2>",
        values(rng, "fixed<6,3>", (4,)),
        "fixed<6,3>",
        activation="relu",
        output_format="fixed<9,4,RND,SAT>",
    )
    b.threshold(np.sort(rng.uniform(0, 6, size=(4, 3)), axis=1), values(rng, "fixed<5,3>", (4, 4)), "fixed<5,3>")
    b.conv(values(rng, "fixed<5,1>", (1, 1, 4, 3)), "fixed<5,1>", values(rng, "fixed<6,2>", (3,)), "fixed<6,2>")
    return with_folds(b.build(), [Fold(2, 3), Fold(3, 2)])


def demo_cnn() -> Graph:
    """The demo CNN's shape with random weights (tests/graphs.py), folded by the fold pass:
    8x8x1 -> conv 3x3x4 'same' (a whole window per fold step) -> relu -> max pool 2 -> dense 10."""
    return random_cnn(4, (8, 8, 1), channels=4, dense_out=10)


def stride2() -> Graph:
    """conv 3x3 / 2 'same' on 12x12x3 (three taps per fold step) -> relu -> dense, folded for 30 DSPs."""
    return random_cnn(5, (12, 12, 3), channels=8, strides=2, pool=None, dense_out=4, max_dsp=30)


def branches() -> Graph:
    """A DAG: the input forked to a pointwise and a 3-tap conv, the pointwise output forked to a
    relu and an Add of three inputs in three formats (fixed, e4m3, ufixed) and two beat widths,
    the e4m3 conv output forked to that Add and to a Concatenate of 2- and 4-element beats."""
    rng = np.random.default_rng(4)
    b = GraphBuilder("branches", (5, 2), "fixed<8,3>")
    b.conv(values(rng, "fixed<6,1>", (1, 2, 4)), "fixed<6,1>", output_format="fixed<8,3,RND,SAT>", name="pw")
    b.conv(
        values(rng, "fixed<6,1>", (3, 2, 4)),
        "fixed<6,1>",
        values(rng, "fixed<8,2>", (4,)),
        "fixed<8,2>",
        padding="same",
        output_format="e4m3",
        name="c3",
        source="input",
    )
    b.activation("relu", "ufixed<7,4,RND_CONV,SAT>", name="relu", source="pw")
    b.add("pw", "c3", "relu", output_format="fixed<9,4,RND,SAT>", name="sum")
    b.concatenate("sum", "c3", output_format="fixed<8,3,RND_CONV,SAT>", name="cat")
    return with_folds(b.build(), [Fold(2, 2), Fold(4, 3)])


def depthwise_separable() -> Graph:
    """8x8x4, fixed point: depthwise 3x3 'same' (relu) -> pointwise 1x1 to 8 channels (relu) -> max
    pool 2 -> dense 10, folded by the fold pass: each depthwise beat is the whole window of 4 channels."""
    rng = np.random.default_rng(6)
    act = "ufixed<8,3,RND_CONV,SAT>"
    b = GraphBuilder("dw_separable", (8, 8, 4), "fixed<8,3>")
    b.conv(
        values(rng, "fixed<6,1>", (3, 3, 4, 1)),
        "fixed<6,1>",
        values(rng, "fixed<8,2>", (4,)),
        "fixed<8,2>",
        padding="same",
        depthwise=True,
        activation="relu",
        output_format=act,
    )
    b.conv(values(rng, "fixed<6,1>", (1, 1, 4, 8)), "fixed<6,1>", activation="relu", output_format=act)
    b.pool("max", 2)
    b.flatten()
    b.dense(values(rng, "fixed<6,1>", (128, 10)), "fixed<6,1>")
    return fold(b.build(), FoldConfig(max_dsp=10_000))


def depthwise_e4m3() -> Graph:
    """A minifloat depthwise conv: 6x6x3 ufixed inputs, 3x3 'valid' e4m3 weights with a fixed-point
    bias into e4m3 (the minifloat engine, significands multiplied in fabric) -> flatten -> dense 4,
    folded by the fold pass."""
    rng = np.random.default_rng(7)
    b = GraphBuilder("dw_e4m3", (6, 6, 3), "ufixed<6,2>")
    b.conv(
        values(rng, "e4m3", (3, 3, 3, 1)),
        "e4m3",
        values(rng, "fixed<8,2>", (3,)),
        "fixed<8,2>",
        depthwise=True,
        output_format="e4m3",
    )
    b.flatten()
    b.dense(values(rng, "fixed<6,1>", (48, 4)), "fixed<6,1>")
    return fold(b.build(), FoldConfig(max_dsp=10_000))


DESIGNS = {
    "branches": branches,
    "conv2d_avg": conv2d_avg,
    "conv1d_e4m3": conv1d_e4m3,
    "dw_ternary": depthwise_ternary,
    "dw_separable": depthwise_separable,
    "dw_e4m3": depthwise_e4m3,
    "demo_cnn": demo_cnn,
    "stride2": stride2,
}
