"""hls/build.tcl run in tclsh with stub Vitis HLS commands: part, clock, files and step order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tclstub import run_tcl

import fpga_gen

# The files a step reads must exist when it runs: Vitis HLS resolves them from the
# directory the script changed into (the stub checks from there).
CHECK_FILES = {
    "add_files": 'foreach f $args { if {![string match -* $f] && ![file exists $f]} { error "add_files: no $f" } }',
    "csim_design": 'foreach f [lrange [lindex $args end] 0 0] { if {![file exists $f]} { error "csim: no $f" } }',
}


def test_hls_script_for_the_board(tmp_path: Path, board_project: fpga_gen.Project) -> None:
    board, root = board_project.board, board_project.path
    manifest = json.loads((root / "hls" / "fpga_gen_hls.json").read_text())
    top = manifest["top"]
    run = run_tcl(root / "hls" / "build.tcl", CHECK_FILES, cwd=tmp_path)

    assert run.one("open_project").args == ("-reset", f"{top}_prj")
    assert run.one("set_top").args == (top,)
    assert run.one("set_part").args == (board.part,)
    clock = run.one("create_clock")
    # tolerance-ok: the script spells the period with six decimals (3.333333 ns at 300 MHz)
    # tolerance-ok: a clock period in ns, printed as a decimal from the board's MHz
    assert float(clock.option("-period")) == pytest.approx(1000.0 / board.clock_mhz, abs=1e-6)
    added = {c.args[0] if c.args[0] != "-tb" else c.args[1] for c in run.named("add_files")}
    assert added == {*manifest["sources"], "tb_data"}
    tb_args = run.one("csim_design").option("-argv").split()
    assert tb_args[0] == "tb_data/input_codes.txt" and tb_args[2] == "tb_data/expected_codes.txt"
    assert (root / "hls" / tb_args[2]).is_file()
    assert run.one("cosim_design").option("-argv").split() == tb_args
    assert run.one("export_design").option("-format") == "ip_catalog"
    order = [
        run.index("open_project"),
        run.index("open_solution"),
        run.index("set_part"),
        run.index("create_clock"),
        run.index("csim_design"),
        run.index("csynth_design"),
        run.index("cosim_design"),
        run.index("export_design"),
    ]
    assert order == sorted(order)
    assert run.calls[-1].name == "export_design"
