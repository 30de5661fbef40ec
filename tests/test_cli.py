"""The fpga-gen command: errors are clear, exit non-zero and write nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
