"""QKeras front-end, full layer set: graph.predict(x) == model.predict(x) (np.array_equal) on random models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from qkeras_models import functional_cnn, inputs_for, layers, q, qkeras, randomize, tf_keras

import fpga_gen
from fpga_gen.formats import Binary, Ternary
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import Conv, MatMul, Pool, ScaleShift, Threshold

# Kernel quantizers of every supported kind; alpha=None becomes 'auto_po2' inside QConv/QDense.
# QKeras' separable layers call one unseeded initializer twice; harmless here (weights are randomized)
pytestmark = pytest.mark.filterwarnings("ignore:The initializer .* is unseeded")

KERNEL_QUANTIZERS = [
    lambda: q.quantized_bits(4, 0, alpha=1),
    lambda: q.quantized_bits(4, 1, alpha=None),
    lambda: q.quantized_bits(5, 0, alpha="auto_po2"),
    lambda: q.ternary(),
    lambda: q.ternary(alpha=1, threshold=0.5),
    lambda: q.binary(),
    lambda: q.binary(alpha=1),
    lambda: q.quantized_po2(4),
]


def _assert_bit_exact(model: Any, seed: int, n: int = 200) -> fpga_gen.Graph:
    graph = fpga_gen.from_qkeras(model)
    x = inputs_for(model, n, seed)
    expected = model.predict(x, verbose=0).astype(np.float64)
    assert np.array_equal(graph.predict(x), expected)
    return graph


def _quantize_after(x: Any, rng: np.random.Generator, name: str) -> Any:
    """Keep every accumulation inside float32's exact range: a quantizer after each block."""
    choice = int(rng.integers(3))
    if choice == 0:
        return qkeras.QActivation(q.quantized_relu(int(rng.integers(3, 6)), int(rng.integers(1, 3))), name=name)(x)
    if choice == 1:
        return qkeras.QActivation(q.quantized_bits(int(rng.integers(4, 7)), 2, alpha=1), name=name)(x)
    bn = (layers.BatchNormalization if rng.integers(2) else qkeras.QBatchNormalization)(name=f"{name}_bn")(x)
    return qkeras.QActivation(q.quantized_relu(4, 2), name=name)(bn)


def _random_conv_model(seed: int, rank: int) -> Any:
    rng = np.random.default_rng(seed)
    shape = (16, 3) if rank == 1 else (9, 9, 2)
    inp = tf_keras.Input(shape)
    x = qkeras.QActivation(q.quantized_bits(int(rng.integers(4, 7)), 2, alpha=1), name="in_q")(inp)
    size = shape[0]
    for block in range(2):
        kind = ["conv", "depthwise", "separable"][int(rng.integers(3))]
        padding = "same" if rng.integers(2) else "valid"
        strides = 1 + int(rng.integers(2)) if size >= 6 else 1
        kq = KERNEL_QUANTIZERS[int(rng.integers(len(KERNEL_QUANTIZERS)))]
        args: dict[str, Any] = {"padding": padding, "strides": strides, "name": f"conv{block}"}
        args["use_bias"] = bool(rng.integers(3))
        if args["use_bias"]:
            args["bias_quantizer"] = q.quantized_bits(6, 2, alpha=1)
        filters = int(rng.integers(2, 5))
        own_activation = rng.integers(4) == 0  # the layer's activation argument as its quantizer
        if own_activation:
            args["activation"] = q.quantized_relu(4, 2)
        if kind == "conv":
            cls = qkeras.QConv1D if rank == 1 else qkeras.QConv2D
            x = cls(filters, 3, kernel_quantizer=kq(), **args)(x)
        elif kind == "depthwise" and rank == 2:
            x = qkeras.QDepthwiseConv2D(3, depth_multiplier=int(rng.integers(1, 3)), depthwise_quantizer=kq(), **args)(
                x
            )
        else:
            cls = qkeras.QSeparableConv1D if rank == 1 else qkeras.QSeparableConv2D
            x = cls(filters, 3, depthwise_quantizer=kq(), pointwise_quantizer=kq(), **args)(x)
        if not own_activation:
            x = _quantize_after(x, rng, f"act{block}")
        size = x.shape[1]
        if size >= 4 and rng.integers(2):
            pool_cls = [layers.MaxPooling1D, layers.AveragePooling1D, layers.MaxPooling2D, layers.AveragePooling2D]
            x = pool_cls[2 * (rank - 1) + int(rng.integers(2))](2, padding="same", name=f"pool{block}")(x)
            size = x.shape[1]
    if rng.integers(2):
        x = layers.Flatten()(x)
    else:
        x = (layers.GlobalAveragePooling1D if rank == 1 else layers.GlobalAveragePooling2D)()(x)
        x = qkeras.QActivation(q.quantized_bits(6, 2, alpha=1))(x)
    x = qkeras.QDense(3, kernel_quantizer=q.quantized_bits(4, 0, alpha=1), use_bias=False)(x)
    model = tf_keras.Model(inp, x, name=f"rand{rank}d{seed}")
    randomize(model, rng)
    return model


