"""QKeras quantized_bits(alpha='auto') kernels: an exact integer-grid MatMul, then a reported ScaleShift.

QKeras multiplies by float32 kernels w ~= s_c * g (g on the quantizer's grid, s_c a float32
per-channel scale) and sums in float32; fpga_gen computes acc = x @ g exactly and then
s^_c * acc + b^ with s^ the scale rounded into fixed<18, I> and b^ the bias on the shift grid.
For an output of channel c with fan-in n and inputs |x| <= X, the two differ by at most

    X * (ds * sum|g| + sum|w - s_c g| + gamma_{n+1} * sum|w|) + gamma_{n+1} * |b_c| + dsh

with sums over channel c's kernel, ds / dsh half an LSB of the scale / shift format and
gamma_k = k u / (1 - k u), u = 2**-24 (the float32 rounding of any order of n + 1 additions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from qkeras_models import inputs_for, layers, q, qkeras, randomize, tf_keras

import fpga_gen
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.frontends.qkeras_quantizers import quantized
from fpga_gen.ir import MatMul, ScaleShift

# quantized_bits(6, 2) inputs lie in [-4, 3.875]
INPUT_BOUND = 4.0
U = 2.0**-24


def _auto() -> Any:
    return q.quantized_bits(6, 0, alpha="auto")


def _single_layer(kind: str) -> tuple[Any, Callable[[Any], Any], int]:
    """(model, per-output-channel sum over a kernel's fan-in, fan-in) for one alpha='auto' layer."""
    rng = np.random.default_rng(11)
    bias = {"bias_quantizer": q.quantized_bits(8, 3, alpha=1), "name": "layer"}
    if kind == "dense":
        inp = tf_keras.Input((24,))
        make = qkeras.QDense(6, kernel_quantizer=_auto(), **bias)
        fan_in = 24
    elif kind == "conv2d":
        inp = tf_keras.Input((7, 7, 3))
        make = qkeras.QConv2D(5, 3, padding="same", kernel_quantizer=_auto(), **bias)
        fan_in = 27
    else:
        inp = tf_keras.Input((7, 7, 3))
        make = qkeras.QDepthwiseConv2D(3, depth_multiplier=2, depthwise_quantizer=_auto(), **bias)
        fan_in = 9
    model = tf_keras.Model(inp, make(qkeras.QActivation(q.quantized_bits(6, 2, alpha=1))(inp)))
    randomize(model, rng)
    if kind == "depthwise":  # (kh, kw, cin, mult) -> output channel cin * mult + j
        return model, lambda a: a.sum(axis=(0, 1)).reshape(-1), fan_in
    return model, lambda a: a.reshape(-1, a.shape[-1]).sum(axis=0), fan_in


@pytest.mark.parametrize("kind", ["dense", "conv2d", "depthwise"])
def test_auto_kernel_is_within_the_derived_bound(kind: str) -> None:
    model, per_channel, fan_in = _single_layer(kind)
    graph = fpga_gen.from_qkeras(model)
    assert [l.kind for l in graph.layers][2] == "ScaleShift"
    x = inputs_for(model, 100, 1)
    got, report = graph.predict(x, report=True)
    assert report.approximations == ("float32 alpha='auto' kernel scale of layer",)
    expected = model.predict(x, verbose=0).astype(np.float64)

    klayer = model.get_layer("layer")
    kernel_q = klayer.depthwise_quantizer_internal if kind == "depthwise" else klayer.kernel_quantizer_internal
    w = quantized(klayer.depthwise_kernel if kind == "depthwise" else klayer.kernel, kernel_q)
    s = np.asarray(kernel_q.scale, dtype=np.float64)  # after the call above, broadcasting over w
    matmul, ss = graph["layer"], graph["layer_scale"]
    assert isinstance(matmul, MatMul) and matmul.bias is None and isinstance(ss, ScaleShift)
    g = matmul.weight.values
    ds = 2.0 ** -(exact_fixed(ss.scale.format).frac + 1)
    dsh = 2.0 ** -(exact_fixed(ss.shift.format).frac + 1)
    gamma = (fan_in + 1) * U / (1 - (fan_in + 1) * U)
    bound = (
        INPUT_BOUND * (ds * per_channel(np.abs(g)) + per_channel(np.abs(w - s * g)) + gamma * per_channel(np.abs(w)))
        + gamma * np.abs(klayer.bias.numpy().astype(np.float64))
        + dsh
    )
    err = np.abs(got - expected)
    assert np.all(err <= bound)
    # the bound is tight enough to mean something: far below the outputs' spread
    assert float(np.max(bound)) < 1e-3 * float(np.max(np.abs(expected)))


def _auto_cnn(seed: int) -> Any:
    """conv -> quantized_relu -> separable -> quantized_relu -> flatten -> dense (quantized_relu) -> dense,
    every kernel alpha='auto'; the quantizers between them may round a near-tie the other way."""
    rng = np.random.default_rng(seed)
    inp = tf_keras.Input((8, 8, 2))
    x = qkeras.QActivation(q.quantized_bits(6, 2, alpha=1))(inp)
    x = qkeras.QConv2D(4, 3, kernel_quantizer=_auto(), bias_quantizer=q.quantized_bits(8, 3, alpha=1))(x)
    x = qkeras.QActivation(q.quantized_relu(6, 2))(x)
    x = qkeras.QSeparableConv2D(4, 3, depthwise_quantizer=_auto(), pointwise_quantizer=_auto(), use_bias=False)(x)
    x = qkeras.QActivation(q.quantized_relu(6, 2))(x)
    x = layers.Flatten()(x)
    x = qkeras.QDense(12, kernel_quantizer=_auto(), activation=q.quantized_relu(6, 2), use_bias=False)(x)
    x = qkeras.QDense(5, kernel_quantizer=_auto(), bias_quantizer=q.quantized_bits(8, 3, alpha=1))(x)
    model = tf_keras.Model(inp, x)
    randomize(model, rng)
    return model


@pytest.mark.parametrize("seed", range(2))
def test_auto_models_mostly_agree(seed: int) -> None:
    model = _auto_cnn(seed)
    graph = fpga_gen.from_qkeras(model)
    x = inputs_for(model, 400, seed)
    got, report = graph.predict(x, report=True)
    # one ScaleShift per alpha='auto' kernel, separable depthwise and pointwise included
    assert len(report.approximations) == 5
    expected = model.predict(x, verbose=0)
    assert np.mean(np.argmax(got, axis=1) == np.argmax(expected, axis=1)) >= 0.99
