"""Alveo flow: a Vitis kernel around the HLS accelerator, its v++ build and an XRT host.

Written into the project directory (``hls/`` must exist)::

    vitis/<top>_kernel.cpp, .h  the kernel: m_axi memory ports (one bundle each, so each can sit in
                                its own bank), s_axilite control; memory -> <top>() -> memory
    vitis/link.cfg              v++ --config for the link: one compute unit, its ports on the
                                board's banks (DDR[i] / HBM[i])
    vitis/Makefile              ``make``: v++ -c -> .xo, v++ -l -> .xclbin (TARGET hw|hw_emu|sw_emu)
    vitis/README.md             what to run, on the build machine and on the card's host
    host/run.py                 XRT host (pyxrt): ``Accelerator(...).predict(x)``, or ``python run.py x.npy``
    host/kernel.json            what run.py needs: kernel name, xclbin, formats, shapes, beat layout
    host/fpga_gen/              the numpy-only runtime (formats, packing), see ``flows.runtime``

Memory holds AXI beats laid out by ``fpga_gen.packing``: a sample is ``n / pack`` words of
``beat_bits`` bits, samples back to back, so the host packs with the very code the golden
model's tests use.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpga_gen.backends.hls.csim import read_manifest as hls_manifest
from fpga_gen.backends.hls.writer import SUBFUNCTION_MACRO
from fpga_gen.boards import Board
from fpga_gen.errors import BoardError
from fpga_gen.flows.runtime import vendor_runtime
from fpga_gen.flows.templating import number
from fpga_gen.packing import DMA_BEAT_BYTES
from fpga_gen.templating import render

KERNEL_SUFFIX = "_kernel"
HOST_CONFIG = "kernel.json"
# The kernel's memory arguments. Not "in"/"out": those are VHDL keywords, which Vitis HLS
# renames in the RTL (in_r, out_r), and link.cfg names ports by argument.
PORT_IN = "in_mem"
PORT_OUT = "out_mem"
# An AXI burst may not cross a 4 KB address boundary (AMBA AXI, A3.4.1) and an AXI4 INCR
# burst is at most 256 beats, the largest max_read/write_burst_length of an m_axi port (UG1399).
_AXI_BOUNDARY_BYTES = 4096
_AXI_MAX_BURST = 256


@dataclass(frozen=True)
class _Port:
    """One memory port of the kernel: the tensor a sample carries and its beat layout."""

    arg: str
    shape: tuple[int, ...]
    format: str
    bits: int  # of one element code
    pack: int  # elements per beat
    beat_bits: int

    @property
    def beats(self) -> int:
        """Memory words per sample."""
        return math.prod(self.shape) // self.pack

    @property
    def burst(self) -> int:
        """Beats per m_axi burst: as long as AXI allows, within one 4 KB page."""
        return min(_AXI_MAX_BURST, _AXI_BOUNDARY_BYTES // (self.beat_bits // 8))


def write_alveo(root: Path, board: Board) -> None:
    """Write the Vitis kernel, link.cfg, Makefile, README and the XRT host for ``board`` into ``root``."""
    root = Path(root)
    if board.flow != "alveo" or board.platform is None:
        raise BoardError(
            f"board {board.name} uses the {board.flow!r} flow; the Alveo flow needs a card with a Vitis "
            "platform (e.g. alveo-u55c)"
        )
    manifest = hls_manifest(root / "hls")
    top = manifest["top"]
    kernel = top + KERNEL_SUFFIX
    port_in = _port(PORT_IN, manifest["input"], board)
    port_out = _port(PORT_OUT, manifest["output"], board)
    bank_in, bank_out, bank_mib = _banks(board)
    context = {
        "board": board.name,
        "platform": board.platform,
        "top": top,
        "kernel": kernel,
        "graph_name": manifest["graph"],
        "port_in": port_in,
        "port_out": port_out,
        "bank_in": bank_in,
        "bank_out": bank_out,
        "clock_mhz": number(board.clock_mhz),
        "subfunction_macro": SUBFUNCTION_MACRO,
    }
    files = {
        f"vitis/{kernel}.cpp": "kernel.cpp.j2",
        f"vitis/{kernel}.h": "kernel.h.j2",
        "vitis/link.cfg": "link.cfg.j2",
        "vitis/Makefile": "Makefile.j2",
        "vitis/README.md": "README.md.j2",
        "host/run.py": "run.py.j2",
    }
    texts = {path: render("alveo", name, context) for path, name in files.items()}
    for path, text in texts.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    host = {
        "kernel": kernel,
        "graph": manifest["graph"],
        "board": board.name,
        "platform": board.platform,
        # Relative to host/; run.py --xclbin picks another (an emulation build, a copy).
        "xclbin": f"../vitis/build_hw/{kernel}.xclbin",
        # Buffers of one kernel run must fit a bank: predict() splits larger batches.
        "bank_bytes": bank_mib << 20,
        # The HLS manifest's view of each port (shape, format, bits, pack, beat_bits).
        "input": {**manifest["input"], "arg": PORT_IN},
        "output": {**manifest["output"], "arg": PORT_OUT},
    }
    (root / "host" / HOST_CONFIG).write_text(json.dumps(host, indent=1) + "\n")
    vendor_runtime(root / "host")


def _port(arg: str, spec: dict[str, Any], board: Board) -> _Port:
    port = _Port(
        arg=arg,
        shape=tuple(spec["shape"]),
        format=spec["format"],
        bits=spec["bits"],
        pack=spec["pack"],
        beat_bits=spec["beat_bits"],
    )
    if port.beat_bits > 8 * DMA_BEAT_BYTES or port.beat_bits % 8 or port.beat_bits & (port.beat_bits - 1):
        raise BoardError(
            f"layer {spec['layer']}: a beat of {port.pack} x {port.format} is {port.beat_bits} bits; an m_axi "
            f"port of {board.name} moves power-of-two words of 8 to {8 * DMA_BEAT_BYTES} bits: lower the SIMD "
            "of the first (or the PE of the last) Dense layer, or narrow the format"
        )
    return port


def _banks(board: Board) -> tuple[str, str, int]:
    """Banks of the input and the output buffer, and the size of one, MiB.

    The board's first memory (HBM on a U55C or U280, DDR on a U250): two different banks
    when it has them, so reading and writing do not share one memory controller.
    """
    memory = board.memory[0]
    names = memory.sp_names
    return names[0], names[min(1, len(names) - 1)], memory.size_mib


__all__ = ["HOST_CONFIG", "KERNEL_SUFFIX", "PORT_IN", "PORT_OUT", "write_alveo"]
