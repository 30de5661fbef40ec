"""Minifloat, ternary and binary in the HLS backend, bit for bit.

Two levels, both compared with ``==``:

- hls/fg_minifloat.h against fpga_gen.formats.MiniFloat, through g++: every code's exact
  value (to_fixed), double rounding (from_double vs quantize) at every midpoint and its
  float neighbours, and accumulator rounding (from_fixed vs cast_int) on accumulators
  finer, coarser and wider (72 bits) than the format. All formats go into one program
  (a generated table of template instantiations), cached by content hash.
- Whole MLPs: generated project's C simulation == golden model, for minifloat, ternary and
  binary weights and minifloat activations.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from graphs import random_mlp, with_folds
from hls_designs import PART, Design, assert_csim_equals_golden, build_designs

from fpga_gen.backends.hls import build_csim, run_csim, write_hls
from fpga_gen.backends.hls.codes import codes_to_ints
from fpga_gen.errors import FormatError, UnsupportedLayerError
from fpga_gen.formats import PRESETS, Binary, FixedPoint, MiniFloat, Ternary
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import Dense, Fold, Graph, evaluate_ints
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.passes import fuse_activations
from fpga_gen.toolpaths import ap_types_include, package_dir

pytestmark = pytest.mark.xdist_group("hls")


# -- the C++ twin against the Python class ----------------------------------------------------

DRIVER = Path(__file__).parent / "oracle" / "minifloat_check.cpp"
# -O0: the runs are short and compiling is what costs. -DNDEBUG: ap_fixed casts whose target
# LSB lies above the source MSB read a bit beyond the MSB before discarding it (an assert).
CXX_FLAGS = ("-std=c++14", "-O0", "-w", "-DNDEBUG")
EXHAUSTIVE_BITS = 14  # accumulators up to this width are checked on every value
WIDE = 72  # more than 64 bits: ap_int's multi-word arithmetic

FORMATS = [MiniFloat(e, m) for e in range(1, 6) for m in range(4)] + [
    PRESETS["e4m3"],  # NaN only
    PRESETS["e5m2"],  # inf and NaN
    PRESETS["e4m3fnuz"],
    PRESETS["e5m2fnuz"],
    MiniFloat(3, 0, nan=True),  # M = 0: the whole top field is NaN
    MiniFloat(2, 2, nan=True),
    MiniFloat(2, 1, subnormals=False),
    MiniFloat(3, 2, subnormals=False),
    MiniFloat(4, 0, subnormals=False),
    MiniFloat(4, 3, nan=True, subnormals=False),
    MiniFloat(4, 3, nan=True, saturating=False),  # overflow -> NaN
    MiniFloat(5, 2, inf=True, nan=True, saturating=False),  # overflow -> inf
    MiniFloat(3, 1, inf=True, nan=True, saturating=False, subnormals=False),
    MiniFloat(2, 3, bias=3),
    MiniFloat(3, 2, bias=-1),
]


@dataclass(frozen=True)
class Case:
    """One template instantiation: a format and the accumulator its from_fixed is checked on."""

    fmt: MiniFloat
    acc: FixedPoint
    doubles: bool  # check from_double here (once per format)

    def table_line(self) -> str:
        return f"&check<{self.fmt.cpp_type()}, {self.acc.width}, {self.acc.integer}>,"


def _cases() -> list[Case]:
    cases = []
    for fmt in FORMATS:
        width, frac = exact_fixed(fmt).width, fmt.frac
        accs = [
            FixedPoint(width + 5, width + 5 - (frac + 3)),  # finer grid, range beyond max: ties, overflow
            FixedPoint(width, width - (frac - 2)),  # coarser grid than the subnormal step
            FixedPoint(WIDE, WIDE - (frac + 12)),
        ]
        cases += [Case(fmt, acc, k == 0) for k, acc in enumerate(accs)]
    return cases


def _build_driver(cases: list[Case], cache: Path) -> list[tuple[Path, list[Case]]]:
    """Two programs (one per core), each cached under a hash of everything it is built from."""
    cxx = shutil.which(os.environ.get("CXX", "g++"))
    if cxx is None:
        pytest.fail("g++ is not on PATH: the minifloat twin is checked by compiling it (apt-get install g++)")
    include, headers = ap_types_include(), package_dir("hls")
    common = hashlib.sha256(DRIVER.read_bytes() + repr(CXX_FLAGS).encode())
    common.update(subprocess.run([cxx, "--version"], capture_output=True, check=True).stdout)
    for header in [*sorted(include.rglob("*.h")), *sorted(headers.glob("*.h"))]:
        common.update(header.read_bytes())
    units = [cases[k::2] for k in range(2)]
    jobs, programs = [], []
    for unit in units:
        table = "\n".join(case.table_line() for case in unit) + "\n"
        key = common.copy()
        key.update(table.encode())
        binary = cache / f"minifloat_check-{key.hexdigest()[:20]}"
        programs.append((binary, unit))
        if not binary.exists():
            partial = binary.with_name(f"{binary.name}.{os.getpid()}.tmp")
            table_file = partial.with_suffix(".inc")
            table_file.write_text(table)
            command = [cxx, *CXX_FLAGS, f"-I{include}", f"-I{headers}", f'-DCASES_FILE="{table_file}"']
            jobs.append(([*command, str(DRIVER), "-o", str(partial)], partial, binary))

    def compile_one(job: tuple[list[str], Path, Path]) -> str:
        command, partial, binary = job
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"g++ failed on {DRIVER}:\n{done.stderr[-4000:]}"
        partial.replace(binary)  # atomic: a concurrent run sees a complete binary or none
        return ""

    with ThreadPoolExecutor(max_workers=2) as pool:
        errors = [e for e in pool.map(compile_one, jobs) if e]
    if errors:
        pytest.fail(errors[0])
    return programs


def _doubles(fmt: MiniFloat) -> np.ndarray:
    """Every value, every midpoint between neighbours (and past max), their float neighbours."""
    v = fmt.from_codes(np.arange(2**fmt.bits))
    pos = np.unique(np.abs(v[np.isfinite(v)]))
    top_step = np.ldexp(1.0, int(np.floor(np.log2(fmt.max_value))) - fmt.mantissa_bits)
    points = np.concatenate([pos, (pos[:-1] + pos[1:]) / 2, [fmt.max_value + top_step / 2, fmt.min_normal / 2]])
    near = np.concatenate([points, np.nextafter(points, np.inf), np.nextafter(points, -np.inf)])
    rng = np.random.default_rng(fmt.bits)
    spread = np.exp2(rng.uniform(fmt.emin - fmt.mantissa_bits - 3, np.log2(fmt.max_value) + 2, 500))
    extremes = [2 * fmt.max_value, 1e300, np.inf, 5e-324, 0.0]
    x = np.concatenate([near, spread, extremes])
    x = np.concatenate([x, -x])
    return np.concatenate([x, [np.nan]]) if fmt.nan else x


def _accumulators(case: Case) -> np.ndarray:
    """All of a narrow accumulator; else the format's values, midpoints, neighbours, and a spread."""
    acc = case.acc
    if acc.width <= EXHAUSTIVE_BITS:
        return np.arange(acc.min_int, acc.max_int + 1).astype(object)
    shift = acc.frac - case.fmt.frac  # format grid -> accumulator grid
    grid = exact_fixed(case.fmt).to_int(np.unique(np.abs(_finite_values(case.fmt))))
    mids = 2 * grid[:-1] + np.diff(grid)  # on the grid one bit finer
    points = [int(g) << shift if shift >= 0 else int(g) >> -shift for g in grid]
    points += [int(m) << (shift - 1) if shift >= 1 else int(m) >> (1 - shift) for m in mids]
    rng = random.Random(acc.width)  # Python ints: accumulators beyond 64 bits
    spread = [rng.getrandbits(b) | 1 << (b - 1) for b in (rng.randrange(1, acc.width) for _ in range(3000))]
    values = [p + d for p in points for d in (-1, 0, 1)] + spread + [acc.max_int, 1]
    values += [-v for v in values] + [acc.min_int, 0]
    return np.array([v for v in values if acc.min_int <= v <= acc.max_int], dtype=object)


