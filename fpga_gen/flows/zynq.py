"""Zynq flow: a Vivado block design around the HLS IP, and a PYNQ driver.

Writes into the project directory:

    vivado/build.tcl              vivado -mode batch -source vivado/build.tcl: project for the
                                  board's part and board part, block design (PS, AXI DMA, the
                                  accelerator IP, SmartConnects, reset), bitstream, timing and
                                  utilization reports (vivado/zynq_reports/); copies <top>.bit
                                  and <top>.hwh into driver/
    driver/fpga_gen_overlay.py    PYNQ Overlay subclass with predict(x)
    driver/fpga_gen_overlay.json  what the driver reads: formats, shapes, beat layout, the DMA
    driver/fpga_gen/              the numpy-only runtime (formats, packing; flows.runtime)
    driver/README.md              how to deploy on the board

The accelerator is the HLS top (AXI4-Stream ``in_stream`` / ``out_stream``, ``ap_ctrl_none``)
that ``hls/build.tcl`` exports with ``export_design -format ip_catalog``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from fpga_gen.backends.hls.csim import read_manifest as read_hls_manifest
from fpga_gen.boards import Board
from fpga_gen.errors import BoardError
from fpga_gen.flows.runtime import vendor_runtime
from fpga_gen.flows.templating import number, plain_names
from fpga_gen.packing import DMA_BEAT_BYTES
from fpga_gen.templating import render

DRIVER = "fpga_gen_overlay"
SCRIPT = "build.tcl"
VIVADO_PROJECT = "zynq_prj"
REPORTS = "zynq_reports"
BD_NAME = "fpga_gen_bd"
DMA_CELL = "axi_dma_0"
DRIVER_SCHEMA = 1  # of driver/fpga_gen_overlay.json
# PG021 (AXI DMA v7.1): the buffer length register is 8 to 26 bits wide, so one simple-mode
# transfer moves at most 2**26 - 1 bytes; a memory-map data width is 32 to 1024 bits and
# at least the width of its stream.
DMA_LENGTH_BITS = 26
DMA_MIN_MM_BITS = 32
# Physical addresses the DMA drives: the Zynq-7000 DDR sits below 4 GiB; an MPSoC's upper
# DDR lies above it (PYNQ's DMA driver writes the high address word too).
DMA_ADDR_BITS = {"zynq7": 32, "zynqmp": 64}
PS_NAMES = {"zynq7": "Zynq-7000", "zynqmp": "Zynq UltraScale+ MPSoC"}


def hls_ip_dir(top: str) -> str:
    """Where ``hls/build.tcl`` exports the IP, relative to the project root.

    Its ``open_project {top}_prj`` / ``open_solution solution1`` (templates/hls/build.tcl.j2)
    and Vitis HLS putting the packaged IP in ``<solution>/impl/ip`` (UG1399, Exporting the RTL
    Design) make this path; tests/test_flow_zynq.py checks the two scripts agree.
    """
    return f"hls/{top}_prj/solution1/impl/ip"


def ip_vlnv(top: str) -> str:
    """The exported IP's VLNV: export_design's defaults (vendor xilinx.com, library hls, version 1.0)."""
    return f"xilinx.com:hls:{top}:1.0"


def write_zynq(root: Path, board: Board) -> None:
    """Write ``vivado/build.tcl`` and the PYNQ driver in ``driver/`` for the HLS project in ``root/hls``."""
    root = Path(root)
    if board.flow != "zynq" or board.family not in DMA_ADDR_BITS:
        raise BoardError(
            f"board {board.name} ({board.family}) is not a Zynq board; the Zynq flow needs a zynq7 or "
            "zynqmp board such as pynq-z2 or zcu104"
        )
    manifest = read_hls_manifest(root / "hls")
    top = plain_names("HLS top", [manifest["top"]])[0]
    max_transfer = (1 << DMA_LENGTH_BITS) - 1
    streams = {"input": manifest["input"], "output": manifest["output"]}
    for port, spec in streams.items():
        _check_stream(board, port, spec, max_transfer)
    ins, outs = streams["input"], streams["output"]
    context: dict[str, Any] = {
        "top": top,
        "graph": manifest["graph"],
        "board": board.name,
        "part": plain_names("FPGA part", [board.part])[0],
        "family": board.family,
        "ps_name": PS_NAMES[board.family],
        "board_parts": list(board.board_parts),
        "clock_mhz": number(board.clock_mhz),
        "proj_name": VIVADO_PROJECT,
        "reports": REPORTS,
        "bd_name": BD_NAME,
        "hls_ip_dir": hls_ip_dir(top),
        "ip_vlnv": ip_vlnv(top),
        "accel": f"{top}_0",
        "dma": DMA_CELL,
        "length_bits": DMA_LENGTH_BITS,
        "max_transfer_bytes": max_transfer,
        "addr_bits": DMA_ADDR_BITS[board.family],
        "in_beat_bits": ins["beat_bits"],
        "in_mm_bits": max(DMA_MIN_MM_BITS, ins["beat_bits"]),
        "out_beat_bits": outs["beat_bits"],
        "out_mm_bits": max(DMA_MIN_MM_BITS, outs["beat_bits"]),
        "input_shape": ", ".join(map(str, ins["shape"])),
        "output_shape": ", ".join(map(str, outs["shape"])),
        "input_format": ins["format"],
        "output_format": outs["format"],
        "input_beats": math.prod(ins["shape"]) // ins["pack"],
        "output_beats": math.prod(outs["shape"]) // outs["pack"],
        "input_beat_bits": ins["beat_bits"],
        "output_beat_bits": outs["beat_bits"],
    }
    spec = {
        "schema": DRIVER_SCHEMA,
        "graph": manifest["graph"],
        "top": top,
        "board": board.name,
        "bitfile": f"{top}.bit",
        "dma": {"name": DMA_CELL, "max_transfer_bytes": max_transfer},
        "input": ins,
        "output": outs,
    }
    texts = {
        root / "vivado" / SCRIPT: render("vivado", f"{SCRIPT}.j2", context),
        root / "driver" / f"{DRIVER}.py": render("zynq", f"{DRIVER}.py.j2", context),
        root / "driver" / "README.md": render("zynq", "README.md.j2", context),
        root / "driver" / f"{DRIVER}.json": json.dumps(spec, indent=1) + "\n",
    }
    for path, text in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    vendor_runtime(root / "driver")


def _check_stream(board: Board, port: str, spec: dict[str, Any], max_transfer: int) -> None:
    """Refuse a stream the AXI DMA cannot move: a beat over 1024 bits, a sample over one transfer."""
    bits = spec["beat_bits"]
    if bits > 8 * DMA_BEAT_BYTES:
        raise BoardError(
            f"the {port} stream ({spec['layer']}) has {bits}-bit beats ({spec['pack']} x {spec['format']}); "
            f"the AXI DMA of the {board.name} block design moves at most {8 * DMA_BEAT_BYTES} bits per beat "
            "(PG021): lower the SIMD of the first or the PE of the last layer, or narrow the format"
        )
    sample = math.prod(spec["shape"]) // spec["pack"] * bits // 8
    if sample > max_transfer:
        raise BoardError(
            f"one {port} sample ({spec['layer']}, shape {tuple(spec['shape'])}) is {sample} bytes, more than "
            f"one AXI DMA transfer ({max_transfer} bytes, PG021): use a smaller {port}"
        )


__all__ = ["BD_NAME", "DMA_CELL", "DRIVER", "SCRIPT", "hls_ip_dir", "ip_vlnv", "write_zynq"]
