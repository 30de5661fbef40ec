"""The README's demo, end to end: every level bit-exact and the cycle counts as scheduled."""

from __future__ import annotations

from pathlib import Path

import pytest

from fpga_gen import demo


@pytest.mark.slow
def test_demo_is_bit_exact_at_every_level(tmp_path: Path) -> None:
    result = demo.run(out=tmp_path / "demo", variants=False)
    assert demo.all_exact(result), demo.table(result)
    first = result["rows"][0]
    assert first["samples"] == 360
    assert first["accuracy"] == first["accuracy_qkeras"] > 0.9
    assert first["dsp"] <= 220
    assert (tmp_path / "demo" / "hls" / "build.tcl").is_file()
