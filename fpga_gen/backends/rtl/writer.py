"""``write_rtl``: a scheduled Graph -> Verilog top, library copies, weight ROM files, manifest."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jinja2

from fpga_gen.backends.rtl.plan import (
    ActStage,
    ChanStage,
    DenseStage,
    ForkStage,
    MergeStage,
    Plan,
    PoolStage,
    Stage,
    Stream,
    WindowStage,
    plan,
    wires,
)
from fpga_gen.backends.rtl.timing import interval_cycles, latency_cycles
from fpga_gen.errors import GraphError
from fpga_gen.formats import MiniFloat
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import Graph
from fpga_gen.toolpaths import package_dir

MANIFEST = "manifest.json"
# Library files (rtl/) a design needs, by what its stages instantiate. A design copies
# only these, so an engine's modules are absent where no stage uses it (a design of
# multiplier-free layers has no DSP model anywhere).
COMMON_FILES = ("fg_extend.v", "fg_convert.v")
CONVERT_FILES = {False: ("fg_cast.v",), True: ("fg_mf_round.v",)}  # by "output is a minifloat"
DENSE_FILES = ("fg_rom.v", "fg_dense.v")
ENGINE_FILES = {
    "dsp_chain": ("fg_skew.v", "fg_dsp_chain.v"),
    "minifloat": ("fg_mf_decode.v", "fg_dsp_chain.v", "fg_mf_mac.v", "fg_add_tree.v", "fg_mf_dot.v"),
    "multiplier_free": ("fg_add_tree.v", "fg_tern_dot.v", "fg_scale.v"),
}
PACKED_CHAIN_FILES = ("fg_skew.v", "fg_dsp_chain.v", "fg_dsp_pair.v")  # dsp_chain with two PE rows per cascade
WINDOW_FILES = ("fg_window.v",)
FORK_FILES = ("fg_fork.v",)
MERGE_FILES = ("fg_mf_decode.v", "fg_exact.v", "fg_merge_in.v", "fg_merge.v")
# Stages with one output register (templates/rtl/element.v.j2): their module and its files.
ELEMENT_STAGES = {
    ActStage: ("fg_act", ("fg_mf_decode.v", "fg_exact.v", "fg_act.v")),
    PoolStage: ("fg_pool", ("fg_mf_decode.v", "fg_exact.v", "fg_pool.v")),
    ChanStage: ("fg_chan", ("fg_mf_decode.v", "fg_exact.v", "fg_chan.v")),
}
CLOCK, RESET = "ap_clk", "ap_rst_n"
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def write_rtl(graph: Graph, *, out: Path, dsp_kind: str = "DSP48E1") -> Path:
    """Write the Verilog for ``graph`` (a scheduled graph) into ``out``; returns ``out``.

    ``out`` receives ``<top>.v`` (AXI4-Stream top), copies of the rtl/ library modules it
    instantiates, one weight ROM file per PE and layer (``<layer>_wNNNN.mem``, plus
    ``<layer>_bNNNN.mem`` for the bias and ``<layer>_sNNNN.mem`` for per-channel ternary /
    binary scales) and ``manifest.json`` (top name, ports, stream layouts, file lists,
    cycle counts, engines and DSP slice counts per stage). The engines instantiate
    ``dsp_kind`` slices (the board's: "DSP48E1" on 7-series, "DSP48E2" on UltraScale+).
    Raises DspOperandError when an operand does not fit that slice, before anything is written.
    """
    p = plan(graph, dsp_kind)
    p.check_dsp()
    top = _top_name(graph)
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
    for name in sim_sources:
        shutil.copyfile(library / name, out / name)
    mem_files: list[str] = []
    for stage in p.stages:
        if isinstance(stage, DenseStage):
            mem_files += _write_mems(stage, out)

    manifest = {
        "top": top,
        "graph": graph.name,
        "clock": CLOCK,
        "reset": RESET,
        "reset_active_low": True,
        "dsp_kind": dsp_kind,
        "ports": _ports(p),
        "input": _stream_doc("s_axis", p.input) | {"shape": list(graph.input.output.shape)},
        "output": _stream_doc("m_axis", p.output) | {"shape": list(graph.output.output.shape)},
        "sources": sources,
        "sim_sources": sim_sources,
        "mem_files": mem_files,
        "latency_cycles": latency_cycles(graph),
        "interval_cycles": interval_cycles(graph),
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
    files = list(COMMON_FILES)
    for stage in p.stages:
        if isinstance(stage, WindowStage | ForkStage):
            files += WINDOW_FILES if isinstance(stage, WindowStage) else FORK_FILES  # move elements, convert none
            continue
        files += CONVERT_FILES[isinstance(stage.dst.fmt, MiniFloat)]
        if isinstance(stage, MergeStage):
            files += MERGE_FILES
        elif isinstance(stage, DenseStage):
            files += (*DENSE_FILES, *(PACKED_CHAIN_FILES if stage.pack_shift else ENGINE_FILES[stage.engine]))
            if stage.engine == "multiplier_free" and stage.src.codes:
                files.append("fg_mf_decode.v")  # minifloat inputs, made exact before the lanes
        else:
            files += ELEMENT_STAGES[type(stage)][1]
    return list(dict.fromkeys(files))


def template_env() -> jinja2.Environment:
    """The Jinja2 environment of templates/rtl (strict: an unknown name is an error)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(package_dir("templates") / "rtl"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _render_top(p: Plan, top: str) -> str:
    env = template_env()
    # Wire w_<stage> carries the output of <stage> (w_<fork>_<k> the k-th copy of a fork);
    # w_<input> is the top input. A window stream has a pad flag beside its data when a pool
    # reads it.
    streams = [{"name": p.input_wire, "bits": p.input.data_bits, "pad": False}]
    pads = {p.input_wire: False}
    items = []
    for stage, srcs in zip(p.stages, p.sources, strict=True):
        pad = isinstance(stage, WindowStage) and stage.pool
        dsts = wires(stage)
        for name in dsts:
            streams.append({"name": name, "bits": stage.dst.data_bits, "pad": pad})
            pads[name] = pad
        items.append(
            {
                "template": _template(stage),
                "stage": stage,
                "src": srcs[0],
                "srcs": srcs,
                "dst": dsts[0],
                "dsts": dsts,
                "dst_pad": pad,
                "src_pad": pads[srcs[0]],
                "module": ELEMENT_STAGES[type(stage)][0] if type(stage) in ELEMENT_STAGES else "",
                # Stages count vectors themselves; only the last tlast leaves the top.
                "tlast": "m_axis_tlast" if dsts[0] == p.output_wire else "",
            }
        )
    template = env.get_template("top.v.j2")
    return template.render(
        top=top,
        graph_name=p.graph.name,
        input=p.input,
        output=p.output,
        dsp_kind=p.dsp_kind,
        streams=streams,
        stages=items,
        output_wire=p.output_wire,
    )


def _template(stage: Stage) -> str:
    if isinstance(stage, DenseStage):
        return "dense.v.j2"
    if isinstance(stage, ForkStage):
        return "fork.v.j2"
    if isinstance(stage, MergeStage):
        return "merge.v.j2"
    return "window.v.j2" if isinstance(stage, WindowStage) else "element.v.j2"


def _write_mems(stage: DenseStage, out: Path) -> list[str]:
    """ROM images per PE: word nf*SF + sf of ``<layer>_wNNNN.mem`` holds the SIMD weight codes
    of neuron nf*PE + p (lane 0 in the low bits); word nf of ``_bNNNN`` its bias on the grid
    it is added on, and of ``_sNNNN`` its scale factor (per-channel ternary / binary)."""
    layer = stage.layer
    nf, sf = layer.n_out // stage.pe, stage.n_in // stage.simd
    w_mask = (1 << stage.weight_bits) - 1
    # (pe, nf, sf, simd): the code of input sf*SIMD + s's weight for neuron nf*PE + p
    lanes = stage.weight_codes().reshape(sf, stage.simd, nf, stage.pe).transpose(3, 2, 0, 1)
    shifts = [s * stage.weight_bits for s in range(stage.simd)]
    names = []
    for p in range(stage.pe):
        words = [
            sum((int(v) & w_mask) << sh for v, sh in zip(lanes[p, i, j].tolist(), shifts, strict=True))
            for i in range(nf)
            for j in range(sf)
        ]
        names.append(_write_hex(out / f"{stage.name}_w{p:04d}.mem", words, stage.simd * stage.weight_bits))
    tables: list[tuple[str, list[int], int]] = []  # (file suffix, one value per neuron, bits)
    if layer.bias is not None:
        shift = stage.acc.frac - exact_fixed(layer.bias.format).frac  # onto the accumulator grid
        bias = [int(v) << shift for v in layer.bias.ints.tolist()]
        tables.append(("b", bias, stage.bias_bits))
    if stage.scaling is not None and stage.scaling.per_neuron:
        tables.append(("s", list(stage.scaling.factors), stage.scaling.bits))
    for suffix, values, bits in tables:
        mask = (1 << bits) - 1
        for p in range(stage.pe):
            words = [v & mask for v in values[p :: stage.pe]]  # neuron nf*PE + p, for nf = 0, 1, ...
            names.append(_write_hex(out / f"{stage.name}_{suffix}{p:04d}.mem", words, bits))
    return names


def _write_hex(path: Path, words: list[int], bits: int) -> str:
    digits = -(-bits // 4)
    path.write_text("".join(f"{word:0{digits}x}\n" for word in words))
    return path.name


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
    kind = "Fork" if isinstance(stage, ForkStage) else stage.layer.kind
    doc: dict[str, Any] = {"name": stage.name, "kind": kind, "period": stage.period}
    doc["latency"] = stage.latency
    doc["dsp"] = stage.dsp  # slices of the design's dsp_kind
    if isinstance(stage, DenseStage):
        doc |= {"engine": stage.engine, "pe": stage.pe, "simd": stage.simd, "accumulator": str(stage.acc)}
        doc["pack_shift"] = stage.pack_shift  # 0: one MAC per slice, else two PE rows per cascade
    if isinstance(stage, MergeStage):
        doc["inputs"] = [stage.input_params(k) for k in range(len(stage.srcs))]
    doc["params"] = stage.params()
    return doc
