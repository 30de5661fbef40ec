"""Layer kinds of the IR. Every layer is a frozen value; passes build new ones."""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from fpga_gen.errors import GraphError
from fpga_gen.formats import Binary, FixedPoint, Format, Ternary
from fpga_gen.formats.sizing import accumulator_format
from fpga_gen.ir.tensor import Tensor, TensorSpec

# Layer names become C++ and Verilog identifiers, so they are checked here, once.
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
ACTIVATIONS = ("linear", "relu")


# What front-ends and GraphBuilder name a graph's own Input and Output layers.
PORT_NAMES = ("input", "output")


def identifier(text: str) -> str:
    """``text`` (a Keras layer or model name, a label) made a layer / graph name: each run of
    characters other than ASCII letters, digits and '_' becomes one '_' (none at either end),
    and a name that does not start with a letter, or is one of ``PORT_NAMES``, gets ``l_`` in front."""
    ident = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    return ident if ident[:1].isalpha() and ident not in PORT_NAMES else f"l_{ident}"


@dataclass(frozen=True)
class Fold:
    """How a matmul layer is folded onto the DSP array: PE rows x SIMD lanes, and ``vectors`` input
    vectors (a convolution's consecutive output positions) per step: 2 when each DSP slice computes
    two rows' products for two positions at once (``DspPrimitive.quad_shift``, AMD WP521)."""

    pe: int
    simd: int
    vectors: int = 1

    def __post_init__(self) -> None:
        if self.pe < 1 or self.simd < 1:
            raise GraphError(f"fold pe={self.pe} simd={self.simd}: both must be >= 1")
        if self.vectors not in (1, 2):
            raise GraphError(f"fold vectors={self.vectors}: a step computes 1 or 2 input vectors")

    def __str__(self) -> str:
        return f"pe={self.pe} simd={self.simd}" + (f" vectors={self.vectors}" if self.vectors > 1 else "")


@dataclass(frozen=True, kw_only=True)
class Layer:
    """Common part of every layer: its name, the layers it reads, its output tensor."""

    kind: ClassVar[str] = "layer"
    # A view (Reshape) passes its input's elements on in the same order: no hardware of its own.
    view: ClassVar[bool] = False
    name: str
    inputs: tuple[str, ...]
    output: TensorSpec

    def __post_init__(self) -> None:
        if not IDENTIFIER.fullmatch(self.name):
            raise GraphError(
                f"layer name {self.name!r} is not a valid identifier: use a letter followed "
                "by letters, digits or '_' (at most 63 characters)"
            )

    def attributes(self) -> dict[str, str]:
        """Kind-specific attributes, as they appear in the canonical text form."""
        return {}

    def check(self, srcs: tuple[TensorSpec, ...]) -> None:
        """Raise GraphError unless this layer can read tensors ``srcs`` (one per input)."""

    def approximation(self) -> str:
        """The float computation of the source model this layer only approximates ("" when exact)."""
        return ""


@dataclass(frozen=True, kw_only=True)
class Input(Layer):
    kind: ClassVar[str] = "Input"
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Output(Layer):
    kind: ClassVar[str] = "Output"

    def check(self, srcs: tuple[TensorSpec, ...]) -> None:
        if self.output != srcs[0]:
            raise GraphError(
                f"layer {self.name}: an Output layer passes {srcs[0]} through unchanged, not {self.output}"
            )


@dataclass(frozen=True, kw_only=True)
class Activation(Layer):
    """Element-wise function of the input, then one rounding into ``output.format``."""

    kind: ClassVar[str] = "Activation"
    function: str = "linear"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_activation(self.name, self.function)

    def attributes(self) -> dict[str, str]:
        return {"function": self.function}


