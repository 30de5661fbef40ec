"""HLS kernels at the rate they are scheduled.

C simulation built with FG_COUNT_ITERATIONS counts the iterations of every pipelined loop
(hls/fg_types.h); each process's count must be what the writer scheduled for it (the
manifest's ``iterations``, from the kernels' documented counts), and a matmul's schedule is
its fold's: positions x (n_out / PE) x (n_in / SIMD) steps. The outputs of the same run equal
the golden model's, bit for bit.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from designs import DESIGNS
from graphs import random_inputs, random_mlp

from fpga_gen.backends.hls import count_iterations, write_hls
from fpga_gen.backends.hls.csim import read_manifest
from fpga_gen.ir import Graph, MatMul, evaluate_ints, quantize_inputs

pytestmark = pytest.mark.xdist_group("hls_schedule")  # one build of the designs
SAMPLES = 40
GRAPHS = {
    # the demo MLP's shape (64-32-16-10, 8-bit) folded within the pynq-z2's 220 DSPs
    "demo_mlp": lambda: random_mlp(6, (64, 32, 16, 10), weight_format="fixed<8,1>", max_dsp=220),
    **DESIGNS,
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Graph, Path, np.ndarray, dict[str, int]]]:
    """Every design written, then simulated (compiled in parallel) with its counts."""
    root = tmp_path_factory.mktemp("hls_schedule")
    jobs = {}
    for i, (name, make) in enumerate(GRAPHS.items()):
        graph = make()
        path = write_hls(graph, part="xc7z020clg400-1", clock_mhz=250.0, out=root / name)
        x, _ = quantize_inputs(graph, random_inputs(70 + i, graph, SAMPLES))
        jobs[name] = (graph, path, x)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = dict(zip(jobs, pool.map(lambda job: count_iterations(job[1], job[2]), jobs.values()), strict=True))
    return {name: (g, p, y, results[name][1]) for name, (g, p, y) in jobs.items() for y in [results[name][0]]}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_every_pipelined_loop_iterates_as_scheduled(runs: dict, name: str) -> None:
    graph, path, y, counts = runs[name]
    x, _ = quantize_inputs(graph, random_inputs(70 + list(GRAPHS).index(name), graph, SAMPLES))
    assert np.array_equal(y, evaluate_ints(graph, x))
    processes = read_manifest(path)["processes"]
    assert counts == {config: SAMPLES * p["iterations"] for config, p in processes.items()}


@pytest.mark.parametrize(
    "name", ["demo_mlp", "demo_cnn", "stride2", "conv2d_avg", "conv1d_e4m3", "dw_ternary", "dw_separable", "dw_e4m3"]
)
def test_matmuls_iterate_at_their_fold_schedule(runs: dict, name: str) -> None:
    graph, path, _, _ = runs[name]
    processes = read_manifest(path)["processes"]
    matmuls = [layer for layer in graph.layers if isinstance(layer, MatMul)]
    assert matmuls
    for layer in matmuls:
        assert layer.fold is not None
        steps = layer.positions * (layer.n_out // layer.fold.pe) * (layer.n_in // layer.fold.simd)
        assert processes[f"config_{layer.name}"] == {"layer": layer.name, "iterations": steps}
