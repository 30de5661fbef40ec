"""QKeras front-end: every unsupported layer or option is refused with an error naming the layer and the fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from qkeras_models import layers, q, qkeras, randomize, tf_keras

import fpga_gen
from fpga_gen.errors import QuantizerError, UnsupportedLayerError
from fpga_gen.formats import FixedPoint
from fpga_gen.frontends import batchnorm
from fpga_gen.ir import Input, TensorSpec


def _model(shape: tuple[int, ...], body: Callable[[Any], Any]) -> Any:
    inp = tf_keras.Input(shape)
    x = qkeras.QActivation(q.quantized_bits(6, 2, alpha=1))(inp)
    return tf_keras.Model(inp, body(x))


def _conv(**kwargs: Any) -> Callable[[Any], Any]:
    return lambda x: qkeras.QConv2D(2, 3, kernel_quantizer=q.quantized_bits(4, 0, alpha=1), name="c", **kwargs)(x)


@pytest.mark.parametrize(
    ("shape", "body", "match"),
    [
        ((6, 6, 2), _conv(dilation_rate=2), r"layer c: dilation_rate.*use dilation_rate=1"),
        ((6, 6, 2), lambda x: layers.UpSampling2D(name="up")(x), r"layer up of class UpSampling2D"),
        ((6, 6, 2), lambda x: layers.Concatenate(axis=1, name="cat")([x, x]), r"layer cat: .*axis 1.*channel"),
        ((6, 6, 2), lambda x: layers.AveragePooling2D(3, name="avg")(x), r"layer avg: averaging over \[9\]"),
        ((6, 6, 2), lambda x: layers.BatchNormalization(axis=1, name="bn")(x), r"layer bn: .*axis"),
        ((6, 6, 2), lambda x: qkeras.QDense(2, name="d")(x), r"layer d: Dense needs a flat input.*Flatten"),
        ((6, 6, 2), lambda x: layers.GlobalAveragePooling2D(keepdims=True, name="g")(x), r"layer g: keepdims"),
        ((6,), lambda x: layers.Subtract(name="sub")([x, x]), r"layer sub of class Subtract"),
        ((6,), lambda x: layers.ReLU(max_value=2.0, name="r")(x), r"layer r \(ReLU\)"),
    ],
)
def test_unsupported_layers_and_options(shape: tuple[int, ...], body: Callable[[Any], Any], match: str) -> None:
    with pytest.raises(UnsupportedLayerError, match=match):
        fpga_gen.from_qkeras(_model(shape, body))


def test_channels_first_is_refused() -> None:
    model = tf_keras.Sequential([tf_keras.Input((2, 6, 6)), layers.MaxPooling2D(2, data_format="channels_first")])
    with pytest.raises(UnsupportedLayerError, match=r"channels_first.*use channels_last"):
        fpga_gen.from_qkeras(model)


def test_shared_layers_and_several_outputs_are_refused() -> None:
    inp = tf_keras.Input((4,))
    relu = layers.ReLU(name="shared")
    with pytest.raises(UnsupportedLayerError, match=r"shared.*called 2 times"):
        fpga_gen.from_qkeras(tf_keras.Model(inp, layers.Add()([relu(inp), relu(inp)])))
    with pytest.raises(UnsupportedLayerError, match="2 outputs"):
        fpga_gen.from_qkeras(tf_keras.Model(inp, [layers.ReLU()(inp), layers.ReLU()(inp)]))


@pytest.mark.parametrize(
    ("quantizer", "match"),
    [
        (lambda: q.stochastic_ternary(), r"layer c: kernel quantizer stochastic_ternary is not supported"),
        (lambda: q.quantized_bits(4, 0, alpha=0.75), r"layer c: quantized_bits alpha=0.75"),
        (lambda: q.quantized_bits(4, 0, alpha=1, use_stochastic_rounding=True), r"layer c: stochastic rounding"),
    ],
)
def test_unsupported_kernel_quantizers(quantizer: Callable[[], Any], match: str) -> None:
    model = _model((5, 5, 2), lambda x: qkeras.QConv2D(2, 3, kernel_quantizer=quantizer(), name="c")(x))
    randomize(model, np.random.default_rng(0))
    with pytest.raises(QuantizerError, match=match):
        fpga_gen.from_qkeras(model)


def test_auto_bias_quantizer_is_refused() -> None:
    # alpha='auto' kernels are a reported approximation (test_qkeras_auto.py); a bias has no scale to split off
    auto = q.quantized_bits(4, 0, alpha="auto")
    model = _model((5, 5, 2), lambda x: qkeras.QConv2D(2, 3, kernel_quantizer=auto, bias_quantizer=auto, name="c")(x))
    randomize(model, np.random.default_rng(0))
    with pytest.raises(QuantizerError, match=r"layer c: quantized_bits\(alpha='auto'\) is supported for kernels only"):
        fpga_gen.from_qkeras(model)


def test_batchnorm_before_an_unsupported_quantizer_is_refused() -> None:
    model = _model(
        (4,),
        lambda x: qkeras.QActivation(q.quantized_relu(4, 1, negative_slope=0.25), name="leaky")(
            layers.BatchNormalization()(x)
        ),
    )
    with pytest.raises(QuantizerError, match="layer leaky: quantized_relu negative_slope"):
        fpga_gen.from_qkeras(model)


def test_threshold_search_refuses_a_map_that_is_not_monotone() -> None:
    import tensorflow as tf

    bn = layers.BatchNormalization(name="bn")
    bn.build((None, 2))
    src = Input(name="input", output=TensorSpec((2,), FixedPoint(6, 3)))
    fmt = FixedPoint(4, 1, rounding="RND_CONV", overflow="SAT")
    wavy = lambda y: tf.round(tf.sin(y * 2.0) * 4.0) / 4.0  # noqa: E731  (a stand-in "quantizer")
    with pytest.raises(QuantizerError, match="layer bn: batchnorm \\+ quantizer is not a monotone"):
        batchnorm.threshold("bn", bn, wavy, src, fmt)
