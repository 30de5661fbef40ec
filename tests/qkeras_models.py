"""Seeded QKeras models for the front-end tests, importable by the hardware tests too.

Every model stays in the regime where QKeras' float32 arithmetic is exact (each
accumulation fits 24 significand bits), so ``graph.predict(x) == model.predict(x)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fpga_gen.frontends._tf import import_qkeras

tf_keras, qkeras = import_qkeras()
q = qkeras.quantizers
layers = tf_keras.layers


def randomize(model: Any, rng: np.random.Generator, scale: float = 1.5) -> None:
    """Non-trivial weights over (and a little beyond) each quantizer's range, and batchnorm statistics."""
    for layer in model.layers:
        names = [w.name.split("/")[-1].split(":")[0] for w in layer.weights]
        values = []
        for name, w in zip(names, layer.get_weights(), strict=True):
            if name == "moving_variance":
                values.append(rng.uniform(0.2, 3.0, w.shape))
            elif name == "moving_mean":
                values.append(rng.uniform(-2.0, 2.0, w.shape))
            elif name == "gamma":
                values.append(rng.uniform(0.3, 2.0, w.shape) * rng.choice([-1.0, 1.0], w.shape))
            elif name == "iteration":
                values.append(w)
            else:
                values.append(rng.uniform(-scale, scale, w.shape))
        layer.set_weights([v.astype(w.dtype) for v, w in zip(values, layer.get_weights(), strict=True)])


def functional_cnn(seed: int = 0) -> Any:
    """conv -> batchnorm -> quantized_relu -> max pool -> (1x1 conv branch + Add) -> flatten -> dense.

    Input 8x8x2 quantized to quantized_bits(6, 2); about 30 ms per 100 samples in QKeras.
    """
    rng = np.random.default_rng(seed)
    inp = tf_keras.Input((8, 8, 2), name="image")
    x = qkeras.QActivation(q.quantized_bits(6, 2, alpha=1), name="in_q")(inp)
    x = qkeras.QConv2D(
        4,
        3,
        padding="same",
        kernel_quantizer=q.quantized_bits(4, 0, alpha=1),
        bias_quantizer=q.quantized_bits(6, 2, alpha=1),
        name="conv1",
    )(x)
    x = layers.BatchNormalization(name="bn1")(x)
    x = qkeras.QActivation(q.quantized_relu(4, 2), name="relu1")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    branch = qkeras.QConv2D(4, 1, kernel_quantizer=q.quantized_bits(4, 1, alpha=1), use_bias=False, name="conv_branch")(
        x
    )
    branch = qkeras.QActivation(q.quantized_bits(6, 3, alpha=1), name="branch_q")(branch)
    x = layers.Add(name="add")([x, branch])
    x = layers.Flatten(name="flatten")(x)
    x = qkeras.QDense(
        5,
        kernel_quantizer=q.quantized_bits(4, 0, alpha=1),
        bias_quantizer=q.quantized_bits(6, 2, alpha=1),
        name="dense",
    )(x)
    model = tf_keras.Model(inp, x, name=f"cnn{seed}")
    randomize(model, rng)
    return model


def inputs_for(model: Any, n: int, seed: int, low: float = -6.0, high: float = 6.0) -> Any:
    """Float inputs spread over (and beyond) the input quantizer's range."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, (n, *model.input_shape[1:])).astype(np.float32)
