"""C simulation side by side: fpga_gen's csim vs hls4ml's compiled predict, on the demo MLP.

    .venv/bin/python bench/csim_vs_hls4ml.py

Both compile HLS C++ with g++ against the same ap_types headers (the ones hls4ml ships) and
run it on 10,000 digits samples. Prints, for each: how many output rows equal QKeras'
exactly (np.array_equal per row), samples/s (best of 3) and the time to write and compile the
project. Results go into BENCHMARKS.md by hand.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import fpga_gen
from fpga_gen import demo
from fpga_gen.frontends._tf import import_qkeras

SAMPLES = 10_000
Array = npt.NDArray[Any]


def _hls4ml() -> Any:
    """hls4ml 1.3 under TF 2.21 + numpy 2: it imports `keras` (tf_keras here) and np.product."""
    tf_keras, _ = import_qkeras()
    sys.modules["keras"] = tf_keras
    if not hasattr(np, "product"):
        np.product = np.prod  # type: ignore[attr-defined]
    import hls4ml

    return hls4ml


def _best_rate(fn: Callable[[Array], Array], x: Array, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x)
        best = min(best, time.perf_counter() - start)
    return len(x) / best


def _exact_rows(y: Array, ref: Array) -> int:
    return int(np.sum(np.all(np.asarray(y, dtype=np.float64).reshape(ref.shape) == ref, axis=1)))


def main() -> None:
    data = demo.digits()
    model = demo.train_mlp(data)
    x = np.ascontiguousarray(np.tile(data.x_test, (SAMPLES // len(data.x_test) + 1, 1))[:SAMPLES])
    ref = model.predict(x, verbose=0).astype(np.float64)
    hls4ml = _hls4ml()
    rows = []
    with tempfile.TemporaryDirectory(prefix="fpga_gen_bench_") as tmp:
        start = time.perf_counter()
        project = fpga_gen.build(fpga_gen.from_qkeras(model), board="pynq-z2", out=Path(tmp) / "fpga_gen")
        project.csim(x[:1])  # compiles (or finds the cached binary: clear ~/.cache/fpga_gen/csim for a cold time)
        fg_setup = time.perf_counter() - start
        fg_y = project.csim(x)
        rows.append(("fpga_gen csim", _exact_rows(fg_y, ref), _best_rate(project.csim, x), fg_setup))

        start = time.perf_counter()
        config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
        hmodel = hls4ml.converters.convert_from_keras_model(
            model, hls_config=config, output_dir=str(Path(tmp) / "hls4ml"), backend="Vitis", part="xc7z020clg400-1"
        )
        hmodel.compile()
        h_setup = time.perf_counter() - start
        h_y = hmodel.predict(x)
        rows.append(("hls4ml predict", _exact_rows(h_y, ref), _best_rate(hmodel.predict, x), h_setup))

    print(f"{SAMPLES:,} samples of the 64-32-16-10 digits MLP (8-bit QKeras), outputs compared with QKeras")
    print(f"{'engine':16} {'rows == QKeras':>15} {'samples/s':>12} {'write + compile':>16}")
    for name, exact, rate, setup in rows:
        print(f"{name:16} {exact:>9,}/{SAMPLES:,} {rate:>12,.0f} {setup:>14.1f} s")
    print(f"fpga_gen / hls4ml samples/s = {rows[0][2] / rows[1][2]:.1f}x")


if __name__ == "__main__":
    main()
