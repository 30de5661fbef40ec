"""fpga_gen.build end to end: files on disk, csim == cosim == golden, CLI on a saved model."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from graphs import random_inputs, random_mlp

import fpga_gen
from fpga_gen.backends.rtl import Plan, plan
from fpga_gen.backends.rtl.cosim import read_manifest
from fpga_gen.cli import main
from fpga_gen.errors import FpgaGenError, ResourceError
from fpga_gen.ir import Graph
from fpga_gen.passes import FoldConfig


def test_build_writes_a_complete_project(tmp_path: Path) -> None:
    graph = random_mlp(21, (12, 8, 4))
    project = fpga_gen.build(graph, board="pynq-z2", out=tmp_path / "p")
    for rel in ("project.json", "graph/graph.json", "graph/weights.npz", "hls/build.tcl"):
        assert (project.path / rel).is_file(), rel
    assert any((project.path / "rtl").glob("*.v"))
    assert "xc7z020clg400-1" in (project.path / "hls" / "build.tcl").read_text()
    reopened = fpga_gen.open_project(project.path)
    assert reopened.graph == project.graph and reopened.board == project.board
    rep = project.report()
    need = rep["totals"]["need"]
    assert need["dsp"] == sum(l["estimate"]["dsp"] for l in rep["layers"]) <= rep["totals"]["have"]["dsp"] == 220
    assert rep["totals"]["fits"] and rep["dsp_kind"] == "DSP48E1"
    for rel in ("vivado/build.tcl", "vivado/rtl_synth.tcl", "driver/fpga_gen_overlay.py", "driver/README.md"):
        assert (project.path / rel).is_file(), rel
    assert not (project.path / "vitis").exists()


def test_csim_and_cosim_equal_golden(tmp_path: Path) -> None:
    graph = random_mlp(22, (16, 8, 6), input_format="fixed<8,2,RND_CONV,SAT>")
    project = fpga_gen.build(graph, out=tmp_path / "p")
    x = random_inputs(5, graph, 64)
    golden = graph.predict(x)
    assert np.array_equal(project.csim(x), golden)
    y, run = project.cosim(x, report=True)
    assert np.array_equal(y, golden)
    rep = project.report(measure=x[:8])
    assert (run.latency_cycles, run.interval_cycles) == (rep["latency_cycles"], rep["interval_cycles"])
    # every dense layer: its fold's steps are its RTL engine's work and its HLS loop's iterations,
    # as scheduled and as C simulation counts them; the slowest layer sets the measured interval
    dense = [l for l in rep["layers"] if l["kind"] == "Dense"]
    for l in dense:
        steps = (l["macs"] // (l["pe"] * l["simd"]))
        assert l["interval"] == {"fold": steps, "rtl": steps, "hls": steps, "hls_counted": steps}, l["name"]
    assert run.interval_cycles == max(l["interval"]["rtl"] for l in dense)


def test_build_refuses_a_foreign_directory_and_leaves_it_alone(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(FpgaGenError, match="not an fpga_gen project"):
        fpga_gen.build(random_mlp(23), out=mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_cli_build_and_csim_from_a_saved_qkeras_model(tmp_path: Path) -> None:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    from fpga_gen.frontends._tf import import_qkeras

    tf_keras, qkeras = import_qkeras()
    q = qkeras.quantizers
    model = tf_keras.Sequential(
        [
            tf_keras.Input((10,)),
            qkeras.QActivation(q.quantized_bits(8, 2, alpha=1)),
            qkeras.QDense(
                6, kernel_quantizer=q.quantized_bits(6, 0, alpha=1), bias_quantizer=q.quantized_bits(6, 2, alpha=1)
            ),
            qkeras.QActivation(q.quantized_relu(6, 2)),
            qkeras.QDense(
                3, kernel_quantizer=q.quantized_bits(6, 0, alpha=1), bias_quantizer=q.quantized_bits(6, 2, alpha=1)
            ),
        ]
    )
    model_file = tmp_path / "model.h5"
    model.save(model_file)
    out = tmp_path / "proj"
    assert main(["build", str(model_file), "--board", "pynq-z2", "--out", str(out)]) == 0
    x = np.random.default_rng(0).uniform(-3, 3, (40, 10)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert main(["csim", str(out), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "y.npy"), model.predict(x, verbose=0).astype(np.float64))


def test_open_project_with_a_stale_board_record(tmp_path: Path) -> None:
    project = fpga_gen.build(random_mlp(24), out=tmp_path / "p")
    meta = project.path / "project.json"
    meta.write_text(meta.read_text().replace('"memory"', '"memory_old"'))
    with pytest.raises(FpgaGenError, match="run fpga-gen build again"):
        fpga_gen.open_project(project.path)


def test_an_oversized_model_is_refused_with_the_numbers_and_a_fold_that_fits(tmp_path: Path) -> None:
    graph = random_mlp(26, (64, 64, 10), input_format="fixed<8,2,RND_CONV,SAT>")
    # Fully parallel: one DSP per weight (4736) on a 220-DSP board.
    wide = FoldConfig(max_dsp=10**6, target_cycles=1, max_simd=64, max_lanes=10**6)
    with pytest.raises(ResourceError, match=r"needs \d+ DSP48E1, pynq-z2 has 220.*Fold it smaller.*pe=\d+ simd=\d+"):
        fpga_gen.build(graph, board="pynq-z2", out=tmp_path / "p", fold=wide)
    assert not (tmp_path / "p").exists()
    project = fpga_gen.build(graph, board="pynq-z2", out=tmp_path / "p", fold=wide, allow_overfit=True)
    rep = project.report()
    assert not rep["totals"]["fits"] and "dsp" in rep["totals"]["over"]
    # What no folding helps: weights beyond the block RAM of every Zynq-7000 and more.
    huge = random_mlp(27, (4096, 2048), input_format="fixed<8,2,RND_CONV,SAT>")
    with pytest.raises(ResourceError, match=r"no folding fits it.*It fits .*alveo-u280"):
        fpga_gen.build(huge, board="pynq-z2", out=tmp_path / "q")
    assert not (tmp_path / "q").exists()


@pytest.mark.parametrize("board", ["pynq-z2", "kv260", "zcu104", "alveo-u55c"])
def test_a_model_beyond_every_board_is_refused_and_nothing_is_written(tmp_path: Path, board: str) -> None:
    # 16 Mi weights: more ROM than the block RAM of any shipped part.
    huge = random_mlp(30, (4096, 4096), input_format="fixed<8,2,RND_CONV,SAT>")
    have = fpga_gen.boards.load(board).bram36
    pattern = rf"does not fit {board}: .*BRAM36, {board} has {have}.*no folding fits it.*It fits none"
    with pytest.raises(ResourceError, match=pattern):
        fpga_gen.build(huge, board=board, out=tmp_path / "p")
    assert not (tmp_path / "p").exists() and list(tmp_path.iterdir()) == []


def test_kv260_builds_dsp48e2_engines_and_the_mpsoc_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One plan per build, made with the board's DSP48E2: the writer, the cycle model and the report
    all read it, and cosim measures the cycles it predicts."""
    planned: list[str] = []

    def counted(graph: Graph, dsp_kind: str = "DSP48E1") -> Plan:
        planned.append(dsp_kind)
        return plan(graph, dsp_kind)

    monkeypatch.setattr(fpga_gen.resources, "plan", counted)
    monkeypatch.setattr(fpga_gen.project, "plan", counted)
    # INT8 x INT8: two PE rows share a DSP48E2 (27-bit pre-adder) at simd=4, not a DSP48E1 (25 bits)
    graph = random_mlp(28, (12, 8, 4), input_format="fixed<8,2,RND_CONV,SAT>", weight_format="fixed<8,1>")
    fold = FoldConfig(max_dsp=1248, max_simd=4, dsp_kind="DSP48E2")
    project = fpga_gen.build(graph, board="kv260", out=tmp_path / "p", fold=fold)
    assert planned == ["DSP48E2"]
    assert project.plan.dsp_kind == "DSP48E2" and project.plan.graph is project.graph
    manifest = read_manifest(project.path / "rtl")
    assert manifest["dsp_kind"] == "DSP48E2" and "fg_dsp48e2.v" in manifest["sim_sources"]
    assert "fg_dsp48e1.v" not in manifest["sim_sources"]
    assert "zynq_ultra_ps_e" in (project.path / "vivado" / "build.tcl").read_text()
    report = project.report()
    assert planned == ["DSP48E2"]  # the report reads the project's plan
    assert all(s["pack_shift"] for s in manifest["stages"])
    assert not any(getattr(s, "pack_shift", 0) for s in plan(project.graph, "DSP48E1").stages)
    x = random_inputs(29, graph, 16)
    y, cycles = project.cosim(x, report=True)
    assert np.array_equal(y, graph.predict(x))
    assert (cycles.latency_cycles, cycles.interval_cycles) == (report["latency_cycles"], report["interval_cycles"])


