"""C simulation of a generated HLS project: g++ against ap_types, one process per batch.

The binary is cached under ``$FPGA_GEN_CACHE/csim/<sha256>`` (default cache root
``~/.cache/fpga_gen``), keyed by every source file of the project, the ap_types headers
and the compiler command, so running the same design again starts at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.backends.hls.codes import codes_to_ints, ints_to_codes
from fpga_gen.backends.hls.textio import read_matrix, write_matrix
from fpga_gen.backends.hls.writer import MANIFEST, MANIFEST_SCHEMA
from fpga_gen.errors import FormatError, GraphError, ToolError
from fpga_gen.formats import parse_format
from fpga_gen.toolpaths import ap_types_include

CXX = "g++"
# -DNDEBUG: ap_private asserts on a valid cast whose target LSB lies above the source MSB
# ("Attempting to read bit beyond MSB"); without the assert the result is exact (checked
# against g++ in tests/test_fixed.py, whose oracle compiles the same way).
CXXFLAGS = ("-O2", "-std=c++14", "-DNDEBUG")
_COUNT_FLAG = "-DFG_COUNT_ITERATIONS"  # hls/fg_types.h: FG_PIPELINED counts
_BINARY = "csim"
_LOG_TAIL = 40  # compiler / testbench log lines carried by a ToolError


def cache_root() -> Path:
    """``$FPGA_GEN_CACHE`` when set, else ``~/.cache/fpga_gen``."""
    env = os.environ.get("FPGA_GEN_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "fpga_gen"


def build_csim(project_dir: Path, *, count: bool = False) -> Path:
    """The C simulation binary of ``project_dir``, compiled only if not cached yet; with ``count``,
    one that also prints every process's pipelined loop iterations (``FG_COUNT_ITERATIONS``)."""
    project_dir = Path(project_dir)
    manifest = read_manifest(project_dir)
    compiler = shutil.which(CXX)
    if compiler is None:
        raise ToolError(f"{CXX} was not found on PATH; C simulation needs a C++ compiler (apt install g++)")
    include = ap_types_include()
    sources = [project_dir / s for s in manifest["sources"]]
    flags = (*CXXFLAGS, _COUNT_FLAG) if count else CXXFLAGS
    binary = cache_root() / "csim" / source_digest(project_dir, include, flags) / _BINARY
    if not binary.is_file():
        compile_binary([compiler, *flags, "-I", str(include), *map(str, sources)], binary)
    return binary


def run_csim(project_dir: Path, x_ints: npt.ArrayLike) -> npt.NDArray[Any]:
    """Run a batch of Input integers through the project's C simulation; return Output integers.

    Integers are on the grid of ``exact_fixed(format)`` of the Input / Output format (what
    the golden model computes with); the testbench exchanges the formats' codes, converted
    here. ``x_ints`` has shape ``(batch, *input shape)``. The result has shape ``(batch,
    *output shape)``, dtype int64, or object (Python ints) when wider than 62 bits.
    """
    return _simulate(Path(project_dir), x_ints, count=False)[0]


def count_iterations(project_dir: Path, x_ints: npt.ArrayLike) -> tuple[npt.NDArray[Any], dict[str, int]]:
    """``run_csim``'s outputs, and the iterations of every pipelined loop over the whole batch per
    process (by its config struct's name); the manifest's ``processes`` hold what the writer
    scheduled per sample."""
    y, log = _simulate(Path(project_dir), x_ints, count=True)
    counts: dict[str, int] = {}
    for line in log.splitlines():
        if line.startswith("iterations "):
            _, name, value = line.split()
            counts[name] = int(value)
    return y, counts


