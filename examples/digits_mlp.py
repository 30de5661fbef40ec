"""The demo, step by step: QKeras MLP on sklearn digits -> HLS C++ + Verilog for pynq-z2.

    .venv/bin/python examples/digits_mlp.py [out_dir]

``make demo`` runs the same thing through ``fpga-gen demo`` and prints a summary table.
"""

from __future__ import annotations

import sys

import numpy as np

import fpga_gen
from fpga_gen.demo import digits, train_mlp


def main(out: str) -> None:
    data = digits()
    model = train_mlp(data)  # seeded: the same model every run
    graph = fpga_gen.from_qkeras(model)  # exact weights and formats from the quantizers
    print(graph)  # canonical text form of the IR

    x = data.x_test
    golden = graph.predict(x)  # bit-exact numpy model
    assert np.array_equal(golden, model.predict(x, verbose=0).astype(np.float64))

    project = fpga_gen.build(graph, board="pynq-z2", out=out)
    assert np.array_equal(project.csim(x), golden)  # generated HLS C++ under g++
    y, run = project.cosim(x, report=True)  # generated Verilog under Verilator
    assert np.array_equal(y, golden)
    print(f"accuracy {np.mean(np.argmax(golden, axis=1) == data.y_test):.4f}; latency {run.latency_cycles} cycles")
    print(f"Vitis HLS project: {project.path / 'hls'} (vitis_hls -f build.tcl)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/digits_mlp")
