"""RTL backend, the layers of real models: convolutions (1-D, 2-D, depthwise), pooling (max, avg,
global), Flatten, ScaleShift, Threshold and branches (forks, Add, Concatenate), under Verilator
+ cocotb against the golden model (bit-exact) and the cycle model (every frame's last output
beat, cycle-exact).

Seven small designs cover the features between them; each is built once (Verilator builds are
cached) and simulated on a few hundred samples. The tests of one design share an xdist group.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from designs import DESIGNS, branches, values
from graphs import random_inputs, with_folds

from fpga_gen.backends.rtl import interval_cycles, latency_cycles, plan, run_cosim, write_rtl
from fpga_gen.backends.rtl.cosim import read_manifest
from fpga_gen.backends.rtl.stages import ForkStage, WindowStage
from fpga_gen.backends.rtl.timing import output_cycles
from fpga_gen.errors import UnsupportedLayerError
from fpga_gen.ir import Fold, Graph, MatMul, evaluate_ints, quantize_inputs
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.kinds.depthwise import VvauStage
from fpga_gen.kinds.matmul import DenseStage
from fpga_gen.kinds.merge import MergeStage
from fpga_gen.kinds.pool import PoolStage
from fpga_gen.passes.fold import engine_cycles

BATCH = 200


def _per_design(names: list[str]) -> list[Any]:
    return [pytest.param(n, marks=pytest.mark.xdist_group(f"rtl_layers_{n}")) for n in names]


def _write(name: str, out: Path) -> tuple[Graph, Path, np.ndarray]:
    graph = DESIGNS[name]()
    x, _ = quantize_inputs(graph, random_inputs(5, graph, BATCH))
    return graph, write_rtl(plan(graph), out=out), x


def test_designs_cover_the_features() -> None:
    kinds = [(type(s).__name__, s.layer.kind) for name in DESIGNS for s in plan(DESIGNS[name]()).stages]
    for kind in ("Conv1D", "Conv2D"):
        assert ("WindowStage", kind) in kinds and ("DenseStage", kind) in kinds
    assert {("WindowStage", "DepthwiseConv2D"), ("VvauStage", "DepthwiseConv2D")} <= set(kinds)
    for kind in ("Pool", "GlobalPool"):
        assert ("PoolStage", kind) in kinds
    assert {("ChanStage", "ScaleShift"), ("ChanStage", "Threshold")} <= set(kinds)
    functions = {
        (s.layer.kind, s.layer.function) for n in DESIGNS for s in plan(DESIGNS[n]()).stages if isinstance(s, PoolStage)
    }
    assert functions == {("Pool", "avg"), ("Pool", "max"), ("GlobalPool", "max"), ("GlobalPool", "avg")}
    stages = [s for n in DESIGNS for s in plan(DESIGNS[n]()).stages]
    engines = {s.engine for s in stages if isinstance(s, DenseStage)} | {
        s.lanes.engine for s in stages if isinstance(s, VvauStage)
    }
    assert engines == {"dsp_chain", "minifloat", "multiplier_free"}
    # padded windows: both pads of 'same', asymmetric ones, and none
    pads = {
        (s.geometry.pt, s.geometry.pl) for n in DESIGNS for s in plan(DESIGNS[n]()).stages if isinstance(s, WindowStage)
    }
    assert {(1, 1), (0, 1), (0, 0)} <= pads
    # branches: forks, a 3-input Add and a Concatenate, each of mixed formats and beat widths
    merges = {s.layer.kind: s for s in plan(branches()).stages if isinstance(s, MergeStage)}
    for merge, k in ((merges["Add"], 3), (merges["Concatenate"], 2)):
        assert len(merge.srcs) == len({str(s.fmt) for s in merge.srcs}) == k
        assert {s.elems for s in merge.srcs} == {2, 4}
    assert sum(isinstance(s, ForkStage) for s in plan(branches()).stages) == 3
    # a pointwise stride-1 convolution reads its input stream as it comes: no window generator
    assert [type(s).__name__ for s in plan(branches()).stages if s.layer.name == "pw"] == ["DenseStage", "ForkStage"]


def test_depthwise_lanes_read_their_own_channel() -> None:
    """The depthwise engine's lanes: one output's taps of one channel each, PE x SIMD of them (DSP
    slices for fixed point, none for ternary), fed a fold step per window beat; a block of channels
    that several neuron folds read is emitted once per fold (dw_ternary: 2 channels, multiplier 2, PE 2)."""
    stages = {
        n: [s for s in plan(DESIGNS[n]()).stages if isinstance(s, VvauStage)] for n in ("dw_ternary", "dw_separable")
    }
    (tern,), (fixed,) = stages["dw_ternary"], stages["dw_separable"]
    assert (tern.cb, tern.rep, tern.dsp, tern.lanes.engine) == (2, 2, 0, "multiplier_free")
    assert (fixed.cb, fixed.rep, fixed.dsp, fixed.lanes.engine) == (4, 1, 4 * 9, "dsp_chain")
    for stage in (tern, fixed):
        assert stage.period == engine_cycles(stage.layer, Fold(stage.pe, stage.simd))
        assert stage.src.elems == stage.simd * stage.cb


@pytest.mark.parametrize("name", ["demo_cnn", "stride2", "dw_separable"])
def test_convolutions_run_at_their_fold_schedule(name: str) -> None:
    """The interval (the cycle model's, which cosim matches cycle for cycle below) is the fold's
    schedule -- the slowest engine's positions x neuron folds x synapse folds -- and within 5 %
    of the ideal, MACs over MAC lanes: the window generator hands each engine a fold step per cycle."""
    graph = DESIGNS[name]()
    matmuls = [l for l in graph.layers if isinstance(l, MatMul) and l.fold is not None]
    schedule = max(engine_cycles(l, l.fold) for l in matmuls if l.fold is not None)
    macs = sum(l.positions * l.n_in * l.n_out for l in matmuls)
    lanes = sum(l.fold.pe * l.fold.simd for l in matmuls if l.fold is not None)
    assert interval_cycles(plan(graph)) == schedule <= 1.05 * macs / lanes
    words = [s.words for s in plan(graph).stages if isinstance(s, WindowStage) and s.layer in matmuls]
    assert words and min(words) > 1  # several taps per beat


@pytest.mark.slow
@pytest.mark.parametrize("name", _per_design(sorted(DESIGNS)))
def test_cosim_matches_golden_and_cycle_model(name: str, tmp_path: Path, rtl_lint: Callable[[Path], str]) -> None:
    graph, rtl, x = _write(name, tmp_path / "rtl")
    manifest = read_manifest(rtl)
    assert rtl_lint(rtl) == ""
    r = run_cosim(rtl, x)
    assert r.outputs.shape == (BATCH, *graph.output.output.shape)
    assert np.array_equal(r.outputs, evaluate_ints(graph, x))
    assert r.output_cycles == output_cycles(plan(graph), BATCH)
    assert r.latency_cycles == latency_cycles(plan(graph)) == manifest["latency_cycles"]
    assert r.interval_cycles == interval_cycles(plan(graph)) == manifest["interval_cycles"]


@pytest.mark.slow
@pytest.mark.parametrize("name", _per_design(["branches", "conv2d_avg"]))
def test_backpressure_and_idle_inputs_stay_exact(name: str, tmp_path: Path) -> None:
    graph, rtl, x = _write(name, tmp_path / "rtl")
    r = run_cosim(rtl, x[:40], backpressure=0.5, idle=0.3, seed=7)
    assert np.array_equal(r.outputs, evaluate_ints(graph, x[:40]))
    assert r.total_cycles > output_cycles(plan(graph), 40)[-1]


def test_unsupported_layers_name_the_layer(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    b = GraphBuilder("cat", (4, 3), "fixed<8,3>")
    b.activation("relu", "fixed<8,3>", name="act")
    b.concatenate("input", "act", output_format="fixed<8,3>", name="join")
    b.flatten()
    b.dense(values(rng, "fixed<6,1>", (24, 2)), "fixed<6,1>")
    graph = with_folds(b.build(), [Fold(1, 4)])  # the input arrives 4 elements per beat: 3 channels
    with pytest.raises(UnsupportedLayerError, match=r"layer join: its inputs arrive \[4, 4\] elements per beat"):
        write_rtl(plan(graph), out=tmp_path / "cat")

    b = GraphBuilder("dwmf", (4, 2), "e4m3")
    b.conv(rng.choice([-0.5, 0.0, 0.5], size=(3, 2, 1)), "ternary<0.5>", depthwise=True, name="dw")
    with pytest.raises(UnsupportedLayerError, match=r"layer dw: the depthwise engine's multiplier-free lanes take"):
        write_rtl(plan(with_folds(b.build(), [Fold(1, 1)])), out=tmp_path / "dwmf")
    assert not any(tmp_path.iterdir())
