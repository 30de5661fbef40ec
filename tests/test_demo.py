"""The README's demo, end to end: every level bit-exact and the cycle counts as scheduled."""

from __future__ import annotations

from pathlib import Path

import pytest

from fpga_gen import demo


@pytest.mark.slow
def test_demo_is_bit_exact_at_every_level(tmp_path: Path) -> None:
    result = demo.run(out=tmp_path / "demo")
    assert demo.all_exact(result), demo.table(result)
    assert result["samples"] == 360
    assert result["accuracy_golden"] == result["accuracy_qkeras"] > 0.9
    assert result["dsp"] <= result["dsp_available"] == 220
    assert (tmp_path / "demo" / "hls" / "build.tcl").is_file()