def _simulate(project_dir: Path, x_ints: npt.ArrayLike, *, count: bool) -> tuple[npt.NDArray[Any], str]:
    """The Output integers of a batch of Input integers, and the testbench's standard output."""
    manifest = read_manifest(project_dir)
    spec_in, spec_out = manifest["input"], manifest["output"]
    x = _check_inputs(np.asarray(x_ints), spec_in)
    binary = build_csim(project_dir, count=count)
    n_in = int(np.prod(spec_in["shape"]))
    n_out = int(np.prod(spec_out["shape"]))
    with tempfile.TemporaryDirectory(prefix="fpga_gen_csim_") as tmp:
        in_path, out_path = Path(tmp) / "input.txt", Path(tmp) / "output.txt"
        write_matrix(in_path, ints_to_codes(parse_format(spec_in["format"]), x), n_in)
        run = subprocess.run([str(binary), str(in_path), str(out_path)], capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise ToolError(
                f"C simulation of {project_dir} failed (exit status {run.returncode}):\n"
                + _tail(run.stdout + run.stderr)
            )
        codes = read_matrix(out_path, spec_out["bits"])
    if codes.shape != (len(x), n_out):
        raise ToolError(f"C simulation of {project_dir} returned {codes.shape} values, expected {(len(x), n_out)}")
    try:
        y = codes_to_ints(parse_format(spec_out["format"]), codes)
    except FormatError as exc:
        raise ToolError(f"C simulation of {project_dir} returned outputs with no exact value: {exc}") from exc
    return y.reshape(len(x), *spec_out["shape"]), run.stdout


def read_manifest(project_dir: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((project_dir / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise GraphError(
            f"{project_dir} is not an HLS project written by fpga_gen ({MANIFEST} unreadable: {exc}); "
            "write it with write_hls first"
        ) from exc
    if manifest.get("schema") != MANIFEST_SCHEMA:
        raise GraphError(
            f"{project_dir} was written by another version of fpga_gen (manifest schema "
            f"{manifest.get('schema')!r}, expected {MANIFEST_SCHEMA}); write it again with write_hls"
        )
    return manifest


def _check_inputs(x: npt.NDArray[Any], spec: dict[str, Any]) -> npt.NDArray[Any]:
    shape = tuple(spec["shape"])
    if x.ndim < 1 or x.shape[1:] != shape:
        raise FormatError(
            f"csim input of shape {x.shape} does not match {spec['layer']} {shape}: pass a batch of "
            f"shape (n, {', '.join(map(str, shape))})"
        )
    if x.dtype.kind not in "iuO" or (x.dtype.kind == "O" and not all(_is_int(v) for v in x.flat)):
        raise FormatError(
            f"csim takes integers on the grid of {spec['format']}, got dtype {x.dtype}; quantize the inputs first"
        )
    if x.size:
        flat = x.ravel().tolist()
        lo, hi = min(flat), max(flat)
        if lo < spec["min_int"] or hi > spec["max_int"]:
            raise FormatError(
                f"csim input integers span [{lo}, {hi}], outside [{spec['min_int']}, {spec['max_int']}] "
                f"of {spec['layer']} format {spec['format']}"
            )
    return x


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def source_digest(project_dir: Path, include: Path, flags: tuple[str, ...] = CXXFLAGS) -> str:
    """sha256 of the compiler command, every project source and every ap_types header."""
    h = hashlib.sha256(repr((CXX, flags)).encode())
    for root, label in ((project_dir / "firmware", "firmware"), (project_dir / "tb", "tb"), (include, "ap_types")):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            h.update(f"\0{label}/{path.relative_to(root).as_posix()}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def compile_binary(command: list[str], binary: Path) -> None:
    """Compile into a temporary name, then move into place: concurrent runs never see half a binary."""
    binary.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{_BINARY}.", dir=binary.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        run = subprocess.run([*command, "-o", str(tmp)], capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise ToolError(
                f"{CXX} failed to compile the C simulation (exit status {run.returncode}):\n"
                f"$ {' '.join(command)}\n" + _tail(run.stdout + run.stderr)
            )
        os.replace(tmp, binary)
    finally:
        tmp.unlink(missing_ok=True)


def _tail(log: str) -> str:
    return "\n".join(log.rstrip().splitlines()[-_LOG_TAIL:])
