"""Shared by the HLS tests: write a set of designs, compile them in parallel, check csim == golden."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from graphs import random_inputs

from fpga_gen.backends.hls import build_csim, run_csim, write_hls
from fpga_gen.ir import Graph, evaluate_ints, quantize_inputs

PART = "xc7z020clg400-1"
BATCH = 2000


@dataclass(frozen=True)
class Design:
    graph: Graph
    path: Path
    x: np.ndarray[Any, Any]


def build_designs(graphs: dict[str, Graph], root: Path, seed: int) -> dict[str, Design]:
    """Write every graph's project under ``root`` and compile them all, in parallel."""
    out: dict[str, Design] = {}
    for i, (name, graph) in enumerate(graphs.items()):
        path = write_hls(graph, part=PART, clock_mhz=250.0, out=root / name)
        x, _ = quantize_inputs(graph, random_inputs(seed + i, graph, BATCH))
        out[name] = Design(graph, path, x)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(build_csim, [d.path for d in out.values()]))
    return out


def assert_csim_equals_golden(d: Design) -> None:
    y = run_csim(d.path, d.x)
    golden = evaluate_ints(d.graph, d.x)
    assert y.shape == golden.shape == (BATCH, *d.graph.output.output.shape)
    assert np.array_equal(y, golden)
    assert len(np.unique(golden.astype(object))) > 10  # the outputs really vary
