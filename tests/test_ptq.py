"""Post-training quantization: fpga_gen.quantize on float Keras models trained on digits.

The quantized graph's golden model is checked against computations written here from
scratch (numpy rounding, ml_dtypes for e4m3, TensorFlow float64 convolutions), and its
accuracy against the float model's.
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np
import ptq_models
import pytest
import tensorflow as tf

import fpga_gen
from fpga_gen.errors import FormatError, FpgaGenError, UnsupportedLayerError
from fpga_gen.formats import Binary, FixedPoint, MiniFloat, Ternary
from fpga_gen.frontends._tf import import_qkeras
from fpga_gen.frontends.calibrate import calibrate, calibrate_channels
from fpga_gen.ir import Activation, Conv2D, Dense, Pool, Reshape, ScaleShift
from fpga_gen.passes import FoldConfig, lower, schedule

pytestmark = pytest.mark.xdist_group("ptq")  # one worker trains the models once
tf_keras, _ = import_qkeras()
L = tf_keras.layers


@pytest.fixture(scope="module")
def data() -> ptq_models.Digits:
    return ptq_models.digits()


@pytest.fixture(scope="module")
def mlp(data: ptq_models.Digits) -> Any:
    return ptq_models.train_mlp(data)


@pytest.fixture(scope="module")
def cnn(data: ptq_models.Digits) -> Any:
    return ptq_models.train_cnn(data)


@pytest.fixture(scope="module")
def cnn_bn(data: ptq_models.Digits) -> Any:
    return ptq_models.train_cnn(data, batchnorm=True)


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def _keras_value(model: Any, layer: str, x: np.ndarray) -> np.ndarray:
    probe = tf_keras.Model(model.inputs, model.get_layer(layer).output)
    return np.asarray(probe.predict(x.astype(np.float32), verbose=0), dtype=np.float64)


def _fixed_trn_wrap(v: np.ndarray, width: int, max_abs: float) -> np.ndarray:
    """ap_fixed<W, I> (TRN, WRAP) with I the integer bits that just cover max_abs (sign included)."""
    integer = int(np.floor(np.log2(max_abs))) + 2
    frac = width - integer
    ints = np.floor(v * 2.0**frac)
    ints = (ints + 2 ** (width - 1)) % 2**width - 2 ** (width - 1)
    return ints / 2.0**frac


def _fixed_rnd_sat(v: np.ndarray, width: int, max_abs: float) -> np.ndarray:
    """ap_fixed<W, I, RND_CONV, SAT> with I covering max_abs."""
    frac = width - (int(np.floor(np.log2(max_abs))) + 2)
    ints = np.clip(np.rint(v * 2.0**frac), -(2 ** (width - 1)), 2 ** (width - 1) - 1)
    return ints / 2.0**frac


def _e4m3(w: np.ndarray) -> np.ndarray:
    """OCP e4m3 with the power-of-two scale putting max|w| in the top binade (ml_dtypes rounds)."""
    shift = int(np.floor(np.log2(448.0 / np.max(np.abs(w)))))
    scaled = (w * 2.0**shift).astype(np.float32)  # exact: Keras weights are float32
    return scaled.astype(ml_dtypes.float8_e4m3fn).astype(np.float64) / 2.0**shift


def _bias(b: np.ndarray, grid: int) -> np.ndarray:
    frac = min(grid, 14 - int(np.floor(np.log2(np.max(np.abs(b))))))
    return np.rint(b * 2.0**frac) / 2.0**frac


def test_mlp_e4m3_matches_numpy_and_ml_dtypes(mlp: Any, data: ptq_models.Digits) -> None:
    x_cal, x_test = _flat(data.x_train[:400]), _flat(data.x_test)
    graph = fpga_gen.quantize(mlp, weights="e4m3", activations="fixed<8,3>", calibration=x_cal)
    hidden, logits = mlp.get_layer("hidden"), mlp.get_layer("logits")
    w1, w2 = _e4m3(hidden.kernel.numpy().astype(np.float64)), _e4m3(logits.kernel.numpy().astype(np.float64))
    assert np.array_equal(graph["hidden"].weight.values, w1)
    assert np.array_equal(graph["logits"].weight.values, w2)
    # the same network computed here: every sum is exact in float64 (few, short operands)
    x = _fixed_trn_wrap(x_test, 8, np.max(x_cal))
    in_frac, w1_frac = 8 - (int(np.floor(np.log2(np.max(x_cal)))) + 2), graph["hidden"].weight.format.frac
    h = np.maximum(x @ w1 + _bias(hidden.bias.numpy().astype(np.float64), in_frac + w1_frac), 0)
    h_max = np.max(_keras_value(mlp, "hidden", x_cal))
    h = _fixed_trn_wrap(h, 8, h_max)
    h_frac = 8 - (int(np.floor(np.log2(h_max))) + 2)
    y = h @ w2 + _bias(logits.bias.numpy().astype(np.float64), h_frac + graph["logits"].weight.format.frac)
    assert np.array_equal(graph.predict(x_test), y)
    kinds = [layer.kind for layer in graph.layers]
    assert kinds == ["Input", "Dense", "Activation", "Dense", "Output"]


def test_cnn_batchnorm_fixed_matches_tensorflow_float64(cnn_bn: Any, data: ptq_models.Digits) -> None:
    x_cal, x_test = data.x_train[:400], data.x_test
    fmt = "fixed<6,0,RND_CONV,SAT>"
    act = "fixed<8,3,RND_CONV,SAT>"
    graph = fpga_gen.quantize(cnn_bn, weights=fmt, activations=act, calibration=x_cal)
    assert [type(l) for l in graph.layers[1:-1]] == [Conv2D, Activation, Pool, Reshape, Dense]
    conv, bn, dense = cnn_bn.get_layer("conv"), cnn_bn.get_layer("bn"), cnn_bn.get_layer("logits")
    # batchnorm folded here, independently, in float64
    s = bn.gamma.numpy().astype(np.float64) / np.sqrt(bn.moving_variance.numpy().astype(np.float64) + bn.epsilon)
    kernel = conv.kernel.numpy().astype(np.float64) * s
    bias = (conv.bias.numpy().astype(np.float64) - bn.moving_mean.numpy()) * s + bn.beta.numpy()
    wk = _fixed_rnd_sat(kernel, 6, np.max(np.abs(kernel)))
    assert np.array_equal(graph["conv"].weight.values, wk)
    x = _fixed_rnd_sat(x_test, 8, np.max(x_cal))
    in_frac = 8 - (int(np.floor(np.log2(np.max(x_cal)))) + 2)
    wk_frac = 6 - (int(np.floor(np.log2(np.max(np.abs(kernel))))) + 2)
    z = tf.nn.conv2d(tf.constant(x), tf.constant(wk), strides=1, padding="SAME").numpy()
    z = np.maximum(z + _bias(bias, in_frac + wk_frac), 0)
    relu_max = np.max(_keras_value(cnn_bn, "relu", x_cal))
    z = _fixed_rnd_sat(z, 8, relu_max)
    z = tf.nn.max_pool2d(tf.constant(z), 2, 2, "VALID").numpy().reshape(len(x), -1)
    wd = dense.kernel.numpy().astype(np.float64)
    wd = _fixed_rnd_sat(wd, 6, np.max(np.abs(wd)))
    z_frac = 8 - (int(np.floor(np.log2(relu_max))) + 2)
    wd_frac = 6 - (int(np.floor(np.log2(np.max(np.abs(dense.kernel.numpy())))) + 2))
    y = z @ wd + _bias(dense.bias.numpy().astype(np.float64), z_frac + wd_frac)
    assert np.array_equal(graph.predict(x_test), y)


@pytest.mark.parametrize("weights", ["e4m3", "fixed<8,3>"])
@pytest.mark.parametrize("which", ["cnn", "mlp"])
def test_accuracy_close_to_float(which: str, weights: str, request: pytest.FixtureRequest) -> None:
    data: ptq_models.Digits = request.getfixturevalue("data")
    model = request.getfixturevalue(which)
    shape = (lambda x: x) if which == "cnn" else _flat
    x_cal, x_test = shape(data.x_train[:400]), shape(data.x_test)
    float_acc = ptq_models.accuracy(model.predict(x_test.astype(np.float32), verbose=0), data.y_test)
    graph = fpga_gen.quantize(model, weights=weights, activations="fixed<8,3>", calibration=x_cal)
    acc = ptq_models.accuracy(graph.predict(x_test), data.y_test)
    assert float_acc > 0.9
    assert acc >= float_acc - 0.03


@pytest.mark.parametrize("weights", ["e4m3", "fixed<8,3>"])
def test_cnn_lowers_to_plain_hardware_layers(weights: str, cnn: Any, data: ptq_models.Digits) -> None:
    """What the backends build: fused and folded, Conv2D -> Pool -> Reshape -> Dense, same outputs."""
    graph = fpga_gen.quantize(cnn, weights=weights, activations="fixed<8,3>", calibration=data.x_train[:400])
    lowered = schedule(lower(graph), FoldConfig(max_dsp=64))
    assert [l.kind for l in lowered.layers] == ["Input", "Conv2D", "Pool", "Reshape", "Dense", "Output"]
    assert lowered["conv"].activation == "relu" and lowered["conv"].fold is not None
    assert np.array_equal(lowered.predict(data.x_test), graph.predict(data.x_test))


def test_percentile_clips_the_input_range(mlp: Any, data: ptq_models.Digits) -> None:
    x_cal = _flat(data.x_train[:400])
    by_max = fpga_gen.quantize(mlp, "e4m3", "fixed<8,3>", x_cal)
    by_pct = fpga_gen.quantize(mlp, "e4m3", "fixed<8,3>", x_cal, method="percentile", percentile=50.0)
    assert by_pct.input.output.format.integer < by_max.input.output.format.integer  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("weights", "kind", "floor"),
    [
        ("fixed<4,1,RND_CONV,SAT>", FixedPoint, 0.85),
        ("e3m2", MiniFloat, 0.9),
        ("e2m1", MiniFloat, 0.85),
        ("ternary<1.0>", Ternary, 0.7),
        ("binary<1.0>", Binary, 0.3),
    ],
)
def test_every_format_kind(weights: str, kind: type, floor: float, mlp: Any, data: ptq_models.Digits) -> None:
    graph = fpga_gen.quantize(mlp, weights, "fixed<8,3>", _flat(data.x_train[:400]), method="mse")
    for name in ("hidden", "logits"):
        w = graph[name].weight
        assert isinstance(w.format, kind)
        kernel = mlp.get_layer(name).kernel.numpy().astype(np.float64)
        assert np.array_equal(w.values, w.format.quantize(kernel))
    assert ptq_models.accuracy(graph.predict(_flat(data.x_test)), data.y_test) >= floor


def test_per_channel_ternary_scales(mlp: Any, data: ptq_models.Digits) -> None:
    x_cal = _flat(data.x_train[:400])
    per_tensor = fpga_gen.quantize(mlp, "ternary<1.0>", "fixed<8,3>", x_cal, method="mse")
    per_channel = fpga_gen.quantize(mlp, "ternary<1.0>", "fixed<8,3>", x_cal, method="mse", per_channel=True)
    kernel = mlp.get_layer("hidden").kernel.numpy().astype(np.float64)
    fmt = per_channel["hidden"].weight.format
    assert isinstance(fmt, Ternary) and fmt.per_channel and len(fmt.scales) == 32 and len(set(fmt.scales)) > 1
    assert not per_tensor["hidden"].weight.format.per_channel  # type: ignore[attr-defined]

    def err(g: fpga_gen.Graph) -> float:
        return float(np.sum((g["hidden"].weight.values - kernel) ** 2))

    assert err(per_channel) < err(per_tensor)


@pytest.mark.parametrize(
    ("which", "layer", "weights"), [("cnn", "conv", "e2m1"), ("mlp", "hidden", "fixed<6,0,RND_CONV,SAT>")]
)
def test_per_channel_power_of_two_scales(which: str, layer: str, weights: str, request: pytest.FixtureRequest) -> None:
    """fixed/minifloat per-channel: weights stored divided by 2**k[c], multiplied back in a ScaleShift."""
    data: ptq_models.Digits = request.getfixturevalue("data")
    model = request.getfixturevalue(which)
    shape = (lambda x: x) if which == "cnn" else _flat
    graph = fpga_gen.quantize(model, weights, "fixed<8,3>", shape(data.x_train[:400]), per_channel=True)
    scale = graph[f"{layer}_scale"]
    assert isinstance(scale, ScaleShift) and graph[layer].bias is None
    factors = scale.scale.values
    assert np.all(np.log2(factors) == np.round(np.log2(factors))) and len(set(factors)) > 1
    kernel = model.get_layer(layer).kernel.numpy().astype(np.float64)
    template = fpga_gen.formats.parse_format(weights)
    columns = [calibrate(kernel[..., c], template).quantize(kernel[..., c]) for c in range(kernel.shape[-1])]
    assert np.array_equal(graph[layer].weight.values * factors, np.stack(columns, axis=-1))
    float_acc = ptq_models.accuracy(model.predict(shape(data.x_test).astype(np.float32), verbose=0), data.y_test)
    assert ptq_models.accuracy(graph.predict(shape(data.x_test)), data.y_test) >= float_acc - 0.05


def test_dict_and_callable_formats(cnn: Any, data: ptq_models.Digits) -> None:
    x_cal = data.x_train[:200]
    graph = fpga_gen.quantize(
        cnn,
        weights={"conv": "e4m3", "*": "fixed<6,0>"},
        activations={"input": "ufixed<8,1>", "*": "e3m2"},
        calibration=x_cal,
    )
    assert isinstance(graph["conv"].weight.format, MiniFloat)
    assert isinstance(graph["logits"].weight.format, FixedPoint)
    assert isinstance(graph.input.output.format, FixedPoint) and not graph.input.output.format.signed
    assert isinstance(graph["conv_act"].output.format, MiniFloat)
    calls: list[tuple[str, str]] = []

    def choose(name: str, kind: str) -> str:
        calls.append((name, kind))
        return "e4m3" if kind == "Conv2D" else "fixed<8,3>"

    graph = fpga_gen.quantize(cnn, weights=choose, activations="fixed<8,3>", calibration=x_cal)
    assert calls == [("conv", "Conv2D"), ("logits", "Dense")]
    assert isinstance(graph["conv"].weight.format, MiniFloat)
    assert isinstance(graph["logits"].weight.format, FixedPoint)
    with pytest.raises(FpgaGenError, match=r"unknown layers.*'cnv'"):
        fpga_gen.quantize(cnn, weights={"cnv": "e4m3", "*": "e4m3"}, calibration=x_cal)
    with pytest.raises(FpgaGenError, match=r"layer logits .*no format"):
        fpga_gen.quantize(cnn, weights={"conv": "e4m3"}, calibration=x_cal)


def test_calibration_methods() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1, 20_000), [60.0]])  # one far outlier
    template = FixedPoint(6, 0, rounding="RND_CONV", overflow="SAT")
    by_max, by_pct, by_mse = (calibrate(values, template, m, percentile=99.9) for m in ("max", "percentile", "mse"))
    assert isinstance(by_max, FixedPoint) and by_max.max_value >= 60 > by_max.max_value / 2
    assert isinstance(by_pct, FixedPoint) and by_pct.integer < by_max.integer

    def mse(f: Any) -> float:
        return float(np.mean((f.quantize(values) - values) ** 2))

    assert mse(by_mse) <= min(mse(by_max), mse(by_pct))
    e4m3 = calibrate(values, MiniFloat(4, 3, nan=True), "max")
    assert isinstance(e4m3, MiniFloat) and 60 <= e4m3.max_value < 120
    cols = calibrate_channels(np.stack([values, values / 8], axis=1), template, "max")
    assert isinstance(cols[0], FixedPoint) and isinstance(cols[1], FixedPoint)
    assert cols[0].integer - cols[1].integer == 3
    with pytest.raises(FormatError, match="calibration method 'median'"):
        calibrate(values, template, "median")


def test_functional_branches_match_keras_at_high_precision() -> None:
    """Conv1D, depthwise, pooling, Add, Concatenate, GlobalAveragePooling: layouts and geometry as Keras'."""
    tf_keras.utils.set_random_seed(1)
    inp = tf_keras.Input((12, 3))
    a = L.Conv1D(4, 3, padding="same", activation="relu", name="a")(inp)
    b = L.Conv1D(4, 1, name="b")(inp)
    s = L.Add(name="sum")([a, b])
    r = L.ReLU(name="r")(s)
    d = L.DepthwiseConv1D(3, depth_multiplier=2, padding="valid", name="dw")(r)
    p = L.AveragePooling1D(2, strides=1, padding="same", name="avg")(d)
    m = L.MaxPooling1D(3, strides=1, padding="same", name="max")(d)
    c = L.Concatenate(name="cat")([p, m])
    g = L.GlobalAveragePooling1D(name="gap")(c)
    out = L.Dense(3, name="output")(g)  # the graph's own Output layer has that name too
    model = tf_keras.Model(inp, out, name="branches")
    x = np.random.default_rng(2).uniform(-1, 1, (64, 12, 3))
    graph = fpga_gen.quantize(model, "fixed<16,1,RND_CONV,SAT>", "fixed<20,4,RND_CONV,SAT>", x)
    y_keras = model.predict(x.astype(np.float32), verbose=0)
    y = graph.predict(x)
    assert graph["l_output"].kind == "Dense"
    assert np.max(np.abs(y - y_keras)) < 1e-3 * np.max(np.abs(y_keras))


