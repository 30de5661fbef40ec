"""cocotb test: stream operand pairs through fg_mac_bench, one pair per cycle per unit.

Configured by the JSON file named in $FG_MAC_CONFIG: per unit port prefix, its lists of
a and b codes, the MAC latency and the results file. Units with fewer pairs are fed code 0
(the value +0) after their last pair. Records every product (signed, pair k's product
appears ``latency`` cycles after pair k) and each unit's accumulated sum; the comparison
with exact integer products is the caller's (fpga_gen.backends.rtl.bench).
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
async def stream_pairs(dut: Any) -> None:
    cfg = json.loads(Path(os.environ["FG_MAC_CONFIG"]).read_text())
    latency = cfg["latency"]
    units = {
        port: (getattr(dut, f"{port}_a"), getattr(dut, f"{port}_b"), getattr(dut, f"{port}_p"), a, b)
        for port, (a, b) in cfg["units"].items()
    }
    n = max(len(a) for *_, a, _ in units.values())
    products: dict[str, list[int]] = {port: [] for port in units}

    Clock(dut.clk, CLOCK_NS, unit="ns").start()
    dut.rst.value = 1
    dut.valid.value = 0
    for a_port, b_port, _, _, _ in units.values():
        a_port.value = 0
        b_port.value = 0
    await ClockCycles(dut.clk, 2)
    # Inputs change and outputs are sampled on the falling edge, half a cycle from both
    # the rising edge that captured the previous values and the one capturing these.
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    for k in range(n + latency + 2):
        if k >= latency:
            for port, (_, _, p_port, a, _) in units.items():
                if k - latency < len(a):
                    products[port].append(p_port.value.to_signed())
        dut.valid.value = int(k < n)
        for a_port, b_port, _, a, b in units.values():
            a_port.value = a[k] if k < len(a) else 0
            b_port.value = b[k] if k < len(b) else 0
        await FallingEdge(dut.clk)
    results = {
        port: {"products": products[port], "acc": getattr(dut, f"{port}_acc").value.to_signed()} for port in units
    }
    Path(cfg["results"]).write_text(json.dumps(results))
