"""Write a self-contained Vitis HLS project for a scheduled Graph.

The kernels in ``hls/`` are fixed C++; this module only fills the Jinja2 templates of
``templates/hls/`` with configuration values, weight arrays and the top-level function.

Project layout (``out``)::

    build.tcl                      vitis_hls -f build.tcl: csim, csynth, cosim, export IP
    fpga_gen_hls.json              manifest read back by run_csim (top name, I/O formats)
    firmware/<top>.cpp, <top>.h    the top function: AXI4-Stream in/out, a dataflow pipeline of processes
    firmware/parameters.h          typedefs and one config struct per process
    firmware/weights/<layer>_w.h   weight codes ([n_out][n_in]); <layer>_b.h the bias,
                                   <layer>_s.h the scales of ternary / binary weights;
                                   <layer>_scale.h / _shift.h of a ScaleShift, <layer>_thresholds.h /
                                   _values.h of a Threshold
    firmware/fg/*.h                copy of the kernel library (hls/)
    tb/<top>_tb.cpp                C simulation testbench (whole batch in one process)
    tb_data/                       a stimulus and the golden model's expected outputs (codes)

Tensors (the Input, every layer's output) are fixed point or minifloat; weights may also
be ternary or binary. Constants and stream lanes hold the formats' codes (bit patterns).

Processes: Dense and convolutions share the folded matmul engine (fg_dense.h), a
convolution or pooling layer reads through the line-buffer window generator
(fg_window.h); pooling, ScaleShift, Threshold, Activation each have a kernel; Add and
Concatenate are chains of two-input kernels, a tensor with several readers is duplicated
and beats of another width are repacked (fg_merge.h); Reshape costs nothing.
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import numpy.typing as npt

from fpga_gen.backends.hls import cpp
from fpga_gen.backends.hls.codes import StreamFormat, ints_to_codes
from fpga_gen.backends.hls.textio import write_matrix
from fpga_gen.errors import BoardError, FpgaGenError, GraphError, UnsupportedLayerError
from fpga_gen.formats import Binary, FixedPoint, Format, MiniFloat, Ternary
from fpga_gen.formats.fixed import INT64_MAX_WIDTH, MAX_WIDTH
from fpga_gen.formats.sizing import exact_fixed, fit_range, int_range
from fpga_gen.golden import evaluate_ints
from fpga_gen.ir import (
    Activation,
    Add,
    Concatenate,
    Conv,
    Dense,
    GlobalPool,
    Graph,
    Input,
    Layer,
    MatMul,
    Output,
    Pool,
    Reshape,
    ScaleShift,
    Threshold,
)
from fpga_gen.packing import beat_bytes
from fpga_gen.toolpaths import package_dir

MANIFEST = "fpga_gen_hls.json"
MANIFEST_SCHEMA = 2  # 2: streams and tb_data carry codes, not mantissas
DEFAULT_TOP = "fpga_gen_top"
# Defined when the accelerator is compiled as a sub-function of another HLS top (the Alveo
# kernel): Vitis HLS supports INTERFACE pragmas on the top function only (UG1399), so the
# accelerator's own port pragmas are left out.
SUBFUNCTION_MACRO = "FG_TOP_IS_SUBFUNCTION"
STIMULUS_SAMPLES = 16
_GENERATED_DIRS = ("firmware", "tb", "tb_data")
_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_ROW_VALUES = 16  # values per line in 1-D initialisers
_MAX_INPUT_BEAT = 256  # bits of an image's input beat: a pixel, or the largest part of one that fits


@dataclass(frozen=True)
class _Io:
    """One AXI4-Stream edge: the Input or the Output layer and the tensor it carries."""

    layer: str
    elem: str
    fmt: StreamFormat
    shape: tuple[int, ...]
    pack: int

    @property
    def n(self) -> int:
        return math.prod(self.shape)

    @property
    def beat_bits(self) -> int:
        return 8 * beat_bytes(self.pack, self.fmt.bits)  # what an AXI DMA / m_axi port moves

    def context(self, stream: str) -> dict[str, Any]:
        return {
            "name": self.layer,
            "elem": self.elem,
            "n": self.n,
            "pack": self.pack,
            "beat_bits": self.beat_bits,
            "format": str(self.fmt),
            "stream": stream,
        }

    def manifest(self) -> dict[str, Any]:
        lo, hi, _ = int_range(self.fmt)
        return {
            "layer": self.layer,
            "shape": list(self.shape),
            "format": str(self.fmt),
            "bits": self.fmt.bits,  # of one code
            "min_int": lo,  # on the grid of exact_fixed(format)
            "max_int": hi,
            "pack": self.pack,
            "beat_bits": self.beat_bits,
        }


def write_hls(graph: Graph, *, part: str, clock_mhz: float, out: Path) -> Path:
    """Write the Vitis HLS project of the scheduled ``graph`` into ``out`` and return ``out``.

    ``part`` is the FPGA part (``set_part``), ``clock_mhz`` the target clock. The top
    function is named after the graph, or ``fpga_gen_top`` when the graph's name is not a
    usable C++ identifier. Raises ``GraphError`` / ``UnsupportedLayerError`` for graphs the
    backend cannot express (unscheduled matmul layers, ternary / binary tensors or batchnorm
    constants, thresholds with no levels, names that clash in C++) and ``BoardError`` for a
    malformed part or clock.
    """
    out = Path(out)
    if not isinstance(part, str) or not _PART.fullmatch(part):
        raise BoardError(f"FPGA part {part!r} is not a part name such as xc7z020clg400-1")
    if not (isinstance(clock_mhz, int | float) and math.isfinite(clock_mhz) and clock_mhz > 0):
        raise BoardError(f"clock {clock_mhz!r} MHz is invalid: give a positive frequency in MHz")
    context, constants = _plan(graph)
    context["part"] = part
    context["period_ns"] = _period(clock_mhz)
    context["subfunction_macro"] = SUBFUNCTION_MACRO
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(package_dir("templates") / "hls"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    top = context["top"]
    templates = {
        f"firmware/{top}.cpp": ("firmware/top.cpp.j2", context),
        f"firmware/{top}.h": ("firmware/top.h.j2", context),
        "firmware/parameters.h": ("firmware/parameters.h.j2", context),
        f"tb/{top}_tb.cpp": ("tb/tb.cpp.j2", context),
        "build.tcl": ("build.tcl.j2", context),
    }
    for constant in constants:
        templates[f"firmware/weights/{constant['var']}.h"] = ("firmware/weights/tensor.h.j2", constant)
    # Everything that can fail on the graph runs before the first file is touched.
    texts = {path: env.get_template(name).render(values) for path, (name, values) in templates.items()}
    x, expected = _stimulus(graph)
    _prepare(out)
    for path, text in texts.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    shutil.copytree(package_dir("hls"), out / "firmware" / "fg", dirs_exist_ok=True)
    (out / "tb_data").mkdir()
    write_matrix(
        out / "tb_data" / "input_codes.txt", ints_to_codes(graph.input.output.format, x), graph.input.output.size
    )
    write_matrix(
        out / "tb_data" / "expected_codes.txt",
        ints_to_codes(graph.output.output.format, expected),
        graph.output.output.size,
    )
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "graph": graph.name,
        "top": top,
        "input": context["manifest_in"],
        "output": context["manifest_out"],
        "sources": [f"firmware/{top}.cpp", f"tb/{top}_tb.cpp"],
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return out


def _period(clock_mhz: float) -> str:
    return f"{1000.0 / clock_mhz:.6f}".rstrip("0").rstrip(".")


def _prepare(out: Path) -> None:
    """Clear the directories an earlier write_hls made; refuse to clobber anything else."""
    if out.exists() and not (out / MANIFEST).is_file():
        clash = [d for d in _GENERATED_DIRS if (out / d).exists()]
        if clash:
            raise FpgaGenError(
                f"{out} already has {', '.join(clash)} but is not an fpga_gen HLS project "
                f"(no {MANIFEST}); choose an empty or new output directory"
            )
    for d in _GENERATED_DIRS:
        shutil.rmtree(out / d, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)


# -- planning ---------------------------------------------------------------------------------


def _element(layer: Layer, fmt: Format, what: str) -> StreamFormat:
    if not isinstance(fmt, FixedPoint | MiniFloat):
        raise UnsupportedLayerError(
            f"layer {layer.name}: {what} format {fmt} cannot be a tensor or bias format of the HLS "
            "backend: use fixed point or minifloat (ternary and binary are weight formats only)"
        )
    return fmt


@dataclass(frozen=True)
class _Edge:
    """A stream as one reader sees it: its C++ expression, the tensor whose elements it carries, the beat width."""

    expr: str
    tensor: str
    pack: int


def _port(direction: str, index: int, tensor: str, pack: int, copies: int = 0) -> str:
    """A stream parameter of a process function (an array of ``copies`` streams when given)."""
    stream = f"hls::stream<fg::vec<{tensor}_t, {pack}> >"
    return f"{stream} {direction}{index}[{copies}]" if copies else f"{stream} &{direction}{index}"


def _input_pack(graph: Graph) -> int:
    """Elements per input beat: a pixel (or the largest part of one within _MAX_INPUT_BEAT bits)
    for images, else what the first Dense consumes per cycle (SIMD)."""
    spec = graph.input.output
    if len(spec.shape) > 1:
        channels = spec.shape[-1]
        fits = [d for d in range(1, channels + 1) if channels % d == 0 and d * spec.format.bits <= _MAX_INPUT_BEAT]
        return max(fits, default=1)
    layer: Layer = graph.input
    while len(readers := graph.readers(layer.name)) == 1:
        layer = readers[0]
        if isinstance(layer, Dense) and layer.fold is not None:
            return layer.fold.simd
        if not isinstance(layer, Activation):
            break
    return 1


def _geometry(
    layer: Layer, window: tuple[int, ...], spatial: tuple[int, ...], channels: int, pack: int
) -> list[tuple[str, str, Any]]:
    """The window fields of fg_window.h; a 1-D layer is an image of one row."""
    if isinstance(layer, Conv | Pool):
        strides, pads = layer.strides, layer.padding
        out = layer.out_spatial(layer.name, window, spatial)
    else:  # one window over the whole image (global pooling)
        strides, pads, out = (1,) * len(spatial), ((0, 0),) * len(spatial), (1,) * len(spatial)
    if len(spatial) == 1:
        spatial, window, strides, pads, out = (1, *spatial), (1, *window), (1, *strides), ((0, 0), *pads), (1, *out)
    fields = {
        "in_h": spatial[0],
        "in_w": spatial[1],
        "channels": channels,
        "pack": pack,
        "k_h": window[0],
        "k_w": window[1],
        "s_h": strides[0],
        "s_w": strides[1],
        "pad_t": pads[0][0],
        "pad_l": pads[1][0],
        "out_h": out[0],
        "out_w": out[1],
    }
    return [("unsigned", name, value) for name, value in fields.items()]


def _sum_format(fmts: Sequence[Format]) -> FixedPoint:
    """The exact format of a sum of one value of each of ``fmts`` (aligned to the finest grid)."""
    frac = max(int_range(f)[2] for f in fmts)
    lo = sum(int_range(f)[0] << (frac - int_range(f)[2]) for f in fmts)
    hi = sum(int_range(f)[1] << (frac - int_range(f)[2]) for f in fmts)
    return fit_range(lo, hi, frac)


class _Planner:
    """One pass over the graph in order: the dataflow processes, their streams, types and constants.

    Every layer output is a stream of its elements in row-major (channels-last) order, some
    per beat. A tensor with several readers is forked; a reader that needs another beat
    width gets a repack process; Reshape is only a new name for its input's stream.
    """

    def __init__(self, graph: Graph, ns: str) -> None:
        self.graph = graph
        self.ns = ns
        self.tensors: list[dict[str, Any]] = []
        self.streams: list[dict[str, Any]] = []
        self.procs: list[dict[str, Any]] = []
        self.constants: list[dict[str, Any]] = []
        self.owners: list[tuple[str, str]] = []
        self.edges: dict[tuple[str, int], _Edge] = {}
        self.formats: dict[str, StreamFormat] = {}

    # -- building blocks ------------------------------------------------------------------
    def tensor(self, name: str, fmt: StreamFormat, owner: str) -> None:
        self.formats[name] = fmt
        self.tensors.append({"name": name, "cpp": fmt.cpp_type(), "format": str(fmt)})
        self.owners.append((f"{name}_t", owner))

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
        fields: list[tuple[str, str, Any]],
        constants: tuple[str, ...] = (),
    ) -> None:
        """``ports``: (parameter declaration, argument in the top); ``fields``: (C++ type or
        "typedef", name, value or type) of the config struct."""
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
            }
        )
        self.owners += [(f"config_{name}", owner), (f"{name}_run", owner), (f"{name}_batch", owner)]

    def produce(self, name: str, edge: _Edge) -> None:
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
                (_port("in", 0, edge.tensor, edge.pack), edge.expr),
                (_port("out", 0, edge.tensor, edge.pack, len(uses)), var),
            ],
            [
                ("typedef", "beat_t", f"fg::vec<{self.elem(edge.tensor)}, {edge.pack}>"),
                ("unsigned", "beats", beats),
                ("unsigned", "copies", len(uses)),
            ],
        )
        for k, use in enumerate(uses):
            self.edges[use] = _Edge(f"{var}[{k}]", edge.tensor, edge.pack)

    def take(self, layer: Layer, index: int, pack: int | None = None) -> _Edge:
        """The stream ``layer`` reads as input ``index``, repacked to ``pack`` elements per beat if given."""
        edge = self.edges[(layer.name, index)]
        if pack is None or pack == edge.pack:
            return edge
        name = f"{layer.name}_repack{index}"
        var = self.stream(f"s_{name}", edge.tensor, pack, layer.name)
        self.process(
            name,
            layer.name,
            "repack",
            f"input {index} of {layer.name}: {edge.pack} -> {pack} elements per beat",
            [(_port("in", 0, edge.tensor, edge.pack), edge.expr), (_port("out", 0, edge.tensor, pack), var)],
            [
                ("typedef", "elem_t", self.elem(edge.tensor)),
                ("unsigned", "n", self.graph[layer.inputs[index]].output.size),
                ("unsigned", "in_pack", edge.pack),
                ("unsigned", "out_pack", pack),
                ("unsigned", "group", math.lcm(edge.pack, pack)),
            ],
        )
        return _Edge(var, edge.tensor, pack)

    def output(self, layer: Layer, pack: int, tensor: str | None = None) -> str:
        """Declare ``layer``'s output stream (of ``tensor``, by default the layer's own)."""
        return self.stream(f"s_{tensor or layer.name}", tensor or layer.name, pack, layer.name)

    def elementwise(
        self,
        layer: Layer,
        edge: _Edge,
        kernel: str,
        comment: str,
        fields: list[tuple[str, str, Any]],
        constants: Sequence[dict[str, Any]] = (),
    ) -> None:
        """A process reading ``edge`` and writing ``layer``'s output in beats of the same width."""
        var = self.output(layer, edge.pack)
        self.constants += constants
        self.process(
            layer.name,
            layer.name,
            kernel,
            comment,
            [(_port("in", 0, edge.tensor, edge.pack), edge.expr), (_port("out", 0, layer.name, edge.pack), var)],
            [("typedef", "input_t", self.elem(edge.tensor)), ("typedef", "result_t", self.elem(layer.name)), *fields],
            tuple(c["var"] for c in constants),
        )
        self.produce(layer.name, _Edge(var, layer.name, edge.pack))

    # -- layers -----------------------------------------------------------------------------
    def run(self) -> None:
        for layer in self.graph.layers:
            if isinstance(layer, Output):
                continue
            if isinstance(layer, Reshape):
                self.produce(layer.name, self.take(layer, 0))
                continue
            self.tensor(layer.name, _element(layer, layer.output.format, "output"), layer.name)
            if isinstance(layer, Input):
                pack = _input_pack(self.graph)
                self.produce(layer.name, _Edge(self.output(layer, pack), layer.name, pack))
                continue
            if isinstance(layer, Activation):
                self._activation(layer)
            elif isinstance(layer, MatMul):
                self._matmul(layer)
            elif isinstance(layer, Pool | GlobalPool):
                self._pool(layer)
            elif isinstance(layer, ScaleShift):
                self._scale_shift(layer)
            elif isinstance(layer, Threshold):
                self._threshold(layer)
            elif isinstance(layer, Add | Concatenate):
                self._merge(layer)
            else:
                raise UnsupportedLayerError(
                    f"layer {layer.name}: the HLS backend has no kernel for {layer.kind} layers; "
                    "remove it or replace it with a supported layer"
                )

    def _channels_edge(self, layer: Layer) -> _Edge:
        """The input of a per-channel layer, in beats that never straddle two pixels."""
        edge = self.edges[(layer.name, 0)]
        return self.take(layer, 0, math.gcd(edge.pack, self.graph.input_spec(layer).shape[-1]))

    def _window(self, layer: Conv | Pool, window: tuple[int, ...]) -> tuple[_Edge, list[tuple[str, str, Any]]]:
        """The window generator in front of a convolution or pooling layer: its output and geometry."""
        edge = self._channels_edge(layer)
        spec = self.graph.input_spec(layer)
        geometry = _geometry(layer, window, spec.shape[:-1], spec.shape[-1], edge.pack)
        name = f"{layer.name}_window"
        var = self.stream(f"s_{name}", edge.tensor, edge.pack, layer.name)
        self.process(
            name,
            layer.name,
            "window",
            f"{layer.name}: sliding {'x'.join(map(str, window))} windows over {spec.shape}",
            [(_port("in", 0, edge.tensor, edge.pack), edge.expr), (_port("out", 0, edge.tensor, edge.pack), var)],
            [("typedef", "elem_t", self.elem(edge.tensor)), *geometry],
        )
        return _Edge(var, edge.tensor, edge.pack), geometry

    def _activation(self, layer: Activation) -> None:
        edge = self.take(layer, 0)
        self.elementwise(
            layer,
            edge,
            "activation",
            f"{layer.name}: {layer.function} on {layer.output.size} elements, {edge.pack} per beat",
            [
                ("unsigned", "n", layer.output.size),
                ("unsigned", "pack", edge.pack),
                ("bool", "relu", layer.function == "relu"),
            ],
        )

    def _matmul(self, layer: MatMul) -> None:
        if layer.fold is None:
            raise GraphError(
                f"layer {layer.name}: {layer.kind} has no fold (PE x SIMD); schedule the graph first "
                "(fpga_gen.passes.fold) before writing HLS"
            )
        pe, simd = layer.fold.pe, layer.fold.simd
        if layer.n_out % pe or layer.n_in % simd:
            raise GraphError(
                f"layer {layer.name}: fold pe={pe} simd={simd} does not divide n_out={layer.n_out} / "
                f"n_in={layer.n_in}; choose PE dividing n_out and SIMD dividing n_in"
            )
        if isinstance(layer, Conv):
            edge, _ = self._window(layer, layer.kernel)
            shape = f"{'x'.join(map(str, layer.kernel))} conv{' (depthwise)' if layer.depthwise else ''}"
            channels, n_window = layer.in_channels, math.prod(layer.kernel) * layer.in_channels
        else:
            edge = self.take(layer, 0)
            shape, channels, n_window = "dense", 1, layer.n_in
        in_fmt = self.formats[edge.tensor]
        w_fmt = layer.weight.format
        acc = layer.accumulator(in_fmt)
        fields: list[tuple[str, str, Any]] = [
            ("typedef", "input_t", self.elem(edge.tensor)),
            ("typedef", "result_t", self.elem(layer.name)),
            ("typedef", "weight_t", _weight_cpp(layer, w_fmt)),
            ("typedef", "weight_store_t", "fg::bits<weight_t>::type"),
            ("typedef", "accum_t", acc.cpp_type()),
        ]
        weights = [
            _tensor(
                layer,
                self.ns,
                "weights",
                "w",
                w_fmt,
                "weight_store_t",
                [layer.n_out, layer.n_in],
                _int_rows(layer, "weight", w_fmt, _weight_rows(layer)),
            )
        ]
        if isinstance(w_fmt, Ternary | Binary):
            # No multiplier: +-x summed exactly in sum_t, then one scale per output channel.
            lo, hi, frac = int_range(in_fmt)
            top = layer.n_in * max(-lo, hi)
            sigs, shifts = _split_scales(w_fmt)
            if len(sigs) > 1:  # per channel of the weight's last axis: the multiplier of a depthwise conv
                sigs, shifts = (
                    [sigs[j % len(sigs)] for j in range(layer.n_out)],
                    [shifts[j % len(shifts)] for j in range(layer.n_out)],
                )
            scale_cpp = f"fg::channel_scale<{max(sigs).bit_length()}, {max(max(shifts).bit_length(), 1)}, {w_fmt.frac}>"
            fields += [
                ("typedef", "sum_t", fit_range(-top, top, frac).cpp_type()),
                ("typedef", "scale_t", scale_cpp),
                ("unsigned", "n_scales", len(sigs)),
            ]
            rows = [f"{{{sig}, {shift}}}" for sig, shift in zip(sigs, shifts, strict=True)]
            weights.append(_tensor(layer, self.ns, "scales", "s", w_fmt, "scale_t", [len(rows)], rows))
        else:
            fields.append(("typedef", "sum_t", "accum_t"))
        if layer.bias is not None:
            b_fmt = _element(layer, layer.bias.format, "bias")
            fields += [("typedef", "bias_t", b_fmt.cpp_type()), ("typedef", "bias_store_t", "fg::bits<bias_t>::type")]
            b_rows = _int_rows(layer, "bias", b_fmt, layer.bias.codes)
            weights.append(_tensor(layer, self.ns, "bias", "b", b_fmt, "bias_store_t", [layer.n_out], b_rows))
        fields += [
            ("unsigned", "n_in", layer.n_in),
            ("unsigned", "n_out", layer.n_out),
            ("unsigned", "pe", pe),
            ("unsigned", "simd", simd),
            ("unsigned", "in_pack", edge.pack),
            ("unsigned", "buf_factor", math.lcm(simd, edge.pack)),
            ("unsigned", "positions", layer.positions),
            ("unsigned", "n_window", n_window),
            ("bool", "depthwise", isinstance(layer, Conv) and layer.depthwise),
            ("unsigned", "channels", channels),
            ("unsigned", "multiplier", layer.weight.shape[-1] if isinstance(layer, Conv) and layer.depthwise else 1),
            ("bool", "relu", layer.activation == "relu"),
        ]
        cycles = layer.positions * (layer.n_in // simd) * (layer.n_out // pe)
        var = self.output(layer, pe)
        self.constants += weights
        self.process(
            layer.name,
            layer.name,
            "dense",
            f"{layer.name}: {shape} {layer.n_in} -> {layer.n_out} at {layer.positions} positions, PE={pe} "
            f"SIMD={simd}: positions*(n_out/PE)*(n_in/SIMD) = {cycles} MAC cycles per sample. Formats: weights "
            f"{w_fmt}, accumulator {acc}",
            [(_port("in", 0, edge.tensor, edge.pack), edge.expr), (_port("out", 0, layer.name, pe), var)],
            fields,
            tuple(w["var"] for w in weights),
        )
        self.produce(layer.name, _Edge(var, layer.name, pe))

    def _pool(self, layer: Pool | GlobalPool) -> None:
        spec = self.graph.input_spec(layer)
        if isinstance(layer, Pool):
            edge, geometry = self._window(layer, layer.pool_size)
            taps = math.prod(layer.pool_size)
        else:  # a raster scan of the image is its one window
            edge = self._channels_edge(layer)
            geometry = _geometry(layer, spec.shape[:-1], spec.shape[:-1], spec.shape[-1], edge.pack)
            taps = math.prod(spec.shape[:-1])
        lo, hi, frac = int_range(self.formats[edge.tensor])
        self.elementwise(
            layer,
            edge,
            "pool",
            f"{layer.name}: {layer.function} pooling of {taps} taps, {edge.pack} channels per beat",
            [
                ("typedef", "sum_t", fit_range(min(lo, 0) * taps, max(hi, 0) * taps, frac).cpp_type()),
                ("bool", "avg", layer.function == "avg"),
                ("int", "extra", max(exact_fixed(self.formats[layer.name]).frac - frac, 0) + 1),
                *geometry,
            ],
        )

    def _scale_shift(self, layer: ScaleShift) -> None:
        edge = self._channels_edge(layer)
        acc = layer.accumulator(self.formats[edge.tensor])
        channels = layer.output.shape[-1]
        fields: list[tuple[str, str, Any]] = [("typedef", "accum_t", acc.cpp_type())]
        constants = []
        for what, title, tensor in (("scale", "scale factors", layer.scale), ("shift", "shifts", layer.shift)):
            fmt = _element(layer, tensor.format, what)
            fields += [
                ("typedef", f"{what}_t", fmt.cpp_type()),
                ("typedef", f"{what}_store_t", f"fg::bits<{what}_t>::type"),
            ]
            rows = _int_rows(layer, what, fmt, tensor.codes)
            constants.append(_tensor(layer, self.ns, title, what, fmt, f"{what}_store_t", [channels], rows))
        self.elementwise(
            layer,
            edge,
            "scale_shift",
            f"{layer.name}: x * scale[c] + shift[c] over {channels} channels, exact in {acc}",
            [
                *fields,
                ("unsigned", "n", layer.output.size),
                ("unsigned", "channels", channels),
                ("unsigned", "pack", edge.pack),
                ("bool", "relu", layer.activation == "relu"),
            ],
            constants,
        )

    def _threshold(self, layer: Threshold) -> None:
        if layer.levels == 0:
            raise UnsupportedLayerError(
                f"layer {layer.name}: a Threshold with no thresholds is a constant per channel; "
                "give at least one threshold per channel"
            )
        edge = self._channels_edge(layer)
        t_fmt = _element(layer, layer.thresholds.format, "threshold")
        channels, levels = layer.output.shape[-1], layer.levels
        t_rows = _int_rows(layer, "threshold", t_fmt, layer.thresholds.codes)
        v_rows = _int_rows(layer, "value", layer.values.format, layer.values.codes)
        self.elementwise(
            layer,
            edge,
            "threshold",
            f"{layer.name}: {levels} thresholds per channel over {channels} channels",
            [
                ("typedef", "threshold_t", t_fmt.cpp_type()),
                ("typedef", "threshold_store_t", "fg::bits<threshold_t>::type"),
                ("typedef", "value_store_t", "fg::bits<result_t>::type"),
                ("unsigned", "n", layer.output.size),
                ("unsigned", "channels", channels),
                ("unsigned", "pack", edge.pack),
                ("unsigned", "levels", levels),
            ],
            [
                _tensor(
                    layer, self.ns, "thresholds", "thresholds", t_fmt, "threshold_store_t", [channels, levels], t_rows
                ),
                _tensor(
                    layer,
                    self.ns,
                    "values",
                    "values",
                    layer.values.format,
                    "value_store_t",
                    [channels, levels + 1],
                    v_rows,
                ),
            ],
        )

    def _merge(self, layer: Add | Concatenate) -> None:
        """Two-input kernels in a chain: partial sums are exact, partial concatenations already rounded."""
        specs = self.graph.input_specs(layer)
        if isinstance(layer, Add):
            pack = self.edges[(layer.name, 0)].pack
        else:
            pack = math.gcd(
                *(s.shape[-1] for s in specs), *(self.edges[(layer.name, i)].pack for i in range(len(specs)))
            )
        edges = [self.take(layer, i, pack) for i in range(len(specs))]
        acc, acc_fmts, channels = edges[0], [self.formats[edges[0].tensor]], specs[0].shape[-1]
        for i, edge in enumerate(edges[1:], start=1):
            acc_fmts.append(self.formats[edge.tensor])
            last = i == len(edges) - 1
            name = layer.name if last else f"{layer.name}_{layer.kind.lower()}{i}"
            if not last:
                self.tensor(
                    name, _sum_format(acc_fmts) if isinstance(layer, Add) else self.formats[layer.name], layer.name
                )
            var = self.output(layer, pack, name)
            if isinstance(layer, Add):
                kernel, what = "add", f"exact sum of inputs 0..{i}"
                extra: list[tuple[str, str, Any]] = [
                    ("typedef", "accum_t", _sum_format(acc_fmts).cpp_type()),
                    ("unsigned", "n", layer.output.size),
                ]
            else:
                kernel, what = "concat", f"inputs 0..{i} joined along the channels"
                extra = [
                    ("unsigned", "pixels", layer.output.size // layer.output.shape[-1]),
                    ("unsigned", "a_channels", channels),
                    ("unsigned", "b_channels", specs[i].shape[-1]),
                ]
            self.process(
                name,
                layer.name,
                kernel,
                f"{layer.name}: {what}, {pack} elements per beat",
                [
                    (_port("in", 0, acc.tensor, pack), acc.expr),
                    (_port("in", 1, edge.tensor, pack), edge.expr),
                    (_port("out", 0, name, pack), var),
                ],
                [
                    ("typedef", "a_t", self.elem(acc.tensor)),
                    ("typedef", "b_t", self.elem(edge.tensor)),
                    ("typedef", "result_t", self.elem(name)),
                    ("unsigned", "pack", pack),
                    *extra,
                ],
            )
            acc, channels = _Edge(var, name, pack), channels + specs[i].shape[-1]
        self.produce(layer.name, acc)


def _cpp_value(value: Any) -> str:
    return _bool(value) if isinstance(value, bool) else str(value)


def _plan(graph: Graph) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check the graph; build the template context plus one context per constant (weights, bias)."""
    top = graph.name if cpp.is_top_name(graph.name) else DEFAULT_TOP
    ns = f"{top}_fg"
    planner = _Planner(graph, ns)
    planner.run()
    first, last = graph.input, graph.output
    edge_in = _Edge(f"s_{first.name}", first.name, _input_pack(graph))
    edge_out = planner.edges[(last.name, 0)]
    io_in = _Io(first.name, first.name, planner.formats[first.name], first.output.shape, edge_in.pack)
    io_out = _Io(last.name, edge_out.tensor, planner.formats[edge_out.tensor], last.output.shape, edge_out.pack)
    for io, layer in ((io_in, first), (io_out, last)):
        if io.beat_bits > MAX_WIDTH:
            raise UnsupportedLayerError(
                f"layer {layer.name}: a stream beat of {io.pack} x {io.fmt} is {io.beat_bits} bits, "
                f"above the {MAX_WIDTH}-bit limit of ap_uint; lower the SIMD of the first or the PE "
                "of the last Dense layer, or narrow the format"
            )
    owners = planner.owners + [(w["var"], w["layer"]) for w in planner.constants]
    owners += [(name, "(generated)") for name in ("in_beat_t", "out_beat_t", "in_stream", "out_stream", "last_flags")]
    owners += [(f"config_{io.layer}", io.layer) for io in (io_in, io_out)]
    cpp.check_identifiers(owners)
    context: dict[str, Any] = {
        "top": top,
        "ns": ns,
        "graph_name": graph.name,
        "graph_text": str(graph).rstrip("\n").splitlines(),
        "tensors": planner.tensors,
        "procs": planner.procs,
        "streams": planner.streams,
        "weight_files": [f"{w['var']}.h" for w in planner.constants],
        "io_in": io_in.context(edge_in.expr),
        "io_out": io_out.context(edge_out.expr),
        "manifest_in": io_in.manifest(),
        "manifest_out": io_out.manifest(),
        # Samples in flight between the input and the output adapter: at most one per
        # process plus what the streams hold, so this depth never throttles the pipeline.
        "last_depth": 2 * (len(planner.procs) + 2),
    }
    return context, planner.constants


def _weight_rows(layer: MatMul) -> npt.NDArray[Any]:
    """Weight codes as [n_out][n_in]: row j is output j's fan-in, in the window's order."""
    # Keras' (*kernel, c_in, c_out) is row-major (tap, channel) x output; a depthwise
    # (*kernel, c, m) gives column c * m_count + m = output j, over the taps alone.
    return layer.weight.codes.reshape(layer.n_in, layer.n_out).T


def _weight_cpp(layer: Layer, fmt: Format) -> str:
    """The kernel's weight type: the format's own type, or the sign-weight twins of fg_ternary.h."""
    if isinstance(fmt, Ternary):
        return "fg::ternary"
    if isinstance(fmt, Binary):
        return "fg::binary"
    return _element(layer, fmt, "weight").cpp_type()


def _split_scales(fmt: Ternary | Binary) -> tuple[list[int], list[int]]:
    """Each scale as sig * 2**(shift - fmt.frac), sig odd: a power of two is a pure shift."""
    ints = [int(Fraction(float(s)) * 2**fmt.frac) for s in fmt.scales]  # exact: the scales are dyadic
    shifts = [(n & -n).bit_length() - 1 for n in ints]
    return [n >> k for n, k in zip(ints, shifts, strict=True)], shifts


def _int_rows(layer: Layer, what: str, fmt: Format, codes: npt.NDArray[Any]) -> list[str]:
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


def _tensor(
    layer: Layer, ns: str, what: str, suffix: str, fmt: Format, store: str, dims: list[int], rows: list[str]
) -> dict[str, Any]:
    var = f"{layer.name}_{suffix}"
    return {
        "layer": layer.name,
        "what": what,
        "var": var,
        "ns": ns,
        "guard": f"FG_{ns}_{var}_H_",
        "store": store,
        "dims": dims,
        "shape_text": " x ".join(map(str, dims)) + (" (n_out x n_in)" if what == "weights" else ""),
        "format": str(fmt),
        "frac": exact_fixed(fmt).frac,
        "rows": rows,
    }


def _bool(value: bool) -> str:
    return "true" if value else "false"


# -- stimulus -----------------------------------------------------------------------------


def _stimulus(graph: Graph) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """A fixed pseudo-random input batch and its golden outputs, for Vitis csim and cosim."""
    fmt = graph.input.output.format
    shape = (STIMULUS_SAMPLES, *graph.input.output.shape)
    rng = random.Random(0)  # Python ints: any input width
    if isinstance(fmt, MiniFloat):
        # Random finite codes: the representable integers are not a contiguous range.
        codes: list[int] = []
        while len(codes) < math.prod(shape):
            code = rng.randrange(1 << fmt.bits)
            if np.isfinite(fmt.from_codes(code)):
                codes.append(code)
        x = exact_fixed(fmt).to_int(fmt.from_codes(codes)).reshape(shape)
    else:
        lo, hi, _ = int_range(fmt)
        values = [rng.randint(lo, hi) for _ in range(math.prod(shape))]
        wide = exact_fixed(fmt).width > INT64_MAX_WIDTH
        x = np.array(values, dtype=object if wide else np.int64).reshape(shape)
    return x, evaluate_ints(graph, x)