def test_errors(cnn: Any, data: ptq_models.Digits) -> None:
    x_cal = data.x_train[:50]
    with pytest.raises(FormatError, match="unknown number format 'fp8'"):
        fpga_gen.quantize(cnn, weights="fp8", calibration=x_cal)
    with pytest.raises(UnsupportedLayerError, match="activation format ternary"):
        fpga_gen.quantize(cnn, activations="ternary<1.0>", calibration=x_cal)
    with pytest.raises(FpgaGenError, match="needs calibration data"):
        fpga_gen.quantize(cnn)
    with pytest.raises(FpgaGenError, match=r"calibration data of shape \(50, 64\) does not fit"):
        fpga_gen.quantize(cnn, calibration=x_cal.reshape(50, 64))
    softmax = tf_keras.Sequential([tf_keras.Input((4,)), L.Dense(3, activation="softmax", name="sm")])
    with pytest.raises(UnsupportedLayerError, match="layer sm: activation 'softmax'"):
        fpga_gen.quantize(softmax, calibration=np.ones((2, 4)))
    bn_late = tf_keras.Sequential(
        [tf_keras.Input((4,)), L.Dense(3, activation="relu"), L.BatchNormalization(name="bn")]
    )
    with pytest.raises(UnsupportedLayerError, match=r"layer bn .*must directly follow"):
        fpga_gen.quantize(bn_late, calibration=np.ones((2, 4)))
    depthwise = tf_keras.Sequential([tf_keras.Input((4, 4, 2)), L.DepthwiseConv2D(3, name="dw")])
    with pytest.raises(UnsupportedLayerError, match="layer dw: per-channel ternary"):
        fpga_gen.quantize(depthwise, "ternary<1.0>", calibration=np.ones((2, 4, 4, 2)), per_channel=True)
    lstm = tf_keras.Sequential([tf_keras.Input((5, 2)), L.LSTM(3, name="rnn")])
    with pytest.raises(UnsupportedLayerError, match="layer rnn of class LSTM is not supported"):
        fpga_gen.quantize(lstm, calibration=np.ones((2, 5, 2)))
