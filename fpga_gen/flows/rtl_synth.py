"""RTL-only Vivado flow: synthesis, placement and routing of the Verilog engine, out of context.

Writes ``vivado/rtl_synth.tcl`` (non-project mode: ``read_verilog`` of the synthesizable
sources, ``read_mem`` of the ROM images, ``synth_design -mode out_of_context``, opt / place /
route, timing and utilization reports and checkpoints into ``vivado/rtl_reports/``) and
``vivado/rtl_synth.xdc`` (the ``ap_clk`` clock at the board's frequency). The behavioural
DSP48E1 model in the manifest's ``sim_sources`` is left out: it stands in for the real
primitive in Verilator and Yosys only.
"""

from __future__ import annotations

from pathlib import Path

from fpga_gen.backends.rtl.cosim import read_manifest
from fpga_gen.boards import Board
from fpga_gen.flows.templating import number, plain_names
from fpga_gen.templating import render

SCRIPT = "rtl_synth.tcl"
XDC = "rtl_synth.xdc"
REPORTS = "rtl_reports"


def write_rtl_synth(root: Path, board: Board) -> None:
    """Write ``vivado/rtl_synth.tcl`` and its clock constraint for the Verilog in ``root/rtl``."""
    manifest = read_manifest(Path(root) / "rtl")
    context = {
        "top": plain_names("RTL top", [manifest["top"]])[0],
        "clock": plain_names("RTL clock", [manifest["clock"]])[0],
        "board": board.name,
        "part": board.part,
        "clock_mhz": number(board.clock_mhz),
        "period_ns": number(board.clock_period_ns),
        "sources": plain_names("RTL source", manifest["sources"]),
        "sim_sources": manifest["sim_sources"],
        "headers": plain_names("RTL header", manifest["headers"]),
        "mem_files": plain_names("ROM image", manifest["mem_files"]),
        "reports": REPORTS,
        "xdc": XDC,
    }
    out = Path(root) / "vivado"
    out.mkdir(parents=True, exist_ok=True)
    (out / SCRIPT).write_text(render("vivado", f"{SCRIPT}.j2", context))
    (out / XDC).write_text(render("vivado", f"{XDC}.j2", context))


__all__ = ["REPORTS", "SCRIPT", "XDC", "write_rtl_synth"]
