"""The Graph: an ordered, validated DAG of layers with a canonical text form, and what it computes.

``Graph.predict`` is the golden model: every tensor is carried as exact integers on its
format's grid (``sizing.exact_fixed``) -- fixed-point mantissas, minifloats on their
subnormal step, ternary levels times the scale -- and each kind's rule (``RULES``,
registered with the kind in ``fpga_gen.kinds``, written in the exact arithmetic of
``fpga_gen.golden``) maps its inputs' integers to its output's, rounding once, in the
output format's ``cast_int``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import FpgaGenError, GraphError
from fpga_gen.formats import Format, MiniFloat, parse_format
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir.layers import LAYER_KINDS, Add, Concatenate, Fold, Input, Layer, Output
from fpga_gen.ir.registry import Table
from fpga_gen.ir.tensor import Tensor, TensorSpec

GRAPH_FILE = "graph.json"
WEIGHTS_FILE = "weights.npz"
_SCHEMA = 1

# int64 while values fit, Python ints (dtype=object) beyond.
IntArray = npt.NDArray[Any]
# (layer, its inputs' integers, their formats) -> its output's integers; the Input layer
# reads the quantized graph input.
GoldenRule = Callable[[Any, list[IntArray], list[Format]], IntArray]
RULES: Table[GoldenRule] = Table("golden model", "rule")


@dataclass(frozen=True)
class PredictReport:
    """What ``graph.predict(x, report=True)`` tells beside the outputs."""

    samples: int
    inputs_not_representable: int
    input_format: str
    # the float computations of the source model that fixed-point layers only approximate
    approximations: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{self.samples} samples; {self.inputs_not_representable} input values were not "
            f"representable in {self.input_format} and were quantized"
        )
        return text + "".join(f"; approximates {a}" for a in self.approximations)


@dataclass(frozen=True)
class Graph:
    """Layers in topological order; exactly one Input first and one Output last."""

    layers: tuple[Layer, ...]
    name: str = "model"

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        _validate(self)

    # -- access -----------------------------------------------------------------------
    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __getitem__(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise GraphError(f"graph {self.name} has no layer {name!r}")

    @property
    def input(self) -> Input:
        return self.layers[0]  # type: ignore[return-value]

    @property
    def output(self) -> Output:
        return self.layers[-1]  # type: ignore[return-value]

    def input_spec(self, layer: Layer) -> TensorSpec:
        """The spec of the first (for most layers the only) tensor ``layer`` reads."""
        return self[layer.inputs[0]].output

    def input_specs(self, layer: Layer) -> tuple[TensorSpec, ...]:
        """The specs of every tensor ``layer`` reads, in order."""
        return tuple(self[src].output for src in layer.inputs)

    def readers(self, name: str) -> tuple[Layer, ...]:
        """The layers that read the output of layer ``name``."""
        return tuple(layer for layer in self.layers if name in layer.inputs)

    def with_layers(self, layers: tuple[Layer, ...]) -> Graph:
        return replace(self, layers=layers)

    # -- evaluation -------------------------------------------------------------------
    @overload
    def predict(self, x: npt.ArrayLike, report: Literal[False] = ...) -> npt.NDArray[np.float64]: ...
    @overload
    def predict(self, x: npt.ArrayLike, report: Literal[True]) -> tuple[npt.NDArray[np.float64], PredictReport]: ...
    def predict(
        self, x: npt.ArrayLike, report: bool = False
    ) -> npt.NDArray[np.float64] | tuple[npt.NDArray[np.float64], PredictReport]:
        """Golden model: bit-exact output for a batch of float inputs."""
        x_ints, changed = quantize_inputs(self, x)
        y = exact_fixed(self.output.output.format).from_int(evaluate_ints(self, x_ints))
        if not report:
            return y
        approximations = tuple(a for layer in self.layers if (a := layer.approximation()))
        return y, PredictReport(len(x_ints), changed, str(self.input.output.format), approximations)

    # -- text and files ---------------------------------------------------------------
    def __str__(self) -> str:
        lines = [f"graph {self.name}"]
        for layer in self.layers:
            src = f"({', '.join(layer.inputs)})" if layer.inputs else ""
            attrs = "".join(f" {k}=[{v}]" for k, v in layer.attributes().items())
            lines.append(f"  {layer.name}: {layer.kind}{src}{attrs} -> {layer.output}")
        return "\n".join(lines) + "\n"

    def save(self, directory: str | Path) -> Path:
        """Write ``graph.json`` and ``weights.npz`` into ``directory``; load() reads them back."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, npt.NDArray[np.int64]] = {}
        doc = {"schema": _SCHEMA, "name": self.name, "layers": [_layer_doc(l, arrays) for l in self.layers]}
        (out / GRAPH_FILE).write_text(json.dumps(doc, indent=1) + "\n")
        np.savez(out / WEIGHTS_FILE, **arrays)  # type: ignore[arg-type]
        return out


def quantize_inputs(graph: Graph, x: npt.ArrayLike) -> tuple[IntArray, int]:
    """Float inputs -> integer mantissas of the Input format (the host-side step every level shares).

    Returns the mantissas and how many values changed under quantization.
    """
    spec = graph.input.output
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape[1:] != spec.shape:
        raise GraphError(
            f"input of shape {arr.shape} does not match {graph.input.name} {spec.shape}: "
            f"pass a batch of shape (n, {', '.join(map(str, spec.shape))})"
        )
    q = spec.format.quantize(arr)
    return exact_fixed(spec.format).to_int(q), int(np.count_nonzero(q != arr))