def test_default_fold_shrinks_to_fit_the_fabric_an_explicit_one_is_refused(tmp_path: Path) -> None:
    # e5m2 everywhere: each minifloat lane's alignment and Kulisch accumulator cost ~450 LUTs,
    # so the lane-budgeted fold would need more LUTs than a Zynq-7020 has.
    graph = random_mlp(40, (64, 64, 10), input_format="e5m2", weight_format="e5m2", bias_format=None, act_format="e5m2")
    config = FoldConfig(max_dsp=220)
    with pytest.raises(ResourceError, match=r"needs \d+ LUTs, pynq-z2 has 53200.*Fold it smaller"):
        fpga_gen.build(graph, board="pynq-z2", out=tmp_path / "p", fold=config)
    project = fpga_gen.build(graph, board="pynq-z2", out=tmp_path / "p")
    rep = project.report()
    # e5m2 significands are multiplied in fabric: no DSP, the lanes bounded by the LUTs alone
    lanes = sum(l["pe"] * l["simd"] for l in rep["layers"] if "pe" in l)
    assert rep["totals"]["fits"] and rep["totals"]["need"]["dsp"] == 0 and lanes < config.max_lanes
    x = random_inputs(41, graph, 8)
    assert np.array_equal(project.csim(x), graph.predict(x))
