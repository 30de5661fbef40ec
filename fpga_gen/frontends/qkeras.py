"""QKeras (and plain Keras) models -> Graph, Sequential or functional.

The Keras graph is walked in topological order (each layer's inbound node inside the
model), so branches for Add and Concatenate come across as they are. Weights are exactly
the float32 values QKeras multiplies by (``qkeras_quantizers``); batchnorm becomes an exact
Threshold when a quantizer follows it, a fixed-point ScaleShift approximation otherwise,
and is folded into the kernel by QConv2DBatchnorm / QDepthwiseConv2DBatchnorm exactly as
their ``call`` does (``batchnorm``).

Exactness limit: QKeras computes in float32, which is exact while every accumulation
fits float32's 24-bit significand; fpga_gen's result is always the exact one.
A ``quantized_bits(alpha='auto')`` kernel multiplies by arbitrary float32 scales: the MatMul
holds its exact integer-grid kernel (no bias) and a ScaleShift after it approximates
scale * acc + bias in fixed point, listed by ``graph.predict(..., report=True)``.
It stays an approximation even when a quantizer follows: QKeras' float32 sum is not a
function of the exact acc, so no Threshold (as for batchnorm) can reproduce it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import ModelLoadError, UnsupportedLayerError
from fpga_gen.formats import Format
from fpga_gen.formats.sizing import accumulator_format, exact_fixed, fit_range
from fpga_gen.frontends import batchnorm
from fpga_gen.frontends._tf import import_qkeras
from fpga_gen.frontends.keras_graph import KerasGraph, keras_graph
from fpga_gen.frontends.qkeras_quantizers import (
    activation_format,
    auto_kernel,
    is_auto,
    is_quantizer,
    plain_activation,
    quantized,
    weight_tensor,
)
from fpga_gen.ir import (
    Activation,
    Add,
    Concatenate,
    Conv1D,
    Conv2D,
    Dense,
    DepthwiseConv1D,
    DepthwiseConv2D,
    GlobalPool,
    Graph,
    Input,
    Layer,
    MatMul,
    Output,
    Pool,
    Reshape,
    Tensor,
    TensorSpec,
)
from fpga_gen.ir.builder import as_format
from fpga_gen.ir.layers import Conv, Window, identifier, same_padding

# hls4ml's default input type: used when the model does not start with a quantizer.
DEFAULT_INPUT_FORMAT = "fixed<16,6>"
_PASS_THROUGH = ("InputLayer", "Dropout", "SpatialDropout1D", "SpatialDropout2D")
_BATCHNORMS = ("BatchNormalization", "QBatchNormalization")
# class -> (rank, depthwise, separable, folded batchnorm)
_CONVS: dict[str, tuple[int, bool, bool, bool]] = {
    "Conv1D": (1, False, False, False),
    "QConv1D": (1, False, False, False),
    "Conv2D": (2, False, False, False),
    "QConv2D": (2, False, False, False),
    "DepthwiseConv1D": (1, True, False, False),
    "DepthwiseConv2D": (2, True, False, False),
    "QDepthwiseConv2D": (2, True, False, False),
    "SeparableConv1D": (1, True, True, False),
    "QSeparableConv1D": (1, True, True, False),
    "SeparableConv2D": (2, True, True, False),
    "QSeparableConv2D": (2, True, True, False),
    "QConv2DBatchnorm": (2, False, False, True),
    "QDepthwiseConv2DBatchnorm": (2, True, False, True),
}
_CONV_KINDS: dict[tuple[int, bool], type[Conv]] = {
    (cls.rank, cls.depthwise): cls for cls in (Conv1D, Conv2D, DepthwiseConv1D, DepthwiseConv2D)
}
_POOLS = {
    "MaxPooling1D": "max",
    "MaxPooling2D": "max",
    "AveragePooling1D": "avg",
    "AveragePooling2D": "avg",
}
_GLOBAL_POOLS = {
    "GlobalMaxPooling1D": "max",
    "GlobalMaxPooling2D": "max",
    "GlobalAveragePooling1D": "avg",
    "GlobalAveragePooling2D": "avg",
}
SUPPORTED = (
    "QDense, Dense, QConv1D/2D, Conv1D/2D, QDepthwiseConv2D, DepthwiseConv1D/2D, QSeparableConv1D/2D, "
    "SeparableConv1D/2D, QConv2DBatchnorm, QDepthwiseConv2DBatchnorm, BatchNormalization, "
    "QBatchNormalization, QActivation, Activation(linear/relu), ReLU, MaxPooling1D/2D, AveragePooling1D/2D, "
    "GlobalMax/AveragePooling1D/2D, Flatten, Reshape, Add, Concatenate (channel axis), Dropout, Input"
)


def load_model(path: str | Path) -> Any:
    """Read a Keras/QKeras model file (.keras or .h5) with QKeras' custom objects."""
    p = Path(path)
    if not p.is_file():
        raise ModelLoadError(f"model file {p} does not exist")
    import_qkeras()
    from qkeras.utils import load_qmodel

    try:
        return load_qmodel(str(p), compile=False)
    except Exception as exc:  # Keras raises anything from OSError to ValueError for a bad file
        raise ModelLoadError(f"cannot read model file {p}: {type(exc).__name__}: {exc}") from exc


