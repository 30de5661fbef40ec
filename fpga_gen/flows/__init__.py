"""Deployment flows: the vendor-tool projects ``fpga_gen.build`` writes beside hls/ and rtl/.

Each flow reads what the backends wrote (``hls/fpga_gen_hls.json``, ``rtl/manifest.json``)
and the board, and writes files a user with the vendor tools runs unchanged:

* every board: ``vivado/rtl_synth.tcl`` -- non-project synthesis, place and route of the
  Verilog engine with timing and utilization reports (``flows.rtl_synth``);
* Zynq boards: ``vivado/build.tcl`` (block design with the PS, an AXI DMA and the HLS IP,
  bitstream and .hwh) and a PYNQ driver in ``driver/`` (``flows.zynq``);
* Alveo cards: the ``m_axi`` kernel, ``vitis/link.cfg``, a Makefile for ``v++`` and an XRT
  host in ``host/`` (``flows.alveo``).

Drivers carry the numpy-only runtime (``flows.runtime``) to convert floats to codes.
"""

from __future__ import annotations

from pathlib import Path

from fpga_gen.boards import Board
from fpga_gen.flows.alveo import write_alveo
from fpga_gen.flows.rtl_synth import write_rtl_synth
from fpga_gen.flows.zynq import write_zynq


def write_flows(root: Path, board: Board) -> None:
    """Write the flows of ``board`` into the project directory ``root`` (hls/ and rtl/ exist)."""
    write_rtl_synth(root, board)
    if board.flow == "zynq":
        write_zynq(root, board)
    else:
        write_alveo(root, board)


__all__ = ["write_flows"]
