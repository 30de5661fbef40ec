"""Test stand-ins for hardware: a C++ harness compiled together with a project's HLS firmware.

The fake PYNQ DMA and the fake XRT card both need the generated C++ as a program that moves
raw bytes; this builds it with C simulation's compiler, flags and cache, once per content.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from fpga_gen.backends.hls import csim
from fpga_gen.toolpaths import ap_types_include


def compile_harness(
    hls: Path, name: str, sources: Sequence[Path], pre_include: Path, defines: Mapping[str, str]
) -> Path:
    """``sources`` + ``hls/firmware``, ``pre_include`` included first, compiled into a cached binary.

    Keyed by the content of every file and the defines (not by paths, so each test's fresh
    project directory reuses it); locked, so parallel test workers compile it once.
    """
    include = ap_types_include()
    firmware = hls / "firmware"
    flags = [f"-D{key}={value}" for key, value in sorted(defines.items())]
    digest = hashlib.sha256(csim.source_digest(hls, include).encode())
    for part in flags:
        digest.update(part.encode() + b"\0")
    for path in (pre_include, *sources):
        digest.update(path.read_bytes() + b"\0")
    binary = csim.cache_root() / name / digest.hexdigest() / name
    binary.parent.mkdir(parents=True, exist_ok=True)
    with open(binary.parent / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.is_file():
            command = [csim.CXX, *csim.CXXFLAGS, "-I", str(include), "-I", str(firmware), *flags]
            csim.compile_binary([*command, "-include", str(pre_include), *map(str, sources)], binary)
    return binary
