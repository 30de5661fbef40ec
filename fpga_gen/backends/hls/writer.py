"""Write a self-contained Vitis HLS project for a scheduled Graph.

The kernels in ``hls/`` are fixed C++; this module only fills the Jinja2 templates of
``templates/hls/`` with configuration values, weight arrays and the top-level function.

Project layout (``out``)::

    build.tcl                      vitis_hls -f build.tcl: csim, csynth, cosim, export IP
    fpga_gen_hls.json              manifest read back by run_csim (top name, I/O formats)
    firmware/<top>.cpp, <top>.h    the top function: AXI4-Stream in/out, one dataflow process per layer
    firmware/parameters.h          typedefs and one config struct per layer
    firmware/weights/<layer>_w.h   weight mantissas ([n_out][n_in]); <layer>_b.h the bias
    firmware/fg/*.h                copy of the kernel library (hls/)
    tb/<top>_tb.cpp                C simulation testbench (whole batch in one process)
    tb_data/                       a stimulus and the golden model's expected outputs
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import numpy.typing as npt

from fpga_gen.backends.hls import cpp
from fpga_gen.backends.hls.textio import write_matrix
from fpga_gen.errors import BoardError, FpgaGenError, GraphError, UnsupportedLayerError
from fpga_gen.formats import FixedPoint
from fpga_gen.formats.fixed import INT64_MAX_WIDTH, MAX_WIDTH
from fpga_gen.golden import evaluate_ints
from fpga_gen.ir import Activation, Dense, Graph, Input, Layer, Output
from fpga_gen.toolpaths import package_dir

MANIFEST = "fpga_gen_hls.json"
DEFAULT_TOP = "fpga_gen_top"
STIMULUS_SAMPLES = 16
_GENERATED_DIRS = ("firmware", "tb", "tb_data")
_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_ROW_VALUES = 16  # values per line in 1-D initialisers


@dataclass(frozen=True)
class _Io:
    """One AXI4-Stream edge: the Input or the Output layer and the tensor it carries."""

    layer: str
    elem: str
    fmt: FixedPoint
    shape: tuple[int, ...]
    pack: int

    @property
    def n(self) -> int:
        return math.prod(self.shape)

    @property
    def beat_bits(self) -> int:
        return -(-self.pack * self.fmt.width // 8) * 8  # TDATA is a whole number of bytes

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
        f = self.fmt
        return {
            "layer": self.layer,
            "shape": list(self.shape),
            "format": str(f),
            "width": f.width,
            "signed": f.signed,
            "min_int": f.min_int,
            "max_int": f.max_int,
            "pack": self.pack,
            "beat_bits": self.beat_bits,
        }


def write_hls(graph: Graph, *, part: str, clock_mhz: float, out: Path) -> Path:
    """Write the Vitis HLS project of the scheduled ``graph`` into ``out`` and return ``out``.

    ``part`` is the FPGA part (``set_part``), ``clock_mhz`` the target clock. The top
    function is named after the graph, or ``fpga_gen_top`` when the graph's name is not a
    usable C++ identifier. Raises ``GraphError`` / ``UnsupportedLayerError`` for graphs the
    backend cannot express (unscheduled or branching graphs, non-fixed-point formats,
    names that clash in C++) and ``BoardError`` for a malformed part or clock.
    """
    out = Path(out)
    if not isinstance(part, str) or not _PART.fullmatch(part):
        raise BoardError(f"FPGA part {part!r} is not a part name such as xc7z020clg400-1")
    if not (isinstance(clock_mhz, int | float) and math.isfinite(clock_mhz) and clock_mhz > 0):
        raise BoardError(f"clock {clock_mhz!r} MHz is invalid: give a positive frequency in MHz")
    context, constants = _plan(graph)
    context["part"] = part
    context["period_ns"] = _period(clock_mhz)
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
    write_matrix(out / "tb_data" / "input_mantissas.txt", x, graph.input.output.size)
    write_matrix(out / "tb_data" / "expected_mantissas.txt", expected, graph.output.output.size)
    manifest = {
        "schema": 1,
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


def _fixed(layer: Layer, fmt: object, what: str) -> FixedPoint:
    if not isinstance(fmt, FixedPoint):
        raise UnsupportedLayerError(
            f"layer {layer.name}: {what} format {fmt} is not fixed-point; the HLS backend "
            "supports FixedPoint tensors only"
        )
    return fmt


def _consumers(graph: Graph) -> dict[str, Layer]:
    """The one reader of every tensor: streams have a single consumer."""
    readers: dict[str, Layer] = {}
    for layer in graph.layers[1:]:
        src = layer.inputs[0]
        if src in readers:
            raise UnsupportedLayerError(
                f"layers {readers[src].name} and {layer.name} both read {src}; the HLS backend "
                "streams each tensor to one consumer (chains only)"
            )
        readers[src] = layer
    for layer in graph.layers[:-1]:
        if layer.name not in readers:
            raise UnsupportedLayerError(f"layer {layer.name}: its output is never used; remove the layer")
    return readers


def _input_pack(layer: Layer, readers: dict[str, Layer]) -> int:
    """Elements per input beat: what the first Dense consumes per cycle (SIMD)."""
    while isinstance(layer, Activation):
        layer = readers[layer.name]
    if isinstance(layer, Dense) and layer.fold is not None:
        return layer.fold.simd
    return 1


def _plan(graph: Graph) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check the graph; build the template context plus one context per constant (weights, bias)."""
    top = graph.name if cpp.is_top_name(graph.name) else DEFAULT_TOP
    ns = f"{top}_fg"
    readers = _consumers(graph)
    first = graph.input
    packs = {first.name: _input_pack(readers[first.name], readers)}
    tensors: list[dict[str, Any]] = []
    layers: list[dict[str, Any]] = []
    weights: list[dict[str, Any]] = []
    owners: list[tuple[str, str]] = []
    for layer in graph.layers:
        if isinstance(layer, Output):
            owners.append((f"config_{layer.name}", layer.name))
            continue
        fmt = _fixed(layer, layer.output.format, "output")
        if isinstance(layer, Input):
            owners.append((f"config_{layer.name}", layer.name))
        elif isinstance(layer, Dense):
            entry, tensor_ctx = _dense(layer, graph, ns, packs[layer.inputs[0]])
            layers.append(entry)
            weights.extend(tensor_ctx)
            packs[layer.name] = entry["pe"]
        elif isinstance(layer, Activation):
            pack = packs[layer.inputs[0]]
            layers.append(
                {
                    "kind": "activation",
                    "name": layer.name,
                    "src": layer.inputs[0],
                    "function": layer.function,
                    "relu": _bool(layer.function == "relu"),
                    "n": layer.output.size,
                    "pack": pack,
                }
            )
            packs[layer.name] = pack
        else:
            raise UnsupportedLayerError(
                f"layer {layer.name}: the HLS backend has no kernel for {layer.kind} layers "
                "(supported: Dense, Activation)"
            )
        tensors.append({"name": layer.name, "cpp": fmt.cpp_type(), "format": str(fmt), "pack": packs[layer.name]})
        owners += [(f"{layer.name}_t", layer.name), (f"{layer.name}_beat_t", layer.name)]
    for entry in layers:
        entry["in_stream"] = f"s_{entry['src']}"
        entry["out_stream"] = f"s_{entry['name']}"
        entry["in_vec"] = f"{entry['src']}_beat_t"
        entry["out_vec"] = f"{entry['name']}_beat_t"
        owners += [(f"config_{entry['name']}", entry["name"]), (f"{entry['name']}_run", entry["name"])]
    owners += [(w["var"], w["layer"]) for w in weights]
    owners += [(f"s_{t['name']}", t["name"]) for t in tensors]
    owners += [(name, "(generated)") for name in ("in_beat_t", "out_beat_t", "in_stream", "out_stream", "last_flags")]
    cpp.check_identifiers(owners)

    last = graph.output
    src = last.inputs[0]
    io_in = _Io(
        first.name, first.name, _fixed(first, first.output.format, "input"), first.output.shape, packs[first.name]
    )
    io_out = _Io(last.name, src, _fixed(last, last.output.format, "output"), last.output.shape, packs[src])
    for io, layer in ((io_in, first), (io_out, last)):
        if io.beat_bits > MAX_WIDTH:
            raise UnsupportedLayerError(
                f"layer {layer.name}: a stream beat of {io.pack} x {io.fmt} is {io.beat_bits} bits, "
                f"above the {MAX_WIDTH}-bit limit of ap_uint; lower the SIMD of the first or the PE "
                "of the last Dense layer, or narrow the format"
            )
    context: dict[str, Any] = {
        "top": top,
        "ns": ns,
        "graph_name": graph.name,
        "graph_text": str(graph).rstrip("\n").splitlines(),
        "tensors": tensors,
        "layers": layers,
        "streams": [{"var": f"s_{t['name']}", "type": f"{ns}::{t['name']}_beat_t"} for t in tensors],
        "weight_files": [f"{w['var']}.h" for w in weights],
        "io_in": io_in.context(f"s_{first.name}"),
        "io_out": io_out.context(f"s_{src}"),
        "manifest_in": io_in.manifest(),
        "manifest_out": io_out.manifest(),
        # Samples in flight between the input and the output adapter: at most one per
        # process plus what the streams hold, so this depth never throttles the pipeline.
        "last_depth": 2 * (len(layers) + 2),
    }
    return context, weights


