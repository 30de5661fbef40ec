"""HLS backend, issue 5 layers: convolutions, pooling, ScaleShift, Threshold and DAGs, csim == golden.

Each design is one g++ compile, so every design covers several things at once; they are
compiled in parallel once per session (the csim cache keeps them for later runs).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from graphs import random_cnn, with_folds
from hls_designs import PART, Design, assert_csim_equals_golden, build_designs

from fpga_gen.backends.hls import write_hls
from fpga_gen.errors import GraphError, UnsupportedLayerError
from fpga_gen.ir import Conv, Fold, Graph, Threshold
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.passes import FoldConfig, fold, fuse_activations

pytestmark = pytest.mark.xdist_group("hls")

ACT = "fixed<8,3,RND_CONV,SAT>"


def _scheduled(b: GraphBuilder, max_dsp: int = 40) -> Graph:
    return fold(fuse_activations(b.build()), FoldConfig(max_dsp=max_dsp))


def _separable() -> Graph:
    """QSeparableConv2D as depthwise + 1x1 conv, asymmetric strides, then max pools over signed
    values with 'same' padding (padded taps must be left out, not taken as zeros)."""
    rng = np.random.default_rng(31)
    b = GraphBuilder("separable", (9, 8, 3), "fixed<8,3>")
    b.conv(
        rng.uniform(-1, 1, (3, 3, 3, 2)),
        "fixed<6,1>",
        rng.uniform(-2, 2, 6),
        "fixed<8,2>",
        strides=(2, 1),
        padding="same",
        depthwise=True,
        output_format=ACT,
    )
    b.conv(rng.uniform(-1, 1, (1, 1, 6, 5)), "fixed<6,1>", output_format="fixed<10,5,RND_CONV,SAT>")
    b.pool("max", 3, strides=2, padding="same")
    b.global_pool("max", output_format="fixed<8,5,RND,SAT>")
    return _scheduled(b)


def _ternary_depthwise() -> Graph:
    """Per-channel ternary scales on a 1-D depthwise conv (scale of output c*m + j is scales[j]),
    causal (2, 0) padding, then a strided binary conv, flatten and dense."""
    rng = np.random.default_rng(32)
    b = GraphBuilder("ternary_dw", (12, 4), "fixed<8,3>")
    scales = np.array([0.5, 0.25])
    b.conv(
        rng.choice([-1.0, 0.0, 1.0], (3, 4, 2)) * scales,
        "ternary<0.5, 0.25>",
        rng.uniform(-2, 2, 8),
        "fixed<8,2>",
        padding=((2, 0),),
        depthwise=True,
        activation="relu",
        output_format="ufixed<8,3,RND_CONV,SAT>",
    )
    b.conv(rng.choice([-0.25, 0.25], (2, 8, 3)), "binary<0.25>", strides=2, output_format="fixed<10,4,RND,SAT>")
    b.flatten()
    b.dense(rng.uniform(-1, 1, (18, 4)), "fixed<6,1>")
    return _scheduled(b)


def _minifloat_batchnorm() -> Graph:
    """Minifloat end to end: e4m3 input, FP4 weights, an e4m3 x e4m3 + fixed ScaleShift rounded
    into FP6, a global average into e4m3 (the exact division rounded to nearest even)."""
    rng = np.random.default_rng(33)
    b = GraphBuilder("mf_bn", (6, 6, 2), "e4m3")
    b.conv(rng.uniform(-4, 4, (3, 3, 2, 4)), "e2m1", output_format="e4m3")
    b.scale_shift(
        rng.uniform(-2, 2, 4), "e4m3", rng.uniform(-4, 4, 4), "fixed<8,3>", activation="relu", output_format="e3m2"
    )
    b.global_pool("avg", output_format="e4m3")
    b.dense(rng.uniform(-2, 2, (4, 3)), "e4m3", output_format="e5m2fnuz")
    return _scheduled(b)


def _dag() -> Graph:
    """A tensor read by five layers (fork), a three-way Add and Concatenate with different beat
    widths (repacks), ScaleShift, Threshold, a 'same' 3x3 average (windows of 9, 6 and 4 taps)."""
    rng = np.random.default_rng(34)
    b = GraphBuilder("dag", (6, 6, 3), "fixed<8,3>")
    b.conv(
        rng.uniform(-1, 1, (3, 3, 3, 4)),
        "fixed<6,1>",
        rng.uniform(-1, 1, 4),
        "fixed<8,2>",
        padding="same",
        output_format=ACT,
        name="c1",
    )
    b.scale_shift(
        rng.uniform(-2, 2, 4),
        "fixed<6,2>",
        rng.uniform(-1, 1, 4),
        "fixed<6,2>",
        activation="relu",
        output_format="ufixed<8,3,RND,SAT>",
        name="bn",
    )
    b.conv(rng.uniform(-1, 1, (1, 1, 4, 6)), "fixed<6,1>", output_format=ACT, name="c2", source="c1")
    b.conv(rng.uniform(-1, 1, (3, 3, 4, 4)), "fixed<6,1>", padding="same", output_format=ACT, name="c3", source="c1")
    b.add("bn", "c3", "c1", output_format="fixed<9,4,RND_CONV,SAT>", name="sum")
    b.concatenate("sum", "c2", "c1", output_format="fixed<8,3,RND,SAT>", name="cat")
    b.threshold(np.sort(rng.uniform(-3, 3, (14, 3)), axis=1), rng.uniform(-2, 2, (14, 4)), "fixed<6,2>", name="thr")
    b.pool("avg", 3, strides=2, padding="same", output_format="fixed<10,2,RND_CONV,SAT>", name="avgp")
    b.global_pool("avg", output_format="fixed<12,2,RND,SAT>", name="gp")
    return _scheduled(b)


def _designs() -> dict[str, Graph]:
    return {
        # The QKeras CNN shape: conv 'same' -> relu -> max pool -> flatten -> dense.
        "cnn2d": random_cnn(21),
        # 1-D, strided 'valid' conv, average over 3 (not a power of two), folds that split both loops.
        "cnn1d_avg": with_folds(
            random_cnn(22, (17, 3), strides=2, padding="valid", pool="avg", pool_size=3, channels=6),
            [Fold(3, 3), Fold(2, 2)],
        ),
        "cnn_e4m3": random_cnn(
            24, (7, 7, 2), input_format="e4m3", weight_format="e4m3", bias_format=None, act_format="e4m3", pool="avg"
        ),
        "separable": _separable(),
        "ternary_dw": _ternary_depthwise(),
        "mf_bn": _minifloat_batchnorm(),
        "dag": _dag(),
    }


@pytest.fixture(scope="module")
def designs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Design]]:
    yield build_designs(_designs(), tmp_path_factory.mktemp("hls_layers"), seed=300)


@pytest.mark.parametrize("name", list(_designs()))
def test_csim_equals_golden(designs: dict[str, Design], name: str) -> None:
    assert_csim_equals_golden(designs[name])


def test_dag_streams_are_forked_and_repacked(designs: dict[str, Design]) -> None:
    d = designs["dag"]
    source = (d.path / f"firmware/{d.graph.name}.cpp").read_text()
    assert len(d.graph.readers("c1")) == 5
    c1, c2 = d.graph["c1"], d.graph["c2"]
    assert isinstance(c1, Conv) and isinstance(c2, Conv) and c1.fold and c2.fold
    pe = c1.fold.pe  # c1's elements per beat
    assert f"hls::stream<fg::vec<dag_fg::c1_t, {pe}> > s_c1_copies[5];" in source
    # Each copy holds a whole sample (6 x 6 x 4 elements): a waiting branch never stalls the fork.
    assert f"#pragma HLS STREAM variable=s_c1_copies depth={6 * 6 * 4 // pe}" in source
    assert c2.fold.pe != pe  # so the concatenation repacks c2's beats (and c1's) to a common width
    assert "fg::repack<config_cat_repack1>" in source and "fg::repack<config_cat_repack2>" in source


# -- refusals (no compiler involved) ---------------------------------------------------------------


def test_unscheduled_conv_is_refused(tmp_path: Path) -> None:
    graph = random_cnn(1)
    unscheduled = graph.with_layers(tuple(replace(l, fold=None) if isinstance(l, Conv) else l for l in graph.layers))
    with pytest.raises(GraphError, match=r"conv2d0 \(Conv2D\) is not folded"):
        write_hls(unscheduled, part=PART, clock_mhz=100, out=tmp_path / "a")


def test_ternary_batchnorm_scale_is_refused(tmp_path: Path) -> None:
    b = GraphBuilder("tbn", (4, 2), "fixed<8,3>")
    b.scale_shift([0.5, -0.5], "ternary<0.5>", [0.0, 1.0], "fixed<4,2>", output_format=ACT)
    with pytest.raises(UnsupportedLayerError, match="scaleshift0: scale format ternary"):
        write_hls(b.build(), part=PART, clock_mhz=100, out=tmp_path / "a")


def test_threshold_without_levels_is_refused(tmp_path: Path) -> None:
    b = GraphBuilder("thr0", (4, 2), "fixed<8,3>")
    b.threshold(np.zeros((2, 0)), [[0.5], [1.0]], "fixed<4,2>")
    assert isinstance(b.last, Threshold) and b.last.levels == 0
    with pytest.raises(UnsupportedLayerError, match="threshold0: a Threshold with no thresholds"):
        write_hls(b.build(), part=PART, clock_mhz=100, out=tmp_path / "a")
