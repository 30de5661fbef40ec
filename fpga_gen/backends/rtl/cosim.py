"""``run_cosim``: simulate the Verilog written by ``write_rtl`` on a batch of inputs.

The design is built with Verilator (cached, see ``verilator``) and driven by the cocotb
testbench in sim/ (fg_cosim_tb.py): cocotbext-axi source and sink on the top's AXI4-Stream
ports, the whole batch in ONE simulation. The testbench learns the port names and widths
from the generated top itself (parsed with pyverilog) and the element layout from
manifest.json; inputs, settings and results travel as JSON files named by environment
variables.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.backends.rtl import verilator
from fpga_gen.backends.rtl.writer import MANIFEST
from fpga_gen.errors import FormatError, FpgaGenError, ToolError
from fpga_gen.formats import parse_format
from fpga_gen.formats.sizing import exact_fixed, int_range

TESTBENCH = "fg_cosim_tb"
INT64_BITS = 62  # wider output mantissas come back as Python integers (object arrays)


@dataclass(frozen=True)
class CosimResult:
    """Outputs and measured cycle counts of one cosim batch (cycles of the design's clock).

    ``latency_cycles``: first input beat accepted -> last output beat of the first vector.
    ``interval_cycles``: between the last output beats of the last two vectors (steady
    state for a batch long enough to fill the pipeline; None for a single vector).
    ``total_cycles``: first input beat accepted -> last output beat of the batch.
    ``output_cycles``: for each vector, its last output beat, counted from the first input
    beat. Cycle counts are the design's only with ``backpressure = idle = 0``.
    """

    outputs: npt.NDArray[Any]
    latency_cycles: int
    interval_cycles: int | None
    total_cycles: int
    output_cycles: tuple[int, ...]


@dataclass(frozen=True)
class Port:
    name: str
    direction: str  # "input" | "output"
    width: int


def simulation_sources(rtl_dir: Path, manifest: Mapping[str, Any]) -> list[Path]:
    """The Verilog a simulation of ``rtl_dir`` compiles: the design, the primitive models and the
    headers they include (``verilator.HEADER_SUFFIX``)."""
    return [rtl_dir / f for f in manifest["sources"] + manifest["sim_sources"] + manifest["headers"]]


def run_cosim(
    rtl_dir: Path, x_ints: npt.ArrayLike, *, backpressure: float = 0.0, idle: float = 0.0, seed: int = 0
) -> CosimResult:
    """Simulate ``rtl_dir`` (written by ``write_rtl``) on integer input mantissas ``x_ints``.

    ``x_ints`` has shape (n, *input shape) (or (n, input size), flat channels-last frames);
    the result's ``outputs`` (n, *output shape) are the output mantissas. Both are
    integers on the grid of ``exact_fixed`` of their format (what
    ``golden.quantize_inputs`` and ``golden.evaluate_ints`` use), for minifloat streams
    too. ``backpressure`` is the probability that the sink refuses a beat in a cycle,
    ``idle`` the probability that the source withholds one (random patterns from
    ``seed``); both default to 0, which is when the cycle counts describe the design.
    """
    rtl_dir = Path(rtl_dir)
    manifest = read_manifest(rtl_dir)
    top = str(manifest["top"])
    bench = interface(read_ports(rtl_dir / f"{top}.v", top), manifest)
    x = _to_stream(_check_inputs(x_ints, manifest["input"]), manifest["input"])
    for name, p in (("backpressure", backpressure), ("idle", idle)):
        if not 0.0 <= p < 1.0:
            raise FpgaGenError(f"cosim {name}={p!r} must be a probability in [0, 1)")

    build_dir = verilator.build(simulation_sources(rtl_dir, manifest), top)
    n = len(x)
    cycles_needed = manifest["latency_cycles"] + n * manifest["interval_cycles"] + 100
    with tempfile.TemporaryDirectory(prefix="fpga_gen_cosim_") as tmp:
        work = Path(tmp)
        for name in manifest["mem_files"]:  # $readmemh opens them relative to the working directory
            shutil.copyfile(rtl_dir / name, work / name)
        (work / "inputs.json").write_text(json.dumps(x.tolist()))
        config = {
            **bench,
            "inputs": str(work / "inputs.json"),
            "results": str(work / "results.json"),
            "backpressure": backpressure,
            "idle": idle,
            "seed": seed,
            "timeout_cycles": int(4 * cycles_needed / ((1 - backpressure) * (1 - idle))),
        }
        (work / "config.json").write_text(json.dumps(config))
        verilator.run(build_dir, top, TESTBENCH, {"FG_COSIM_CONFIG": str(work / "config.json")}, work)
        results = json.loads((work / "results.json").read_text())

    out_doc = manifest["output"]
    dtype: type = np.int64 if out_doc["width"] <= INT64_BITS else object
    frames: npt.NDArray[Any] = np.array(results["outputs"], dtype=dtype).reshape(n, out_doc["n"])
    outputs = _from_stream(frames, out_doc).reshape((n, *out_doc["shape"]))
    start = results["in_first"][0]
    ends = [c - start for c in results["out_last"]]
    return CosimResult(
        outputs=outputs,
        latency_cycles=ends[0],
        interval_cycles=ends[-1] - ends[-2] if n > 1 else None,
        total_cycles=ends[-1],
        output_cycles=tuple(ends),
    )


def read_manifest(rtl_dir: Path) -> dict[str, Any]:
    path = rtl_dir / MANIFEST
    try:
        doc: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FpgaGenError(f"{path} is unreadable ({exc}): write the RTL with write_rtl first") from exc
    return doc


def read_ports(verilog: Path, top: str) -> dict[str, Port]:
    """Ports of module ``top`` in ``verilog`` (port widths literal, as in a generated top), parsed
    with pyverilog."""
    from pyverilog.vparser import ast as vast

    for module in parse_modules(verilog):
        if isinstance(module, vast.ModuleDef) and module.name == top:
            ports = {}
            for ioport in module.portlist.ports:
                decl = ioport.first
                width = 1 if decl.width is None else int(decl.width.msb.value) - int(decl.width.lsb.value) + 1
                ports[decl.name] = Port(decl.name, "input" if isinstance(decl, vast.Input) else "output", width)
            return ports
    raise ToolError(f"{verilog} defines no module {top}")


def parse_modules(verilog: Path) -> list[Any]:
    """pyverilog's module definitions of ``verilog``, preprocessed by Verilator (``verilator -E``:
    pyverilog's own preprocessing calls ``iverilog -E``, which no wheel ships)."""
    from pyverilog.vparser import ast as vast
    from pyverilog.vparser.parser import ParseError

    try:
        tree = _parser().parse(verilator.preprocess(verilog))
    except (OSError, ParseError) as exc:
        raise ToolError(f"cannot parse {verilog} with pyverilog: {exc}") from exc
    return [d for d in tree.description.definitions if isinstance(d, vast.ModuleDef)]


@functools.cache
def _parser() -> Any:
    """pyverilog's parser, its tables built once per process (about a second)."""
    from pyverilog.vparser.parser import VerilogParser

    return VerilogParser(outputdir=str(verilator.cache_dir().parent / "pyverilog"), debug=False)


def interface(ports: dict[str, Port], manifest: dict[str, Any]) -> dict[str, Any]:
    """What the testbench drives, found in the parsed ports and checked against the manifest.

    Clock and reset are the one-bit inputs named ``*clk*`` and ``*rst*`` (active low when
    the name ends in ``_n``); the AXI4-Stream slave and master are the ``<prefix>_tdata``
    input and output with their ``_tvalid``, ``_tready`` and ``_tlast``. The element
    layout of each stream comes from the manifest.
    """
    inputs = [p for p in ports.values() if p.direction == "input" and p.width == 1]
    clocks = [p.name for p in inputs if "clk" in p.name]
    resets = [p.name for p in inputs if "rst" in p.name]
    if len(clocks) != 1 or len(resets) != 1:
        raise ToolError(f"the generated top needs one clock and one reset input, found {clocks} and {resets}")
    doc: dict[str, Any] = {"clock": clocks[0], "reset": resets[0], "reset_active_low": resets[0].endswith("_n")}
    for role, direction in (("input", "input"), ("output", "output")):
        found = [
            p
            for p in ports.values()
            if p.name.endswith("_tdata") and p.direction == direction and _has_stream_controls(ports, p)
        ]
        if len(found) != 1:
            raise ToolError(f"the generated top needs one AXI4-Stream {role} port, found {[p.name for p in found]}")
        layout = manifest[role]
        if found[0].width != layout["bus_bits"] or found[0].width < layout["elems"] * layout["width"]:
            raise ToolError(
                f"{found[0].name} is {found[0].width} bits but the manifest says {layout['bus_bits']}: "
                "regenerate the RTL with write_rtl"
            )
        doc[role] = {"port": found[0].name.removesuffix("_tdata")} | {
            key: layout[key] for key in ("elems", "width", "signed", "beats")
        }
    return doc


def _has_stream_controls(ports: dict[str, Port], tdata: Port) -> bool:
    prefix = tdata.name.removesuffix("_tdata")
    ready = "output" if tdata.direction == "input" else "input"
    expected = {"tvalid": tdata.direction, "tready": ready, "tlast": tdata.direction}
    return all(
        (p := ports.get(f"{prefix}_{sig}")) is not None and p.direction == d and p.width == 1
        for sig, d in expected.items()
    )


def _check_inputs(x_ints: npt.ArrayLike, doc: dict[str, Any]) -> npt.NDArray[Any]:
    """The inputs as (n, elements of one frame): a batch of the Input's shape, or of flat frames."""
    x = np.asarray(x_ints)
    shape = tuple(doc["shape"])
    if x.ndim < 2 or x.shape[0] < 1 or x.shape[1:] not in (shape, (doc["n"],)):
        raise FpgaGenError(
            f"cosim inputs of shape {x.shape} do not match the design: pass integer mantissas of shape "
            f"(n, {', '.join(map(str, shape))})"
        )
    x = x.reshape(len(x), doc["n"])
    if x.dtype.kind not in "iuO":
        raise FpgaGenError(f"cosim inputs must be integer mantissas of {doc['format']}, got dtype {x.dtype}")
    lo, hi, _ = int_range(parse_format(doc["format"]))
    bad = np.flatnonzero((x < lo) | (x > hi))
    if bad.size:
        raise FpgaGenError(
            f"cosim input mantissa {x.flat[bad[0]]} (flat index {bad[0]}) is outside [{lo}, {hi}] of "
            f"{doc['format']}: quantize the inputs to the Input format first"
        )
    return x


def _to_stream(x: npt.NDArray[Any], doc: dict[str, Any]) -> npt.NDArray[Any]:
    """Integers on the format's grid -> stream elements (minifloat codes; mantissas as they are)."""
    if not doc["codes"]:
        return x
    fmt = parse_format(doc["format"])
    try:
        return fmt.to_codes(exact_fixed(fmt).from_int(x))
    except FormatError as exc:
        raise FpgaGenError(
            f"cosim inputs are not all values of {fmt} ({exc}): quantize the inputs to the Input format first"
        ) from exc


def _from_stream(y: npt.NDArray[Any], doc: dict[str, Any]) -> npt.NDArray[Any]:
    """Stream elements -> integers on the format's grid."""
    if not doc["codes"]:
        return y
    fmt = parse_format(doc["format"])
    values = fmt.from_codes(y)
    if not np.all(np.isfinite(values)):
        flat = np.flatnonzero(~np.isfinite(values))[0]
        raise FpgaGenError(
            f"the design sent code {y.flat[flat]:#x} (flat index {flat}), which is not a finite value of {fmt}: "
            "the RTL normaliser must saturate; this is a bug in the generated RTL"
        )
    return exact_fixed(fmt).to_int(values)
