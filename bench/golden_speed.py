"""Golden model throughput vs QKeras' own predict on the demo MLP, side by side.

    .venv/bin/python bench/golden_speed.py

Prints samples/s for both and the ratio; results go into BENCHMARKS.md by hand.
"""

from __future__ import annotations

import time

import numpy as np

import fpga_gen
from fpga_gen import demo


def _rate(fn, x: np.ndarray, repeats: int = 5) -> float:  # type: ignore[no-untyped-def]
    fn(x[:16])  # warm up (graph tracing, BLAS threads)
    best = min(_timed(fn, x) for _ in range(repeats))
    return len(x) / best


def _timed(fn, x: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(x)
    return time.perf_counter() - start


def main() -> None:
    data = demo.digits()
    model = demo.train_mlp(data, epochs=2)
    graph = fpga_gen.from_qkeras(model)
    x = np.tile(data.x_test, (28, 1))[:10_000]
    assert np.array_equal(graph.predict(x), model.predict(x, verbose=0).astype(np.float64))
    golden = _rate(graph.predict, x)
    qkeras = _rate(lambda v: model.predict(v, verbose=0, batch_size=1024), x)
    print("10,000 samples of the 64-32-16-10 digits MLP")
    print(f"golden  {golden:12,.0f} samples/s")
    print(f"QKeras  {qkeras:12,.0f} samples/s")
    print(f"golden / QKeras = {golden / qkeras:.1f}x")


if __name__ == "__main__":
    main()