def evaluate_ints(graph: Graph, x_ints: IntArray) -> IntArray:
    """Integer mantissas of the Input format in, integer mantissas of the Output format out."""
    values: dict[str, IntArray] = {}
    for layer in graph.layers:
        srcs = [values[name] for name in layer.inputs] if layer.inputs else [np.asarray(x_ints)]
        fmts = [spec.format for spec in graph.input_specs(layer)] or [layer.output.format]
        values[layer.name] = RULES[layer](layer, srcs, fmts)
    return values[graph.output.name]


def load(directory: str | Path) -> Graph:
    """Read a graph written by ``Graph.save``."""
    src = Path(directory)
    try:
        doc = json.loads((src / GRAPH_FILE).read_text())
        with np.load(src / WEIGHTS_FILE) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError) as exc:
        raise GraphError(
            f"cannot load a graph from {src}: {exc}; expected {GRAPH_FILE} and {WEIGHTS_FILE} written by Graph.save"
        ) from exc
    if doc.get("schema") != _SCHEMA:
        raise GraphError(f"{src / GRAPH_FILE}: schema {doc.get('schema')!r} is not {_SCHEMA}")
    try:
        return Graph(tuple(_layer_from_doc(d, arrays) for d in doc["layers"]), name=doc["name"])
    except FpgaGenError as exc:
        raise GraphError(f"{src / GRAPH_FILE}: {exc}") from exc
    except (KeyError, TypeError) as exc:
        raise GraphError(f"{src / GRAPH_FILE}: malformed layer entry ({exc!r})") from exc


def _layer_doc(layer: Layer, arrays: dict[str, npt.NDArray[np.int64]]) -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": layer.kind}
    for f in fields(layer):
        value = getattr(layer, f.name)
        if isinstance(value, Tensor):
            key = f"{layer.name}.{f.name}"
            arrays[key] = value.codes
            value = {"format": str(value.format), "array": key}
        elif isinstance(value, TensorSpec):
            value = {"shape": list(value.shape), "format": str(value.format)}
        elif isinstance(value, Fold):
            value = {"pe": value.pe, "simd": value.simd} | ({"vectors": value.vectors} if value.vectors > 1 else {})
        doc[f.name] = value
    return doc


def _layer_from_doc(doc: dict[str, Any], arrays: dict[str, npt.NDArray[np.int64]]) -> Layer:
    cls = LAYER_KINDS.get(doc["kind"])
    if cls is None:
        raise GraphError(f"unknown layer kind {doc['kind']!r}; known: {sorted(LAYER_KINDS)}")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in doc:
            continue
        value = doc[f.name]
        if f.name == "output":
            value = TensorSpec(tuple(value["shape"]), parse_format(value["format"]))
        elif f.name == "fold" and value is not None:
            value = Fold(**value)
        elif isinstance(value, list):
            value = _tuples(value)
        elif isinstance(value, dict) and "array" in value:
            value = Tensor(parse_format(value["format"]), arrays[value["array"]])
        kwargs[f.name] = value
    return cls(**kwargs)


def _tuples(value: Any) -> Any:
    """JSON lists back to the (nested) tuples the frozen layers hold."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _check_tensor_format(layer: str, fmt: Format) -> None:
    """Tensors flowing between layers are finite numbers: every level carries them as integers."""
    if isinstance(fmt, MiniFloat) and not fmt.saturating:
        raise GraphError(
            f"layer {layer}: output format {fmt} overflows to inf/NaN, which no layer can consume; "
            "use a saturating minifloat (saturating=True, the default)"
        )
    exact_fixed(fmt)  # raises for a format without an exact integer grid


# How many tensors each kind reads; kinds not listed read exactly one.
_ARITY = {Input: (0, 0), Add: (2, None), Concatenate: (2, None)}


def _validate(graph: Graph) -> None:
    layers = graph.layers
    _check_tensor_format(layers[0].name, layers[0].output.format)
    if len(layers) < 2 or not isinstance(layers[0], Input) or not isinstance(layers[-1], Output):
        raise GraphError(f"graph {graph.name}: must start with one Input and end with one Output layer")
    seen: dict[str, Layer] = {}
    read: set[str] = set()
    for layer in layers:
        if layer.name in seen:
            raise GraphError(f"graph {graph.name}: layer name {layer.name!r} is used twice")
        if isinstance(layer, Input) and layer is not layers[0]:
            raise GraphError(f"graph {graph.name}: second Input layer {layer.name}; one input is supported")
        if isinstance(layer, Output) and layer is not layers[-1]:
            raise GraphError(f"graph {graph.name}: Output layer {layer.name} is not the last layer")
        lo, hi = _ARITY.get(type(layer), (1, 1))
        if len(layer.inputs) < lo or (hi is not None and len(layer.inputs) > hi):
            expected = f"{lo}" if lo == hi else f"at least {lo}"
            raise GraphError(
                f"layer {layer.name} ({layer.kind}): reads {len(layer.inputs)} tensors, expected {expected}"
            )
        for src in layer.inputs:
            if src not in seen:
                raise GraphError(f"layer {layer.name}: input {src!r} is not an earlier layer")
        if layer.inputs:
            _check_tensor_format(layer.name, layer.output.format)
            layer.check(tuple(seen[src].output for src in layer.inputs))
        read.update(layer.inputs)
        seen[layer.name] = layer
    unread = [l.name for l in layers[:-1] if l.name not in read]
    if unread:
        raise GraphError(f"graph {graph.name}: the outputs of {unread} are never read; remove those layers")
