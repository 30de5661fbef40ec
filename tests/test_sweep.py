"""fpga-gen sweep: accuracy vs estimated cost over weight formats, Pareto front, CSV and PNG."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import ptq_models
import pytest

from fpga_gen.cli import main
from fpga_gen.errors import FormatError
from fpga_gen.formats import Binary, FixedPoint, MiniFloat, Ternary
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.sweep import graph_cost, layer_cost, macs, sweep, sweep_format

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


def test_cost_model_by_hand() -> None:
    """One Dense 4 -> 3 (12 non-zero weights) on fixed<8,3> inputs, each weight kind."""
    w = np.array([[0.5, -0.5, 0.25], [1.0, 0.5, -1.0], [0.25, 0.5, 0.5], [-0.5, 1.0, 0.25]])

    def dense(fmt: str) -> Any:
        graph = GraphBuilder("g", (4,), "fixed<8,3>").dense(w, fmt).build()
        return graph, graph["dense0"]

    graph, layer = dense("fixed<8,2>")  # 8 x 8 bits: one DSP48E1 each, two per DSP48E2
    acc = layer.accumulator(graph.input.output.format).width
    assert layer_cost(graph, layer).dsp == 12 and layer_cost(graph, layer).lut == 0
    assert layer_cost(graph, layer, "DSP48E2").dsp == 6
    graph, layer = dense("fixed<4,2>")  # 4-bit weights: LUT array multiplier (9 * 2) + an adder
    acc = layer.accumulator(graph.input.output.format).width
    assert layer_cost(graph, layer).dsp == 0 and layer_cost(graph, layer).lut == 12 * (9 * 2 + acc)
    graph, layer = dense("ternary<0.25>")  # no multiplier: an adder per weight
    acc = layer.accumulator(graph.input.output.format).width
    assert layer_cost(graph, layer).lut == 12 * acc and layer_cost(graph, layer).dsp == 0
    graph, layer = dense("e2m1")  # 2-bit significand in LUTs, 2 exponent bits: one shifter stage, then add
    acc = layer.accumulator(graph.input.output.format).width
    assert np.count_nonzero(layer.weight.values) == 9  # 0.25 rounds to 0 in e2m1: three weights cost nothing
    assert layer_cost(graph, layer).lut == 9 * (9 * 1 + acc + acc)
    assert macs(graph) == 12 and graph_cost(graph) == layer_cost(graph, layer)


def test_sweep_api_orders_costs(cnn: Any, data: ptq_models.Digits) -> None:
    result = sweep(cnn, data.x_train[:300], (data.x_test, data.y_test), ["fixed4", "fixed8", "e2m1", "e4m3", "ternary"])
    by = {p.option: p for p in result.points}
    assert by["ternary"].dsp == 0 and by["fixed8"].dsp > 0 and by["fixed4"].dsp == 0
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
