"""vivado/rtl_synth.tcl (and its .xdc) run in tclsh with stub Vivado commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphs import random_mlp
from tclstub import TclScriptError, run_tcl

import fpga_gen
from fpga_gen.backends.rtl.cosim import read_manifest
from fpga_gen.errors import FpgaGenError
from fpga_gen.flows.templating import plain_names

# Vivado reads files relative to the directory the script changed into: they must be there.
READS = 'foreach f [concat {*}$args] { if {![file exists $f]} { error "no file $f in [pwd]" } }'
SLACK = "if {[lindex $args 0] eq {SLACK}} { return -0.125 }; return {}"
STUBS = {"read_verilog": READS, "read_mem": READS, "read_xdc": READS, "get_property": SLACK}


def test_rtl_synth_script_for_the_board(tmp_path: Path, board_project: fpga_gen.Project) -> None:
    board, root = board_project.board, board_project.path
    manifest = read_manifest(root / "rtl")
    assert manifest["mem_files"]
    run = run_tcl(root / "vivado" / "rtl_synth.tcl", STUBS, cwd=tmp_path)

    assert run.one("read_verilog").args[0].split() == manifest["sources"]
    assert not set(manifest["sim_sources"]) & set(run.one("read_verilog").args[0].split())
    assert run.one("read_mem").args[0].split() == manifest["mem_files"]
    synth = run.one("synth_design")
    assert synth.option("-top") == manifest["top"]
    assert synth.option("-part") == board.part
    assert synth.option("-mode") == "out_of_context"
    # the sources `include the headers beside them
    assert Path(synth.option("-include_dirs")) == (root / "rtl").resolve()
    assert all((root / "rtl" / h).is_file() for h in manifest["headers"])

    xdc = Path(run.one("read_xdc").args[0])
    constraints = run_tcl(xdc)
    clock = constraints.one("create_clock")
    # tolerance-ok: the script spells the period with six decimals (3.333333 ns at 300 MHz)
    # tolerance-ok: a clock period in ns, printed as a decimal from the board's MHz
    assert float(clock.option("-period")) == pytest.approx(1000.0 / board.clock_mhz, abs=1e-6)
    assert clock.option("-name") == manifest["clock"] == "ap_clk"
    assert constraints.one("get_ports").args == ("ap_clk",)

    reports = root / "vivado" / "rtl_reports"
    assert reports.is_dir()
    utilization = [c.args for c in run.named("report_utilization")]
    assert ("-hierarchical", "-file", str(reports / "utilization_hierarchical.rpt")) in utilization
    assert run.one("report_timing_summary").option("-file") == str(reports / "timing_summary.rpt")
    checkpoints = [c.args[-1] for c in run.named("write_checkpoint")]
    assert checkpoints[-1] == str(reports / "post_route.dcp")
    order = [
        run.index("read_verilog"),
        run.index("read_xdc"),
        run.index("synth_design"),
        run.index("opt_design"),
        run.index("place_design"),
        run.index("route_design"),
        run.index("report_timing_summary"),
        run.index("write_checkpoint", "-force", str(reports / "post_route.dcp")),
    ]
    assert order == sorted(order)
    assert f"timing is not met at {board.clock_mhz:g} MHz (worst setup slack '-0.125' ns)" in run.stdout


def test_a_missing_source_fails_the_run(tmp_path: Path) -> None:
    """The read stubs check the files from the script's directory, so they are not vacuous."""
    root = tmp_path / "p"
    fpga_gen.build(random_mlp(4, (8, 4)), "pynq-z2", out=root)
    (root / "rtl" / "fg_dense.v").unlink()
    with pytest.raises(TclScriptError, match=r"no file fg_dense.v"):
        run_tcl(root / "vivado" / "rtl_synth.tcl", STUBS)


def test_names_that_would_break_the_tcl_are_refused() -> None:
    assert plain_names("RTL source", ["a.v", "b_1.mem"]) == ["a.v", "b_1.mem"]
    with pytest.raises(FpgaGenError, match=r"RTL source 'a b.v'"):
        plain_names("RTL source", ["a b.v"])