@dataclass(frozen=True, kw_only=True)
class MatMul(Layer, abc.ABC):
    """A layer computed by the DSP-chain engine: exact dot products of length ``n_in``.

    ``n_out`` dot products (sharing one input vector) per output position; ``positions``
    output positions per sample (1 for Dense, the output pixels for a convolution). The
    products and sums are exact; the only rounding is the accumulator -> ``output.format``.
    """

    weight: Tensor
    bias: Tensor | None = None
    activation: str = "linear"
    fold: Fold | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_activation(self.name, self.activation)
        if self.bias is not None and self.bias.shape != (self.n_out,):
            raise GraphError(f"layer {self.name}: bias shape {self.bias.shape} must be ({self.n_out},)")

    @property
    @abc.abstractmethod
    def n_in(self) -> int:
        """Length of one dot product (the accumulator's fan-in)."""

    @property
    @abc.abstractmethod
    def n_out(self) -> int:
        """Dot products per output position (output channels)."""

    @property
    def positions(self) -> int:
        """Output positions per sample: every one repeats the ``n_out`` dot products."""
        return self.output.size // self.n_out

    @property
    def bias_format(self) -> Format | None:
        return None if self.bias is None else self.bias.format

    def accumulator(self, input_format: Format) -> FixedPoint:
        """The narrowest accumulator that holds every possible sum exactly."""
        return accumulator_format(input_format, self.weight.format, self.n_in, self.bias_format)

    def scale_ints(self) -> tuple[int, ...]:
        """Ternary / binary weights: each output's weight scale as an integer on the weight grid,
        or one value for a per-tensor scale. Per-channel scales run along the weight's last axis:
        the output channels, or a depthwise kernel's multiplier (output c * multiplier + m has scale m)."""
        fmt = self.weight.format
        if not isinstance(fmt, Ternary | Binary):
            raise GraphError(f"layer {self.name}: weights {fmt} have no ternary / binary scale")
        ints = fmt.scale_ints()
        return ints if len(ints) == 1 else tuple(ints[j % len(ints)] for j in range(self.n_out))

    def attributes(self) -> dict[str, str]:
        attrs = {"weight": str(self.weight), "bias": str(self.bias) if self.bias else "none"}
        attrs.update(self.geometry())
        attrs["activation"] = self.activation
        if self.fold is not None:
            attrs["fold"] = str(self.fold)
        return attrs

    def geometry(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True, kw_only=True)
class Dense(MatMul):
    """y = round(activation(x @ weight + bias)); ``weight`` has Keras' layout (n_in, n_out)."""

    kind: ClassVar[str] = "Dense"

    def __post_init__(self) -> None:
        if len(self.weight.shape) != 2:
            raise GraphError(f"layer {self.name}: weight shape {self.weight.shape} must be (n_in, n_out)")
        super().__post_init__()
        if self.output.shape != (self.n_out,):
            raise GraphError(
                f"layer {self.name}: output shape {self.output.shape} does not match weight shape {self.weight.shape}"
            )

    @property
    def n_in(self) -> int:
        return self.weight.shape[0]

    @property
    def n_out(self) -> int:
        return self.weight.shape[1]

    def check(self, srcs: tuple[TensorSpec, ...]) -> None:
        if srcs[0].shape != (self.n_in,):
            raise GraphError(
                f"layer {self.name}: input shape {srcs[0].shape} does not match weight shape "
                f"{self.weight.shape}; flatten the input to ({self.n_in},)"
            )


@dataclass(frozen=True)
class WindowGeometry:
    """A windowed layer over its input as the window generators see it: an input image
    (h, w, c), a 1-D input as one row (h = 1, a one-tap unpadded first axis); ``kh`` x ``kw``
    taps, strides ``sh``, ``sw``, ``pt`` / ``pl`` padded rows / columns before the first,
    ``oh`` x ``ow`` output positions."""

    h: int
    w: int
    c: int
    kh: int
    kw: int
    sh: int
    sw: int
    pt: int
    pl: int
    oh: int
    ow: int

    @property
    def taps(self) -> int:
        return self.kh * self.kw

    @property
    def positions(self) -> int:
        return self.oh * self.ow