def _dense(layer: Dense, graph: Graph, ns: str, in_pack: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if layer.fold is None:
        raise GraphError(
            f"layer {layer.name}: Dense has no fold (PE x SIMD); schedule the graph first "
            "(fpga_gen.passes.fold) before writing HLS"
        )
    pe, simd = layer.fold.pe, layer.fold.simd
    if layer.n_out % pe or layer.n_in % simd:
        raise GraphError(
            f"layer {layer.name}: fold pe={pe} simd={simd} does not divide n_out={layer.n_out} / "
            f"n_in={layer.n_in}; choose PE dividing n_out and SIMD dividing n_in"
        )
    in_fmt = _fixed(layer, graph.input_spec(layer).format, "input")
    w_fmt = _fixed(layer, layer.weight.format, "weight")
    acc = layer.accumulator(in_fmt)
    entry: dict[str, Any] = {
        "kind": "dense",
        "name": layer.name,
        "src": layer.inputs[0],
        "n_in": layer.n_in,
        "n_out": layer.n_out,
        "pe": pe,
        "simd": simd,
        "cycles": (layer.n_in // simd) * (layer.n_out // pe),
        "in_pack": in_pack,
        "buf_factor": math.lcm(simd, in_pack),
        "relu": _bool(layer.activation == "relu"),
        "weight_cpp": w_fmt.cpp_type(),
        "weight_format": str(w_fmt),
        "weight_store": cpp.mantissa_type(w_fmt),
        "accum_cpp": acc.cpp_type(),
        "accum_format": str(acc),
        "bias": layer.bias is not None,
    }
    # Weights are stored [n_out][n_in]: row j holds output neuron j's fan-in.
    tensors = [_tensor(layer, ns, "weights", "w", w_fmt, layer.weight.ints.T, "weight_store_t")]
    if layer.bias is not None:
        b_fmt = _fixed(layer, layer.bias.format, "bias")
        entry |= {"bias_cpp": b_fmt.cpp_type(), "bias_format": str(b_fmt), "bias_store": cpp.mantissa_type(b_fmt)}
        tensors.append(_tensor(layer, ns, "bias", "b", b_fmt, layer.bias.ints, "bias_store_t"))
    return entry, tensors


def _tensor(
    layer: Layer, ns: str, what: str, suffix: str, fmt: FixedPoint, ints: npt.NDArray[Any], store: str
) -> dict[str, Any]:
    if fmt.width > 64:
        raise UnsupportedLayerError(
            f"layer {layer.name}: {what} format {fmt} is wider than 64 bits; the HLS backend "
            "stores constants as 64-bit integer literals: use at most 64 bits"
        )
    values = np.asarray(ints).tolist()
    if np.ndim(ints) == 2:
        rows = ["{" + ", ".join(map(cpp.int_literal, row)) + "}" for row in values]
    else:
        rows = [
            ", ".join(map(cpp.int_literal, values[i : i + _ROW_VALUES])) for i in range(0, len(values), _ROW_VALUES)
        ]
    var = f"{layer.name}_{suffix}"
    dims = list(np.shape(ints))
    return {
        "layer": layer.name,
        "what": what,
        "var": var,
        "ns": ns,
        "guard": f"FG_{ns}_{var}_H_",
        "store": store,
        "dims": dims,
        "shape_text": " x ".join(map(str, dims)) + (" (n_out x n_in)" if len(dims) == 2 else ""),
        "format": str(fmt),
        "frac": fmt.frac,
        "rows": rows,
    }


def _bool(value: bool) -> str:
    return "true" if value else "false"


# -- stimulus -----------------------------------------------------------------------------


def _stimulus(graph: Graph) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """A fixed pseudo-random input batch and its golden outputs, for Vitis csim and cosim."""
    fmt = graph.input.output.format
    assert isinstance(fmt, FixedPoint)  # checked by _plan
    shape = (STIMULUS_SAMPLES, *graph.input.output.shape)
    rng = random.Random(0)  # Python ints: any input width
    values = [rng.randint(fmt.min_int, fmt.max_int) for _ in range(math.prod(shape))]
    x = np.array(values, dtype=np.int64 if fmt.width <= INT64_MAX_WIDTH else object).reshape(shape)
    return x, evaluate_ints(graph, x)
