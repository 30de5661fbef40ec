"""Unit benches of the rtl/ arithmetic: many instances of one library module in one
generated harness, one Verilator build, swept by a cocotb testbench in sim/.

* ``run_convert_bench``: fg_convert units (fixed-point casts, minifloat RNE normalisers),
  each reading the low bits of one shared input, driven with a list of input patterns
  (sim/fg_convert_tb.py); returns every unit's output codes.
* ``run_mac_bench``: per unit two fg_mf_decode, one fg_mf_mac (on a DSP48E1 or DSP48E2
  slice) and a Kulisch accumulator, fed one operand pair per cycle (sim/fg_mac_tb.py);
  returns every product and the sum.

The comparison with the Python formats (``cast_int``, exact integer products) is the
caller's, so the reference never lives in the testbench.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fpga_gen.backends.rtl import verilator
from fpga_gen.backends.rtl.cost import signed_bits
from fpga_gen.backends.rtl.stages import CONVERT_FILES, Convert, DspOperandError, Operand
from fpga_gen.backends.rtl.writer import HEADERS
from fpga_gen.boards.dsp import primitive
from fpga_gen.errors import FpgaGenError
from fpga_gen.formats import MiniFloat
from fpga_gen.formats.sizing import accumulator_format, product_format
from fpga_gen.templating import render
from fpga_gen.toolpaths import package_dir

# fg_mf_mac: operands in cycle t, product in cycle t + 4 (see its header).
MAC_LATENCY = 4
MAC_FILES = ("fg_extend.v", "fg_mf_decode.v", "fg_dsp_chain.v", "fg_lut_mult.v", "fg_mf_mac.v")  # + the DSP model


@dataclass(frozen=True)
class ConvertUnit:
    """One fg_convert of the bench: input bits [in_w-1:0] of the shared input."""

    port: str
    in_w: int
    convert: Convert


@dataclass(frozen=True)
class MacUnit:
    """One decode + MAC + accumulator of the bench: ``a`` on the DSP A port, ``b`` on B,
    sized like the minifloat engine for ``n`` products."""

    port: str
    a: Operand
    b: Operand
    n: int

    @property
    def prod_bits(self) -> int:
        return signed_bits(product_format(self.a.fmt, self.b.fmt))

    @property
    def acc_bits(self) -> int:
        return signed_bits(accumulator_format(self.a.fmt, self.b.fmt, self.n))


def run_convert_bench(
    units: Sequence[ConvertUnit], inputs: Sequence[int], workdir: Path
) -> dict[str, npt.NDArray[np.int64]]:
    """Every unit's output code (unsigned) for each input pattern (two's complement ints)."""
    in_w = max(u.in_w for u in units)
    bench = workdir / "fg_convert_bench.v"
    bench.write_text(render("rtl", "convert_bench.v.j2", {"in_w": in_w, "units": units}))
    files = ["fg_extend.v", "fg_convert.v"]
    for u in units:
        files += CONVERT_FILES[isinstance(u.convert.out, MiniFloat)]
    library = package_dir("rtl")
    build_dir = verilator.build([bench, *(library / f for f in dict.fromkeys((*files, *HEADERS)))], "fg_convert_bench")
    mask = (1 << in_w) - 1
    config = {
        "inputs": [int(v) & mask for v in inputs],
        "ports": [u.port for u in units],
        "results": str(workdir / "convert.json"),
    }
    (workdir / "convert_cfg.json").write_text(json.dumps(config))
    verilator.run(
        build_dir,
        "fg_convert_bench",
        "fg_convert_tb",
        {"FG_CONVERT_CONFIG": str(workdir / "convert_cfg.json")},
        workdir,
    )
    rows = np.array(json.loads((workdir / "convert.json").read_text()), dtype=np.int64).reshape(-1, len(units))
    return {u.port: rows[:, k] for k, u in enumerate(units)}


def run_mac_bench(
    units: Sequence[MacUnit],
    pairs: dict[str, tuple[Sequence[int], Sequence[int]]],
    workdir: Path,
    dsp_kind: str = "DSP48E1",
) -> dict[str, tuple[list[int], int]]:
    """For each unit, the product of every (a, b) code pair in order, and their sum, with the
    MACs on ``dsp_kind`` slices."""
    dsp = primitive(dsp_kind)
    a_bits, b_bits = dsp.a_bits, dsp.b_bits
    for u in units:
        if u.a.value_bits > a_bits or u.b.value_bits > b_bits:
            raise DspOperandError(
                f"run_mac_bench unit {u.port}: {u.a.fmt} x {u.b.fmt} needs {u.a.value_bits} x {u.b.value_bits} "
                f"signed multiplier bits, more than the {a_bits} x {b_bits} of a {dsp_kind}; use narrower formats"
            )
    if any(len(pairs.get(u.port, ((), ()))[0]) > u.n for u in units) or set(pairs) != {u.port for u in units}:
        raise FpgaGenError(
            f"run_mac_bench: give each unit at most n pairs; units {[(u.port, u.n) for u in units]}, "
            f"pairs for {sorted(pairs)}"
        )
    bench = workdir / "fg_mac_bench.v"
    bench.write_text(render("rtl", "mac_bench.v.j2", {"units": units, "latency": MAC_LATENCY, "dsp_kind": dsp_kind}))
    library = package_dir("rtl")
    build_dir = verilator.build([bench, *(library / f for f in (*MAC_FILES, *dsp.sim_files, *HEADERS))], "fg_mac_bench")
    config = {
        "latency": MAC_LATENCY,
        "units": {
            port: [[int(a) for a in a_codes], [int(b) for b in b_codes]] for port, (a_codes, b_codes) in pairs.items()
        },
        "results": str(workdir / "mac.json"),
    }
    (workdir / "mac_cfg.json").write_text(json.dumps(config))
    verilator.run(build_dir, "fg_mac_bench", "fg_mac_tb", {"FG_MAC_CONFIG": str(workdir / "mac_cfg.json")}, workdir)
    results = json.loads((workdir / "mac.json").read_text())
    return {port: (doc["products"], doc["acc"]) for port, doc in results.items()}