def _geometry(
    shape: tuple[int, ...], window: tuple[int, ...], strides: tuple[int, ...], padding: tuple[tuple[int, int], ...]
) -> WindowGeometry:
    spatial, c = shape[:-1], shape[-1]
    if len(spatial) == 1:
        spatial, window, strides, padding = (1, *spatial), (1, *window), (1, *strides), ((0, 0), *padding)
    out = [(n + pb + pa - k) // s + 1 for n, k, s, (pb, pa) in zip(spatial, window, strides, padding, strict=True)]
    return WindowGeometry(
        spatial[0], spatial[1], c, window[0], window[1], strides[0], strides[1], padding[0][0], padding[1][0], *out
    )


@dataclass(frozen=True, kw_only=True)
class Window:
    """Sliding-window geometry over the spatial axes of a channels-last tensor.

    ``padding`` is explicit, (before, after) per spatial axis, so Keras' 'same' and
    'valid' (and asymmetric pads) are all one thing here.
    """

    strides: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]

    def _check_window(self, name: str, window: tuple[int, ...]) -> None:
        rank = len(window)
        if rank not in (1, 2):
            raise GraphError(f"layer {name}: window {window} must have 1 or 2 spatial axes")
        if len(self.strides) != rank or len(self.padding) != rank:
            raise GraphError(
                f"layer {name}: strides {self.strides} and padding {self.padding} need one entry per "
                f"spatial axis of window {window}"
            )
        if min(window) < 1 or min(self.strides) < 1 or min(min(p) for p in self.padding) < 0:
            raise GraphError(
                f"layer {name}: window {window}, strides {self.strides}, padding {self.padding}: "
                "window and strides must be >= 1, pads >= 0"
            )

    def out_spatial(self, name: str, window: tuple[int, ...], spatial: tuple[int, ...]) -> tuple[int, ...]:
        """Output size per spatial axis for an input of spatial size ``spatial``."""
        if len(spatial) != len(window):
            raise GraphError(
                f"layer {name}: input has {len(spatial)} spatial axes, the window {window} needs {len(window)}"
            )
        out = []
        for n, k, s, (pb, pa) in zip(spatial, window, self.strides, self.padding, strict=True):
            if max(pb, pa) >= k or n + pb + pa < k:
                raise GraphError(
                    f"layer {name}: window {k} with pads ({pb}, {pa}) does not fit an input axis of {n}; "
                    "pads must be smaller than the window and the padded input at least as large"
                )
            out.append((n + pb + pa - k) // s + 1)
        return tuple(out)

    def geometry_of(self, window: tuple[int, ...], shape: tuple[int, ...]) -> WindowGeometry:
        """``window`` sliding over a channels-last input of ``shape`` with these strides and pads."""
        return _geometry(shape, window, self.strides, self.padding)

    def window_attributes(self) -> dict[str, str]:
        pads = ",".join(f"{b}:{a}" for b, a in self.padding)
        return {"strides": ",".join(map(str, self.strides)), "padding": pads}


def same_padding(
    spatial: tuple[int, ...], window: tuple[int, ...], strides: tuple[int, ...]
) -> tuple[tuple[int, int], ...]:
    """Keras/TensorFlow 'same' padding: the extra pad goes after (bottom/right)."""
    pads = []
    for n, k, s in zip(spatial, window, strides, strict=True):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


@dataclass(frozen=True, kw_only=True)
class Conv(MatMul, Window):
    """Convolution over a channels-last input ((L, C) or (H, W, C)), Keras weight layouts.

    Conv: weight (*kernel, c_in, c_out); each output pixel is a dot product of length
    prod(kernel) * c_in per output channel. Depthwise: weight (*kernel, c_in, multiplier);
    output channel c * multiplier + m reads only input channel c (dot length prod(kernel)).
    Padded positions are zeros.
    """

    kind: ClassVar[str] = "Conv"
    rank: ClassVar[int] = 2
    depthwise: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if len(self.weight.shape) != self.rank + 2:
            raise GraphError(
                f"layer {self.name} ({self.kind}): weight shape {self.weight.shape} must be "
                f"({', '.join(['k'] * self.rank)}, c_in, {'multiplier' if self.depthwise else 'c_out'})"
            )
        super().__post_init__()
        self._check_window(self.name, self.kernel)
        if self.output.shape[-1] != self.n_out or len(self.output.shape) != self.rank + 1:
            raise GraphError(
                f"layer {self.name}: output shape {self.output.shape} must have {self.rank} spatial axes "
                f"and {self.n_out} channels"
            )

    @property
    def kernel(self) -> tuple[int, ...]:
        return self.weight.shape[: self.rank]

    @property
    def in_channels(self) -> int:
        return self.weight.shape[self.rank]

    @property
    def n_in(self) -> int:
        taps = int(np.prod(self.kernel))
        return taps if self.depthwise else taps * self.in_channels

    @property
    def n_out(self) -> int:
        return self.in_channels * self.weight.shape[-1] if self.depthwise else self.weight.shape[-1]

    def geometry(self) -> dict[str, str]:
        return self.window_attributes()

    def window_geometry(self, shape: tuple[int, ...]) -> WindowGeometry:
        """The kernel's windows over an input of ``shape``."""
        return self.geometry_of(self.kernel, shape)

    def check(self, srcs: tuple[TensorSpec, ...]) -> None:
        src = srcs[0]
        if len(src.shape) != self.rank + 1 or src.shape[-1] != self.in_channels:
            raise GraphError(
                f"layer {self.name} ({self.kind}): input shape {src.shape} must be channels-last with "
                f"{self.rank} spatial axes and {self.in_channels} channels"
            )
        expected = (*self.out_spatial(self.name, self.kernel, src.shape[:-1]), self.n_out)
        if self.output.shape != expected:
            raise GraphError(f"layer {self.name}: output shape {self.output.shape}, expected {expected}")


@dataclass(frozen=True, kw_only=True)
class Conv1D(Conv):
    kind: ClassVar[str] = "Conv1D"
    rank: ClassVar[int] = 1


@dataclass(frozen=True, kw_only=True)
class Conv2D(Conv):
    kind: ClassVar[str] = "Conv2D"


@dataclass(frozen=True, kw_only=True)
class DepthwiseConv1D(Conv):
    kind: ClassVar[str] = "DepthwiseConv1D"
    rank: ClassVar[int] = 1
    depthwise: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True)