def from_qkeras(model: Any, input_format: Format | str | None = None) -> Graph:
    """Convert a Sequential or functional QKeras / Keras model into a Graph."""
    import_qkeras()
    return _Walker(keras_graph(model)).convert(input_format)


@dataclass
class _Walker:
    """Converts the Keras layers one by one; ``tensors`` maps a Keras layer to the IR layer holding its output."""

    keras: KerasGraph
    out: list[Layer] = field(default_factory=list)
    tensors: dict[str, Layer] = field(default_factory=dict)

    @property
    def model(self) -> Any:
        return self.keras.model

    def convert(self, input_format: Format | str | None) -> Graph:
        input_layer = self.keras.input_layer
        shape = tuple(int(d) for d in self.model.input_shape[1:])
        first = self.keras.readers(input_layer.name)
        in_fmt: Format
        absorbed = None
        if input_format is not None:
            in_fmt = as_format(input_format)
        elif len(first) == 1 and type(first[0]).__name__ == "QActivation":
            # The model's own first quantizer is the input format: the host applies it to the
            # raw float exactly as QKeras does.
            absorbed = first[0]
            in_fmt, _ = activation_format(identifier(absorbed.name), absorbed.activation)
        else:
            in_fmt = as_format(DEFAULT_INPUT_FORMAT)
        self._emit(input_layer, Input(name="input", output=TensorSpec(shape, in_fmt)), absorbed=absorbed)
        for klayer in self.keras.layers[1:]:
            if klayer.name not in self.tensors:  # not already absorbed into an earlier layer
                self._convert(klayer)
        last = self.tensors[self.model.outputs[0]._keras_history.layer.name]
        self.out.append(Output(name="output", inputs=(last.name,), output=last.output))
        return Graph(tuple(self.out), name=identifier(self.model.name))

    def _src(self, klayer: Any) -> Layer:
        srcs = self.keras.sources[klayer.name]
        if len(srcs) != 1:
            raise UnsupportedLayerError(f"layer {klayer.name} reads {len(srcs)} tensors, expected one")
        return self.tensors[srcs[0]]

    def _emit(self, klayer: Any, *layers: Layer, absorbed: Any = None) -> None:
        """Append ``layers``; the last holds ``klayer``'s output (and that of an ``absorbed`` QActivation)."""
        self.out.extend(layers)
        self.tensors[klayer.name] = layers[-1]
        if absorbed is not None:
            self.tensors[absorbed.name] = layers[-1]

    def _sole_quantizer(self, klayer: Any) -> Any | None:
        """The QActivation that is the only reader of ``klayer``'s output, if any."""
        readers = self.keras.readers(klayer.name)
        if len(readers) == 1 and type(readers[0]).__name__ == "QActivation" and is_quantizer(readers[0].activation):
            return readers[0]
        return None

    def _convert(self, klayer: Any) -> None:
        cls = type(klayer).__name__
        name = identifier(klayer.name)
        if cls in _PASS_THROUGH:
            self.tensors[klayer.name] = self._src(klayer)
        elif cls in ("QDense", "Dense"):
            self._dense(klayer, name)
        elif cls in _CONVS:
            self._conv(klayer, name, *_CONVS[cls])
        elif cls in _BATCHNORMS:
            self._batchnorm(klayer, name)
        elif cls in ("QActivation", "Activation", "ReLU"):
            src = self._src(klayer)
            self._emit(klayer, *_activation(name, klayer, src, src.output.shape))
        elif cls in _POOLS:
            self._pool(klayer, name, _POOLS[cls])
        elif cls in _GLOBAL_POOLS:
            self._global_pool(klayer, name, _GLOBAL_POOLS[cls])
        elif cls in ("Flatten", "Reshape"):
            src = self._src(klayer)
            target = tuple(int(d) for d in klayer.output_shape[1:])
            if target == src.output.shape:
                self.tensors[klayer.name] = src
            else:
                self._emit(klayer, Reshape(name=name, inputs=(src.name,), output=TensorSpec(target, src.output.format)))
        elif cls == "Add":
            self._merge(klayer, name, add=True)
        elif cls == "Concatenate":
            self._merge(klayer, name, add=False)
        else:
            raise UnsupportedLayerError(f"layer {name} of class {cls} is not supported; supported: {SUPPORTED}")

    # -- matmul layers ------------------------------------------------------------------
    def _dense(self, klayer: Any, name: str) -> None:
        src = self._src(klayer)
        if len(src.output.shape) != 1:
            raise UnsupportedLayerError(
                f"layer {name}: Dense needs a flat input, got shape {src.output.shape}; put a Flatten before it"
            )
        weight, scale = _kernel(name, klayer.kernel, _quantizer(klayer, "kernel"))
        bias = _weight(name, "bias", klayer.bias, _quantizer(klayer, "bias")) if klayer.use_bias else None
        inner = None if scale is not None else bias
        spec = TensorSpec((weight.shape[1],), _accumulator(src, weight, weight.shape[0], inner))
        dense = Dense(name=name, inputs=(src.name,), output=spec, weight=weight, bias=inner)
        self._emit(klayer, *_finish_matmul(name, klayer, dense, scale, bias))

    def _conv(self, klayer: Any, name: str, rank: int, depthwise: bool, separable: bool, folded: bool) -> None:
        src = self._src(klayer)
        _check_channels_last(name, klayer)
        if len(src.output.shape) != rank + 1:
            raise UnsupportedLayerError(
                f"layer {name}: a {rank}-D convolution needs a channels-last input with {rank} spatial axes, "
                f"got {src.output.shape}"
            )
        which = "depthwise_kernel" if depthwise else "kernel"
        kernel_q = _quantizer(klayer, "depthwise" if depthwise else "kernel")
        bias_q = _quantizer(klayer, "bias")
        if folded:
            kernel_value, bias_value = klayer.get_folded_weights()
            bias: Tensor | None = _weight(name, "bias", bias_value, bias_q)
        else:
            kernel_value = getattr(klayer, which)
            bias = _weight(name, "bias", klayer.bias, bias_q) if klayer.use_bias else None
        # QKeras' 1-D separable layer quantizes its kernels with a leading spatial axis of 1
        lift = separable and rank == 1
        weight, scale = _kernel(name, kernel_value, kernel_q, lift)
        kernel = weight.shape[:rank]
        strides, pads = _geometry(name, klayer, src.output.shape[:-1], kernel)
        layers: list[Layer] = []
        if separable:
            dw_spec = _conv_spec(name, src, weight, None, True, strides, pads)
            cls = _CONV_KINDS[(rank, True)]
            dw = cls(
                name=f"{name}_dw", inputs=(src.name,), output=dw_spec, weight=weight, strides=strides, padding=pads
            )
            layers.extend(_scaled(f"{name}_dw", dw, scale, None))
            src = layers[-1]
            weight, scale = _kernel(name, klayer.pointwise_kernel, _quantizer(klayer, "pointwise"), lift)
            strides, pads, depthwise = (1,) * rank, ((0, 0),) * rank, False
        inner = None if scale is not None else bias
        spec = _conv_spec(name, src, weight, inner, depthwise, strides, pads)
        conv = _CONV_KINDS[(rank, depthwise)](
            name=name, inputs=(src.name,), output=spec, weight=weight, bias=inner, strides=strides, padding=pads
        )
        self._emit(klayer, *layers, *_finish_matmul(name, klayer, conv, scale, bias))

    # -- batchnorm, pooling, merging ----------------------------------------------------
    def _batchnorm(self, klayer: Any, name: str) -> None:
        src = self._src(klayer)
        batchnorm.check_batchnorm(name, klayer, len(src.output.shape))
        act = self._sole_quantizer(klayer)
        if act is None:
            self._emit(klayer, batchnorm.scale_shift(name, klayer, src))
            return
        fmt, _ = activation_format(identifier(act.name), act.activation)
        self._emit(klayer, batchnorm.threshold(name, klayer, act, src, fmt), absorbed=act)

    def _pool(self, klayer: Any, name: str, function: str) -> None:
        src = self._src(klayer)
        _check_channels_last(name, klayer)
        size = tuple(int(k) for k in klayer.pool_size)
        strides, pads = _geometry(name, klayer, src.output.shape[:-1], size)
        window = Window(strides=strides, padding=pads)
        out_shape = (*window.out_spatial(name, size, src.output.shape[:-1]), src.output.shape[-1])
        counts = _window_counts(src.output.shape[:-1], size, strides, pads) if function == "avg" else {1}
        fmt, act = self._pool_format(name, klayer, src, counts)
        pool = Pool(
            name=name,
            inputs=(src.name,),
            output=TensorSpec(out_shape, fmt),
            function=function,
            pool_size=size,
            strides=strides,
            padding=pads,
        )
        self._emit(klayer, pool, absorbed=act)

    def _global_pool(self, klayer: Any, name: str, function: str) -> None:
        src = self._src(klayer)
        _check_channels_last(name, klayer)
        if getattr(klayer, "keepdims", False):
            raise UnsupportedLayerError(f"layer {name}: keepdims=True is not supported; use keepdims=False")
        counts = {int(np.prod(src.output.shape[:-1]))} if function == "avg" else {1}
        fmt, act = self._pool_format(name, klayer, src, counts)
        spec = TensorSpec((src.output.shape[-1],), fmt)
        self._emit(klayer, GlobalPool(name=name, inputs=(src.name,), output=spec, function=function), absorbed=act)

    def _pool_format(self, name: str, klayer: Any, src: Layer, counts: set[int]) -> tuple[Format, Any]:
        """(output format, absorbed QActivation or None).

        Max: the input format. Average: the following quantizer's format (that QActivation is
        absorbed), else the exact mean, which needs power-of-two counts.
        """
        act = self._sole_quantizer(klayer) if counts != {1} else None
        if act is not None:
            # one rounding of the exact mean into the quantizer's format, as QKeras' quantizer
            # rounds its float32 mean (ufixed saturation is the relu of quantized_relu)
            fmt, _ = activation_format(identifier(act.name), act.activation)
            return fmt, act
        if any(c & (c - 1) for c in counts):
            raise UnsupportedLayerError(
                f"layer {name}: averaging over {sorted(counts)} positions gives float32 quotients no fixed-point "
                "format reproduces; use windows of a power-of-two size or follow the pooling with a QActivation"
            )
        grid = exact_fixed(src.output.format)
        extra = max(counts).bit_length() - 1
        exact = fit_range(grid.min_int << extra, grid.max_int << extra, grid.frac + extra)
        return src.output.format if extra == 0 else exact, None

    def _merge(self, klayer: Any, name: str, add: bool) -> None:
        srcs = [self.tensors[s] for s in self.keras.sources[klayer.name]]
        grids = [exact_fixed(s.output.format) for s in srcs]
        frac = max(g.frac for g in grids)
        lows = [g.min_int << (frac - g.frac) for g in grids]
        highs = [g.max_int << (frac - g.frac) for g in grids]
        inputs = tuple(s.name for s in srcs)
        if add:
            spec = TensorSpec(srcs[0].output.shape, fit_range(sum(lows), sum(highs), frac))
            self._emit(klayer, Add(name=name, inputs=inputs, output=spec))
            return
        rank = len(srcs[0].output.shape)
        if int(klayer.axis) not in (-1, rank):
            raise UnsupportedLayerError(
                f"layer {name}: Concatenate along axis {klayer.axis} is not supported; join along the channel "
                "(last) axis"
            )
        shape = (*srcs[0].output.shape[:-1], sum(s.output.shape[-1] for s in srcs))
        spec = TensorSpec(shape, fit_range(min(lows), max(highs), frac))  # holds every input exactly
        self._emit(klayer, Concatenate(name=name, inputs=inputs, output=spec))


