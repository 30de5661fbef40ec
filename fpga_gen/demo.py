"""The bundled end-to-end example: a QKeras MLP on sklearn's digits, built for a board.

Trains 64 -> 32 -> 16 -> 10 on the offline ``load_digits`` data (8x8 images, pixel
values 0..16 scaled to a 1/16 grid), converts it, builds HLS C++ and Verilog, and checks
QKeras == golden == csim == cosim sample by sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.frontends._tf import import_qkeras

SEED = 0
HIDDEN = (32, 16)
EPOCHS = 40


@dataclass(frozen=True)
class Digits:
    x_train: npt.NDArray[np.float32]
    y_train: npt.NDArray[np.int64]
    x_test: npt.NDArray[np.float32]
    y_test: npt.NDArray[np.int64]


def digits() -> Digits:
    """sklearn's bundled digits, split 80/20 with a fixed seed; pixels / 16 (exact in float32)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(x, data.target, test_size=0.2, random_state=SEED, stratify=data.target)
    return Digits(xtr, ytr.astype(np.int64), xte, yte.astype(np.int64))


def train_mlp(data: Digits, epochs: int = EPOCHS) -> Any:
    """A small QKeras MLP: 8-bit weights, 8-bit relu activations, an 8-bit input quantizer."""
    tf_keras, qkeras = import_qkeras()
    import tensorflow as tf

    tf_keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    q = qkeras.quantizers
    layers: list[Any] = [
        tf_keras.Input((64,), name="pixels"),
        qkeras.QActivation(q.quantized_bits(8, 1, keep_negative=False, alpha=1), name="in_quant"),
    ]
    for i, width in enumerate(HIDDEN):
        layers += [
            qkeras.QDense(
                width,
                kernel_quantizer=q.quantized_bits(8, 0, alpha=1),
                bias_quantizer=q.quantized_bits(8, 3, alpha=1),
                name=f"fc{i}",
            ),
            qkeras.QActivation(q.quantized_relu(8, 3), name=f"relu{i}"),
        ]
    layers.append(
        qkeras.QDense(
            10,
            kernel_quantizer=q.quantized_bits(8, 0, alpha=1),
            bias_quantizer=q.quantized_bits(8, 3, alpha=1),
            name="logits",
        )
    )
    model = tf_keras.Sequential(layers, name="digits_mlp")
    model.compile(
        optimizer=tf_keras.optimizers.Adam(3e-3),
        loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=32, verbose=0)
    return model


def _equal_rows(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> int:
    return int(np.sum(np.all(a == b, axis=1)))


def run(out: str | Path = "build/demo", board: str = "pynq-z2") -> dict[str, Any]:
    """Train, convert, build, simulate at every level; return the numbers the table shows."""
    import fpga_gen

    data = digits()
    model = train_mlp(data)
    graph = fpga_gen.from_qkeras(model)
    x = data.x_test
    y_qkeras = model.predict(x, verbose=0).astype(np.float64)
    y_golden = graph.predict(x)
    project = fpga_gen.build(graph, board=board, out=out)
    y_csim = project.csim(x)
    y_cosim, cosim = project.cosim(x, report=True)
    report = project.report()
    n = len(x)
    return {
        "samples": n,
        "accuracy_qkeras": float(np.mean(np.argmax(y_qkeras, axis=1) == data.y_test)),
        "accuracy_golden": float(np.mean(np.argmax(y_golden, axis=1) == data.y_test)),
        "golden_eq_qkeras": _equal_rows(y_golden, y_qkeras),
        "csim_eq_golden": _equal_rows(y_csim, y_golden),
        "cosim_eq_golden": _equal_rows(y_cosim, y_golden),
        "cycles_measured": cosim.latency_cycles,
        "cycles_predicted": report["latency_cycles"],
        "interval_measured": cosim.interval_cycles,
        "interval_predicted": report["interval_cycles"],
        "dsp": report["dsp"],
        "dsp_available": report["dsp_available"],
        "board": board,
        "out": str(project.path),
    }


def table(r: dict[str, Any]) -> str:
    n = r["samples"]
    rows = [
        ("board", r["board"]),
        ("test accuracy, QKeras", f"{r['accuracy_qkeras']:.4f}"),
        ("test accuracy, golden", f"{r['accuracy_golden']:.4f}"),
        ("golden == QKeras", f"{r['golden_eq_qkeras']} / {n}"),
        ("csim == golden", f"{r['csim_eq_golden']} / {n}"),
        ("cosim == golden", f"{r['cosim_eq_golden']} / {n}"),
        ("latency cycles (cosim / schedule)", f"{r['cycles_measured']} / {r['cycles_predicted']}"),
        ("interval cycles (cosim / schedule)", f"{r['interval_measured']} / {r['interval_predicted']}"),
        ("DSPs used / available", f"{r['dsp']} / {r['dsp_available']}"),
        ("project", r["out"]),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def all_exact(r: dict[str, Any]) -> bool:
    n = r["samples"]
    counts = (r["golden_eq_qkeras"], r["csim_eq_golden"], r["cosim_eq_golden"])
    cycles_ok = (r["cycles_measured"], r["interval_measured"]) == (r["cycles_predicted"], r["interval_predicted"])
    return all(c == n for c in counts) and cycles_ok
