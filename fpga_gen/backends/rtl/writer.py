"""``write_rtl``: a scheduled Graph -> Verilog top, library copies, weight ROM files, manifest."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from fpga_gen.backends.rtl.stages import Plan, Stage, Stream
from fpga_gen.backends.rtl.timing import interval_cycles, latency_cycles
from fpga_gen.errors import GraphError
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import Graph
from fpga_gen.templating import render
from fpga_gen.toolpaths import package_dir

MANIFEST = "manifest.json"
# Library files every design needs; the rest come from its stages (``Stage.files``), so an
# engine's modules are absent where no stage uses it (a design of multiplier-free layers has
# no DSP model anywhere).
COMMON_FILES = ("fg_extend.v", "fg_convert.v")
# The header every library module includes (bits_for, the shared parameter lists).
HEADERS = ("fg_params.vh",)
CLOCK, RESET = "ap_clk", "ap_rst_n"
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def write_rtl(p: Plan, *, out: Path) -> Path:
    """Write the Verilog of the plan ``p`` (``walk.plan`` of a scheduled graph) into ``out``; returns ``out``.

    ``out`` receives ``<top>.v`` (AXI4-Stream top), copies of the rtl/ library modules it
    instantiates, the stages' ROM images (per PE and layer ``<layer>_wNNNN.mem``, plus
    ``<layer>_bNNNN.mem`` for the bias and ``<layer>_sNNNN.mem`` for per-channel ternary /
    binary scales) and ``manifest.json`` (top name, ports, stream layouts, file lists, cycle
    counts, engines and DSP slice counts per stage). The engines instantiate the plan's DSP
    primitive. Raises DspOperandError when an operand does not fit that slice (``walk.plan``
    checks), and GraphError for a graph name that cannot name a module, before anything is written.
    """
    top = _top_name(p.graph)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    (out / f"{top}.v").write_text(_render_top(p, top))
    sources = [f"{top}.v"]
    library = package_dir("rtl")
    for name in _library_files(p):
        shutil.copyfile(library / name, out / name)
        sources.append(name)
    # The DSP primitive's behavioural model, for simulation only (synthesis keeps the vendor's
    # primitive); a design copies only the model of its own kind.
    sim_sources = list(p.dsp.sim_files) if any(stage.dsp for stage in p.stages) else []
    for name in (*sim_sources, *HEADERS):
        shutil.copyfile(library / name, out / name)
    mem_files = [name for stage in p.stages for name in stage.write_data(out)]

    manifest = {
        "top": top,
        "graph": p.graph.name,
        "clock": CLOCK,
        "reset": RESET,
        "reset_active_low": True,
        "dsp_kind": p.dsp_kind,
        "ports": _ports(p),
        "input": _stream_doc("s_axis", p.input) | {"shape": list(p.graph.input.output.shape)},
        "output": _stream_doc("m_axis", p.output) | {"shape": list(p.graph.output.output.shape)},
        "sources": sources,
        "sim_sources": sim_sources,
        "headers": list(HEADERS),
        "mem_files": mem_files,
        "latency_cycles": latency_cycles(p),
        "interval_cycles": interval_cycles(p),
        "stages": [_stage_doc(stage) for stage in p.stages],
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return out


def _top_name(graph: Graph) -> str:
    if not _IDENTIFIER.fullmatch(graph.name):
        raise GraphError(
            f"graph name {graph.name!r} cannot name a Verilog module: use a letter followed by letters, digits or '_'"
        )
    return f"{graph.name}_top"


def _library_files(p: Plan) -> list[str]:
    return list(dict.fromkeys([*COMMON_FILES, *(name for stage in p.stages for name in stage.files())]))


def _render_top(p: Plan, top: str) -> str:
    # Wire w_<stage> carries the output of <stage> (w_<fork>_<k> the k-th copy of a fork);
    # w_<input> is the top input. A window stream has a pad flag beside its data when a pool
    # reads it. Each stage's template (Stage.template) instantiates its module with
    # templates/rtl/instance.v.j2.
    clock = [("clk", CLOCK), ("rst_n", RESET)]
    streams = [{"name": p.input_wire, "bits": p.input.data_bits, "pad": False}]
    pads = {p.input_wire: False}
    items = []
    for stage, srcs in zip(p.stages, p.sources, strict=True):
        dsts = stage.wires
        for name in dsts:
            streams.append({"name": name, "bits": stage.dst.data_bits, "pad": stage.pads})
            pads[name] = stage.pads
        src, dst = srcs[0], dsts[0]
        items.append(
            {
                "template": stage.template,
                "stage": stage,
                "srcs": srcs,
                "dst": dst,
                "dsts": dsts,
                "clock": clock,
                # the handshake of the first input and of the (first) output
                "inputs": [
                    *clock,
                    ("s_tdata", f"{src}_tdata"),
                    *([("s_tpad", f"{src}_tpad")] if pads[src] else []),
                    ("s_tvalid", f"{src}_tvalid"),
                    ("s_tready", f"{src}_tready"),
                ],
                "outputs": [("m_tdata", f"{dst}_tdata"), ("m_tvalid", f"{dst}_tvalid"), ("m_tready", f"{dst}_tready")],
                # Stages count vectors themselves; only the last tlast leaves the top.
                "tlast": "m_axis_tlast" if dst == p.output_wire else "",
            }
        )
    context = {
        "top": top,
        "graph_name": p.graph.name,
        "input": p.input,
        "output": p.output,
        "dsp_kind": p.dsp_kind,
        "streams": streams,
        "stages": items,
        "output_wire": p.output_wire,
    }
    return render("rtl", "top.v.j2", context)


def _ports(p: Plan) -> dict[str, dict[str, Any]]:
    """Every port of the top: direction and width."""
    ports = {CLOCK: ("input", 1), RESET: ("input", 1)}
    for prefix, stream, data_dir, ready_dir in (
        ("s_axis", p.input, "input", "output"),
        ("m_axis", p.output, "output", "input"),
    ):
        ports |= {
            f"{prefix}_tdata": (data_dir, stream.bus_bits),
            f"{prefix}_tvalid": (data_dir, 1),
            f"{prefix}_tready": (ready_dir, 1),
            f"{prefix}_tlast": (data_dir, 1),
        }
    return {name: {"direction": d, "width": w} for name, (d, w) in ports.items()}


def _stream_doc(port: str, s: Stream) -> dict[str, Any]:
    """Element layout of a stream. ``codes``: elements are minifloat bit patterns, which
    cosim converts to and from integers on the grid 2**-frac (the golden model's form)."""
    return {
        "port": port,
        "format": str(s.fmt),
        "width": s.width,
        "signed": s.signed,
        "codes": s.codes,
        "frac": exact_fixed(s.fmt).frac,
        "n": s.n,
        "elems": s.elems,
        "beats": s.beats,
        "data_bits": s.data_bits,
        "bus_bits": s.bus_bits,
    }


def _stage_doc(stage: Stage) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": stage.name, "kind": stage.kind}
    doc |= {"period": stage.period, "latency": stage.latency, "dsp": stage.dsp}  # slices of the design's dsp_kind
    return doc | stage.manifest() | {"params": stage.params()}
