"""fpga-gen sweep: accuracy vs estimated cost over weight formats, Pareto front, CSV and PNG."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import ptq_models
import pytest

from fpga_gen.backends.rtl import plan
from fpga_gen.cli import main
from fpga_gen.errors import FormatError
from fpga_gen.formats import Binary, FixedPoint, MiniFloat, Ternary
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.passes import engine_cycles
from fpga_gen.resources import estimate, total
from fpga_gen.sweep import fold_alike, macs, sweep, sweep_format

pytestmark = pytest.mark.xdist_group("sweep")  # one worker trains the model once


@pytest.fixture(scope="module")
def data() -> ptq_models.Digits:
    return ptq_models.digits()


@pytest.fixture(scope="module")
def cnn(data: ptq_models.Digits) -> Any:
    return ptq_models.train_cnn(data, epochs=6)


def test_sweep_format_names() -> None:
    assert sweep_format("fixed6") == FixedPoint(6, 1, rounding="RND_CONV", overflow="SAT")
    assert sweep_format("ternary") == Ternary(1.0)
    assert sweep_format("binary") == Binary(1.0)
    assert sweep_format("e2m1") == MiniFloat(2, 1)
    with pytest.raises(FormatError, match="sweep format 'int4': use fixedN, ternary, binary"):
        sweep_format("int4")


def test_costs_are_the_resource_estimate_at_one_throughput() -> None:
    """One Dense 4 -> 3 on fixed<8,3> inputs, each weight kind: every option folded to the same
    cycles per sample, its cost the resource estimate of that folding (fpga_gen.resources)."""
    w = np.array([[0.5, -0.5, 0.25], [1.0, 0.5, -1.0], [0.25, 0.5, 0.5], [-0.5, 1.0, 0.25]])
    kinds = ("fixed<8,2>", "fixed<4,2>", "ternary<0.25>", "e2m1")
    graphs = [GraphBuilder("g", (4,), "fixed<8,3>").dense(w, fmt).build() for fmt in kinds]
    folded = fold_alike(graphs, max_dsp=6)  # 6 DSPs: the DSP engines can do 4 x 3 lanes in 2 cycles
    cycles = {engine_cycles(g["dense0"], g["dense0"].fold) for g in folded if g["dense0"].fold}
    assert cycles == {2} and all(g["dense0"].fold for g in folded)
    cost = {fmt: total(estimate(plan(g))) for fmt, g in zip(kinds, folded, strict=True)}
    # fixed x fixed and minifloat products: one DSP48E1 per lane, but 4-bit weights pack two PE rows
    # per slice (4 + 17 bits fit its 25-bit pre-adder; 8 + 17 do not): a pair and a row; ternary: adders
    assert cost["fixed<8,2>"].dsp == cost["e2m1"].dsp == 6 and cost["fixed<4,2>"].dsp == 2 * 2
    assert cost["ternary<0.25>"].dsp == 0
    assert cost["fixed<4,2>"].lut < cost["fixed<8,2>"].lut  # narrower weights, narrower datapath
    assert macs(graphs[0]) == 12


def test_fold_alike_budgets_the_boards_dsp_kind() -> None:
    """INT8 x INT8 packs two PE rows per slice up to simd=4 on DSP48E2, only at simd=1 on DSP48E1:
    8 slices of each kind fold one Dense 8 -> 4 differently, twice the lanes on DSP48E2, and the
    estimate on that kind is the budget."""
    w = np.random.default_rng(3).integers(-128, 128, size=(8, 4)) / 128
    graph = GraphBuilder("g", (8,), "fixed<8,0>").dense(w, "fixed<8,0>").build()
    lanes = {}
    for kind in ("DSP48E1", "DSP48E2"):
        (folded,) = fold_alike([graph], max_dsp=8, dsp_kind=kind)
        fold = folded["dense0"].fold
        assert fold is not None and total(estimate(plan(folded, kind))).dsp == 8
        lanes[kind] = fold.pe * fold.simd
    assert lanes == {"DSP48E1": 8, "DSP48E2": 16}


def test_sweep_api_orders_costs(cnn: Any, data: ptq_models.Digits) -> None:
    result = sweep(cnn, data.x_train[:300], (data.x_test, data.y_test), ["fixed4", "fixed8", "e2m1", "e4m3", "ternary"])
    by = {p.option: p for p in result.points}
    # at one throughput, 4-bit weights pack two products per DSP48E1 where 8-bit ones do not
    assert by["ternary"].dsp == 0 and by["fixed8"].dsp > 0 and by["fixed4"].dsp < by["fixed8"].dsp
    assert by["fixed4"].cost < by["fixed8"].cost and by["e2m1"].cost < by["e4m3"].cost
    assert by["fixed8"].accuracy >= result.float_accuracy - 0.03
    assert by["e4m3"].accuracy >= result.float_accuracy - 0.03
    for p in result.points:  # the front is exactly the non-dominated points
        dominated = any(
            q.accuracy >= p.accuracy and q.cost <= p.cost and (q.accuracy > p.accuracy or q.cost < p.cost)
            for q in result.points
        )
        assert p.pareto == (not dominated)
    assert result.front and result.front[0].cost == min(p.cost for p in result.front)


def test_cli_sweep_writes_csv_and_png(
    cnn: Any, data: ptq_models.Digits, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "digits.keras"
    cnn.save(model)
    np.savez(tmp_path / "cal.npz", x=data.x_train[:300], y=data.y_train[:300])
    np.savez(tmp_path / "test.npz", x=data.x_test, y=data.y_test)
    out = tmp_path / "out"
    args = ["sweep", str(model), "--calibration", str(tmp_path / "cal.npz"), "--formats", "fixed4,e4m3,ternary"]
    assert main([*args, "--data", str(tmp_path / "test.npz"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Pareto front: " in printed and "e4m3" in printed
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [r["option"] for r in rows] == ["fixed4", "e4m3", "ternary"]
    assert any(r["pareto"] == "1" for r in rows)
    assert float(rows[1]["accuracy"]) >= float(rows[1]["float_accuracy"]) - 0.03
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # no --data: the last half of the calibration file is held out
    assert main([*args, "--out", str(tmp_path / "split")]) == 0
    assert len(list(csv.DictReader((tmp_path / "split" / "sweep.csv").open()))) == 3


def test_cli_sweep_errors(cnn: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "digits.keras"
    cnn.save(model)
    np.savez(tmp_path / "cal.npz", x=np.zeros((4, 8, 8, 1)))
    assert main(["sweep", str(model), "--calibration", str(tmp_path / "cal.npz"), "--formats", "int4"]) == 2
    assert "held out for accuracy" in capsys.readouterr().err
    np.savez(tmp_path / "cal.npz", x=np.zeros((4, 8, 8, 1)), y=np.zeros(4))
    assert main(["sweep", str(model), "--calibration", str(tmp_path / "cal.npz"), "--formats", "int4"]) == 2
    assert "sweep format 'int4'" in capsys.readouterr().err
