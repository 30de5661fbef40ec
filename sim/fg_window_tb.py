"""cocotb test: stream frames through every fg_window unit of fg_window_bench at once.

Configured by the JSON file named in $FG_WINDOW_CONFIG: per unit port prefix, its input
beats and its per-cycle input-valid and output-ready patterns (one entry per cycle, the
same length for all units), and the results file. Records every output beat as
(cycle, data, pad); the comparison with the golden windows and the cycle model is the
caller's (tests/test_rtl_window.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge

CLOCK_NS = 10


@cocotb.test()
async def stream_frames(dut: Any) -> None:
    cfg = json.loads(Path(os.environ["FG_WINDOW_CONFIG"]).read_text())
    units = {
        port: [getattr(dut, f"{port}_{s}") for s in ("d", "v", "r", "q", "p", "qv", "qr")] for port in cfg["units"]
    }
    sent = dict.fromkeys(units, 0)
    out: dict[str, list[list[int]]] = {port: [] for port in units}

    Clock(dut.clk, CLOCK_NS, unit="ns").start()
    dut.rst_n.value = 0
    for d, v, _, _, _, _, qr in units.values():
        d.value, v.value, qr.value = 0, 0, 0
    await ClockCycles(dut.clk, 2)
    # Inputs change and outputs are sampled on the falling edge, half a cycle from both
    # the rising edge that captured the previous values and the one capturing these; the
    # unit's s_tready and m_tvalid come from its registers only.
    await FallingEdge(dut.clk)
    dut.rst_n.value = 1
    for cycle in range(cfg["cycles"]):
        for port, (d, v, r, q, p, qv, qr) in units.items():
            doc = cfg["units"][port]
            valid = doc["valid"][cycle] and sent[port] < len(doc["beats"])
            v.value = int(valid)
            d.value = doc["beats"][sent[port]] if valid else 0
            qr.value = doc["ready"][cycle]
            if valid and r.value:
                sent[port] += 1
            if qv.value and doc["ready"][cycle]:
                out[port].append([cycle, q.value.to_unsigned(), int(p.value)])
        await FallingEdge(dut.clk)
    Path(cfg["results"]).write_text(json.dumps(out))