def _finite_values(fmt: MiniFloat) -> np.ndarray:
    v = fmt.from_codes(np.arange(2**fmt.bits))
    return v[np.isfinite(v)]


def _expected_from_fixed(fmt: MiniFloat, n: np.ndarray, frac: int) -> np.ndarray:
    """Codes of MiniFloat.cast_int; a non-saturating format's overflow (where cast_int raises) is inf or NaN."""
    if fmt.saturating:
        return fmt.to_codes(exact_fixed(fmt).from_int(fmt.cast_int(n, frac)))
    # The same format with a wider exponent rounds alike and tells which results overflow.
    wider = replace(fmt, exponent_bits=fmt.exponent_bits + 1, inf=False, nan=False, saturating=True)
    r = wider.cast_int(n, frac)
    over = np.abs(r) > fmt.max_int
    codes = fmt.to_codes(exact_fixed(fmt).from_int(np.where(over, 0, r)))
    special = np.where(n < 0, -np.inf, np.inf) if fmt.inf else np.full(len(n), np.nan)
    return np.where(over, fmt.to_codes(special.astype(np.float64)), codes)


def _words(n: np.ndarray) -> bytes:
    """Accumulator integers as (low, high) int64 words of their two's complement."""
    pairs = [(int(v) & ((1 << 64) - 1), int(v) >> 64) for v in n]
    low = np.array([p[0] for p in pairs], dtype=np.uint64).view(np.int64)
    high = np.array([p[1] for p in pairs], dtype=np.int64)
    return np.int64(len(n)).tobytes() + np.column_stack([low, high]).tobytes()


