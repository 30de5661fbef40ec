"""Write a self-contained Vitis HLS project for a scheduled Graph.

The kernels in ``hls/`` are fixed C++; this module only fills the Jinja2 templates of
``templates/hls/`` with configuration values, weight arrays and the top-level function.

Project layout (``out``)::

    build.tcl                      vitis_hls -f build.tcl: csim, csynth, cosim, export IP
    fpga_gen_hls.json              manifest read back by run_csim (top name, I/O formats, per process
                                   its layer and scheduled loop iterations)
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

Processes: each layer's kind emits its own (``planner.EMITTERS``, registered in
``fpga_gen.kinds``): Dense and convolutions share the folded matmul engine (fg_dense.h), a
convolution or pooling layer reads through the line-buffer window generator
(fg_window.h); pooling, ScaleShift, Threshold, Activation each have a kernel; Add and
Concatenate are chains of two-input kernels (fg_merge.h); Reshape costs nothing. A tensor
with several readers is duplicated and beats of another width are repacked (fg_stream.h).
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

import numpy as np
import numpy.typing as npt

from fpga_gen.backends.hls import cpp
from fpga_gen.backends.hls.codes import StreamFormat, ints_to_codes
from fpga_gen.backends.hls.planner import HEADERS, Edge, Planner
from fpga_gen.backends.hls.textio import write_matrix
from fpga_gen.errors import BoardError, FpgaGenError, UnsupportedLayerError
from fpga_gen.formats import MiniFloat
from fpga_gen.formats.fixed import INT64_MAX_WIDTH, MAX_WIDTH
from fpga_gen.formats.sizing import exact_fixed, int_range
from fpga_gen.ir import Activation, Dense, Graph, Layer, evaluate_ints
from fpga_gen.packing import beat_bytes
from fpga_gen.templating import render
from fpga_gen.toolpaths import package_dir

MANIFEST = "fpga_gen_hls.json"
MANIFEST_SCHEMA = 3  # 2: streams and tb_data carry codes, not mantissas; 3: iteration schedule
DEFAULT_TOP = "fpga_gen_top"
# Defined when the accelerator is compiled as a sub-function of another HLS top (the Alveo
# kernel): Vitis HLS supports INTERFACE pragmas on the top function only (UG1399), so the
# accelerator's own port pragmas are left out.
SUBFUNCTION_MACRO = "FG_TOP_IS_SUBFUNCTION"
STIMULUS_SAMPLES = 16
_GENERATED_DIRS = ("firmware", "tb", "tb_data")
_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
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
    texts = {path: render("hls", name, values) for path, (name, values) in templates.items()}
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
        "processes": context["processes"],
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


def _plan(graph: Graph) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check the graph; build the template context plus one context per constant (weights, bias)."""
    top = graph.name if cpp.is_top_name(graph.name) else DEFAULT_TOP
    ns = f"{top}_fg"
    planner = Planner(graph, ns, _input_pack(graph))
    planner.run()
    first, last = graph.input, graph.output
    edge_in = Edge(f"s_{first.name}", first.name, planner.input_pack)
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
    # Per process (by config struct): its layer and its pipelined loop iterations per sample, the
    # schedule that C simulation built with -DFG_COUNT_ITERATIONS counts (the AXI adapters: a beat each).
    processes = {f"config_{p['name']}": {"layer": p["layer"], "iterations": p["iterations"]} for p in planner.procs}
    for io in (io_in, io_out):
        entry = processes.setdefault(f"config_{io.layer}", {"layer": io.layer, "iterations": 0})
        entry["iterations"] += io.n // io.pack
    context: dict[str, Any] = {
        "top": top,
        "ns": ns,
        "graph_name": graph.name,
        "graph_text": str(graph).rstrip("\n").splitlines(),
        "tensors": planner.tensors,
        "procs": planner.procs,
        "streams": planner.streams,
        "weight_files": [f"{w['var']}.h" for w in planner.constants],
        # the kernel headers of the graph's kinds, each once
        "headers": sorted({h for layer in graph.layers for h in HEADERS[layer]}),
        "io_in": io_in.context(edge_in.expr),
        "io_out": io_out.context(edge_out.expr),
        "manifest_in": io_in.manifest(),
        "manifest_out": io_out.manifest(),
        # Samples in flight between the input and the output adapter: at most one per
        # process plus what the streams hold, so this depth never throttles the pipeline.
        "last_depth": 2 * (len(planner.procs) + 2),
        "processes": processes,
    }
    return context, planner.constants


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
