"""IR: validation, canonical text, save/load round-trip, the builder."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from graphs import random_mlp

import fpga_gen
from fpga_gen.errors import GraphError
from fpga_gen.formats import parse_format
from fpga_gen.ir import Dense, Input, Output, TensorSpec
from fpga_gen.ir.builder import GraphBuilder


def test_save_load_round_trip(tmp_path: Path) -> None:
    graph = random_mlp(1, (12, 6, 3))
    graph.save(tmp_path / "g")
    again = fpga_gen.load(tmp_path / "g")
    assert again == graph
    assert str(again) == str(graph)
    x = np.random.default_rng(0).uniform(-4, 4, (50, 12))
    assert np.array_equal(again.predict(x), graph.predict(x))


def test_canonical_text_names_every_layer_and_changes_with_weights() -> None:
    graph = random_mlp(2, (8, 4, 2))
    text = str(graph)
    assert text.splitlines()[0] == "graph mlp2"
    for layer in graph.layers:
        assert f"  {layer.name}: {layer.kind}" in text
    dense = next(l for l in graph.layers if isinstance(l, Dense))
    codes = dense.weight.codes.copy()
    codes[0, 0] ^= 1
    changed = graph.with_layers(
        tuple(replace(l, weight=replace(dense.weight, codes=codes)) if l is dense else l for l in graph.layers)
    )
    assert str(changed) != text
    assert changed != graph


def test_weights_are_read_only() -> None:
    dense = next(l for l in random_mlp(3).layers if isinstance(l, Dense))
    with pytest.raises(ValueError):
        dense.weight.codes[0, 0] = 1


def test_validation_errors_name_the_layer() -> None:
    fmt = parse_format("fixed<8,3>")
    inp = Input(name="inp", output=TensorSpec((4,), fmt))
    with pytest.raises(GraphError, match="not an earlier layer"):
        fpga_gen.Graph((inp, Output(name="out", inputs=("nope",), output=inp.output)))
    with pytest.raises(GraphError, match="not a valid identifier"):
        Input(name="bad name", output=inp.output)
    with pytest.raises(GraphError, match="used twice"):
        fpga_gen.Graph((inp, Output(name="inp", inputs=("inp",), output=inp.output)))
    b = GraphBuilder("g", (4,), "fixed<8,3>").dense(np.zeros((5, 2)), "fixed<4,1>")
    with pytest.raises(GraphError, match="input shape"):
        b.build()


def test_load_reports_bad_directory(tmp_path: Path) -> None:
    with pytest.raises(GraphError, match="cannot load a graph"):
        fpga_gen.load(tmp_path)
    graph = random_mlp(4)
    graph.save(tmp_path / "g")
    doc = json.loads((tmp_path / "g" / "graph.json").read_text())
    doc["layers"][1]["kind"] = "Conv9D"
    (tmp_path / "g" / "graph.json").write_text(json.dumps(doc))
    with pytest.raises(GraphError, match="Conv9D"):
        fpga_gen.load(tmp_path / "g")


def test_builder_quantizes_with_the_declared_format() -> None:
    graph = GraphBuilder("g", (2,), "fixed<8,3>").dense([[0.3], [-0.7]], "fixed<4,1,RND_CONV,SAT>").build()
    dense = graph.layers[1]
    assert isinstance(dense, Dense)
    assert np.array_equal(dense.weight.values, [[0.25], [-0.75]])