@pytest.fixture(scope="module")
def twin(request: pytest.FixtureRequest) -> list[tuple[Case, dict[str, np.ndarray]]]:
    """Run every case through the C++ twin: (case, {inputs and outputs})."""
    programs = _build_driver(_cases(), request.config.cache.mkdir("minifloat_check"))
    results = []
    for binary, unit in programs:
        inputs = [
            {"doubles": _doubles(case.fmt) if case.doubles else np.zeros(0), "accs": _accumulators(case)}
            for case in unit
        ]
        stdin = b"".join(
            np.int64(len(i["doubles"])).tobytes() + i["doubles"].astype(np.float64).tobytes() + _words(i["accs"])
            for i in inputs
        )
        done = subprocess.run([str(binary)], input=stdin, capture_output=True, check=False)
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-4000:]
        out = np.frombuffer(done.stdout, dtype=np.int64)
        at = 0
        for case, i in zip(unit, inputs, strict=True):
            sizes = {"fixed": 2**case.fmt.bits, "from_double": len(i["doubles"]), "from_fixed": len(i["accs"])}
            for key, size in sizes.items():
                i[key] = out[at : at + size]
                at += size
            results.append((case, i))
        assert at == len(out)
    return results


def test_every_code_decodes_to_the_exact_value(twin: list[tuple[Case, dict[str, np.ndarray]]]) -> None:
    for case, r in twin:
        if not case.doubles:
            continue
        v = case.fmt.from_codes(np.arange(2**case.fmt.bits))
        finite = np.isfinite(v)
        expected = np.zeros(len(v), dtype=np.int64)  # NaN and inf read as 0
        expected[finite] = exact_fixed(case.fmt).to_int(v[finite])
        assert np.array_equal(r["fixed"], expected), case.fmt


def test_from_double_rounds_like_quantize(twin: list[tuple[Case, dict[str, np.ndarray]]]) -> None:
    checked = 0
    for case, r in twin:
        if case.doubles:
            expected = case.fmt.to_codes(case.fmt.quantize(r["doubles"]))
            assert np.array_equal(r["from_double"], expected), case.fmt
            checked += 1
    assert checked == len(FORMATS)


def test_from_fixed_rounds_like_cast_int(twin: list[tuple[Case, dict[str, np.ndarray]]]) -> None:
    for case, r in twin:
        expected = _expected_from_fixed(case.fmt, r["accs"], case.acc.frac)
        assert np.array_equal(r["from_fixed"], expected), (case.fmt, case.acc)


