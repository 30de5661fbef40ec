"""The README's demo, end to end: every level bit-exact and the cycle counts as scheduled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fpga_gen import demo
from fpga_gen.backends.rtl.cosim import read_manifest
from fpga_gen.cli import main


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

    # `fpga-gen build --board alveo-u280` on the demo model writes a complete Vitis project.
    out = tmp_path / "u280"
    assert main(["build", str(tmp_path / "demo" / "mlp" / "graph"), "--board", "alveo-u280", "--out", str(out)]) == 0
    top = json.loads((out / "hls" / "fpga_gen_hls.json").read_text())["top"]
    kernel = f"{top}_kernel"
    for rel in (
        "hls/build.tcl",
        f"hls/firmware/{top}.cpp",
        f"vitis/{kernel}.cpp",
        f"vitis/{kernel}.h",
        "vitis/link.cfg",
        "vitis/Makefile",
        "host/run.py",
        "host/kernel.json",
        "host/fpga_gen/packing.py",
        "vivado/rtl_synth.tcl",
    ):
        assert (out / rel).is_file(), rel
    assert "--platform $(PLATFORM)" in (out / "vitis" / "Makefile").read_text()
    assert "xilinx_u280_gen3x16_xdma_1_202211_1" in (out / "vitis" / "Makefile").read_text()
    assert f"sp={kernel}_1.in_mem:HBM[0]" in (out / "vitis" / "link.cfg").read_text()
    assert read_manifest(out / "rtl")["dsp_kind"] == "DSP48E2"
