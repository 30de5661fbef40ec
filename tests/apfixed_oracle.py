"""Runs tests/oracle/apfixed_cast.cpp: ap_fixed casts done by g++ with the hls4ml ap_types headers.

The oracle is deliberately independent of fpga_gen: cases are plain parameters, results are raw
bit patterns decoded here. Compiling ap_fixed templates is slow (~20 ms per instantiation), so
the case table is split into a few translation units compiled in parallel, and each binary is
cached under a content hash (source, case table, headers, compiler) in the pytest cache.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

DRIVER = Path(__file__).parent / "oracle" / "apfixed_cast.cpp"
# -O0: -O1 compiles ~1.7x slower and the runs are short anyway. -DNDEBUG: ap_fixed's cast from an
# ap_fixed<W2, ...> with more than W2 extra fraction bits reads source bit F2 - F - 1 (beyond its
# MSB) before checking that it exists, which trips an assert in ap_private::get_bit; the bit read
# is then never used.
CXX_FLAGS = ("-std=c++14", "-O0", "-w", "-DNDEBUG", "-fno-exceptions", "-fno-asynchronous-unwind-tables")


@dataclass(frozen=True)
class Case:
    """One cast: to ap_[u]fixed<width, integer, AP_<rounding>, AP_<overflow>>.

    From a double when ``source_frac`` is None, else from ``ap_fixed<64, 64 - source_frac>``
    (an int64 ``n`` standing for ``n * 2**-source_frac``).
    """

    width: int
    integer: int
    signed: bool
    rounding: str
    overflow: str
    source_frac: int | None = None

    def table_line(self) -> str:
        params = f"{self.width}, {self.integer}, {str(self.signed).lower()}, AP_{self.rounding}, AP_{self.overflow}"
        if self.source_frac is None:
            return f"FROM_DOUBLE({params})"
        return f"FROM_FIXED64({params}, {self.source_frac})"

    @property
    def words(self) -> int:
        return (self.width + 63) // 64


def headers_dir() -> Path:
    """The ap_types headers hls4ml ships (hls4ml is found, not imported: importing it is slow)."""
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or spec.origin is None:
        pytest.fail("hls4ml is not installed: the ap_fixed oracle needs its ap_types headers (pip install -e .[dev])")
    path = Path(spec.origin).parent / "templates" / "vivado" / "ap_types"
    if not (path / "ap_fixed.h").is_file():
        pytest.fail(f"{path / 'ap_fixed.h'} is missing: the ap_fixed oracle needs hls4ml's ap_types headers")
    return path


def compiler() -> str:
    name = os.environ.get("CXX", "g++")
    cxx = shutil.which(name)
    if cxx is None:
        pytest.fail(f"{name} is not on PATH: the ap_fixed oracle tests compile C++ with it (apt-get install g++)")
    return cxx


def run(
    cases: Sequence[Case], inputs: Sequence[npt.NDArray[np.float64] | npt.NDArray[np.int64]], cache: Path
) -> list[npt.NDArray[Any]]:
    """Cast ``inputs[k]`` as ``cases[k]`` describes; returns the mantissas (int64, or object past 62 bits)."""
    # Two units per CPU balance the load; each unit costs ~1 s of header parsing on top of its cases.
    size = -(-len(cases) // (2 * _cpus()))
    units = [range(start, min(start + size, len(cases))) for start in range(0, len(cases), size)]
    binaries = _build([[cases[k] for k in unit] for unit in units], cache)
    results: list[npt.NDArray[Any]] = []
    for unit, binary in zip(units, binaries, strict=True):
        stdin = b"".join(
            np.int64(len(inputs[k])).tobytes()
            + np.ascontiguousarray(inputs[k], dtype=np.float64 if cases[k].source_frac is None else np.int64).tobytes()
            for k in unit
        )
        done = subprocess.run([str(binary)], input=stdin, capture_output=True, check=False)
        if done.returncode != 0:
            pytest.fail(f"{binary} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-4000:]}")
        words = np.frombuffer(done.stdout, dtype=np.uint64)
        at = 0
        for k in unit:
            count = len(inputs[k]) * cases[k].words
            results.append(_decode(cases[k], words[at : at + count]))
            at += count
        assert at == len(words), f"{binary} wrote {len(words)} words, expected {at}"
    return results


def _decode(case: Case, words: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64] | npt.NDArray[np.object_]:
    """Raw bits (least significant word first) -> two's complement (or unsigned) mantissas."""
    per_value = words.reshape(-1, case.words).tolist()
    codes = [sum(int(w) << (64 * k) for k, w in enumerate(value)) & ((1 << case.width) - 1) for value in per_value]
    if case.signed:
        codes = [c - (1 << case.width) if c >> (case.width - 1) else c for c in codes]
    if case.width <= 62:
        return np.array(codes, dtype=np.int64)
    out = np.empty(len(codes), dtype=object)
    out[:] = codes
    return out


def _build(units: list[list[Case]], cache: Path) -> list[Path]:
    headers = headers_dir()
    cxx = compiler()
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=True).stdout
    common = hashlib.sha256(DRIVER.read_bytes() + version.encode() + repr(CXX_FLAGS).encode())
    for header in sorted(headers.rglob("*.h")):
        common.update(header.read_bytes())
    binaries, jobs = [], []
    for unit in units:
        table = "\n".join(case.table_line() for case in unit) + "\n"
        key = common.copy()
        key.update(table.encode())
        binary = cache / f"apfixed_cast-{key.hexdigest()[:20]}"
        binaries.append(binary)
        if binary.exists():
            continue
        partial = binary.with_name(f"{binary.name}.{os.getpid()}.tmp")
        table_file = partial.with_suffix(".inc")  # kept next to the binary, for debugging
        table_file.write_text(table)
        command = [cxx, *CXX_FLAGS, f"-I{headers}", f'-DCASES_FILE="{table_file}"', str(DRIVER), "-o", str(partial)]
        jobs.append((command, partial, binary))
    _compile_all(jobs)
    return binaries


def _compile_all(jobs: list[tuple[list[str], Path, Path]]) -> None:
    """Runs the compilations, as many at a time as there are CPUs."""

    def compile_one(job: tuple[list[str], Path, Path]) -> str | None:
        command, partial, binary = job
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"g++ failed on {DRIVER} with {partial.with_suffix('.inc')}:\n{done.stderr[-4000:]}"
        partial.replace(binary)  # atomic: a concurrent run sees a complete binary or none
        return None

    with ThreadPoolExecutor(max_workers=_cpus()) as pool:
        errors = [error for error in pool.map(compile_one, jobs) if error]
    if errors:
        pytest.fail(errors[0])


def _cpus() -> int:
    return len(os.sched_getaffinity(0))