def test_the_checked_values_cover_overflow_and_subnormals(twin: list[tuple[Case, dict[str, np.ndarray]]]) -> None:
    """Saturation (or inf / NaN), subnormals and wide accumulators are among the checked values."""
    for case, r in twin:
        fmt = case.fmt
        values = fmt.from_codes(r["from_fixed"])
        assert np.any(np.abs(values) == fmt.max_value) or not fmt.saturating, case
        assert np.any(~np.isfinite(values)) or fmt.saturating, case
        if fmt.subnormals and fmt.mantissa_bits > 0 and case.acc.frac > fmt.frac:
            assert np.any((values != 0) & (np.abs(values) < fmt.min_normal)), case
    assert any(c.acc.width > 64 for c, _ in twin)


# -- whole networks: csim == golden ----------------------------------------------------------------


def _per_channel_ternary() -> Graph:
    """Per-channel ternary scales (powers of two and not) into e4m3, then binary with a non-power-of-two scale."""
    rng = np.random.default_rng(41)
    scales = (0.5, 0.25, 0.375, 1.5, 0.125, 2.0, 0.75, 0.0625)
    b = GraphBuilder("tern_pc", (16,), "fixed<8,3>")
    b.dense(rng.uniform(-1.5, 1.5, (16, 8)) * scales, Ternary(scales), rng.uniform(-2, 2, 8), "fixed<8,3>")
    b.activation("relu", "e4m3")
    b.dense(rng.uniform(-1, 1, (8, 4)), Binary(0.75), rng.uniform(-2, 2, 4), "e3m2")
    return with_folds(fuse_activations(b.build()), [Fold(4, 8), Fold(2, 4)])


def _log_uniform_mlp(
    name: str, sizes: tuple[int, ...], formats: dict[str, str], exponents: tuple[int, int], folds: list[Fold]
) -> Graph:
    """Like random_mlp, but weights and biases log-uniform over 2**exponents with random signs.

    random_mlp draws weights uniformly over all codes: with minifloat activations their
    largest products saturate nearly every output, which leaves little to compare.
    ``formats`` names the input, weight, bias, act (hidden layers) and last formats.
    """
    rng = np.random.default_rng(sum(map(ord, name)))

    def draw(shape: tuple[int, ...]) -> np.ndarray:
        return rng.choice([-1.0, 1.0], shape) * np.exp2(rng.uniform(*exponents, shape))

    b = GraphBuilder(name, (sizes[0],), formats["input"])
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        b.dense(draw((n_in, n_out)), formats["weight"], draw((n_out,)), formats["bias"])
        last = i == len(sizes) - 2
        b.activation("linear" if last else "relu", formats["last" if last else "act"])
    return with_folds(fuse_activations(b.build()), folds)


def _standalone_activations() -> Graph:
    """Activation kernels on their own: minifloat -> fixed, and fixed -> minifloat."""
    rng = np.random.default_rng(43)
    b = GraphBuilder("mf_acts", (8,), "e4m3")
    b.activation("relu", "fixed<10,5,RND_CONV,SAT>")
    b.dense(rng.uniform(-2, 2, (8, 6)), "e2m3", output_format="fixed<9,4,RND,SAT>")
    b.activation("linear", "e2m1")
    b.dense(rng.uniform(-1, 1, (6, 4)), "e4m3")
    return with_folds(fuse_activations(b.build()), [Fold(3, 4), Fold(4, 3)])


def _everywhere(fmt: str) -> dict[str, str]:
    return dict.fromkeys(("input", "weight", "bias", "act", "last"), fmt)


def _designs() -> dict[str, Graph]:
    folds = [Fold(2, 4), Fold(3, 6)]
    return {
        "e4m3_weights": random_mlp(
            31, (16, 12, 6), weight_format="e4m3", act_format="fixed<8,3,RND_CONV,SAT>", folds=folds
        ),
        "e2m1": _log_uniform_mlp("e2m1_mlp", (12, 8, 4), _everywhere("e2m1"), (-3, -1), [Fold(2, 4), Fold(4, 8)]),
        "ternary": random_mlp(33, (16, 12, 6), weight_format="ternary<0.25>", folds=folds),
        "ternary_per_channel": _per_channel_ternary(),
        "binary": random_mlp(
            34, (16, 12, 6), input_format="e4m3", weight_format="binary<0.5>", act_format="e4m3", folds=folds
        ),
        # ~70-bit accumulators
        "e5m2": _log_uniform_mlp("e5m2_mlp", (16, 12, 6), _everywhere("e5m2"), (-16, -2), folds),
        "e3m2_e2m3": _log_uniform_mlp(
            "e3m2_e2m3_mlp",
            (16, 12, 6),
            {
                "input": "e3m2",
                "weight": "e2m3",
                "bias": "fixed<8,2>",
                "act": "e3m2",
                "last": "fixed<16,9,RND_CONV,SAT>",
            },
            (-4, -1),
            folds,
        ),
        "activations": _standalone_activations(),
    }


