"""Build a Graph layer by layer from float weights and chosen formats.

This is how a user quantizes a float network by hand (before or without a front-end):
every weight is rounded with ``format.quantize`` (the format's own rounding and overflow
modes), so what is stored is exactly what the format can hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import GraphError
from fpga_gen.formats import Format, parse_format
from fpga_gen.formats.sizing import accumulator_format, exact_fixed, fit_range, int_range
from fpga_gen.ir.graph import Graph
from fpga_gen.ir.layers import (
    Activation,
    Add,
    Concatenate,
    Conv,
    Conv1D,
    Conv2D,
    Dense,
    DepthwiseConv1D,
    DepthwiseConv2D,
    GlobalPool,
    Input,
    Layer,
    Output,
    Pool,
    Reshape,
    ScaleShift,
    Threshold,
    Window,
    same_padding,
)
from fpga_gen.ir.tensor import Tensor, TensorSpec

FormatLike = Format | str


def as_format(fmt: FormatLike) -> Format:
    return parse_format(fmt) if isinstance(fmt, str) else fmt


@dataclass
class GraphBuilder:
    """Appends layers to a graph that starts at one Input; ``build()`` closes it with an Output.

    Each layer reads the last one added unless ``source`` names another (branches for Add
    and Concatenate).
    """

    name: str
    input_shape: tuple[int, ...]
    input_format: FormatLike
    _layers: list[Layer] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        spec = TensorSpec(tuple(self.input_shape), as_format(self.input_format))
        self._layers.append(Input(name="input", output=spec))

    @property
    def last(self) -> Layer:
        return self._layers[-1]

    def _name(self, kind: str, name: str | None) -> str:
        return name or f"{kind}{sum(1 for l in self._layers if l.kind.lower() == kind)}"

    def _source(self, source: str | None) -> Layer:
        if source is None:
            return self.last
        for layer in self._layers:
            if layer.name == source:
                return layer
        raise GraphError(f"builder {self.name}: no layer {source!r} to read from")

    def _constants(
        self,
        name: str,
        weight: npt.ArrayLike,
        weight_format: FormatLike,
        bias: npt.ArrayLike | None,
        bias_format: FormatLike | None,
    ) -> tuple[Tensor, Tensor | None]:
        w = _quantized(as_format(weight_format), weight)
        if bias is None:
            return w, None
        if bias_format is None:
            raise GraphError(f"layer {name}: a bias needs a bias_format")
        return w, _quantized(as_format(bias_format), bias)

    def _append(self, layer: Layer) -> GraphBuilder:
        self._layers.append(layer)
        return self

    def dense(
        self,
        weight: npt.ArrayLike,
        weight_format: FormatLike,
        bias: npt.ArrayLike | None = None,
        bias_format: FormatLike | None = None,
        *,
        activation: str = "linear",
        output_format: FormatLike | None = None,
        name: str | None = None,
        source: str | None = None,
    ) -> GraphBuilder:
        """Add a Dense layer; without ``output_format`` it keeps the exact accumulator."""
        name = self._name("dense", name)
        w, b = self._constants(name, weight, weight_format, bias, bias_format)
        src = self._source(source)
        out_fmt = self._matmul_format(src, w, b, w.shape[0], output_format)
        spec = TensorSpec((w.shape[1],), out_fmt)
        return self._append(Dense(name=name, inputs=(src.name,), output=spec, weight=w, bias=b, activation=activation))

    def conv(
        self,
        weight: npt.ArrayLike,
        weight_format: FormatLike,
        bias: npt.ArrayLike | None = None,
        bias_format: FormatLike | None = None,
        *,
        strides: int | tuple[int, ...] = 1,
        padding: str | tuple[tuple[int, int], ...] = "valid",
        depthwise: bool = False,
        activation: str = "linear",
        output_format: FormatLike | None = None,
        name: str | None = None,
        source: str | None = None,
    ) -> GraphBuilder:
        """Add a Conv1D/Conv2D (or depthwise) layer; ``weight`` in Keras' layout, input channels-last."""
        src = self._source(source)
        rank = len(src.output.shape) - 1
        cls = _CONV_KINDS.get((rank, depthwise))
        if cls is None:
            raise GraphError(f"builder {self.name}: a convolution needs a 2-D or 3-D input, got {src.output.shape}")
        name = self._name(cls.kind.lower(), name)
        w, b = self._constants(name, weight, weight_format, bias, bias_format)
        kernel = w.shape[:rank]
        steps, pads = _geometry(name, src.output.shape[:-1], kernel, strides, padding)
        fan_in = int(np.prod(kernel)) * (1 if depthwise else w.shape[rank])
        out_fmt = self._matmul_format(src, w, b, fan_in, output_format)
        channels = w.shape[rank] * w.shape[-1] if depthwise else w.shape[-1]
        window = Window(strides=steps, padding=pads)
        spec = TensorSpec((*window.out_spatial(name, kernel, src.output.shape[:-1]), channels), out_fmt)
        layer = cls(
            name=name,
            inputs=(src.name,),
            output=spec,
            weight=w,
            bias=b,
            activation=activation,
            strides=steps,
            padding=pads,
        )
        return self._append(layer)

    def _matmul_format(
        self, src: Layer, w: Tensor, b: Tensor | None, fan_in: int, output_format: FormatLike | None
    ) -> Format:
        if output_format is not None:
            return as_format(output_format)
        return accumulator_format(src.output.format, w.format, fan_in, None if b is None else b.format)

    def pool(
        self,
        function: str,
        pool_size: int | tuple[int, ...],
        *,
        strides: int | tuple[int, ...] | None = None,
        padding: str | tuple[tuple[int, int], ...] = "valid",
        output_format: FormatLike | None = None,
        name: str | None = None,
        source: str | None = None,
    ) -> GraphBuilder:
        """Max or average pooling (strides default to the pool size, as in Keras)."""
        src = self._source(source)
        name = self._name("pool", name)
        rank = len(src.output.shape) - 1
        size = _per_axis(name, "pool_size", pool_size, rank)
        steps, pads = _geometry(name, src.output.shape[:-1], size, size if strides is None else strides, padding)
        out_fmt = src.output.format if output_format is None else as_format(output_format)
        window = Window(strides=steps, padding=pads)
        spec = TensorSpec((*window.out_spatial(name, size, src.output.shape[:-1]), src.output.shape[-1]), out_fmt)
        layer = Pool(
            name=name, inputs=(src.name,), output=spec, function=function, pool_size=size, strides=steps, padding=pads
        )
        return self._append(layer)

    def global_pool(
        self,
        function: str,
        *,
        output_format: FormatLike | None = None,
        name: str | None = None,
        source: str | None = None,
    ) -> GraphBuilder:
        src = self._source(source)
        out_fmt = src.output.format if output_format is None else as_format(output_format)
        spec = TensorSpec((src.output.shape[-1],), out_fmt)
        return self._append(
            GlobalPool(name=self._name("globalpool", name), inputs=(src.name,), output=spec, function=function)
        )

    def scale_shift(
        self,
        scale: npt.ArrayLike,
        scale_format: FormatLike,
        shift: npt.ArrayLike,
        shift_format: FormatLike,
        *,
        activation: str = "linear",
        output_format: FormatLike | None = None,
        name: str | None = None,
        source: str | None = None,
    ) -> GraphBuilder:
        """Per-channel x * scale + shift; without ``output_format`` the exact result is kept."""
        src = self._source(source)
        sc, sh = _quantized(as_format(scale_format), scale), _quantized(as_format(shift_format), shift)
        exact = accumulator_format(src.output.format, sc.format, 1, sh.format)
        spec = TensorSpec(src.output.shape, exact if output_format is None else as_format(output_format))
        layer = ScaleShift(
            name=self._name("scaleshift", name),
            inputs=(src.name,),
            output=spec,
            scale=sc,
            shift=sh,
            activation=activation,
        )
        return self._append(layer)

    def threshold(
        self,
        thresholds: npt.ArrayLike,
        values: npt.ArrayLike,
        output_format: FormatLike,
        *,
        name: str | None = None,
        source: str | None = None,
    ) -> GraphBuilder:
        """Per-channel step function: y = values[c, #{t in thresholds[c] : x >= t}].

        Float thresholds are moved up onto the input grid (x >= t iff x >= ceil(t) there);
        thresholds beyond the input range become one step outside it (never / always met).
        """
        src = self._source(source)
        grid = exact_fixed(src.output.format)
        t = np.asarray(thresholds, dtype=np.float64)
        ints = np.clip(np.ceil(t * 2.0**grid.frac), grid.min_int - 1, grid.max_int + 1).astype(np.int64)
        t_fmt = fit_range(grid.min_int - 1, grid.max_int + 1, grid.frac)
        out_fmt = as_format(output_format)
        layer = Threshold(
            name=self._name("threshold", name),
            inputs=(src.name,),
            output=TensorSpec(src.output.shape, out_fmt),
            thresholds=Tensor.from_values(t_fmt, t_fmt.from_int(ints)),
            values=_quantized(out_fmt, values),
        )
        return self._append(layer)

    def add(self, *sources: str, output_format: FormatLike | None = None, name: str | None = None) -> GraphBuilder:
        """Sum of the named layers' outputs; without ``output_format`` the exact sum is kept."""
        srcs = [self._source(s) for s in sources]
        if output_format is None:
            lo = hi = 0
            frac = max(exact_fixed(s.output.format).frac for s in srcs)
            for s in srcs:
                slo, shi, sfrac = int_range(exact_fixed(s.output.format))
                lo, hi = lo + (slo << (frac - sfrac)), hi + (shi << (frac - sfrac))
            out_fmt: Format = fit_range(lo, hi, frac)
        else:
            out_fmt = as_format(output_format)
        spec = TensorSpec(srcs[0].output.shape, out_fmt)
        return self._append(Add(name=self._name("add", name), inputs=tuple(s.name for s in srcs), output=spec))

    def concatenate(self, *sources: str, output_format: FormatLike, name: str | None = None) -> GraphBuilder:
        """Join the named layers' outputs along the channel axis, each rounded into ``output_format``."""
        srcs = [self._source(s) for s in sources]
        shape = (*srcs[0].output.shape[:-1], sum(s.output.shape[-1] for s in srcs))
        spec = TensorSpec(shape, as_format(output_format))
        layer = Concatenate(name=self._name("concatenate", name), inputs=tuple(s.name for s in srcs), output=spec)
        return self._append(layer)

    def reshape(self, shape: tuple[int, ...], *, name: str | None = None, source: str | None = None) -> GraphBuilder:
        src = self._source(source)
        spec = TensorSpec(tuple(shape), src.output.format)
        return self._append(Reshape(name=self._name("reshape", name), inputs=(src.name,), output=spec))

    def flatten(self, *, name: str | None = None, source: str | None = None) -> GraphBuilder:
        size = self._source(source).output.size
        return self.reshape((size,), name=name or self._name("flatten", None), source=source)

    def activation(
        self, function: str, output_format: FormatLike, *, name: str | None = None, source: str | None = None
    ) -> GraphBuilder:
        src = self._source(source)
        spec = TensorSpec(src.output.shape, as_format(output_format))
        return self._append(
            Activation(name=self._name("activation", name), inputs=(src.name,), output=spec, function=function)
        )

    def build(self) -> Graph:
        out = Output(name="output", inputs=(self.last.name,), output=self.last.output)
        return Graph((*self._layers, out), name=self.name)


