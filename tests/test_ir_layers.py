"""IR of the convolution, pooling and element-wise layers: validation, canonical text, save/load, 'same' padding."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from graphs import every_kind

import fpga_gen
from fpga_gen.errors import GraphError
from fpga_gen.formats import parse_format
from fpga_gen.ir import (
    IDENTIFIER,
    LAYER_KINDS,
    Conv,
    Graph,
    GraphBuilder,
    Input,
    Layer,
    MatMul,
    Output,
    Pool,
    Tensor,
    TensorSpec,
    Threshold,
    identifier,
)


def test_every_kind_is_in_the_graph() -> None:
    graph = every_kind()
    assert {layer.kind for layer in graph.layers} == set(LAYER_KINDS)
    assert [layer.output.shape for layer in graph.layers[1:4]] == [(5, 3, 4), (3, 2, 8), (2, 1, 8)]
    assert [graph[name].output.shape for name in ("c1", "dw1", "p1", "cat", "gp")] == [
        (2, 3),
        (2, 6),
        (2, 6),
        (2, 12),
        (12,),
    ]
    assert [l.name for l in graph.readers("dw1")] == ["p1", "sum", "cat"]


def test_save_load_round_trip_of_every_kind(tmp_path: Path) -> None:
    graph = every_kind()
    graph.save(tmp_path / "g")
    doc = json.loads((tmp_path / "g" / "graph.json").read_text())
    assert next(d for d in doc["layers"] if d["name"] == "c2")["padding"] == [[1, 0], [0, 2]]
    again = fpga_gen.load(tmp_path / "g")
    assert again == graph
    assert str(again) == str(graph)
    x = np.random.default_rng(1).uniform(-5, 5, (20, 6, 6, 2))
    assert np.array_equal(again.predict(x), graph.predict(x))


def test_predict_of_an_empty_batch() -> None:
    assert every_kind().predict(np.zeros((0, 6, 6, 2))).shape == (0, 3)


def test_canonical_text_shows_the_geometry() -> None:
    lines = {line.split(":")[0].strip(): line for line in str(every_kind()).splitlines()[1:]}
    assert re.fullmatch(
        r"  c2: Conv2D\(input\) weight=\[3x3x2x4 fixed<6,1> sha256:\w{12}\] bias=\[4 fixed<8,2> sha256:\w{12}\] "
        r"strides=\[1,2\] padding=\[1:0,0:2\] activation=\[linear\] fold=\[pe=2 simd=3\] -> 5x3x4 fixed<10,4,RND,SAT>",
        lines["c2"],
    )
    assert "strides=[2,2] padding=[0:1,0:1]" in lines["dw2"]
    assert " p2: Pool(dw2) function=[max] pool=[2,2] strides=[2,2] padding=[0:1,0:0] -> 2x1x8 " in lines["p2"]
    assert " p1: Pool(dw1) function=[avg] pool=[2] strides=[1] padding=[1:0] -> 2x6 e4m3" in lines["p1"]
    assert "sum: Add(dw1, p1) -> 2x6 " in lines["sum"]
    assert "cat: Concatenate(sum, dw1) -> 2x12 fixed<10,4,RND,SAT>" in lines["cat"]
    assert "gp: GlobalPool(cat) function=[avg] -> 12 " in lines["gp"]
    assert "rs: Reshape(th) -> 2x8 fixed<4,4>" in lines["rs"]


def test_geometry_changes_the_text_and_equality() -> None:
    graph = every_kind()
    p1 = graph["p1"]
    assert isinstance(p1, Pool)
    moved = replace(p1, padding=((0, 1),))
    other = graph.with_layers(tuple(moved if l is p1 else l for l in graph.layers))
    assert other != graph and str(other) != str(graph)


# -- validation: every kind's errors name the layer ----------------------------------------------


def _swap(graph: Graph, name: str, **changes: Any) -> Graph:
    """``graph`` with layer ``name`` rebuilt with ``changes`` (validated by the layer, then the graph)."""
    return graph.with_layers(tuple(replace(l, **changes) if l.name == name else l for l in graph.layers))


def _spec(shape: tuple[int, ...], fmt: str = "fixed<10,4,RND,SAT>") -> TensorSpec:
    return TensorSpec(shape, parse_format(fmt))


def _tensor(fmt: str, shape: tuple[int, ...]) -> Tensor:
    return Tensor(parse_format(fmt), np.zeros(shape, dtype=np.int64))


BROKEN = [
    # convolutions
    (
        "c2",
        {"weight": _tensor("fixed<6,1>", (3, 3, 2))},
        "(Conv2D): weight shape (3, 3, 2) must be (k, k, c_in, c_out)",
    ),
    ("c2", {"bias": _tensor("fixed<8,2>", (5,))}, "bias shape (5,) must be (4,)"),
    ("c2", {"strides": (1,)}, "need one entry per spatial axis"),
    ("c2", {"strides": (0, 1)}, "window and strides must be >= 1, pads >= 0"),
    ("c2", {"padding": ((1, 0), (-1, 2))}, "window and strides must be >= 1, pads >= 0"),
    ("c2", {"padding": ((3, 0), (0, 2))}, "window 3 with pads (3, 0) does not fit an input axis of 6"),
    ("c2", {"padding": ((1, 0), (0, 0))}, "output shape (5, 3, 4), expected (5, 2, 4)"),
    ("c2", {"output": _spec((5, 3, 5))}, "must have 2 spatial axes and 4 channels"),
    ("c2", {"weight": _tensor("fixed<6,1>", (3, 3, 3, 4))}, "(Conv2D): input shape (6, 6, 2) must be channels-last"),
    ("c2", {"weight": _tensor("fixed<6,1>", (7, 3, 2, 4)), "padding": ((0, 0), (0, 2))}, "does not fit an input axis"),
    ("dw2", {"output": _spec((3, 2, 4))}, "must have 2 spatial axes and 8 channels"),
    (
        "dw2",
        {"weight": _tensor("fixed<6,1>", (2, 2, 4))},
        "(DepthwiseConv2D): weight shape (2, 2, 4) must be (k, k, c_in, multiplier)",
    ),
    ("dw2", {"weight": _tensor("fixed<6,1>", (2, 2, 2, 4))}, "(DepthwiseConv2D): input shape (5, 3, 4) must be"),
    ("c1", {"weight": _tensor("e2m1", (2, 2, 8, 3))}, "(Conv1D): weight shape (2, 2, 8, 3) must be (k, c_in, c_out)"),
    ("c1", {"inputs": ("p2",)}, "(Conv1D): input shape (2, 1, 8) must be channels-last with 1 spatial axes"),
    ("dw1", {"padding": ((2, 0),)}, "window 2 with pads (2, 0)"),
    ("c2", {"activation": "tanh"}, "activation 'tanh' is not one of"),
    # pooling
    ("p2", {"function": "min"}, "pooling 'min' is not one of ('max', 'avg')"),
    ("p2", {"pool_size": (2, 2, 2)}, "window (2, 2, 2) must have 1 or 2 spatial axes"),
    ("p2", {"pool_size": (4, 2)}, "output shape (2, 1, 8), expected (1, 1, 8)"),
    ("p2", {"padding": ((0, 2), (0, 0))}, "window 2 with pads (0, 2) does not fit"),
    ("p1", {"inputs": ("dw2",)}, "input shape (3, 2, 8) must be channels-last with 1 spatial axes"),
    ("gp", {"function": "median"}, "pooling 'median' is not one of"),
    ("gp", {"output": _spec((13,))}, "input (2, 12) needs spatial axes and output (13,) must be (12,)"),
    ("gp", {"inputs": ("d",)}, "is not an earlier layer"),
    # element-wise
    ("ss", {"scale": _tensor("fixed<6,2>", (4,))}, "scale (4,) and shift (8,) must be (8,)"),
    ("ss", {"output": _spec((2, 2, 8))}, "output shape (2, 2, 8) differs from input shape (2, 1, 8)"),
    ("th", {"thresholds": _tensor("fixed<8,3>", (8,))}, "thresholds (8,) must be (8, L)"),
    ("th", {"values": _tensor("fixed<4,4>", (8, 3))}, "values (8, 3) (8, L + 1)"),
    ("th", {"values": _tensor("fixed<5,4>", (8, 4))}, "values are fixed<5,4>, output is fixed<4,4>"),
    ("th", {"thresholds": Tensor(parse_format("fixed<4,4>"), np.tile([3, 2, 1], (8, 1)))}, "must be ascending"),
    ("sum", {"inputs": ("dw1",)}, "(Add): reads 1 tensors, expected at least 2"),
    ("sum", {"inputs": ("dw1", "c1")}, "output shape (2, 6) differs from input shape (2, 3)"),
    ("cat", {"inputs": ("sum",)}, "(Concatenate): reads 1 tensors, expected at least 2"),
    ("cat", {"inputs": ("sum", "p2"), "output": _spec((2, 14))}, "must agree on every axis but the last"),
    ("cat", {"output": _spec((2, 11))}, "the output (2, 11) must be their concatenation"),
    ("rs", {"output": _spec((3, 8), "fixed<4,4>")}, "cannot reshape 2x1x8 fixed<4,4> into 3x8 fixed<4,4>"),
    ("rs", {"output": _spec((2, 8), "fixed<5,4>")}, "the size and format must stay"),
    ("rs", {"inputs": ("th", "ss")}, "(Reshape): reads 2 tensors, expected 1"),
    ("d", {"inputs": ("cat",)}, "input shape (2, 12) does not match weight shape (12, 3); flatten the input to (12,)"),
]


@pytest.mark.parametrize(("name", "changes", "message"), BROKEN)
def test_validation_names_the_layer_value_and_rule(name: str, changes: dict[str, Any], message: str) -> None:
    graph = every_kind()
    with pytest.raises(GraphError, match=rf"layer {name}\b.*{re.escape(message)}"):
        _swap(graph, name, **changes)


def test_unread_layers_are_named() -> None:
    graph = every_kind()
    with pytest.raises(GraphError, match=r"outputs of \['p1'\] are never read"):
        _swap(graph, "sum", inputs=("dw1", "dw1"))


def test_load_reports_the_broken_layer(tmp_path: Path) -> None:
    every_kind().save(tmp_path / "g")
    path = tmp_path / "g" / "graph.json"
    doc = json.loads(path.read_text())
    next(d for d in doc["layers"] if d["name"] == "p2")["padding"] = [[0, 2], [0, 0]]
    path.write_text(json.dumps(doc))
    with pytest.raises(GraphError, match=r"graph\.json: layer p2: window 2 with pads \(0, 2\)"):
        fpga_gen.load(tmp_path / "g")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda b: b.conv(np.zeros((3, 3, 2, 1)), "fixed<4,1>", padding="full"),
            "padding 'full' must be 'same', 'valid'",
        ),
        (
            lambda b: b.conv(np.zeros((3, 3, 2, 1)), "fixed<4,1>", strides=(1, 1, 1)),
            "strides (1, 1, 1) needs one entry",
        ),
        (lambda b: b.conv(np.zeros((3, 3, 2, 1)), "fixed<4,1>", np.zeros(1)), "a bias needs a bias_format"),
        (lambda b: b.pool("max", (2, 2, 2)), "pool_size (2, 2, 2) needs one entry per spatial axis (2)"),
        (lambda b: b.pool("max", 2, source="nope"), "no layer 'nope' to read from"),
        (lambda b: b.flatten().conv(np.zeros((3, 72, 1)), "fixed<4,1>"), "a convolution needs a 2-D or 3-D input"),
        (lambda b: b.conv(np.zeros((3, 3, 2, 1)), "fixed<4,1>", padding=((3, 0), (0, 0))), "window 3 with pads (3, 0)"),
    ],
)
def test_builder_errors(build: Any, message: str) -> None:
    with pytest.raises(GraphError, match=re.escape(message)):
        build(GraphBuilder("b", (6, 6, 2), "fixed<8,3>"))


def test_matmul_sizes_of_convolutions() -> None:
    graph = every_kind()
    sizes = {l.name: (l.n_in, l.n_out, l.positions) for l in graph.layers if isinstance(l, MatMul)}
    assert sizes == {"c2": (18, 4, 15), "dw2": (4, 8, 6), "c1": (16, 3, 2), "dw1": (2, 6, 2), "d": (12, 3, 1)}
    conv = graph["c2"]
    assert isinstance(conv, Conv) and conv.kernel == (3, 3) and conv.in_channels == 2


def test_threshold_builder_moves_thresholds_onto_the_input_grid() -> None:
    # fixed<6,2>: grid 1/16, integers [-32, 31]; beyond the range a threshold sits one step outside
    b = GraphBuilder("th", (2,), "fixed<6,2>").threshold(
        [[-9.0, -0.03, 0.5], [0.49, 1.97, 40.0]], np.zeros((2, 4)), "fixed<4,4>"
    )
    layer = b.build()["threshold0"]
    assert isinstance(layer, Threshold)
    assert np.array_equal(layer.thresholds.ints, [[-33, 0, 8], [8, 32, 32]])


# -- 'same' padding: the builder's output shapes are TensorFlow's ----------------------------------


SAME_CASES = list(itertools.product(range(1, 10), range(1, 6), range(1, 4)))  # (size, kernel, stride)


def test_same_padding_shapes_match_tensorflow(tf: ModuleType) -> None:
    for n, k, s in SAME_CASES:
        m, j = n % 4 + 2, k % 3 + 1  # a second axis of another size and kernel
        x, w, w1 = np.zeros((1, n, m, 2)), np.zeros((k, j, 2, 3)), np.zeros((k, 2, 3))
        b = GraphBuilder("same", (n, m, 2), "fixed<8,3>").conv(w, "fixed<4,1>", strides=(s, 1), padding="same")
        assert b.last.output.shape == tf.nn.conv2d(x, w, [1, s, 1, 1], "SAME").shape[1:], (n, k, s)
        b = GraphBuilder("same", (n, 2), "fixed<8,3>").conv(w1, "fixed<4,1>", strides=s, padding="same")
        assert b.last.output.shape == tf.nn.conv1d(x[:, :, 0], w1, s, "SAME").shape[1:], (n, k, s)
        b = GraphBuilder("same", (n, m, 2), "fixed<8,3>").pool("max", (k, j), strides=(s, 2), padding="same")
        assert b.last.output.shape == tf.nn.max_pool(x, (k, j), (s, 2), "SAME").shape[1:], (n, k, s)
        if n >= k:
            b = GraphBuilder("valid", (n, 2), "fixed<8,3>").pool("avg", k, strides=s)
            assert b.last.output.shape == tf.nn.avg_pool(x[:, :, 0], k, s, "VALID").shape[1:], (n, k, s)


def test_input_and_output_layers_of_the_graph() -> None:
    graph = every_kind()
    assert isinstance(graph.input, Input) and isinstance(graph.output, Output)
    assert graph.input_specs(graph["cat"]) == (graph["sum"].output, graph["dw1"].output)
    layer: Layer = graph["p1"]
    assert graph.input_spec(layer) == graph["dw1"].output


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("dense_1", "dense_1"),
        ("block1/conv.2-a", "block1_conv_2_a"),
        ("fixed<8,3> x e4m3", "fixed_8_3_x_e4m3"),
        ("_hidden_", "hidden"),
        ("1st", "l_1st"),
        ("output", "l_output"),  # the graph's own Output layer has that name
        ("äb", "b"),
    ],
)
def test_one_identifier_rule_for_every_front_end(text: str, name: str) -> None:
    assert identifier(text) == name
    assert IDENTIFIER.fullmatch(name)


def test_window_geometry_lifts_1d_inputs_to_one_row() -> None:
    graph = every_kind()
    c1 = graph["c1"]
    assert isinstance(c1, Conv)
    g = c1.window_geometry(graph.input_spec(c1).shape)
    assert (g.h, g.w, g.c, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.oh, g.ow) == (1, 2, 8, 1, 2, 1, 1, 0, 1, 1, 2)
    c2 = graph["c2"]
    assert isinstance(c2, Conv)
    g2 = c2.window_geometry((6, 6, 2))
    assert (g2.oh, g2.ow) == c2.output.shape[:2] and (g2.pt, g2.pl, g2.sh, g2.sw) == (1, 0, 1, 2)
    gp = graph["gp"]
    assert gp.window_geometry((2, 12)).taps == 2  # type: ignore[attr-defined]


def test_per_channel_scales_follow_the_weights_last_axis() -> None:
    w = np.array([[[1.0, -0.5], [0.0, 0.5]]])  # (k=1, c=2, multiplier=2): scales per multiplier
    b = GraphBuilder("dw", (3, 2), "fixed<8,3>")
    b.conv(w, "ternary<1.0, 0.5>", depthwise=True, name="dw")
    layer = b.build()["dw"]
    assert isinstance(layer, MatMul)
    assert layer.scale_ints() == (2, 1, 2, 1)  # output c * 2 + m has scale m, on the grid 2**-1
