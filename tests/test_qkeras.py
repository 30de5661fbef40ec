"""QKeras front-end: graph.predict(x) == model.predict(x), exactly, on random models."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

import fpga_gen
from fpga_gen.errors import QuantizerError, UnsupportedLayerError
from fpga_gen.formats import FixedPoint
from fpga_gen.frontends._tf import import_qkeras
from fpga_gen.ir import Activation, Dense

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
tf_keras, qkeras = import_qkeras()
q = qkeras.quantizers


def _randomize(model: Any, rng: np.random.Generator) -> None:
    """Non-trivial weights spread over (and a little beyond) each quantizer's range."""
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([rng.uniform(-1.5, 1.5, w.shape).astype(np.float32) for w in weights])


def _random_qkeras_mlp(seed: int) -> Any:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 24, size=rng.integers(2, 5))
    in_bits = int(rng.integers(4, 9))
    layers: list[Any] = [
        tf_keras.Input((int(sizes[0]),)),
        qkeras.QActivation(
            q.quantized_bits(in_bits, int(rng.integers(0, 3)), keep_negative=bool(rng.integers(2)), alpha=1)
        ),
    ]
    for i, width in enumerate(sizes[1:]):
        last = i == len(sizes) - 2
        bits, integer = int(rng.integers(3, 9)), int(rng.integers(0, 2))
        alpha = [1, None][int(rng.integers(2))]
        use_bias = bool(rng.integers(4))  # mostly with bias
        layers.append(
            qkeras.QDense(
                int(width),
                kernel_quantizer=q.quantized_bits(bits, integer, alpha=alpha),
                bias_quantizer=q.quantized_bits(int(rng.integers(4, 10)), int(rng.integers(0, 4)), alpha=1)
                if use_bias
                else None,
                use_bias=use_bias,
            )
        )
        if last:
            if rng.integers(2):
                layers.append(
                    qkeras.QActivation(q.quantized_bits(int(rng.integers(4, 12)), int(rng.integers(2, 6)), alpha=1))
                )
        elif rng.integers(2):
            layers.append(qkeras.QActivation(q.quantized_relu(int(rng.integers(3, 9)), int(rng.integers(0, 4)))))
        else:
            layers.append(qkeras.QActivation(f"quantized_bits({int(rng.integers(4, 9))},{int(rng.integers(1, 4))},1)"))
    model = tf_keras.Sequential(layers)
    _randomize(model, rng)
    return model


@pytest.mark.parametrize("seed", range(12))
def test_random_qkeras_mlps_are_bit_exact(seed: int) -> None:
    model = _random_qkeras_mlp(seed)
    graph = fpga_gen.from_qkeras(model)
    rng = np.random.default_rng(100 + seed)
    x = rng.uniform(-4, 4, (500, model.input_shape[1])).astype(np.float32)
    expected = model.predict(x, verbose=0).astype(np.float64)
    assert np.array_equal(graph.predict(x), expected)


def test_qdense_activation_argument_and_plain_keras_layers() -> None:
    rng = np.random.default_rng(5)
    model = tf_keras.Sequential(
        [
            tf_keras.Input((6,)),
            qkeras.QActivation(q.quantized_bits(6, 2, alpha=1)),
            qkeras.QDense(
                5,
                kernel_quantizer=q.quantized_bits(6, 0, alpha=1),
                bias_quantizer=q.quantized_bits(6, 2, alpha=1),
                activation="quantized_relu(5,2)",
            ),
            tf_keras.layers.Dropout(0.3),
            tf_keras.layers.Dense(4, activation="relu"),  # float weights set on a 1/8 grid below
            qkeras.QActivation(q.quantized_bits(8, 4, alpha=1)),
        ]
    )
    _randomize(model, rng)
    dense = model.layers[-2]
    dense.set_weights([np.round(w * 8) / 8 for w in dense.get_weights()])
    graph = fpga_gen.from_qkeras(model)
    kinds = [l.kind for l in graph.layers]
    assert kinds == ["Input", "Dense", "Activation", "Dense", "Activation", "Activation", "Output"]
    act = graph.layers[2]
    assert (
        isinstance(act, Activation)
        and act.function == "relu"
        and act.output.format == FixedPoint(5, 2, False, "RND_CONV", "SAT")
    )
    x = rng.uniform(-3, 3, (300, 6)).astype(np.float32)
    assert np.array_equal(graph.predict(x), model.predict(x, verbose=0).astype(np.float64))


def test_default_input_format_without_input_quantizer() -> None:
    model = tf_keras.Sequential(
        [tf_keras.Input((3,)), qkeras.QDense(2, kernel_quantizer=q.quantized_bits(4, 0, alpha=1), use_bias=False)]
    )
    graph = fpga_gen.from_qkeras(model)
    assert str(graph.input.output.format) == "fixed<16,6>"
    graph2 = fpga_gen.from_qkeras(model, input_format="fixed<8,2>")
    assert str(graph2.input.output.format) == "fixed<8,2>"


def test_unsupported_layer_names_layer_and_class() -> None:
    model = tf_keras.Sequential([tf_keras.Input((8, 8, 1)), tf_keras.layers.ZeroPadding2D(1, name="my_pad")])
    with pytest.raises(UnsupportedLayerError, match=r"my_pad.*ZeroPadding2D"):
        fpga_gen.from_qkeras(model)


@pytest.mark.parametrize(
    ("quantizer", "match"),
    [
        (lambda: q.quantized_relu(4, 1, negative_slope=0.25), "negative_slope"),
        (lambda: q.quantized_bits(4, 1, alpha=1, use_stochastic_rounding=True), "stochastic"),
        (lambda: q.quantized_bits(1, 0, alpha=1), "sign function"),
        (lambda: q.ternary(), "ternary"),
    ],
)
def test_unsupported_quantizer_options(quantizer: Any, match: str) -> None:
    model = tf_keras.Sequential([tf_keras.Input((4,)), qkeras.QActivation(quantizer(), name="act_q")])
    with pytest.raises(QuantizerError, match=match):
        fpga_gen.from_qkeras(model)


def test_float_weights_that_need_too_many_bits_are_refused() -> None:
    model = tf_keras.Sequential(
        [
            tf_keras.Input((4,)),
            qkeras.QActivation(q.quantized_bits(8, 2, alpha=1)),
            tf_keras.layers.Dense(3, name="float_dense"),
        ]
    )
    model.layers[-1].set_weights([np.full((4, 3), 0.1, np.float32), np.zeros(3, np.float32)])
    with pytest.raises(QuantizerError, match="float_dense"):
        fpga_gen.from_qkeras(model)


def test_dense_weights_keep_the_quantizer_format() -> None:
    model = tf_keras.Sequential(
        [
            tf_keras.Input((4,)),
            qkeras.QActivation(q.quantized_bits(8, 2, alpha=1)),
            qkeras.QDense(
                3, kernel_quantizer=q.quantized_bits(6, 1, alpha=1), bias_quantizer=q.quantized_bits(8, 3, alpha=1)
            ),
        ]
    )
    _randomize(model, np.random.default_rng(1))
    dense = fpga_gen.from_qkeras(model).layers[1]
    assert isinstance(dense, Dense)
    assert str(dense.weight.format) == "fixed<6,2,RND_CONV,SAT>"
    assert str(dense.bias_format) == "fixed<8,4,RND_CONV,SAT>"