_CONV_KINDS: dict[tuple[int, bool], type[Conv]] = {
    (1, False): Conv1D,
    (2, False): Conv2D,
    (1, True): DepthwiseConv1D,
    (2, True): DepthwiseConv2D,
}


def _quantized(fmt: Format, values: npt.ArrayLike) -> Tensor:
    """Round ``values`` with the format's own rounding and overflow, and store them."""
    return Tensor.from_values(fmt, fmt.quantize(np.asarray(values, dtype=np.float64)))


def _per_axis(name: str, what: str, value: int | tuple[int, ...], rank: int) -> tuple[int, ...]:
    out = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(out) != rank:
        raise GraphError(f"layer {name}: {what} {value} needs one entry per spatial axis ({rank})")
    return out


def _geometry(
    name: str,
    spatial: tuple[int, ...],
    window: tuple[int, ...],
    strides: int | tuple[int, ...],
    padding: str | tuple[tuple[int, int], ...],
) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Strides per axis and explicit pads from Keras' 'same' / 'valid' or explicit pads."""
    rank = len(spatial)
    steps = _per_axis(name, "strides", strides, rank)
    if padding == "valid":
        return steps, ((0, 0),) * rank
    if padding == "same":
        return steps, same_padding(spatial, window, steps)
    if isinstance(padding, str):
        raise GraphError(f"layer {name}: padding {padding!r} must be 'same', 'valid' or explicit (before, after) pairs")
    return steps, tuple((int(b), int(a)) for b, a in padding)
