"""The HLS writer's walk over a graph: dataflow processes, their streams, types and constants.

Every layer output is a stream of its elements in row-major (channels-last) order, some per
beat. Each layer's kind emits its processes (``EMITTERS``, registered in ``fpga_gen.kinds``)
with the building blocks of ``Planner``: it declares its output tensor, reads its inputs
(repacked to the beat width it wants), declares a process with its config struct and
constants, and hands its output on. A tensor with several readers is forked; a reader that
needs another beat width gets a repack process; a view (Reshape) is only a new name for its
input's stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.backends.hls import cpp
from fpga_gen.backends.hls.codes import StreamFormat
from fpga_gen.backends.linebuffer import line_buffer_beats, loop_iterations
from fpga_gen.errors import UnsupportedLayerError
from fpga_gen.formats import FixedPoint, Format, MiniFloat
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import Conv, GlobalPool, Graph, Layer, Pool
from fpga_gen.ir.registry import Table

_ROW_VALUES = 16  # values per line in 1-D initialisers

# A config struct field: (C++ type, name, value), or ("typedef", name, C++ type).
Field = tuple[str, str, Any]


@dataclass(frozen=True)
class Edge:
    """A stream as one reader sees it: its C++ expression, the tensor whose elements it carries, the beat width."""

    expr: str
    tensor: str
    pack: int


def port(direction: str, index: int, tensor: str, pack: int, copies: int = 0) -> str:
    """A stream parameter of a process function (an array of ``copies`` streams when given)."""
    stream = f"hls::stream<fg::vec<{tensor}_t, {pack}> >"
    return f"{stream} {direction}{index}[{copies}]" if copies else f"{stream} &{direction}{index}"


def element_format(layer: Layer, fmt: Format, what: str) -> StreamFormat:
    """``fmt`` as a tensor or constant format of the HLS backend (fixed point or minifloat)."""
    if not isinstance(fmt, FixedPoint | MiniFloat):
        raise UnsupportedLayerError(
            f"layer {layer.name}: {what} format {fmt} cannot be a tensor or bias format of the HLS "
            "backend: use fixed point or minifloat (ternary and binary are weight formats only)"
        )
    return fmt


def int_rows(layer: Layer, what: str, fmt: Format, codes: npt.NDArray[Any]) -> list[str]:
    """C++ initialiser rows of integer codes: one per row of a 2-D array, else _ROW_VALUES per line."""
    if fmt.bits > 64:
        raise UnsupportedLayerError(
            f"layer {layer.name}: {what} format {fmt} is wider than 64 bits; the HLS backend "
            "stores constants as 64-bit integer literals: use at most 64 bits"
        )
    values = np.asarray(codes).tolist()
    if np.ndim(codes) == 2:
        return ["{" + ", ".join(map(cpp.int_literal, row)) + "}" for row in values]
    return [", ".join(map(cpp.int_literal, values[i : i + _ROW_VALUES])) for i in range(0, len(values), _ROW_VALUES)]


def geometry_fields(layer: Conv | Pool | GlobalPool, shape: tuple[int, ...], pack: int) -> list[Field]:
    """The window fields of fg_window.h for ``layer`` over an input of ``shape``."""
    g = layer.window_geometry(shape)
    fields = {
        "in_h": g.h,
        "in_w": g.w,
        "channels": g.c,
        "pack": pack,
        "k_h": g.kh,
        "k_w": g.kw,
        "s_h": g.sh,
        "s_w": g.sw,
        "pad_t": g.pt,
        "pad_l": g.pl,
        "out_h": g.oh,
        "out_w": g.ow,
    }
    return [("unsigned", name, value) for name, value in fields.items()]


def _cpp_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


class Planner:
    """One pass over the graph in order, each kind emitting its processes through these blocks."""

    def __init__(self, graph: Graph, ns: str, input_pack: int) -> None:
        self.graph = graph
        self.ns = ns
        self.input_pack = input_pack  # elements per beat of the top's input stream
        self.tensors: list[dict[str, Any]] = []
        self.streams: list[dict[str, Any]] = []
        self.procs: list[dict[str, Any]] = []
        self.constants: list[dict[str, Any]] = []
        self.owners: list[tuple[str, str]] = []
        self.edges: dict[tuple[str, int], Edge] = {}
        self.formats: dict[str, StreamFormat] = {}

    def run(self) -> None:
        for layer in self.graph.layers:
            EMITTERS[layer](layer, self)

    # -- building blocks ------------------------------------------------------------------
    def tensor(self, name: str, fmt: StreamFormat, owner: str) -> None:
        """Declare tensor ``name``'s element type ``<name>_t``."""
        self.formats[name] = fmt
        self.tensors.append({"name": name, "cpp": fmt.cpp_type(), "format": str(fmt)})
        self.owners.append((f"{name}_t", owner))

    def declare(self, layer: Layer) -> None:
        """Declare ``layer``'s output tensor."""
        self.tensor(layer.name, element_format(layer, layer.output.format, "output"), layer.name)

    def elem(self, tensor: str) -> str:
        """The element type of ``tensor``, qualified: config structs have members of the same names."""
        return f"{self.ns}::{tensor}_t"

    def stream(self, var: str, tensor: str, pack: int, owner: str, *, copies: int = 0, depth: int = 0) -> str:
        beat = f"fg::vec<{self.elem(tensor)}, {pack}>"
        self.streams.append({"var": var, "type": f"hls::stream<{beat} >", "copies": copies, "depth": depth})
        self.owners.append((var, owner))
        return var

    def process(
        self,
        name: str,
        owner: str,
        kernel: str,
        comment: str,
        ports: list[tuple[str, str]],
        fields: list[Field],
        iterations: int,
        constants: tuple[str, ...] = (),
    ) -> None:
        """``ports``: (parameter declaration, argument in the top); ``fields``: (C++ type or
        "typedef", name, value or type) of the config struct; ``iterations``: of the kernel's
        pipelined loops per sample, as its header counts them (the schedule C simulation checks)."""
        self.procs.append(
            {
                "name": name,
                "kernel": kernel,
                "comment": comment,
                "params": [decl for decl, _ in ports],
                "args": [arg for _, arg in ports],
                "names": [decl.split()[-1].lstrip("&").split("[")[0] for decl, _ in ports],
                "types": [{"name": n, "cpp": v} for kind, n, v in fields if kind == "typedef"],
                "statics": [
                    {"type": kind, "name": n, "value": _cpp_value(v)} for kind, n, v in fields if kind != "typedef"
                ],
                "constants": list(constants),
                "iterations": iterations,
                "layer": owner,
            }
        )
        self.owners += [(f"config_{name}", owner), (f"{name}_run", owner), (f"{name}_batch", owner)]

    def constant(
        self, layer: Layer, what: str, suffix: str, fmt: Format, store: str, dims: list[int], rows: list[str]
    ) -> dict[str, Any]:
        """A constant array ``<layer>_<suffix>`` of ``layer`` (weights, bias, thresholds), in its own header."""
        var = f"{layer.name}_{suffix}"
        constant = {
            "layer": layer.name,
            "what": what,
            "var": var,
            "ns": self.ns,
            "guard": f"FG_{self.ns}_{var}_H_",
            "store": store,
            "dims": dims,
            "shape_text": " x ".join(map(str, dims)) + (" (n_out x n_in)" if what == "weights" else ""),
            "format": str(fmt),
            "frac": exact_fixed(fmt).frac,
            "rows": rows,
        }
        self.constants.append(constant)
        return constant

    def produce(self, name: str, edge: Edge) -> None:
        """Hand ``name``'s output stream to its readers, through a fork when there are several."""
        uses = [(r.name, i) for r in self.graph.layers for i, src in enumerate(r.inputs) if src == name]
        if len(uses) == 1:
            self.edges[uses[0]] = edge
            return
        beats = self.graph[name].output.size // edge.pack
        # Each copy can hold a whole sample: a branch that waits (for the other side of an
        # Add or Concatenate) never stalls the fork.
        var = self.stream(f"s_{name}_copies", edge.tensor, edge.pack, name, copies=len(uses), depth=beats)
        self.process(
            f"{name}_fork",
            name,
            "duplicate",
            f"{name} read by {len(uses)} layers: one copy of the stream each",
            [
                (port("in", 0, edge.tensor, edge.pack), edge.expr),
                (port("out", 0, edge.tensor, edge.pack, len(uses)), var),
            ],
            [
                ("typedef", "beat_t", f"fg::vec<{self.elem(edge.tensor)}, {edge.pack}>"),
                ("unsigned", "beats", beats),
                ("unsigned", "copies", len(uses)),
            ],
            beats,
        )
        for k, use in enumerate(uses):
            self.edges[use] = Edge(f"{var}[{k}]", edge.tensor, edge.pack)

    def take(self, layer: Layer, index: int, pack: int | None = None) -> Edge:
        """The stream ``layer`` reads as input ``index``, repacked to ``pack`` elements per beat if given."""
        edge = self.edges[(layer.name, index)]
        if pack is None or pack == edge.pack:
            return edge
        name = f"{layer.name}_repack{index}"
        n = self.graph[layer.inputs[index]].output.size
        var = self.stream(f"s_{name}", edge.tensor, pack, layer.name)
        self.process(
            name,
            layer.name,
            "repack",
            f"input {index} of {layer.name}: {edge.pack} -> {pack} elements per beat",
            [(port("in", 0, edge.tensor, edge.pack), edge.expr), (port("out", 0, edge.tensor, pack), var)],
            [
                ("typedef", "elem_t", self.elem(edge.tensor)),
                ("unsigned", "n", n),
                ("unsigned", "in_pack", edge.pack),
                ("unsigned", "out_pack", pack),
                ("unsigned", "group", math.lcm(edge.pack, pack)),
            ],
            n // edge.pack + n // pack,
        )
        return Edge(var, edge.tensor, pack)

    def output(self, layer: Layer, pack: int, tensor: str | None = None) -> str:
        """Declare ``layer``'s output stream (of ``tensor``, by default the layer's own)."""
        return self.stream(f"s_{tensor or layer.name}", tensor or layer.name, pack, layer.name)

    def elementwise(
        self,
        layer: Layer,
        edge: Edge,
        kernel: str,
        comment: str,
        fields: list[Field],
        constants: Sequence[dict[str, Any]] = (),
        iterations: int | None = None,
    ) -> None:
        """A process reading ``edge`` and writing ``layer``'s output in beats of the same width, in
        ``iterations`` (by default one per output beat)."""
        var = self.output(layer, edge.pack)
        self.process(
            layer.name,
            layer.name,
            kernel,
            comment,
            [(port("in", 0, edge.tensor, edge.pack), edge.expr), (port("out", 0, layer.name, edge.pack), var)],
            [("typedef", "input_t", self.elem(edge.tensor)), ("typedef", "result_t", self.elem(layer.name)), *fields],
            layer.output.size // edge.pack if iterations is None else iterations,
            tuple(c["var"] for c in constants),
        )
        self.produce(layer.name, Edge(var, layer.name, edge.pack))

    def channels_edge(self, layer: Layer) -> Edge:
        """The input of a per-channel layer, in beats that never straddle two pixels."""
        edge = self.edges[(layer.name, 0)]
        return self.take(layer, 0, math.gcd(edge.pack, self.graph.input_spec(layer).shape[-1]))

    def window(
        self,
        layer: Conv | Pool,
        elems: Callable[[int, int], int],
        blocks: Callable[[int], tuple[int, int]] | None = None,
    ) -> tuple[Edge, list[Field]]:
        """The window generator in front of a convolution or pooling layer: its output and geometry.
        ``elems(pack, size)``: window elements per output beat, a multiple of the input beat's ``pack``
        dividing a block's words (``size`` elements when one block holds every channel group);
        ``blocks(pack)``: channel groups per block and the times each is emitted, by default one
        block of them all, once."""
        edge = self.channels_edge(layer)
        spec = self.graph.input_spec(layer)
        geometry = geometry_fields(layer, spec.shape, edge.pack)
        g = layer.window_geometry(spec.shape)
        groups = g.c // edge.pack
        block, rep = (groups, 1) if blocks is None else blocks(edge.pack)
        width = elems(edge.pack, g.taps * g.c)
        limit = line_buffer_beats(g, groups, 1)
        window = (g.kh, g.kw) if len(spec.shape) > 2 else (g.kw,)
        name = f"{layer.name}_window"
        var = self.stream(f"s_{name}", edge.tensor, width, layer.name)
        self.process(
            name,
            layer.name,
            "window",
            f"{layer.name}: sliding {'x'.join(map(str, window))} windows over {spec.shape}, {width} elements per beat",
            [(port("in", 0, edge.tensor, edge.pack), edge.expr), (port("out", 0, edge.tensor, width), var)],
            [
                ("typedef", "elem_t", self.elem(edge.tensor)),
                *geometry,
                ("unsigned", "words", width // edge.pack),
                ("unsigned", "block", block),
                ("unsigned", "rep", rep),
                ("unsigned", "limit", limit),
                ("unsigned", "depth", 1 << (limit - 1).bit_length()),
            ],
            loop_iterations(g, groups, width // edge.pack, rep),
        )
        return Edge(var, edge.tensor, width), geometry


# (layer, the planner) -> nothing: the kind emits its processes through the planner.
Emitter = Callable[[Any, Planner], None]
EMITTERS: Table[Emitter] = Table("HLS backend", "emitter")
# The kernel headers (hls/) each kind's processes include; parameters.h includes those of the graph's kinds.
HEADERS: Table[tuple[str, ...]] = Table("HLS backend", "kernel header list")