@pytest.mark.parametrize("seed", range(3))
def test_shared_functional_cnn_is_bit_exact(seed: int) -> None:
    graph = _assert_bit_exact(functional_cnn(seed), seed)
    kinds = [l.kind for l in graph.layers]
    assert kinds == [
        "Input", "Conv2D", "Threshold", "Pool", "Conv2D", "Activation", "Add", "Reshape", "Dense", "Output"
    ]  # fmt: skip


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("seed", range(6))
def test_random_conv_models_are_bit_exact(seed: int, rank: int) -> None:
    _assert_bit_exact(_random_conv_model(seed, rank), seed)


@pytest.mark.parametrize("cls", ["QConv2DBatchnorm", "QDepthwiseConv2DBatchnorm"])
def test_folded_batchnorm_layers_are_bit_exact(cls: str) -> None:
    rng = np.random.default_rng(7)
    inp = tf_keras.Input((7, 7, 3))
    x = qkeras.QActivation(q.quantized_bits(6, 2, alpha=1))(inp)
    common = {"padding": "same", "bias_quantizer": q.quantized_bits(8, 3, alpha=1), "name": "folded"}
    if cls == "QConv2DBatchnorm":
        x = qkeras.QConv2DBatchnorm(4, 3, kernel_quantizer=q.quantized_bits(5, 1, alpha=1), **common)(x)
    else:
        x = qkeras.QDepthwiseConv2DBatchnorm(3, depthwise_quantizer=q.quantized_bits(5, 1, alpha=1), **common)(x)
    x = qkeras.QActivation(q.quantized_relu(5, 2))(x)
    model = tf_keras.Model(inp, x)
    randomize(model, rng)
    graph = _assert_bit_exact(model, 7)
    assert [l.kind for l in graph.layers][1] in ("Conv2D", "DepthwiseConv2D")


