"""Post-training quantization: a float (tf_keras) model + calibration data -> Graph.

The model is read into a short list of nodes (BatchNormalization folded into the
preceding Dense/convolution in float64, ReLU merged into the node it follows), the
float value at every *activation point* (the output of each matmul, Add and
Concatenate) is taken from Keras itself on the calibration data, and the Graph is
built through ``GraphBuilder``:

- weights: the weight format's scale is calibrated on the weights (``calibrate.py``),
  per tensor or per output channel. Ternary/binary formats hold per-channel scales
  themselves; fixed-point and minifloat weights of one tensor share one format, so
  per-channel scales are powers of two ``2**k[c]`` divided out of the stored weights
  and multiplied back by a ``ScaleShift`` after the exact accumulator (which also adds
  the bias there).
- bias: rounded (ties to even) to ``BIAS_BITS`` significant bits, never finer than the
  accumulator's grid (input LSB x weight LSB): it adds into the exact sum, which the
  accumulator format (``formats.sizing``) is sized for.
- activations: an ``Activation`` layer (relu or linear) into the activation format,
  its scale calibrated on the Keras values there; the graph input's format is
  calibrated on the calibration inputs the same way. The model's last matmul or Add
  keeps its exact accumulator (no rounding at the output). Pooling, Flatten and
  Reshape keep their input's format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import FpgaGenError, UnsupportedLayerError
from fpga_gen.formats import Binary, FixedPoint, Format, MiniFloat, Ternary
from fpga_gen.formats.sizing import exact_fixed, fit_range
from fpga_gen.frontends._tf import import_qkeras
from fpga_gen.frontends.calibrate import calibrate, calibrate_channels, power_of_two_shift
from fpga_gen.frontends.keras_graph import keras_graph
from fpga_gen.ir import Graph, identifier
from fpga_gen.ir.builder import GraphBuilder, as_format

FormatChoice = Format | str
FormatSpec = FormatChoice | Mapping[str, FormatChoice] | Callable[[str, str], FormatChoice]
"""One format for every layer, a dict {keras layer name: format} ('*' for the rest), or a
callable (keras layer name, IR kind) -> format. Activation formats are keyed by the layer
that produces the value (a Dense/conv with its batchnorm and relu: the Dense/conv's name);
the graph input's by 'input' (kind 'Input')."""

MATMULS = {
    "Dense": "Dense",
    "Conv1D": "Conv1D",
    "Conv2D": "Conv2D",
    "DepthwiseConv1D": "DepthwiseConv1D",
    "DepthwiseConv2D": "DepthwiseConv2D",
}
POOLS = {"MaxPooling1D": "max", "MaxPooling2D": "max", "AveragePooling1D": "avg", "AveragePooling2D": "avg"}
GLOBAL_POOLS = {
    "GlobalMaxPooling1D": "max",
    "GlobalMaxPooling2D": "max",
    "GlobalAveragePooling1D": "avg",
    "GlobalAveragePooling2D": "avg",
}
PASS_THROUGH = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout")
# Biases keep this many bits (sign included): far below the weights' rounding error, and what
# hls4ml gives them by default (ap_fixed<16,6>).
BIAS_BITS = 16
SUPPORTED = (
    "Input, Dense, Conv1D, Conv2D, DepthwiseConv1D, DepthwiseConv2D, BatchNormalization (after a Dense/conv), "
    "ReLU, Activation('relu'/'linear'), MaxPooling1D/2D, AveragePooling1D/2D, GlobalMax/AveragePooling1D/2D, "
    "Flatten, Reshape, Dropout, Add, Concatenate (channel axis)"
)


@dataclass(frozen=True)
class _Node:
    """One future IR layer group, with its float parameters (BatchNorm already folded in)."""

    name: str  # the Keras name of its first layer: the key of per-layer format dicts
    kind: str  # IR kind
    inputs: tuple[str, ...]
    tensor: str  # the Keras layer whose output is this node's float value
    weight: npt.NDArray[np.float64] | None = None
    bias: npt.NDArray[np.float64] | None = None
    activation: str = "linear"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def matmul(self) -> bool:
        return self.kind in MATMULS.values()


def quantize(
    model: Any,
    weights: FormatSpec = "e4m3",
    activations: FormatSpec = "fixed<8,3,RND_CONV,SAT>",
    calibration: npt.ArrayLike | None = None,
    *,
    per_channel: bool = False,
    method: str = "max",
    percentile: float = 99.99,
) -> Graph:
    """Quantize a float Keras model; ``graph.predict`` is then the quantized network's golden model.

    ``weights`` / ``activations``: formats (names or ``Format``s) whose kind and width are
    kept and whose scale is calibrated (see ``fpga_gen.frontends.calibrate``); per layer
    with a dict or a callable (``FormatSpec``). ``calibration``: float inputs (n, ...).
    ``method``: 'max', 'percentile' (with ``percentile``) or 'mse', for weights and
    activations alike. ``per_channel``: one weight scale per output channel.
    """
    if calibration is None:
        raise FpgaGenError("quantize needs calibration data: pass calibration=x, a batch of float inputs")
    tf_keras, _ = import_qkeras()
    if not isinstance(model, tf_keras.Model):
        raise UnsupportedLayerError(
            f"quantize reads tf_keras (tf.keras with TF_USE_LEGACY_KERAS=1) models, got {type(model).__name__}"
        )
    x = np.asarray(calibration, dtype=np.float64)
    expected = tuple(int(d) for d in model.input_shape[1:])
    if x.ndim < 2 or x.shape[1:] != expected:
        raise FpgaGenError(
            f"calibration data of shape {x.shape} does not fit model {model.name}: pass a batch (n, {expected})"
        )
    nodes = _walk(model)
    _check_keys(weights, {n.name for n in nodes if n.matmul}, "weights")
    _check_keys(activations, {"input"} | {n.name for n in nodes}, "activations")
    points = [n for n in nodes if _is_point(n, nodes)]
    values: dict[str, Any] = {}
    if points:
        probe = tf_keras.Model(model.inputs, [model.get_layer(n.tensor).output for n in points])
        outs = probe.predict(x.astype(np.float32), batch_size=512, verbose=0)
        values = dict(zip([n.name for n in points], outs if len(points) > 1 else [outs], strict=True))

    def act_format(name: str, kind: str, data: npt.ArrayLike) -> Format:
        template = _resolve(activations, name, kind)
        if not isinstance(template, FixedPoint | MiniFloat):
            raise UnsupportedLayerError(
                f"layer {name}: activation format {template} must be fixed point or a minifloat"
            )
        return calibrate(data, template, method, percentile)

    b = GraphBuilder(identifier(model.name), tuple(x.shape[1:]), act_format("input", "Input", x))
    built = {"input": "input"}  # node name -> name of the IR layer holding its value
    formats = {"input": b.last.output.format}  # node name -> format of that value
    for node in nodes:
        fmt = act_format(node.name, node.kind, values[node.name]) if node in points else None
        srcs = [built[s] for s in node.inputs]
        if node.kind in ("GlobalPool", "Reshape", "Activation") and srcs[0] != b.last.name:
            raise UnsupportedLayerError(
                f"layer {node.name} ({node.kind}) reads {node.inputs[0]}, which is not the layer just before it; "
                "put it right after its input"
            )
        if node.matmul:
            w_template = _resolve(weights, node.name, node.kind)
            in_fmt = formats[node.inputs[0]]
            _matmul(b, node, srcs[0], in_fmt, w_template, fmt, per_channel, method, percentile)
        else:
            _other(b, node, srcs, fmt)
        built[node.name] = b.last.name
        formats[node.name] = b.last.output.format
    return b.build()


def _is_point(node: _Node, nodes: list[_Node]) -> bool:
    """Activation points: where a value is rounded into a calibrated activation format."""
    if node.kind == "Concatenate":
        return True
    return (node.matmul or node.kind == "Add") and node is not nodes[-1]


def _matmul(
    b: GraphBuilder,
    node: _Node,
    src: str,
    in_fmt: Format,
    template: Format,
    out_fmt: Format | None,
    per_channel: bool,
    method: str,
    percentile: float,
) -> None:
    assert node.weight is not None
    w = node.weight
    n_out = w.shape[-1] * (w.shape[-2] if "Depthwise" in node.kind else 1)
    cols = w.reshape(-1, n_out)
    shifts = np.zeros(n_out, dtype=np.int64)
    if not per_channel:
        w_fmt = calibrate(w, template, method, percentile)
    elif isinstance(template, Ternary | Binary):
        if "Depthwise" in node.kind and w.shape[-2] > 1:
            raise UnsupportedLayerError(
                f"layer {node.name}: per-channel {template} scales follow the weight's last axis, which for a "
                "depthwise layer with several input channels is not the output channel; use per_channel=False"
            )
        fmts = calibrate_channels(cols, template, method, percentile)
        w_fmt = type(template)(tuple(float(f.scales[0]) for f in fmts if isinstance(f, Ternary | Binary)))
    else:
        fmts = calibrate_channels(cols, template, method, percentile)
        w_fmt = max(fmts, key=lambda f: power_of_two_shift(fmts[0], f))  # the widest range
        shifts = np.array([power_of_two_shift(w_fmt, f) for f in fmts], dtype=np.int64)
    stored = (cols * np.ldexp(1.0, -shifts)).reshape(w.shape)  # exact: powers of two
    name = identifier(node.name)
    per_channel_scale = bool(np.any(shifts != 0))
    bias = None if node.bias is None or per_channel_scale else node.bias
    grid = exact_fixed(in_fmt).frac + exact_fixed(w_fmt).frac
    b_fmt, b_val = _on_grid(bias, grid)
    last = out_fmt is None
    # the activation goes into the matmul only when nothing follows it
    fused = node.activation if last and not per_channel_scale else "linear"
    if node.kind == "Dense":
        b.dense(stored, w_fmt, b_val, b_fmt, activation=fused, name=name, source=src)
    else:
        opts = node.options
        b.conv(
            stored,
            w_fmt,
            b_val,
            b_fmt,
            strides=opts["strides"],
            padding=opts["padding"],
            depthwise="Depthwise" in node.kind,
            activation=fused,
            name=name,
            source=src,
        )
    if per_channel_scale:
        scale_frac = int(-shifts.min())
        scale_fmt = fit_range(1, 1 << scale_frac, scale_frac)
        shift_grid = exact_fixed(b.last.output.format).frac + scale_frac
        shift_fmt, shift = _on_grid(np.zeros(n_out) if node.bias is None else node.bias, shift_grid)
        assert shift_fmt is not None and shift is not None
        factors = np.ldexp(1.0, shifts)
        b.scale_shift(
            factors,
            scale_fmt,
            shift,
            shift_fmt,
            activation=node.activation,
            output_format=out_fmt,
            name=f"{name}_scale",
        )
    elif not last:
        assert out_fmt is not None
        b.activation(node.activation, out_fmt, name=f"{name}_act")


def _other(b: GraphBuilder, node: _Node, srcs: list[str], out_fmt: Format | None) -> None:
    name = identifier(node.name)
    opts = node.options
    if node.kind == "Pool":
        size, steps, pads = opts["pool_size"], opts["strides"], opts["padding"]
        b.pool(opts["function"], size, strides=steps, padding=pads, name=name, source=srcs[0])
    elif node.kind == "GlobalPool":
        b.global_pool(opts["function"], name=name)
    elif node.kind == "Reshape":
        b.reshape(opts["shape"], name=name)
    elif node.kind == "Activation":
        b.activation(node.activation, b.last.output.format, name=name)
    elif node.kind == "Add":
        b.add(*srcs, name=name)
        if out_fmt is not None:
            b.activation(node.activation, out_fmt, name=f"{name}_act")
        elif node.activation == "relu":
            b.activation("relu", b.last.output.format, name=f"{name}_act")
    else:  # Concatenate
        assert out_fmt is not None
        b.concatenate(*srcs, output_format=out_fmt, name=name)


def _on_grid(
    values: npt.NDArray[np.float64] | None, grid: int
) -> tuple[FixedPoint | None, npt.NDArray[np.float64] | None]:
    """``values`` rounded (ties to even) to at most ``BIAS_BITS`` bits, no finer than the grid 2**-grid.

    Returns the narrowest format holding them and the rounded values.
    """
    if values is None:
        return None, None
    top = float(np.max(np.abs(values), initial=0.0))
    frac = grid if top == 0 else min(grid, BIAS_BITS - 2 - int(np.floor(np.log2(top))))
    ints = np.rint(np.ldexp(values, frac))
    fmt = fit_range(int(min(ints.min(), 0)), int(max(ints.max(), 0)), frac)
    return fmt, np.ldexp(ints, -frac)


def _resolve(spec: FormatSpec, name: str, kind: str) -> Format:
    if isinstance(spec, Mapping):
        choice = spec.get(name, spec.get("*"))
        if choice is None:
            raise FpgaGenError(f"layer {name} ({kind}) has no format in {dict(spec)}: add it, or a '*' default")
    elif isinstance(spec, Format | str):
        choice = spec
    else:
        choice = spec(name, kind)
    return as_format(choice)


def _check_keys(spec: FormatSpec, known: set[str], what: str) -> None:
    if isinstance(spec, Mapping):
        unknown = sorted(set(spec) - known - {"*"})
        if unknown:
            raise FpgaGenError(f"{what} formats name unknown layers {unknown}; the layers are {sorted(known)}")


# -- reading the Keras model ---------------------------------------------------------------
def _walk(model: Any) -> list[_Node]:
    keras = keras_graph(model)
    layers = keras.layers[1:]
    if any(l.name == "input" for l in layers):
        raise UnsupportedLayerError("a layer named 'input' would be taken for the model's input; rename it")
    # the InputLayer's value is the node "input"
    sources = {
        l.name: tuple("input" if s == keras.input_layer.name else s for s in keras.sources[l.name]) for l in layers
    }
    readers = {l.name: len(keras.readers(l.name)) for l in layers}
    nodes: dict[str, _Node] = {}
    alias = {"input": "input"}  # Keras layer name -> node holding its value
    for layer in layers:
        cls = type(layer).__name__
        srcs = tuple(alias[s] for s in sources[layer.name])
        # a node may absorb this layer when it is the only reader of that node's current value
        owner = nodes.get(srcs[0])
        if owner is not None and (owner.tensor != sources[layer.name][0] or readers[owner.tensor] > 1):
            owner = None
        if cls in PASS_THROUGH or (cls == "Activation" and _function(layer) == "linear"):
            alias[layer.name] = srcs[0]
            continue
        if cls == "BatchNormalization":
            if owner is None or not owner.matmul or owner.activation != "linear":
                raise UnsupportedLayerError(
                    f"layer {layer.name} (BatchNormalization) must directly follow a Dense or convolution with a "
                    "linear activation (it is folded into its weights); move it there"
                )
            nodes[owner.name] = _fold_batchnorm(owner, layer)
            alias[layer.name] = owner.name
            continue
        if cls in ("ReLU", "Activation"):
            function = _function(layer)
            if owner is not None and (owner.matmul or owner.kind == "Add") and owner.activation == "linear":
                nodes[owner.name] = replace(owner, activation=function, tensor=layer.name)
                alias[layer.name] = owner.name
                continue
            node = _Node(layer.name, "Activation", srcs, layer.name, activation=function)
        else:
            node = _node(layer, cls, srcs)
        nodes[node.name] = node
        alias[layer.name] = node.name
    return list(nodes.values())


def _node(layer: Any, cls: str, srcs: tuple[str, ...]) -> _Node:
    name = layer.name
    if cls in MATMULS:
        return _matmul_node(layer, cls, srcs)
    if cls in POOLS:
        _channels_last(layer)
        opts = {
            "function": POOLS[cls],
            "pool_size": tuple(layer.pool_size),
            "strides": tuple(layer.strides),
            "padding": _padding(layer),
        }
        return _Node(name, "Pool", srcs, name, options=opts)
    if cls in GLOBAL_POOLS:
        _channels_last(layer)
        if getattr(layer, "keepdims", False):
            raise UnsupportedLayerError(f"layer {name} ({cls}): keepdims=True is not supported; use keepdims=False")
        return _Node(name, "GlobalPool", srcs, name, options={"function": GLOBAL_POOLS[cls]})
    if cls in ("Flatten", "Reshape"):
        return _Node(name, "Reshape", srcs, name, options={"shape": tuple(int(d) for d in layer.output_shape[1:])})
    if cls == "Add":
        return _Node(name, "Add", srcs, name)
    if cls == "Concatenate":
        rank = len(layer.output_shape) - 1
        if layer.axis not in (-1, rank):
            raise UnsupportedLayerError(f"layer {name} (Concatenate): axis {layer.axis} must be the channel axis (-1)")
        return _Node(name, "Concatenate", srcs, name)
    raise UnsupportedLayerError(f"layer {name} of class {cls} is not supported by quantize; supported: {SUPPORTED}")


def _matmul_node(layer: Any, cls: str, srcs: tuple[str, ...]) -> _Node:
    name = layer.name
    depthwise = "Depthwise" in cls
    kernel = layer.depthwise_kernel if depthwise else layer.kernel
    weight = np.asarray(kernel, dtype=np.float64)
    bias = np.asarray(layer.bias, dtype=np.float64) if layer.use_bias else None
    opts: dict[str, Any] = {}
    if cls == "Dense":
        if len(layer.input_shape) != 2:
            raise UnsupportedLayerError(
                f"layer {name} (Dense) reads shape {layer.input_shape[1:]}; Flatten its input first"
            )
    else:
        _channels_last(layer)
        if any(int(d) != 1 for d in layer.dilation_rate) or getattr(layer, "groups", 1) != 1:
            raise UnsupportedLayerError(f"layer {name} ({cls}): dilation and groups are not supported; use 1")
        opts = {"strides": tuple(layer.strides), "padding": _padding(layer)}
    return _Node(name, MATMULS[cls], srcs, name, weight, bias, _function(layer), opts)


def _fold_batchnorm(node: _Node, bn: Any) -> _Node:
    """Batchnorm folded into the weights and bias, in float64: w * s, (b - mean) * s + beta."""
    axis = bn.axis if isinstance(bn.axis, int) else bn.axis[0] if len(bn.axis) == 1 else None
    rank = len(bn.input_shape) - 1
    if axis not in (-1, rank):
        raise UnsupportedLayerError(f"layer {bn.name} (BatchNormalization): axis {bn.axis} must be the channel axis")
    assert node.weight is not None
    mean = np.asarray(bn.moving_mean, dtype=np.float64)
    var = np.asarray(bn.moving_variance, dtype=np.float64)
    gamma = np.asarray(bn.gamma, dtype=np.float64) if bn.scale else np.ones_like(mean)
    beta = np.asarray(bn.beta, dtype=np.float64) if bn.center else np.zeros_like(mean)
    s = gamma / np.sqrt(var + float(bn.epsilon))
    w = node.weight
    weight = (w.reshape(-1, s.size) * s).reshape(w.shape)
    bias = ((np.zeros_like(mean) if node.bias is None else node.bias) - mean) * s + beta
    return replace(node, weight=weight, bias=bias, tensor=bn.name)


def _function(layer: Any) -> str:
    if type(layer).__name__ == "ReLU":
        if layer.max_value is not None or float(layer.negative_slope) or float(layer.threshold):
            raise UnsupportedLayerError(
                f"layer {layer.name} (ReLU): only max_value=None, negative_slope=0, threshold=0 are supported"
            )
        return "relu"
    fn = getattr(layer, "activation", None)
    name = getattr(fn, "__name__", str(fn))
    if name not in ("linear", "relu"):
        raise UnsupportedLayerError(
            f"layer {layer.name}: activation {name!r} is not supported; use 'linear' or 'relu' "
            "(drop a final softmax: it does not change the argmax)"
        )
    return str(name)


def _padding(layer: Any) -> str:
    if layer.padding not in ("same", "valid"):
        raise UnsupportedLayerError(f"layer {layer.name}: padding {layer.padding!r} must be 'same' or 'valid'")
    return str(layer.padding)


def _channels_last(layer: Any) -> None:
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise UnsupportedLayerError(f"layer {layer.name}: data_format must be channels_last")


