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
``fpga_gen.build`` calls the flows of the board (``project.py``).
"""
