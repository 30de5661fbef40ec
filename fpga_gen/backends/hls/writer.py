"""Write a self-contained Vitis HLS project for a scheduled Graph.

The kernels in ``hls/`` are fixed C++; this module only fills the Jinja2 templates of
``templates/hls/`` with configuration values, weight arrays and the top-level function.

Project layout (``out``)::

    build.tcl                      vitis_hls -f build.tcl: csim, csynth, cosim, export IP
    fpga_gen_hls.json              manifest read back by run_csim (top name, I/O formats)
    firmware/<top>.cpp, <top>.h    the top function: AXI4-Stream in/out, one dataflow process per layer
    firmware/parameters.h          typedefs and one config struct per layer
    firmware/weights/<layer>_w.h   weight codes ([n_out][n_in]); <layer>_b.h the bias,
                                   <layer>_s.h the scales of ternary / binary weights
    firmware/fg/*.h                copy of the kernel library (hls/)
    tb/<top>_tb.cpp                C simulation testbench (whole batch in one process)
    tb_data/                       a stimulus and the golden model's expected outputs (codes)

Tensors (the Input, every layer's output) are fixed point or minifloat; weights may also
be ternary or binary. Constants and stream lanes hold the formats' codes (bit patterns).
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
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
from fpga_gen.ir import Activation, Dense, Graph, Input, Layer, Output
from fpga_gen.toolpaths import package_dir

MANIFEST = "fpga_gen_hls.json"
MANIFEST_SCHEMA = 2  # 2: streams and tb_data carry codes, not mantissas
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
    fmt: StreamFormat
    shape: tuple[int, ...]
    pack: int

    @property
    def n(self) -> int:
        return math.prod(self.shape)

    @property
    def beat_bits(self) -> int:
        return -(-self.pack * self.fmt.bits // 8) * 8  # TDATA is a whole number of bytes

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
    backend cannot express (unscheduled or branching graphs, ternary / binary tensors,
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
        fmt = _element(layer, layer.output.format, "output")
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
        first.name, first.name, _element(first, first.output.format, "input"), first.output.shape, packs[first.name]
    )
    io_out = _Io(last.name, src, _element(last, last.output.format, "output"), last.output.shape, packs[src])
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
    in_fmt = _element(layer, graph.input_spec(layer).format, "input")
    w_fmt = layer.weight.format
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
        "weight_cpp": _weight_cpp(layer, w_fmt),
        "weight_format": str(w_fmt),
        "accum_cpp": acc.cpp_type(),
        "accum_format": str(acc),
        "bias": layer.bias is not None,
        "scale": isinstance(w_fmt, Ternary | Binary),
    }
    # Weights are stored [n_out][n_in]: row j holds output neuron j's fan-in.
    w_rows = _int_rows(layer, "weight", w_fmt, layer.weight.codes.T)
    tensors = [_tensor(layer, ns, "weights", "w", w_fmt, "weight_store_t", [layer.n_out, layer.n_in], w_rows)]
    if isinstance(w_fmt, Ternary | Binary):
        # No multiplier: +-x summed exactly in sum_t, then one scale per output channel.
        lo, hi, frac = int_range(in_fmt)
        top = layer.n_in * max(-lo, hi)
        sum_fmt = fit_range(-top, top, frac)
        sigs, shifts = _split_scales(w_fmt)
        scale_cpp = f"fg::channel_scale<{max(sigs).bit_length()}, {max(max(shifts).bit_length(), 1)}, {w_fmt.frac}>"
        entry |= {
            "sum_cpp": sum_fmt.cpp_type(),
            "sum_format": str(sum_fmt),
            "scale_cpp": scale_cpp,
            "n_scales": len(sigs),
        }
        rows = [f"{{{sig}, {shift}}}" for sig, shift in zip(sigs, shifts, strict=True)]
        tensors.append(_tensor(layer, ns, "scales", "s", w_fmt, "scale_t", [len(rows)], rows))
    if layer.bias is not None:
        b_fmt = _element(layer, layer.bias.format, "bias")
        entry |= {"bias_cpp": b_fmt.cpp_type(), "bias_format": str(b_fmt)}
        b_rows = _int_rows(layer, "bias", b_fmt, layer.bias.codes)
        tensors.append(_tensor(layer, ns, "bias", "b", b_fmt, "bias_store_t", [layer.n_out], b_rows))
    return entry, tensors


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
        "shape_text": " x ".join(map(str, dims)) + (" (n_out x n_in)" if len(dims) == 2 else ""),
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