def test_concatenate_branches_and_plain_keras_layers() -> None:
    rng = np.random.default_rng(3)
    inp = tf_keras.Input((10, 2))
    x = qkeras.QActivation(q.quantized_bits(5, 2, alpha=1))(inp)
    a = qkeras.QConv1D(3, 3, padding="same", kernel_quantizer=q.quantized_bits(4, 0, alpha=1), name="a")(x)
    a = qkeras.QActivation("quantized_relu(4,2)")(a)
    b = layers.Conv1D(2, 1, name="b", activation="relu")(x)  # float weights, set on a 1/4 grid below
    b = layers.Dropout(0.5)(b)
    x = layers.Concatenate()([a, b, x])
    x = layers.MaxPooling1D(3, strides=2, padding="same")(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((5, 7))(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = qkeras.QDense(2, kernel_quantizer=q.quantized_bits(4, 1, alpha=1), use_bias=False)(x)
    model = tf_keras.Model(inp, x)
    randomize(model, rng)
    conv_b = model.get_layer("b")
    conv_b.set_weights([np.round(w * 4) / 4 for w in conv_b.get_weights()])
    graph = _assert_bit_exact(model, 3)
    assert "Concatenate" in [l.kind for l in graph.layers]


def test_depthwise_1d_and_causal_padding() -> None:
    rng = np.random.default_rng(4)
    inp = tf_keras.Input((12, 3))
    x = qkeras.QActivation(q.quantized_bits(5, 2, alpha=1))(inp)
    x = layers.DepthwiseConv1D(3, depth_multiplier=2, padding="same", name="dw")(x)
    x = qkeras.QConv1D(
        2, 3, padding="causal", kernel_quantizer=q.quantized_bits(4, 0, alpha=1), use_bias=False, name="causal"
    )(x)
    model = tf_keras.Model(inp, x)
    randomize(model, rng)
    dw = model.get_layer("dw")
    dw.set_weights([np.round(w * 8) / 8 for w in dw.get_weights()])
    graph = _assert_bit_exact(model, 4)
    causal = graph["causal"]
    assert isinstance(causal, Conv) and causal.padding == ((2, 0),)


def test_average_pooling_rounds_once_into_the_following_quantizer() -> None:
    rng = np.random.default_rng(5)
    inp = tf_keras.Input((7, 7, 2))
    x = qkeras.QActivation(q.quantized_bits(6, 2, alpha=1))(inp)
    x = layers.AveragePooling2D(3, strides=2, padding="same", name="avg")(x)  # windows of 9, 6 and 4
    x = qkeras.QActivation(q.quantized_relu(5, 2), name="avg_q")(x)
    x = layers.AveragePooling2D(2, name="avg2")(x)  # exact: quarters need two more bits
    model = tf_keras.Model(inp, x)
    randomize(model, rng)
    graph = _assert_bit_exact(model, 5, n=400)
    avg = graph["avg"]
    assert isinstance(avg, Pool) and str(avg.output.format) == "ufixed<5,2,RND_CONV,SAT>"
    assert str(graph["avg2"].output.format) == "ufixed<7,2>"


@pytest.mark.parametrize("seed", range(3))
def test_batchnorm_thresholds_with_negative_and_zero_gamma(seed: int) -> None:
    rng = np.random.default_rng(seed)
    inp = tf_keras.Input((6,))
    x = qkeras.QActivation(q.quantized_bits(6, 2, alpha=1))(inp)
    x = qkeras.QDense(5, kernel_quantizer=q.quantized_bits(4, 0, alpha=1), use_bias=False)(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = qkeras.QActivation(q.quantized_bits(4, 1, alpha=1))(x)
    model = tf_keras.Model(inp, x)
    randomize(model, rng)
    bn = model.get_layer("bn")
    gamma, beta, mean, var = bn.get_weights()
    gamma[:3] = [-1.25, 0.0, 2.5]  # decreasing, constant and steep channels
    bn.set_weights([gamma, beta, mean, var])
    graph = _assert_bit_exact(model, seed, n=500)
    thr = graph["bn"]
    assert isinstance(thr, Threshold)
    values = thr.values.values
    assert np.all(np.diff(values[0]) <= 0) and np.all(np.diff(values[2]) >= 0)
    assert np.unique(graph.predict(inputs_for(model, 500, seed))[:, 1]).size == 1


def test_batchnorm_without_quantizer_is_a_reported_approximation() -> None:
    rng = np.random.default_rng(9)
    inp = tf_keras.Input((5, 5, 2))
    x = qkeras.QActivation(q.quantized_bits(6, 2, alpha=1))(inp)
    x = qkeras.QConv2D(3, 3, kernel_quantizer=q.quantized_bits(4, 0, alpha=1), name="conv")(x)
    x = layers.BatchNormalization(name="bn")(x)
    model = tf_keras.Model(inp, x)
    randomize(model, rng)
    graph = fpga_gen.from_qkeras(model)
    x_in = inputs_for(model, 300, 9)
    got, report = graph.predict(x_in, report=True)
    assert report.approximations == ("float32 BatchNormalization bn",)
    layer = graph["bn"]
    assert isinstance(layer, ScaleShift)
    # bound: the rounding of scale (half an LSB, times |x|) and of shift (half an LSB), plus float32's own rounding
    conv_out = tf_keras.Model(model.input, model.get_layer("conv").output).predict(x_in, verbose=0)
    scale_lsb = 2.0 ** -exact_fixed(layer.scale.format).frac
    shift_lsb = 2.0 ** -exact_fixed(layer.shift.format).frac
    expected = model.predict(x_in, verbose=0).astype(np.float64)
    bound = float(np.max(np.abs(conv_out))) * scale_lsb / 2 + shift_lsb / 2 + 2.0**-20 * float(np.max(np.abs(expected)))
    assert np.max(np.abs(got - expected)) <= bound
    assert not np.array_equal(got, expected)  # it really is an approximation


def test_ternary_and_binary_kernels_keep_per_channel_scales() -> None:
    rng = np.random.default_rng(11)
    inp = tf_keras.Input((6, 6, 2))
    x = qkeras.QActivation(q.quantized_bits(5, 2, alpha=1))(inp)
    x = qkeras.QConv2D(4, 3, kernel_quantizer=q.ternary(alpha="auto_po2"), use_bias=False, name="t")(x)
    x = qkeras.QActivation(q.quantized_bits(6, 3, alpha=1))(x)
    x = layers.Flatten()(x)
    x = qkeras.QDense(3, kernel_quantizer=q.binary(alpha="auto_po2"), use_bias=False, name="b")(x)
    model = tf_keras.Model(inp, x)
    randomize(model, rng)
    model.get_layer("t").set_weights([w * np.array([0.2, 1.0, 3.0, 0.6]) for w in model.get_layer("t").get_weights()])
    graph = _assert_bit_exact(model, 11)
    t, b = graph["t"], graph["b"]
    assert isinstance(t, MatMul) and isinstance(t.weight.format, Ternary) and t.weight.format.per_channel
    assert isinstance(b, MatMul) and isinstance(b.weight.format, Binary)
