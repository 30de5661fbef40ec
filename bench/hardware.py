"""The generated hardware, measured: interval, latency and cells of the demo designs and two
well-known shapes, on a Zynq-7000 and an UltraScale+ board.

    .venv/bin/python bench/hardware.py [--boards pynq-z2 zcu104] [--designs demo_mlp ...] [--out build/bench]

Each design (random weights in its formats; the numbers do not depend on the weights' values)
is built by ``fpga_gen.build`` for the board, simulated in Verilator (cocotb) on SAMPLES inputs
(outputs checked equal to the golden model's with ``np.array_equal``), and synthesized with
Yosys ``synth_xilinx`` for the board's family. Prints a Markdown table for BENCHMARKS.md:

* interval / latency: measured in cosim (cycles between the last output beats of the last two
  samples; first input beat to the first sample's last output beat), and the interval the
  cycle model schedules;
* ideal interval: the design's MACs per sample over its MAC lanes (PE x SIMD summed over the
  matmul layers), rounded up -- what a perfectly balanced fold of the same lanes would reach;
* DSP / LUT / FF / BRAM36 (two RAMB18 count as one) / LUTRAM: Yosys' cells;
* MACs / DSP / cycle: MACs per sample / measured interval / DSP slices.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

import fpga_gen
from fpga_gen.backends.rtl.yosys import synth_counts
from fpga_gen.formats import FixedPoint, Format, parse_format
from fpga_gen.ir import Graph, MatMul
from fpga_gen.ir.builder import GraphBuilder

SAMPLES = 24
SEED = 2026


def _weights(rng: np.random.Generator, fmt: str | Format, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform over the fixed-point format's values."""
    f = parse_format(fmt) if isinstance(fmt, str) else fmt
    assert isinstance(f, FixedPoint)
    return f.from_int(rng.integers(f.min_int, f.max_int, size=shape, endpoint=True))


def mlp(name: str, sizes: tuple[int, ...], x_fmt: str, w_fmt: str, act_fmt: str) -> Graph:
    """Dense layers with bias, relu into ``act_fmt`` between them; the last keeps its accumulator."""
    rng = np.random.default_rng(SEED)
    b = GraphBuilder(name, (sizes[0],), x_fmt)
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        b.dense(_weights(rng, w_fmt, (n_in, n_out)), w_fmt, _weights(rng, "fixed<8,3>", (n_out,)), "fixed<8,3>")
        if i < len(sizes) - 2:
            b.activation("relu", act_fmt)
    return b.build()


def demo_cnn() -> Graph:
    """The demo's CNN shape: 8x8x1 -> conv 3x3x4 'same' relu -> max pool 2 -> dense 10, 8-bit."""
    rng = np.random.default_rng(SEED)
    b = GraphBuilder("demo_cnn", (8, 8, 1), "ufixed<8,1>")
    b.conv(
        _weights(rng, "fixed<8,1>", (3, 3, 1, 4)),
        "fixed<8,1>",
        _weights(rng, "fixed<8,3>", (4,)),
        "fixed<8,3>",
        padding="same",
        activation="relu",
        output_format="ufixed<8,3,RND_CONV,SAT>",
    )
    b.pool("max", 2, strides=2)
    b.flatten()
    b.dense(_weights(rng, "fixed<8,1>", (64, 10)), "fixed<8,1>", _weights(rng, "fixed<8,3>", (10,)), "fixed<8,3>")
    return b.build()


DESIGNS: dict[str, tuple[str, Callable[[], Graph]]] = {
    "demo_mlp": (
        "demo MLP 64-32-16-10, 8-bit",
        lambda: mlp("demo_mlp", (64, 32, 16, 10), "ufixed<8,1>", "fixed<8,1>", "ufixed<8,3,RND_CONV,SAT>"),
    ),
    "demo_cnn": ("demo CNN conv3x3x4-pool-dense10, 8-bit", demo_cnn),
    "jet": (
        "jet tagging 16-64-32-32-5, 8-bit",
        lambda: mlp("jet", (16, 64, 32, 32, 5), "fixed<8,3>", "fixed<8,1>", "ufixed<8,3,RND_CONV,SAT>"),
    ),
    "tfc_w2a2": (
        "FINN TFC 784-64-64-64-10, 2-bit w/a",
        lambda: mlp("tfc_w2a2", (784, 64, 64, 64, 10), "ufixed<2,1>", "fixed<2,1>", "ufixed<2,1,RND_CONV,SAT>"),
    ),
}


@dataclass(frozen=True)
class Row:
    design: str
    board: str
    exact: bool
    interval: int | None
    scheduled: int
    latency: int
    ideal: int
    macs: int
    cells: dict[str, float]


def measure(key: str, board: str, out: Path) -> Row:
    label, make = DESIGNS[key]
    graph = make()
    project = fpga_gen.build(graph, board=board, out=out / board / key)
    spec = graph.input.output
    x = _weights(np.random.default_rng(SEED), spec.format, (SAMPLES, *spec.shape))  # every input value on its grid
    y, cosim = project.cosim(x, report=True)
    report = project.report()
    matmuls = [layer for layer in project.graph.layers if isinstance(layer, MatMul) and layer.fold is not None]
    macs = sum(layer.positions * layer.n_in * layer.n_out for layer in matmuls)
    lanes = sum(layer.fold.pe * layer.fold.simd for layer in matmuls if layer.fold is not None)
    counts = synth_counts(project.path / "rtl", project.board.dsp_primitive.yosys_family)
    return Row(
        design=label,
        board=board,
        exact=bool(np.array_equal(y, project.graph.predict(x))),
        interval=cosim.interval_cycles,
        scheduled=report["interval_cycles"],
        latency=cosim.latency_cycles,
        ideal=math.ceil(macs / lanes),
        macs=macs,
        cells=counts.total.summary(),
    )


def table(rows: list[Row]) -> str:
    head = (
        "| design | board | cosim == golden | interval cosim / scheduled / ideal | latency | "
        "DSP | LUT | FF | BRAM36 | LUTRAM | MACs / DSP / cycle |"
    )
    lines = [head, "|" + "---|" * 2 + ":---:|" + "---:|" * 8]
    for r in rows:
        c = r.cells
        per_dsp = f"{r.macs / r.interval / c['dsp']:.2f}" if r.interval and c["dsp"] else "-"
        lines.append(
            f"| {r.design} | {r.board} | {'yes' if r.exact else 'NO'} | {r.interval} / {r.scheduled} / {r.ideal} | "
            f"{r.latency} | {c['dsp']:.0f} | {c['lut']:.0f} | {c['ff']:.0f} | {c['bram36']:g} | {c['lutram']:.0f} | "
            f"{per_dsp} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", nargs="+", default=["pynq-z2", "zcu104"])
    parser.add_argument("--designs", nargs="+", default=list(DESIGNS), choices=list(DESIGNS))
    parser.add_argument("--out", type=Path, default=Path("build/bench"))
    args = parser.parse_args()
    rows = []
    for key in args.designs:
        for board in args.boards:
            rows.append(measure(key, board, args.out))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