class DepthwiseConv2D(Conv):
    kind: ClassVar[str] = "DepthwiseConv2D"
    depthwise: ClassVar[bool] = True


POOL_FUNCTIONS = ("max", "avg")


@dataclass(frozen=True, kw_only=True)
class Pool(Layer, Window):
    """Max or average pooling per channel; padded positions are left out (TensorFlow's rule).

    max: the largest value of the window, rounded into ``output.format``. avg: the exact
    window sum divided by the number of non-padded positions, rounded once.
    """

    kind: ClassVar[str] = "Pool"
    function: str
    pool_size: tuple[int, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_function(self.name, self.function)
        self._check_window(self.name, self.pool_size)

    def attributes(self) -> dict[str, str]:
        return {"function": self.function, "pool": ",".join(map(str, self.pool_size)), **self.window_attributes()}

    def window_geometry(self, shape: tuple[int, ...]) -> WindowGeometry:
        """The pooling windows over an input of ``shape``."""
        return self.geometry_of(self.pool_size, shape)

    def check(self, srcs: tuple[TensorSpec, ...]) -> None:
        src = srcs[0]
        rank = len(self.pool_size)
        if len(src.shape) != rank + 1:
            raise GraphError(
                f"layer {self.name}: input shape {src.shape} must be channels-last with {rank} spatial axes"
            )
        expected = (*self.out_spatial(self.name, self.pool_size, src.shape[:-1]), src.shape[-1])
        if self.output.shape != expected:
            raise GraphError(f"layer {self.name}: output shape {self.output.shape}, expected {expected}")


@dataclass(frozen=True, kw_only=True)
class GlobalPool(Layer):
    """Max or average over every spatial position, per channel: (..., C) -> (C,)."""

    kind: ClassVar[str] = "GlobalPool"
    function: str

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_function(self.name, self.function)

    def window_geometry(self, shape: tuple[int, ...]) -> WindowGeometry:
        """One window over the whole input image of ``shape``."""
        rank = len(shape) - 1
        return _geometry(shape, shape[:-1], (1,) * rank, ((0, 0),) * rank)

    def attributes(self) -> dict[str, str]:
        return {"function": self.function}

    def check(self, srcs: tuple[TensorSpec, ...]) -> None:
        src = srcs[0]
        if len(src.shape) < 2 or self.output.shape != (src.shape[-1],):
            raise GraphError(
                f"layer {self.name}: input {src.shape} needs spatial axes and output {self.output.shape} "
                f"must be ({src.shape[-1]},)"
            )


@dataclass(frozen=True, kw_only=True)
class ScaleShift(Layer):
    """y = round(activation(x * scale[c] + shift[c])) per channel (last axis), exact until the rounding.

    A batchnorm with no quantizer after it. ``approximates`` names a float computation of
    the source model this layer stands for (e.g. a float32 BatchNormalization), which fixed
    point can only approximate; ``predict(..., report=True)`` lists such layers.
    """

    kind: ClassVar[str] = "ScaleShift"
    scale: Tensor
    shift: Tensor
    activation: str = "linear"
    approximates: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_activation(self.name, self.activation)
        channels = self.output.shape[-1]
        if self.scale.shape != (channels,) or self.shift.shape != (channels,):
            raise GraphError(
                f"layer {self.name}: scale {self.scale.shape} and shift {self.shift.shape} must be ({channels},)"
            )

    def accumulator(self, input_format: Format) -> FixedPoint:
        """Exact format of x * scale + shift."""
        return accumulator_format(input_format, self.scale.format, 1, self.shift.format)

    def approximation(self) -> str:
        return self.approximates

    def attributes(self) -> dict[str, str]:
        attrs = {"scale": str(self.scale), "shift": str(self.shift), "activation": self.activation}
        if self.approximates:
            attrs["approximates"] = self.approximates
        return attrs

    def check(self, srcs: tuple[TensorSpec, ...]) -> None:
        _same_shape(self, srcs[0])


@dataclass(frozen=True, kw_only=True)
class Threshold(Layer):
    """Monotone step function per channel (FINN's MultiThreshold), exact on the input grid.

    ``thresholds`` (C, L), ascending along L, and ``values`` (C, L + 1) in ``output.format``:
    y[..., c] = values[c, k] where k counts the thresholds t with x >= t. This is how a
    batchnorm followed by a quantizer stays bit-exact: the thresholds are the exact input
    values where the quantized output steps, found on the source model's own arithmetic.
    """

    kind: ClassVar[str] = "Threshold"
    thresholds: Tensor
    values: Tensor

    def __post_init__(self) -> None:
        super().__post_init__()
        channels = self.output.shape[-1]
        t_shape, v_shape = self.thresholds.shape, self.values.shape
        if len(t_shape) != 2 or t_shape[0] != channels or v_shape != (channels, t_shape[1] + 1):
            raise GraphError(
                f"layer {self.name}: thresholds {t_shape} must be ({channels}, L) and values {v_shape} "
                f"({channels}, L + 1)"
            )
        if self.values.format != self.output.format:
            raise GraphError(f"layer {self.name}: values are {self.values.format}, output is {self.output.format}")
        if np.any(np.diff(self.thresholds.values, axis=1) < 0):
            raise GraphError(f"layer {self.name}: thresholds must be ascending along each channel")

    @property
    def levels(self) -> int:
        return self.thresholds.shape[1]

    def attributes(self) -> dict[str, str]:
        return {"thresholds": str(self.thresholds), "values": str(self.values)}

    def check(self, srcs: tuple[TensorSpec, ...]) -> None:
        _same_shape(self, srcs[0])


@dataclass(frozen=True, kw_only=True)
class Add(Layer):
    """Element-wise sum of two or more tensors of one shape, exact until one rounding."""

    kind: ClassVar[str] = "Add"

    def check(self, srcs: tuple[TensorSpec, ...]) -> None:
        for src in srcs:
            _same_shape(self, src)


@dataclass(frozen=True, kw_only=True)
class Concatenate(Layer):
    """Join tensors along the channel (last) axis; each input is rounded into ``output.format``."""

    kind: ClassVar[str] = "Concatenate"

    def check(self, srcs: tuple[TensorSpec, ...]) -> None:
        lead = {src.shape[:-1] for src in srcs}
        expected = (*srcs[0].shape[:-1], sum(src.shape[-1] for src in srcs))
        if len(lead) != 1 or self.output.shape != expected:
            raise GraphError(
                f"layer {self.name}: inputs {[s.shape for s in srcs]} must agree on every axis but the last "
                f"and the output {self.output.shape} must be their concatenation"
            )


@dataclass(frozen=True, kw_only=True)
class Reshape(Layer):
    """Row-major reshape (Keras Flatten and Reshape of channels-last tensors); no arithmetic."""

    kind: ClassVar[str] = "Reshape"
    view: ClassVar[bool] = True

    def check(self, srcs: tuple[TensorSpec, ...]) -> None:
        if srcs[0].size != self.output.size or srcs[0].format != self.output.format:
            raise GraphError(
                f"layer {self.name}: cannot reshape {srcs[0]} into {self.output}: the size and format must stay"
            )


def _same_shape(layer: Layer, src: TensorSpec) -> None:
    if layer.output.shape != src.shape:
        raise GraphError(f"layer {layer.name}: output shape {layer.output.shape} differs from input shape {src.shape}")


def _check_activation(layer: str, function: str) -> None:
    if function not in ACTIVATIONS:
        raise GraphError(f"layer {layer}: activation {function!r} is not one of {ACTIVATIONS}")


def _check_function(layer: str, function: str) -> None:
    if function not in POOL_FUNCTIONS:
        raise GraphError(f"layer {layer}: pooling {function!r} is not one of {POOL_FUNCTIONS}")


LAYER_KINDS: dict[str, type[Layer]] = {
    cls.kind: cls
    for cls in (
        Input,
        Dense,
        Conv1D,
        Conv2D,
        DepthwiseConv1D,
        DepthwiseConv2D,
        Pool,
        GlobalPool,
        ScaleShift,
        Threshold,
        Activation,
        Add,
        Concatenate,
        Reshape,
        Output,
    )
}
