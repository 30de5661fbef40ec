"""cocotb test: run one batch of vectors through a generated fpga_gen top in ONE simulation.

Configured by the JSON file named in $FG_COSIM_CONFIG (written by
fpga_gen.backends.rtl.cosim): port names, stream layouts, the input vectors file, the
results file, backpressure / idle probabilities and the seed of their random patterns.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import asdict
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, with_timeout
from fg_axis import HandshakeMonitor, Layout, StreamDriver, StreamReceiver
from fg_scoreboard import Scoreboard

CLOCK_NS = 10
RESET_CYCLES = 4


@cocotb.test()
async def run_batch(dut: object) -> None:
    cfg = json.loads(Path(os.environ["FG_COSIM_CONFIG"]).read_text())
    vectors = json.loads(Path(cfg["inputs"]).read_text())
    clock, reset = getattr(dut, cfg["clock"]), getattr(dut, cfg["reset"])
    in_port, out_port = cfg["input"]["port"], cfg["output"]["port"]
    in_layout, out_layout = Layout.from_doc(cfg["input"]), Layout.from_doc(cfg["output"])
    rng = random.Random(cfg["seed"])

    active = 0 if cfg["reset_active_low"] else 1
    reset.value = active
    Clock(clock, CLOCK_NS, unit="ns").start()
    driver = StreamDriver(dut, in_port, clock, reset, active, in_layout)
    receiver = StreamReceiver(dut, out_port, clock, reset, active, out_layout)
    driver.idle_randomly(cfg["idle"], rng)
    receiver.backpressure_randomly(cfg["backpressure"], rng)
    monitor = HandshakeMonitor(
        clock,
        {
            "in": (getattr(dut, f"{in_port}_tvalid"), getattr(dut, f"{in_port}_tready")),
            "out": (getattr(dut, f"{out_port}_tvalid"), getattr(dut, f"{out_port}_tready")),
        },
    )
    await ClockCycles(clock, RESET_CYCLES)
    reset.value = 1 - active
    monitor.start()
    driver.send(vectors)
    frames = await with_timeout(receiver.receive(len(vectors)), cfg["timeout_cycles"] * CLOCK_NS, "ns")

    result = Scoreboard(in_layout, out_layout, len(vectors)).check(frames, monitor.cycles["in"], monitor.cycles["out"])
    Path(cfg["results"]).write_text(json.dumps(asdict(result)))
