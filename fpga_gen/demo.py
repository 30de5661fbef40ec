"""The bundled end-to-end example: a QKeras MLP and a QKeras CNN on sklearn's digits.

Trains an MLP 64 -> 32 -> 16 -> 10 and a CNN 8x8x1 -> conv 3x3x4 -> max pool 2x2 -> 10 on
the offline ``load_digits`` data (8x8 images, pixel values 0..16 scaled to a 1/16 grid),
converts them, builds HLS C++ and Verilog, and checks QKeras == golden == csim == cosim
sample by sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.formats import Format, MiniFloat, Ternary, parse_format
from fpga_gen.frontends._tf import import_qkeras
from fpga_gen.ir import Graph, identifier
from fpga_gen.ir.builder import GraphBuilder

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


def train_cnn(data: Digits, epochs: int = EPOCHS) -> Any:
    """A small QKeras CNN on the 8x8 images: 8-bit conv 3x3 (4 filters, 'same'), relu, max pool, dense.

    Its widest accumulator (the dense layer: 64 products of 8 x 8 bits) stays below 24
    bits, so QKeras' float32 arithmetic is exact and golden == QKeras holds bit for bit.
    """
    tf_keras, qkeras = import_qkeras()
    import tensorflow as tf

    tf_keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    q = qkeras.quantizers
    weights = {"kernel_quantizer": q.quantized_bits(8, 0, alpha=1), "bias_quantizer": q.quantized_bits(8, 3, alpha=1)}
    model = tf_keras.Sequential(
        [
            tf_keras.Input((8, 8, 1), name="image"),
            qkeras.QActivation(q.quantized_bits(8, 1, keep_negative=False, alpha=1), name="in_quant"),
            qkeras.QConv2D(4, 3, padding="same", name="conv", **weights),
            qkeras.QActivation(q.quantized_relu(8, 3), name="relu"),
            tf_keras.layers.MaxPooling2D(2, name="pool"),
            tf_keras.layers.Flatten(name="flatten"),
            qkeras.QDense(10, name="logits", **weights),
        ],
        name="digits_cnn",
    )
    model.compile(
        optimizer=tf_keras.optimizers.Adam(3e-3),
        loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(images(data.x_train), data.y_train, epochs=epochs, batch_size=32, verbose=0)
    return model


def images(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Flat 64-pixel rows -> (n, 8, 8, 1) channels-last images."""
    return x.reshape(-1, 8, 8, 1)


@dataclass(frozen=True)
class Variant:
    """A hand-quantized version of the trained MLP: a format for each kind of tensor.

    Minifloats get a per-tensor bias from the tensor's range (``MiniFloat.covering``,
    activations calibrated on the training set); ``ternary`` gets a per-tensor scale.
    The logits stay exact accumulators: a classifier takes their argmax, which needs no
    rounding (and a 4-bit rounding would create ties).
    """

    name: str
    input: str
    weights: str
    bias: str
    activations: str


VARIANTS = (
    Variant(
        "e4m3 weights, fixed<8,3> activations",
        "ufixed<8,1,RND_CONV,SAT>",
        "e4m3",
        "fixed<16,6>",
        "ufixed<8,3,RND_CONV,SAT>",
    ),
    Variant("e2m1 weights and activations", "e2m1", "e2m1", "e2m1", "e2m1"),
    Variant(
        "ternary weights, fixed<8,3> activations",
        "ufixed<8,1,RND_CONV,SAT>",
        "ternary",
        "fixed<16,6>",
        "ufixed<8,3,RND_CONV,SAT>",
    ),
    Variant("e5m2 everywhere", "e5m2", "e5m2", "e5m2", "e5m2"),
)


def _fitted(name: str, values: npt.NDArray[Any]) -> Format:
    """The format ``name`` scaled to ``values``: a minifloat's bias, a ternary scale."""
    top = float(np.max(np.abs(values)))
    if name == "ternary":
        # Ternary weight networks (Li et al. 2016): threshold 0.7 * mean |w|, scale = mean of
        # the kept magnitudes, here rounded to 4 significant bits so it is a fixed-point constant.
        mags = np.abs(values)
        kept = mags[mags > 0.7 * np.mean(mags)]
        mantissa, exponent = np.frexp(np.mean(kept))
        return Ternary(float(np.ldexp(np.round(np.ldexp(mantissa, 4)), exponent - 4)))
    fmt = parse_format(name)
    return fmt.covering(top) if isinstance(fmt, MiniFloat) and top > 0 else fmt