def _quantizer(klayer: Any, which: str) -> Any:
    """A QKeras layer's quantizer for ``which`` (kernel, bias, depthwise, pointwise); None when absent."""
    return getattr(klayer, f"{which}_quantizer_internal", None) if getattr(klayer, f"{which}_quantizer", None) else None


def _weight(layer: str, what: str, value: Any, quantizer: Any) -> Tensor:
    return weight_tensor(layer, what, quantized(value, quantizer), quantizer)


def _kernel(
    layer: str, value: Any, quantizer: Any, lift: bool = False
) -> tuple[Tensor, npt.NDArray[np.float64] | None]:
    """(kernel, None), or for an alpha='auto' quantizer (integer-grid kernel, float32 scale per last axis)."""
    if lift:
        import tensorflow as tf

        values = quantized(tf.expand_dims(value, 0), quantizer)[0]
    else:
        values = quantized(value, quantizer)
    if is_auto(quantizer):
        return auto_kernel(layer, values, quantizer)
    return weight_tensor(layer, "kernel", values, quantizer), None


def _scaled(name: str, layer: MatMul, scale: npt.NDArray[np.float64] | None, bias: Tensor | None) -> list[Layer]:
    """``layer``, then for an alpha='auto' kernel the ScaleShift approximating QKeras' float32
    scale * (x @ g) + bias (bias=None in ``layer``). Depthwise output channel c * mult + j has scale[j]."""
    if scale is None:
        return [layer]
    channels = layer.output.shape[-1]
    shift = np.zeros(channels) if bias is None else bias.values
    per_channel = np.tile(scale, channels // scale.size)
    approximates = f"float32 alpha='auto' kernel scale of {name}"
    return [layer, batchnorm.approximate_scale_shift(f"{name}_scale", layer, per_channel, shift, approximates)]


def _finish_matmul(
    name: str, klayer: Any, layer: MatMul, scale: npt.NDArray[np.float64] | None, bias: Tensor | None
) -> list[Layer]:
    """``layer``, its alpha='auto' ScaleShift if any, and its own activation."""
    layers = _scaled(name, layer, scale, bias)
    return [*layers, *_matmul_activation(name, klayer, layers[-1])]


def _accumulator(src: Layer, weight: Tensor, fan_in: int, bias: Tensor | None) -> Format:
    return accumulator_format(src.output.format, weight.format, fan_in, None if bias is None else bias.format)


def _conv_spec(
    name: str,
    src: Layer,
    weight: Tensor,
    bias: Tensor | None,
    depthwise: bool,
    strides: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
) -> TensorSpec:
    """The exact accumulator output of a convolution of ``src`` by ``weight`` (Keras layout)."""
    rank = len(src.output.shape) - 1
    kernel = weight.shape[:rank]
    fan_in = int(np.prod(kernel)) * (1 if depthwise else weight.shape[rank])
    channels = weight.shape[rank] * weight.shape[-1] if depthwise else weight.shape[-1]
    spatial = Window(strides=strides, padding=pads).out_spatial(name, kernel, src.output.shape[:-1])
    return TensorSpec((*spatial, channels), _accumulator(src, weight, fan_in, bias))


def _matmul_activation(name: str, klayer: Any, layer: Layer) -> list[Layer]:
    """The layer's own ``activation`` argument, as an Activation after it (none for linear)."""
    act = klayer.activation
    if not is_quantizer(act) and plain_activation(name, act) == "linear":
        return []
    return _activation(f"{name}_act", klayer, layer, layer.output.shape)


def _activation(name: str, klayer: Any, src: Layer, shape: tuple[int, ...]) -> list[Layer]:
    """QActivation / Activation / ReLU (or a layer's activation argument) -> an Activation layer."""
    cls = type(klayer).__name__
    if cls == "ReLU":
        if klayer.max_value is not None or float(klayer.negative_slope) or float(klayer.threshold):
            raise UnsupportedLayerError(f"layer {name} (ReLU): only max_value=None, negative_slope=0, threshold=0")
        fmt, function = src.output.format, "relu"
    elif is_quantizer(klayer.activation):
        fmt, function = activation_format(name, klayer.activation)
    else:
        fmt, function = src.output.format, plain_activation(name, klayer.activation)
    return [Activation(name=name, inputs=(src.name,), output=TensorSpec(shape, fmt), function=function)]


def _check_channels_last(name: str, klayer: Any) -> None:
    if getattr(klayer, "data_format", "channels_last") != "channels_last":
        raise UnsupportedLayerError(
            f"layer {name}: data_format={klayer.data_format!r} is not supported; use channels_last"
        )
    if any(int(d) != 1 for d in np.atleast_1d(getattr(klayer, "dilation_rate", 1))):
        raise UnsupportedLayerError(
            f"layer {name}: dilation_rate={klayer.dilation_rate} is not supported; use dilation_rate=1"
        )
    if int(getattr(klayer, "groups", 1)) != 1:
        raise UnsupportedLayerError(f"layer {name}: groups={klayer.groups} is not supported; use groups=1")


def _geometry(
    name: str, klayer: Any, spatial: tuple[int, ...], window: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Strides and explicit (before, after) pads from Keras' 'valid', 'same' or 'causal'."""
    strides = tuple(int(s) for s in klayer.strides)
    padding = klayer.padding
    if padding == "valid":
        return strides, ((0, 0),) * len(window)
    if padding == "same":
        return strides, same_padding(spatial, window, strides)
    if padding == "causal":
        return strides, ((window[0] - 1, 0),)
    raise UnsupportedLayerError(f"layer {name}: padding {padding!r} is not supported; use 'same' or 'valid'")


def _window_counts(
    spatial: tuple[int, ...], window: tuple[int, ...], strides: tuple[int, ...], pads: tuple[tuple[int, int], ...]
) -> set[int]:
    """The distinct numbers of non-padded positions in the pooling windows."""
    per_axis = []
    for n, k, s, (before, after) in zip(spatial, window, strides, pads, strict=True):
        starts = np.arange(0, n + before + after - k + 1, s) - before
        per_axis.append(np.minimum(starts + k, n) - np.maximum(starts, 0))
    grid = np.prod(np.meshgrid(*per_axis, indexing="ij"), axis=0)
    return {int(c) for c in np.unique(grid)}
