"""The analytical resource estimate: DSPs exactly the plan's and the fold pass's, the memory rule
(LUTs vs block RAM), and the fit check against a board with its suggested fix."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from graphs import random_cnn, random_mlp, with_folds
from hypothesis import given, settings
from hypothesis import strategies as st

from fpga_gen import boards
from fpga_gen.backends.rtl import plan
from fpga_gen.backends.rtl.cost import memory, rom
from fpga_gen.errors import ResourceError
from fpga_gen.ir import Fold, Graph, MatMul, Reshape
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.kinds.matmul import DenseStage
from fpga_gen.passes import FoldConfig, dsp_count, fitting_fold, fold, fuse_activations
from fpga_gen.resources import Resources, check_fit, estimate, fit, total

FORMATS = {  # (input, weights, activations) of the random graphs
    "fixed": ("fixed<8,3>", "fixed<6,1>", "ufixed<8,3,RND_CONV,SAT>"),
    "e4m3": ("e4m3", "e4m3", "e4m3"),
    "e2m1 weights": ("fixed<8,3>", "e2m1", "ufixed<8,3,RND_CONV,SAT>"),
    "ternary": ("fixed<8,3>", "ternary<0.5>", "ufixed<8,3,RND_CONV,SAT>"),
    "binary, e4m3 inputs": ("e4m3", "binary<0.25>", "e4m3"),
}


def _random_graph(seed: int, kind: str, formats: str, max_dsp: int) -> Graph:
    x_fmt, w_fmt, a_fmt = FORMATS[formats]
    if kind == "mlp":
        return random_mlp(seed, (12, 8, 4), input_format=x_fmt, weight_format=w_fmt, act_format=a_fmt, max_dsp=max_dsp)
    return random_cnn(
        seed,
        (6, 6, 2) if kind == "cnn2d" else (10, 3),
        input_format=x_fmt,
        weight_format=w_fmt,
        act_format=a_fmt,
        pool="avg" if seed % 2 else "max",
        depthwise=kind == "cnn2d" and seed % 3 == 0 and "binary" not in w_fmt,  # binary: no zero to expand
        channels=4,
        max_dsp=max_dsp,
    )


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 1000),
    kind=st.sampled_from(["mlp", "cnn2d", "cnn1d"]),
    formats=st.sampled_from(sorted(FORMATS)),
    max_dsp=st.integers(4, 200),
    dsp_kind=st.sampled_from(["DSP48E1", "DSP48E2"]),
)
def test_estimate_dsp_is_the_plans_and_the_fold_budgets(
    seed: int, kind: str, formats: str, max_dsp: int, dsp_kind: str
) -> None:
    """Fixed-point layers with pe > 1 and formats narrow enough for the kind's pre-adder are
    packed (two PE rows per slice): the estimate, the plan and the fold budget count them alike."""
    graph = _random_graph(seed, kind, formats, max_dsp)
    est = estimate(plan(graph, dsp_kind))
    assert list(est) == [l.name for l in graph.layers[1:-1]]  # every layer but Input / Output, in order
    stages = plan(graph, dsp_kind).stages
    for layer in graph.layers[1:-1]:
        planned = sum(s.dsp for s in stages if s.layer.name == layer.name)
        x_fmt = graph.input_spec(layer).format
        budgeted = dsp_count(layer, layer.fold, x_fmt, dsp_kind) if isinstance(layer, MatMul) and layer.fold else 0
        assert est[layer.name].dsp == planned == budgeted, layer.name
        assert est[layer.name].uram == 0
        if isinstance(layer, Reshape):
            assert est[layer.name] == Resources()
        else:
            assert est[layer.name].lut > 0 and est[layer.name].ff > 0
    assert total(est).dsp <= max_dsp
    if formats.startswith(("ternary", "binary")):
        assert total(est).dsp == 0


def test_the_input_fork_is_costed_under_the_input() -> None:
    b = GraphBuilder("fork", (4,), "fixed<8,3>")
    rng = np.random.default_rng(0)
    b.dense(rng.integers(-8, 8, size=(4, 2)) / 8, "fixed<5,1>", name="a")
    b.dense(rng.integers(-8, 8, size=(4, 2)) / 8, "fixed<5,1>", name="b", source="input")
    b.add("a", "b", output_format="fixed<10,4>")
    graph = fold(fuse_activations(b.build()), FoldConfig(max_dsp=8))
    est = estimate(plan(graph))
    assert list(est) == ["input", "a", "b", "add0"] and est["input"].lut > 0 and est["input"].dsp == 0


def test_memory_rule() -> None:
    """A ROM in LUTs (a LUT6 per bit per 64 words) until its block RAM costs Yosys less than a 64th
    per bit, then memory_libmap's cheapest RAMB36 / RAMB18 layout (UG473 shapes); a RAM in LUTRAM up
    to 8 Kib."""
    assert rom(32, 16) == Resources(lut=16, ff=16)
    assert rom(256, 8) == Resources(lut=8 * 4, ff=8)
    assert rom(1024, 8) == Resources(lut=8 * (16 + 4), ff=8)  # 8 Kib: still LUTs
    assert rom(2048, 6) == Resources(bram36=0.5)  # one RAMB18 as 2K x 9
    assert rom(512, 72) == Resources(bram36=1.0)  # one RAMB36 as 512 x 72
    assert rom(4096, 36) == Resources(bram36=4.0)  # 4 x (4K x 9)
    assert rom(40000, 1) == Resources(bram36=1.5)  # three RAMB18 of 16K x 1 beat two RAMB36
    assert memory(32, 12) == Resources(lut=2 * 4, ff=12)  # two RAM32M (32 x 6 each)
    assert memory(64, 12) == Resources(lut=4 * 4, ff=12)  # four RAM64M (64 x 3 each)


def test_a_big_layer_keeps_its_weights_in_block_ram() -> None:
    """Dense 1024 -> 256, 6-bit weights, pe=4 simd=4: each lane's ROM is 16K words of 4 PE x 6 bits
    (384 Kib), 11 RAMB36 as 4K x 9 (memory_libmap packs the 96 bit columns of its four 4K-word
    blocks); the input banks (two vectors, 512 words of 4 lanes) take one RAMB18, the 64-entry bias
    ROMs stay in LUTs. 8-bit inputs x 6-bit weights pack two rows per DSP48E1 (6 + 16 bits in its
    25-bit pre-adder): 8 slices."""
    rng = np.random.default_rng(1)
    b = GraphBuilder("big", (1024,), "fixed<8,3>")
    b.dense(rng.integers(-32, 32, size=(1024, 256)) / 32, "fixed<6,1>", rng.integers(-8, 8, size=256) / 4, "fixed<8,3>")
    graph = with_folds(b.build(), [Fold(4, 4)])
    (stage,) = [s for s in plan(graph).stages if isinstance(s, DenseStage)]
    assert stage.roms() == {"W": (16384, 24), "B": (64, stage.bias_bits)}
    assert stage.bank_block and (stage.bank_words, stage.bank_lanes) == (512, 4)
    r = estimate(plan(graph))["dense0"]
    assert r.bram36 == 4 * 11 + 0.5 and r.dsp == 8
    assert fit(graph, "pynq-z2").fits and fit(graph, "pynq-z2").utilization()["bram36"] == 44.5 / 140


def test_check_fit_refuses_an_oversized_model_and_names_the_fold_that_fits() -> None:
    # folded for 100,000 DSPs; 12-bit weights do not pack (8 + 12 + more bits > 25)
    graph = random_mlp(1, (256, 128, 64, 10), weight_format="fixed<12,2>", max_dsp=100_000)
    pynq = boards.load("pynq-z2")
    need = total(estimate(plan(graph))).dsp
    assert need > pynq.dsp
    with pytest.raises(ResourceError) as err:
        check_fit(graph, pynq)
    message = str(err.value)
    assert f"needs {need} DSP48E1, pynq-z2 has 220" in message
    found = fitting_fold(graph, FoldConfig(max_dsp=pynq.dsp), lambda g: fit(g, pynq).fits, pynq.dsp)
    assert found is not None
    cfg, refolded = found
    assert f"Fold it smaller: {cfg!r} in fpga_gen.passes.schedule gives " in message
    assert refolded == fold(graph, cfg)
    for layer in refolded.layers:  # the message lists the folds that config gives
        if isinstance(layer, MatMul) and layer.fold:
            assert f"{layer.name} pe={layer.fold.pe} simd={layer.fold.simd}" in message
    assert check_fit(refolded, pynq).fits  # and they fit


def test_check_fit_folds_multiplier_free_lanes_down_to_the_luts() -> None:
    """Ternary layers use no DSP: on a board with few LUTs the fix is fewer lanes, the most that fit."""
    graph = random_mlp(5, (64, 64, 16), weight_format="ternary<0.5>", max_dsp=1)  # 512 lanes
    need = total(estimate(plan(graph)))
    small = boards.load("pynq-z2").model_copy(update={"name": "tiny", "lut": need.lut // 3})
    with pytest.raises(ResourceError, match=rf"needs {need.lut} LUTs, tiny has {need.lut // 3}\. Fold it smaller"):
        check_fit(graph, small)
    found = fitting_fold(graph, FoldConfig(max_dsp=small.dsp), lambda g: fit(g, small).fits, small.dsp)
    assert found is not None
    cfg, refolded = found
    assert cfg.max_lanes < 512 and fit(refolded, small).fits
    bigger = replace(cfg, max_dsp=min(cfg.max_lanes + 1, small.dsp), max_lanes=cfg.max_lanes + 1)
    assert not fit(fold(graph, bigger), small).fits  # the largest lane budget that fits


def test_check_fit_names_the_boards_a_model_fits_when_no_fold_does() -> None:
    """4096 x 2048 six-bit weights (48 Mib) exceed pynq-z2's 140 BRAM36 at any fold."""
    graph = random_mlp(2, (4096, 2048, 10), max_dsp=200)
    with pytest.raises(ResourceError) as err:
        check_fit(graph, "pynq-z2")
    message = str(err.value)
    need = total(estimate(plan(graph))).bram36
    assert f"needs {need:g} BRAM36, pynq-z2 has 140" in message and "no folding fits it" in message
    fits = [name for name in boards.known() if fit(fold(graph, FoldConfig(10**9, 10**12, 1, 10**9)), name).fits]
    assert fits and "pynq-z2" not in fits and f"It fits {', '.join(fits)}" in message


def test_fit_report() -> None:
    graph = random_mlp(3, (16, 8, 4), max_dsp=40)
    report = fit(graph, "kv260")
    assert report.fits and not report.over and report.dsp_kind == "DSP48E2"
    assert report.need == total(estimate(plan(graph, "DSP48E2"))) and report.have.dsp == 1248
    assert report.utilization()["dsp"] == report.need.dsp / 1248 and report.utilization()["uram"] == 0.0
    doc = report.report()
    assert doc["fits"] and doc["need"]["lut"] == report.need.lut and doc["have"]["lut"] == boards.load("kv260").lut
    assert Resources(1, 2, 3, 0.5) + Resources(1, 1, 1, 0.5, 1) == Resources(2, 3, 4, 1.0, 1)
