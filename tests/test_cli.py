"""The fpga-gen command: errors are clear, exit non-zero and write nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from graphs import random_mlp

from fpga_gen.cli import main


def test_missing_model_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "proj"
    assert main(["build", str(tmp_path / "nope.keras"), "--out", str(out)]) != 0
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists()


def test_unreadable_model_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "model.keras"
    bad.write_bytes(b"this is not a keras archive")
    out = tmp_path / "proj"
    assert main(["build", str(bad), "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert "cannot read model file" in err and str(bad) in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


def test_csim_on_a_directory_that_is_not_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["csim", str(tmp_path), "--input", "x.npy"]) != 0
    assert "not an fpga_gen project" in capsys.readouterr().err


def test_boards_entry_point() -> None:
    exe = Path(sys.executable).parent / "fpga-gen"
    done = subprocess.run([str(exe), "boards"], capture_output=True, text=True, check=True)
    assert "pynq-z2" in done.stdout and "xc7z020clg400-1" in done.stdout


def test_build_refuses_a_model_no_folding_fits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 1024 x 1024 weights of 8 bits: 8 Mib of ROM, beyond the 4.9 Mib of block RAM of a Zynq-7020.
    random_mlp(31, (1024, 1024), input_format="fixed<8,2,RND_CONV,SAT>").save(tmp_path / "g")
    out = tmp_path / "proj"
    assert main(["build", str(tmp_path / "g"), "--board", "pynq-z2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"needs [\d.]+ BRAM36, pynq-z2 has 140", err), err
    assert "no folding fits it" in err and "--allow-overfit" in err
    assert not out.exists()


def test_report_prints_layers_estimate_yosys_and_totals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = random_mlp(32, (12, 8, 4), input_format="fixed<8,2,RND_CONV,SAT>")
    graph.save(tmp_path / "g")
    out = tmp_path / "proj"
    assert main(["build", str(tmp_path / "g"), "--board", "zcu104", "--out", str(out)]) == 0
    assert "vivado -mode batch -source" in capsys.readouterr().out
    assert main(["report", str(out), "--no-yosys"]) == 0
    table = capsys.readouterr().out
    assert "dsp yosys" not in table and "zcu104 (xczu7ev-ffvc1156-2-e, DSP48E2, 200 MHz): estimate fits" in table
    for layer in graph.layers[1:-1]:
        assert re.search(rf"^{layer.name}\s", table, re.M), layer.name
    assert main(["report", str(out), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    # The Yosys DSP48E2 count of each layer is the schedule's.
    assert rep["totals"]["yosys"]["dsp"] == rep["totals"]["need"]["dsp"] > 0
    for entry in rep["layers"]:
        assert entry["yosys"]["dsp"] == entry["estimate"]["dsp"]
    assert main(["report", str(out)]) == 0
    assert "dsp yosys" in capsys.readouterr().out
