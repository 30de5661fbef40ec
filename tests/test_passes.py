"""Passes: activation fusion keeps the numbers; folding fits the budget and balances layers."""

from __future__ import annotations

import numpy as np
import pytest
from graphs import random_inputs

from fpga_gen.errors import ResourceError
from fpga_gen.ir import Activation, Dense
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.passes import FoldConfig, dsp_count, fold, fuse_activations


def _unfused(seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    b = GraphBuilder("g", (16,), "fixed<8,3>")
    b.dense(rng.uniform(-1, 1, (16, 8)), "fixed<6,1>", rng.uniform(-2, 2, 8), "fixed<8,2>")
    b.activation("relu", "ufixed<6,2,RND_CONV,SAT>")
    b.dense(rng.uniform(-1, 1, (8, 4)), "fixed<6,1>", output_format="fixed<10,4,RND,SAT>")  # rounds itself
    b.activation("relu", "ufixed<4,2>")  # a second rounding: must not be fused
    return b.build()


def test_fusion_merges_only_exact_dense_outputs_and_keeps_numbers() -> None:
    graph = _unfused()
    fused = fuse_activations(graph)
    kinds = [l.kind for l in fused.layers]
    assert kinds == ["Input", "Dense", "Dense", "Activation", "Output"]
    assert isinstance(fused.layers[1], Dense) and fused.layers[1].activation == "relu"
    x = random_inputs(0, graph, 200)
    assert np.array_equal(fused.predict(x), graph.predict(x))
    assert fuse_activations(fused) == fused


def test_fold_fits_budget_and_balances_cycles() -> None:
    graph = fuse_activations(_unfused())
    for budget in (2, 5, 24, 40, 1000):
        folded = fold(graph, FoldConfig(max_dsp=budget))
        dense = [l for l in folded.layers if isinstance(l, Dense)]
        assert all(l.fold is not None for l in dense)
        # DSP48E1 slices: a pair of PE rows may share one (operand packing)
        assert sum(dsp_count(l, l.fold, folded.input_spec(l).format) for l in dense if l.fold) <= budget
        for l in dense:
            assert l.n_in % l.fold.simd == 0 and l.n_out % l.fold.pe == 0  # type: ignore[union-attr]
    full = fold(graph, FoldConfig(max_dsp=1000))
    assert [l.fold.pe * l.fold.simd for l in full.layers if isinstance(l, Dense)] == [128, 32]  # type: ignore[union-attr]


def test_fold_refuses_impossible_budget() -> None:
    graph = fuse_activations(_unfused())
    with pytest.raises(ResourceError, match="needs 2 DSPs"):
        fold(graph, FoldConfig(max_dsp=1))
    with pytest.raises(ResourceError, match="at 4 cycles"):
        fold(graph, FoldConfig(max_dsp=8, target_cycles=4))


def test_standalone_activation_survives() -> None:
    fused = fuse_activations(_unfused())
    assert any(isinstance(l, Activation) for l in fused.layers)


def test_fusion_chains_through_every_hidden_layer() -> None:
    b = GraphBuilder("g", (6,), "fixed<8,3>")
    for n_in, n_out in ((6, 5), (5, 4), (4, 3)):
        b.dense(np.full((n_in, n_out), 0.5), "fixed<4,1>").activation("relu", "ufixed<6,2,RND_CONV,SAT>")
    fused = fuse_activations(b.build())
    assert [l.kind for l in fused.layers] == ["Input", "Dense", "Dense", "Dense", "Output"]
    assert all(l.activation == "relu" for l in fused.layers if isinstance(l, Dense))


def test_ternary_layers_cost_no_dsp_and_respect_the_lane_budget() -> None:
    b = GraphBuilder("g", (32,), "fixed<8,3>")
    b.dense(np.random.default_rng(0).uniform(-1, 1, (32, 16)), "ternary<0.5>")
    b.dense(np.random.default_rng(1).uniform(-1, 1, (16, 4)), "fixed<6,1>")
    graph = fold(b.build(), FoldConfig(max_dsp=4, max_lanes=40))
    tern, fixed = (l for l in graph.layers if isinstance(l, Dense))
    x_fmt = graph.input_spec(fixed).format
    assert dsp_count(tern, tern.fold, x_fmt) == 0 and dsp_count(fixed, fixed.fold, x_fmt) <= 4  # type: ignore[arg-type]
    assert tern.fold.pe * tern.fold.simd + fixed.fold.pe * fixed.fold.simd <= 40  # type: ignore[union-attr]


def test_fusion_after_a_minifloat_input() -> None:
    b = GraphBuilder("g", (4,), "e4m3").dense(np.full((4, 3), 0.5), "e2m1").activation("relu", "e3m2")
    fused = fuse_activations(b.build())
    assert [l.kind for l in fused.layers] == ["Input", "Dense", "Output"]