@pytest.fixture(scope="module")
def designs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Design]]:
    """Every design written and compiled (in parallel) into a private cache, so they really build."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FPGA_GEN_CACHE", str(tmp_path_factory.mktemp("fpga_gen_cache")))
        yield build_designs(_designs(), tmp_path_factory.mktemp("hls_minifloat"), seed=200)


@pytest.mark.parametrize(
    "name", ["e4m3_weights", "e2m1", "ternary", "ternary_per_channel", "binary", "e5m2", "e3m2_e2m3", "activations"]
)
def test_csim_equals_golden(designs: dict[str, Design], name: str) -> None:
    assert_csim_equals_golden(designs[name])


def test_e5m2_accumulators_are_wider_than_64_bits(designs: dict[str, Design]) -> None:
    g = designs["e5m2"].graph
    dense = [l for l in g.layers if isinstance(l, Dense)]
    assert all(l.accumulator(g.input_spec(l).format).width > 64 for l in dense)


def test_streams_and_weights_carry_codes(designs: dict[str, Design]) -> None:
    """tb_data holds Input/Output codes, weight ROMs hold codes; the testbench checks them itself."""
    d = designs["binary"]
    data = d.path / "tb_data"

    def codes(name: str) -> np.ndarray:
        _, *rows = (data / name).read_text().splitlines()
        return np.array([row.split() for row in rows], dtype=np.int64)

    fmt_in, fmt_out = d.graph.input.output.format, d.graph.output.output.format
    x = codes_to_ints(fmt_in, codes("input_codes.txt"))
    assert np.array_equal(codes_to_ints(fmt_out, codes("expected_codes.txt")), evaluate_ints(d.graph, x))
    rom = (d.path / "firmware/weights/dense0_w.h").read_text()
    stored = [int(v) for v in re.findall(r"\d+", rom[rom.index("= {") : rom.index("};")])]
    dense0 = next(l for l in d.graph.layers if isinstance(l, Dense))
    assert stored == dense0.weight.codes.T.ravel().tolist()  # binary: 0 is +1, 1 is -1
    args = [str(data / "input_codes.txt"), str(data / "out.txt"), str(data / "expected_codes.txt")]
    run = subprocess.run([str(build_csim(d.path)), *args], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 outputs differ" in run.stdout


def test_csim_refuses_integers_that_are_not_values(designs: dict[str, Design]) -> None:
    d = designs["e2m1"]  # e2m1 on its grid 2**-1: 0, 1, 2, 3, 4, 6, 8, 12 and negatives; not 5
    with pytest.raises(FormatError, match="not representable in e2m1"):
        run_csim(d.path, np.full((1, 12), 5))


@pytest.mark.parametrize(
    ("where", "fmt"), [("input", "ternary<0.5>"), ("output", "binary<1.0>"), ("bias", "ternary<0.25>")]
)
def test_sign_formats_are_weights_only(tmp_path: Path, where: str, fmt: str) -> None:
    rng = np.random.default_rng(0)
    b = GraphBuilder("refuse", (4,), fmt if where == "input" else "fixed<8,3>")
    bias_fmt = fmt if where == "bias" else None
    b.dense(
        rng.uniform(-1, 1, (4, 2)),
        "fixed<6,1>",
        rng.uniform(-1, 1, 2) if bias_fmt else None,
        bias_fmt,
        output_format=fmt if where == "output" else "fixed<8,3>",
    )
    graph = with_folds(b.build(), [Fold(1, 1)])
    with pytest.raises(UnsupportedLayerError, match="weight formats only"):
        write_hls(graph, part=PART, clock_mhz=100, out=tmp_path / "p")