def hand_quantized(model: Any, variant: Variant, calibration: npt.NDArray[np.float32]) -> Graph:
    """Rebuild the trained model's float weights in ``variant``'s formats (no retraining)."""
    dense = [layer for layer in model.layers if type(layer).__name__ == "QDense"]
    h = calibration.astype(np.float64)
    builder = GraphBuilder(f"digits_{identifier(variant.name)}", (h.shape[1],), _fitted(variant.input, h))
    for i, layer in enumerate(dense):
        w, b = (np.asarray(v, dtype=np.float64) for v in (layer.kernel, layer.bias))
        builder.dense(w, _fitted(variant.weights, w), b, _fitted(variant.bias, b), name=f"fc{i}")
        h = h @ w + b
        if i < len(dense) - 1:
            h = np.maximum(h, 0.0)
            builder.activation("relu", _fitted(variant.activations, h), name=f"relu{i}")
    return builder.build()


def _equal_rows(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> int:
    return int(np.sum(np.all(a == b, axis=1)))


def _measure(
    name: str, graph: Graph, x: npt.NDArray[np.float32], labels: npt.NDArray[np.int64], out: Path, board: str
) -> dict[str, Any]:
    """Build ``graph`` and run golden, csim and cosim on the test set."""
    import fpga_gen

    y_golden = graph.predict(x)
    project = fpga_gen.build(graph, board=board, out=out)
    y_csim = project.csim(x)
    y_cosim, cosim = project.cosim(x, report=True)
    report = project.report()
    return {
        "model": name,
        "samples": len(x),
        "accuracy": float(np.mean(np.argmax(y_golden, axis=1) == labels)),
        "csim_eq_golden": _equal_rows(y_csim, y_golden),
        "cosim_eq_golden": _equal_rows(y_cosim, y_golden),
        "cycles": (cosim.latency_cycles, report["latency_cycles"]),
        "interval": (cosim.interval_cycles, report["interval_cycles"]),
        "dsp": report["totals"]["need"]["dsp"],
        "project": str(project.path),
    }


def _qkeras_row(
    name: str, model: Any, x: npt.NDArray[np.float32], labels: npt.NDArray[np.int64], out: Path, board: str
) -> dict[str, Any]:
    """Convert a QKeras model, measure it, and compare the golden model with QKeras itself."""
    import fpga_gen

    graph = fpga_gen.from_qkeras(model)
    row = _measure(name, graph, x, labels, out, board)
    y_qkeras = model.predict(x, verbose=0).astype(np.float64)
    row["accuracy_qkeras"] = float(np.mean(np.argmax(y_qkeras, axis=1) == labels))
    row["golden_eq_qkeras"] = _equal_rows(graph.predict(x), y_qkeras)
    return row


def run(out: str | Path = "build/demo", board: str = "pynq-z2", variants: bool = True) -> dict[str, Any]:
    """Train, convert, build and simulate the QKeras MLP and CNN (and the MLP's format variants)."""
    import fpga_gen

    data = digits()
    root = Path(out)
    mlp = train_mlp(data)
    rows = [
        _qkeras_row("QKeras MLP (fixed point)", mlp, data.x_test, data.y_test, root / "mlp", board),
        _qkeras_row("QKeras CNN (fixed point)", train_cnn(data), images(data.x_test), data.y_test, root / "cnn", board),
    ]
    for variant in VARIANTS if variants else ():
        quantized = hand_quantized(mlp, variant, data.x_train)
        rows.append(
            _measure(variant.name, quantized, data.x_test, data.y_test, root / "variants" / quantized.name, board)
        )
    spec = fpga_gen.boards.load(board)
    return {"board": f"{spec.name} ({spec.part}, {spec.dsp} {spec.dsp_kind})", "rows": rows}


def table(result: dict[str, Any]) -> str:
    rows = result["rows"]
    n = rows[0]["samples"]
    lines = [f"board: {result['board']}", ""]
    header = (
        "model",
        "accuracy",
        "golden==QKeras",
        "csim==golden",
        "cosim==golden",
        "latency cosim/sched",
        "II cosim/sched",
        "DSP",
    )
    body = [
        (
            r["model"],
            f"{r['accuracy']:.4f}",
            f"{r['golden_eq_qkeras']}/{n}" if "golden_eq_qkeras" in r else "-",
            f"{r['csim_eq_golden']}/{n}",
            f"{r['cosim_eq_golden']}/{n}",
            "{}/{}".format(*r["cycles"]),
            "{}/{}".format(*r["interval"]),
            str(r["dsp"]),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in (header, *body)) for i in range(len(header))]
    for row in (header, *body):
        lines.append(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    lines.append("")
    lines += [f"HLS project (Vitis HLS) of {r['model']}: {r['project']}/hls" for r in rows if "golden_eq_qkeras" in r]
    return "\n".join(lines)


def all_exact(result: dict[str, Any]) -> bool:
    rows = result["rows"]
    n = rows[0]["samples"]
    exact = all(r["csim_eq_golden"] == r["cosim_eq_golden"] == r.get("golden_eq_qkeras", n) == n for r in rows)
    cycles = all(r["cycles"][0] == r["cycles"][1] and r["interval"][0] == r["interval"][1] for r in rows)
    return exact and cycles
