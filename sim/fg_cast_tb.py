"""cocotb test: sweep every input code of fg_cast_bench and record every output code.

Configured by the JSON file named in $FG_CAST_CONFIG: the input width, the output ports
to read and the results file. The comparison with FixedPoint.cast_int is in pytest.
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
    cfg = json.loads(Path(os.environ["FG_CAST_CONFIG"]).read_text())
    ports = [getattr(dut, name) for name in cfg["ports"]]
    rows = []
    for code in range(1 << cfg["in_w"]):
        dut.x.value = code
        await Timer(1, "ns")
        rows.append([port.value.to_unsigned() for port in ports])
    Path(cfg["results"]).write_text(json.dumps(rows))
