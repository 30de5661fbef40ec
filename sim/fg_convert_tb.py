"""cocotb test: drive a list of input patterns into fg_convert_bench, record every output code.

Configured by the JSON file named in $FG_CONVERT_CONFIG: the input patterns (unsigned),
the output ports to read and the results file. The comparison with the Python casts is
the caller's (fpga_gen.backends.rtl.bench).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cocotb
from cocotb.triggers import Timer


@cocotb.test()
async def sweep(dut: Any) -> None:
    cfg = json.loads(Path(os.environ["FG_CONVERT_CONFIG"]).read_text())
    ports = [getattr(dut, name) for name in cfg["ports"]]
    rows = []
    for pattern in cfg["inputs"]:
        dut.x.value = pattern
        await Timer(1, "ns")
        rows.append([port.value.to_unsigned() for port in ports])
    Path(cfg["results"]).write_text(json.dumps(rows))
