"""The README's demo, end to end: every level bit-exact and the cycle counts as scheduled."""

from __future__ import annotations

from pathlib import Path

import pytest

from fpga_gen import demo


@pytest.mark.slow
def test_demo_is_bit_exact_at_every_level(tmp_path: Path) -> None:
    result = demo.run(out=tmp_path / "demo")
    assert demo.all_exact(result), demo.table(result)
    mlp, cnn, *variants = result["rows"]
    assert mlp["samples"] == cnn["samples"] == 360
    assert mlp["accuracy"] == mlp["accuracy_qkeras"] > 0.9
    assert cnn["accuracy"] == cnn["accuracy_qkeras"] > 0.9
    assert [r["model"] for r in variants] == [v.name for v in demo.VARIANTS]
    assert all(r["accuracy"] > 0.8 for r in variants)
    assert all(r["dsp"] <= 220 for r in result["rows"])
    assert next(r for r in variants if r["model"].startswith("ternary"))["dsp"] == 0
    assert (tmp_path / "demo" / "mlp" / "hls" / "build.tcl").is_file()
    assert (tmp_path / "demo" / "cnn" / "hls" / "build.tcl").is_file()
