"""RTL backend: fg_cast against FixedPoint.cast_int, the DSP-chain engine against the golden
model under Verilator + cocotb (bit-exact, cycle-exact), backpressure, lint, DSP limits.

Verilator builds are cached (see fpga_gen.backends.rtl.verilator), and each design is built
once for the whole module, with many samples per simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from graphs import random_inputs, random_mlp

from fpga_gen.backends.rtl import (
    CosimResult,
    DspOperandError,
    interval_cycles,
    latency_cycles,
    plan,
    run_cosim,
    verilator,
    write_rtl,
)
from fpga_gen.backends.rtl.bench import ConvertUnit, run_convert_bench
from fpga_gen.backends.rtl.cosim import parse_modules, read_manifest, read_ports, simulation_sources
from fpga_gen.backends.rtl.stages import OVF_CODES, RND_CODES, Convert
from fpga_gen.errors import FpgaGenError, ToolError
from fpga_gen.formats import OVERFLOW_MODES, ROUNDING_MODES, FixedPoint, parse_format
from fpga_gen.formats.sizing import accumulator_format
from fpga_gen.ir import Dense, Fold, Graph, evaluate_ints, quantize_inputs
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.toolpaths import package_dir

# -- fg_cast: every rounding x overflow mode, every input code ------------------------------

CAST_IN_W = 7  # signed input codes -64..63
# (in_frac, out width, out frac, out signed, relu): rounding away 3 / 2 / 5 / 9 bits (more than
# the input has), no shift, shifting left, 1-bit outputs, unsigned outputs, relu.
CAST_SHAPES = [
    (4, 4, 1, True, False),
    (4, 3, 2, False, False),
    (5, 1, 0, True, False),
    (9, 3, 1, True, False),
    (3, 7, 3, True, False),
    (2, 5, 3, True, False),
    (1, 1, 2, False, False),
    (3, 4, 1, False, True),
    (6, 6, 4, True, True),
]


def _rng_ints(rng: np.random.Generator, fmt: FixedPoint, shape: tuple[int, ...]) -> np.ndarray:
    return fmt.from_int(rng.integers(fmt.min_int, fmt.max_int, size=shape, endpoint=True))


def test_cast_codes_cover_every_mode() -> None:
    assert set(RND_CODES) == set(ROUNDING_MODES) and set(OVF_CODES) == set(OVERFLOW_MODES)
    assert sorted(RND_CODES.values()) == list(range(7)) and sorted(OVF_CODES.values()) == list(range(4))


@pytest.mark.slow
def test_cast_all_modes_exhaustive(tmp_path: Path) -> None:
    units = []
    for s, (in_frac, width, frac, signed, relu) in enumerate(CAST_SHAPES):
        for rounding in ROUNDING_MODES:
            for overflow in OVERFLOW_MODES:
                fmt = FixedPoint(width, width - frac, signed, rounding, overflow)
                port = f"y_{s}_{rounding}_{overflow}".lower()
                units.append(ConvertUnit(port, CAST_IN_W, Convert(in_frac, fmt, relu)))
    x = np.arange(-(1 << (CAST_IN_W - 1)), 1 << (CAST_IN_W - 1))  # every input code, signed
    codes = run_convert_bench(units, x.tolist(), tmp_path)

    assert len(units) == len(CAST_SHAPES) * 28
    for u in units:
        fmt = u.convert.out
        assert isinstance(fmt, FixedPoint)
        expected = fmt.cast_int(np.maximum(x, 0) if u.convert.relu else x, u.convert.in_frac)
        got = codes[u.port]
        if fmt.signed:
            got = np.where(got > fmt.max_int, got - (1 << fmt.width), got)
        assert np.array_equal(got, expected), f"{u.port} ({fmt}, relu={u.convert.relu}, in_frac={u.convert.in_frac})"


# -- engine designs ------------------------------------------------------------------------------


def _fold(graph: Graph, folds: list[Fold]) -> Graph:
    it = iter(folds)
    return graph.with_layers(tuple(replace(l, fold=next(it)) if isinstance(l, Dense) else l for l in graph.layers))


def _design_a() -> Graph:
    """Signed inputs, relu hidden layers, bias on (coarser than the products): three folds
    in one design -- pe=simd=1, fully parallel, and mixed; the last layer keeps its exact
    accumulator (17+ bits on the output stream)."""
    return random_mlp(7, (12, 8, 6, 4), folds=[Fold(1, 1), Fold(6, 8), Fold(2, 3)])


def _design_b() -> Graph:
    """Unsigned inputs, standalone Activation stages (first stage, and between layers),
    a bias on a finer grid than the products (accumulator shift), no bias, unsigned
    weights, linear and relu, and different rounding/overflow modes on every cast."""
    rng = np.random.default_rng(11)
    w1_fmt, b1_fmt = parse_format("fixed<4,0>"), parse_format("fixed<12,1>")
    w2_fmt = parse_format("ufixed<4,1>")
    assert isinstance(w1_fmt, FixedPoint) and isinstance(b1_fmt, FixedPoint) and isinstance(w2_fmt, FixedPoint)
    b = GraphBuilder("design_b", (12,), "ufixed<6,2>")
    b.activation("linear", "fixed<5,1,RND_INF,SAT>")
    b.dense(
        _rng_ints(rng, w1_fmt, (12, 6)),
        w1_fmt,
        _rng_ints(rng, b1_fmt, (6,)),
        b1_fmt,
        output_format="fixed<9,3,RND_ZERO,SAT_SYM>",
    )
    b.activation("relu", "ufixed<4,2,RND_MIN_INF,SAT_SYM>")
    b.dense(_rng_ints(rng, w2_fmt, (6, 3)), w2_fmt, activation="relu", output_format="fixed<6,3,RND_CONV,SAT_ZERO>")
    return _fold(b.build(), [Fold(3, 4), Fold(1, 6)])


DESIGNS = {"a": _design_a, "b": _design_b}
BATCH = 48


@pytest.fixture(scope="module")
def designs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Graph, Path, np.ndarray]]:
    out = {}
    for name, make in DESIGNS.items():
        graph = make()
        x, _ = quantize_inputs(graph, random_inputs(5, graph, BATCH))
        out[name] = (graph, write_rtl(plan(graph), out=tmp_path_factory.mktemp(f"rtl_{name}")), x)
    return out


@pytest.fixture(scope="module")
def results(designs: dict[str, tuple[Graph, Path, np.ndarray]]) -> dict[str, CosimResult]:
    return {name: run_cosim(rtl, x) for name, (_, rtl, x) in designs.items()}


def test_designs_cover_the_cases(designs: dict[str, Any]) -> None:
    graph_a, graph_b = designs["a"][0], designs["b"][0]
    folds = [(l.fold, l.n_in, l.n_out) for l in graph_a.layers if isinstance(l, Dense)]
    assert any(f.pe == f.simd == 1 for f, _, _ in folds)
    assert any((f.pe, f.simd) == (n_out, n_in) for f, n_in, n_out in folds)
    assert any(1 < f.pe < n_out or 1 < f.simd < n_in for f, n_in, n_out in folds)
    kinds = [l.kind for l in graph_b.layers]
    assert kinds[1] == "Activation" and "Activation" in kinds[3:]
    assert not graph_b.input.output.format.signed and graph_a.input.output.format.signed


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_cosim_matches_golden(name: str, designs: dict[str, Any], results: dict[str, CosimResult]) -> None:
    graph, _, x = designs[name]
    assert np.array_equal(results[name].outputs, evaluate_ints(graph, x))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_cycles_match_timing_model(name: str, designs: dict[str, Any], results: dict[str, CosimResult]) -> None:
    graph = designs[name][0]
    r = results[name]
    assert r.latency_cycles == latency_cycles(plan(graph))
    assert r.interval_cycles == interval_cycles(plan(graph))
    # Back to back, every vector after the first leaves exactly one interval after the previous.
    assert np.all(np.diff(r.output_cycles) == interval_cycles(plan(graph)))
    assert r.total_cycles == latency_cycles(plan(graph)) + (BATCH - 1) * interval_cycles(plan(graph))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_backpressure_and_idle_inputs_stay_exact(name: str, designs: dict[str, Any]) -> None:
    graph, rtl, x = designs[name]
    r = run_cosim(rtl, x, backpressure=0.6, idle=0.3, seed=4)
    assert np.array_equal(r.outputs, evaluate_ints(graph, x))
    assert r.total_cycles > latency_cycles(plan(graph)) + (BATCH - 1) * interval_cycles(plan(graph))


def test_timing_formula() -> None:
    """Hand-derived numbers for design A (see fpga_gen/backends/rtl/timing.py)."""
    graph = _design_a()
    # input: 12 beats (simd 1); dense0 1x1: 96 steps; dense1 6x8: 1 step; dense2 2x3: 4 steps
    assert latency_cycles(plan(graph)) == (12 - 1) + (96 + 1 + 5) + (1 + 8 + 5) + (4 + 3 + 5)
    assert interval_cycles(plan(graph)) == 96


def test_library_parses_with_pyverilog_after_verilators_preprocessor() -> None:
    """Every rtl/ module, its fg_params.vh macros expanded by ``verilator -E``, parses with pyverilog
    (an independent Verilog-2001 parser), with the parameter lists the header declares."""
    shared = {"IN_W", "X_W", "OUT_MF", "OUT_MAX"}  # from FG_EXACT_PARAMS and FG_CONVERT_PARAMS
    for path in sorted(package_dir("rtl").glob("fg_*.v")):
        (module,) = parse_modules(path)
        params = {param.name for decl in module.paramlist.params for param in decl.list}
        expected = path.stem.removeprefix("fg_").upper() if path.stem.startswith("fg_dsp48e") else path.stem
        assert module.name == expected, path.name
        if path.stem in ("fg_act", "fg_chan", "fg_pool"):  # every shared list
            assert shared <= params, path.name


def test_generated_rtl_is_lint_clean(designs: dict[str, Any], rtl_lint: Callable[[Path], str]) -> None:
    """Verilator -Wall as Verilog-2001; the library's lint_off pragmas each say why."""
    for _, rtl, _ in designs.values():
        assert rtl_lint(rtl) == ""


def test_manifest_and_rom_files(designs: dict[str, Any]) -> None:
    graph, rtl, _ = designs["a"]
    manifest = read_manifest(rtl)
    assert manifest["top"] == f"{graph.name}_top"
    assert manifest["input"] | {"elems": 1, "beats": 12, "bus_bits": 8} == manifest["input"]
    assert manifest["latency_cycles"] == latency_cycles(plan(graph))
    ports = read_ports(rtl / f"{manifest['top']}.v", manifest["top"])  # pyverilog's view of the top
    assert {name: {"direction": p.direction, "width": p.width} for name, p in ports.items()} == manifest["ports"]
    for name in manifest["sources"] + manifest["sim_sources"] + manifest["mem_files"]:
        assert (rtl / name).is_file()
    # dense2 (6 -> 4, pe=2, simd=3, 6-bit weights): word nf*2 + sf of lane ROM j packs input
    # sf*3 + j's weights of neurons nf*2 and nf*2 + 1, PE 0 low.
    dense2 = graph["dense2"]
    assert isinstance(dense2, Dense)
    for j in range(3):
        words = [int(w, 16) for w in (rtl / f"dense2_w{j:04d}.mem").read_text().split()]
        for nf, sf in [(0, 0), (0, 1), (1, 1)]:
            pes = [(words[nf * 2 + sf] >> (6 * p)) & 63 for p in range(2)]
            assert pes == [int(v) & 63 for v in dense2.weight.ints[sf * 3 + j, nf * 2 : nf * 2 + 2]]


# -- operands beyond the DSP48E1 -------------------------------------------------------------


def _one_layer(input_format: str, weight_format: str, n_in: int, simd: int) -> Graph:
    w_fmt = parse_format(weight_format)
    assert isinstance(w_fmt, FixedPoint)
    w = _rng_ints(np.random.default_rng(0), w_fmt, (n_in, 2))
    graph = GraphBuilder("wide", (n_in,), input_format).dense(w, w_fmt, name="fc").build()
    return _fold(graph, [Fold(1, simd)])


@pytest.mark.parametrize(
    ("input_format", "weight_format", "n_in", "simd", "match"),
    [
        ("fixed<26,4>", "fixed<8,1>", 4, 1, r"layer fc: input format fixed<26,4> needs 26 bits.*at most 25"),
        ("ufixed<25,4>", "fixed<8,1>", 4, 1, r"layer fc: input format ufixed<25,4> needs 26 bits"),
        ("fixed<8,3>", "fixed<19,2>", 4, 1, r"layer fc: weight format fixed<19,2> needs 19 bits.*at most 18"),
        ("fixed<8,3>", "ufixed<18,2>", 4, 1, r"layer fc: weight format ufixed<18,2> needs 19 bits"),
        ("fixed<25,4>", "fixed<18,2>", 128, 128, r"layer fc: a partial sum of simd=128 .* needs 50 bits.*smaller simd"),
    ],
)
def test_operands_too_wide_for_the_dsp(
    tmp_path: Path, input_format: str, weight_format: str, n_in: int, simd: int, match: str
) -> None:
    graph = _one_layer(input_format, weight_format, n_in, simd)
    with pytest.raises(DspOperandError, match=match):
        write_rtl(plan(graph), out=tmp_path / "rtl")
    assert not (tmp_path / "rtl").exists()


def test_widest_operands_that_fit(tmp_path: Path) -> None:
    write_rtl(plan(_one_layer("ufixed<24,4>", "ufixed<17,2>", 4, 2)), out=tmp_path / "unsigned")
    # The longest chain of 25 x 18-bit products whose exact partial sum fits the 48-bit cascade.
    a, w = parse_format("fixed<25,4>"), parse_format("fixed<18,2>")
    assert isinstance(a, FixedPoint) and isinstance(w, FixedPoint)
    simd = max(k for k in range(1, 129) if accumulator_format(a, w, k).width <= 48)
    write_rtl(plan(_one_layer(str(a), str(w), simd, simd)), out=tmp_path / "widest")
    with pytest.raises(DspOperandError, match=f"simd={simd + 1} .* needs 49 bits"):
        write_rtl(plan(_one_layer(str(a), str(w), simd + 1, simd + 1)), out=tmp_path / "too_wide")


# -- failures ------------------------------------------------------------------------------------


def test_tool_failure_is_a_tool_error_with_the_log(tmp_path: Path) -> None:
    bad = tmp_path / "bad.v"
    bad.write_text("module bad(input wire a, output wire b);\n    assign b = a +;\nendmodule\n")
    with pytest.raises(ToolError, match=r"(?s)Verilator build of bad failed.*bad\.v:2.*syntax error"):
        verilator.build([bad], "bad")


def test_cosim_rejects_inputs_that_do_not_fit(designs: dict[str, Any]) -> None:
    _, rtl, x = designs["a"]  # fixed<8,3> inputs: mantissas in [-128, 127]
    with pytest.raises(FpgaGenError, match=r"shape \(2, 3\) .* \(n, 12\)"):
        run_cosim(rtl, np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(FpgaGenError, match=r"mantissa 128 .* outside \[-128, 127\]"):
        run_cosim(rtl, np.where(x == x[0, 0], 128, x))
    with pytest.raises(FpgaGenError, match=r"backpressure=1\.0"):
        run_cosim(rtl, x, backpressure=1.0)


def test_cached_builds_belong_to_the_environment_that_made_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Verilator binary links cocotb's VPI library from its venv by absolute path: a build
    # made by another (since deleted) environment must not be reused.
    source = tmp_path / "m.v"
    source.write_text("module m; endmodule\n")
    here = verilator.design_hash([source], "m")
    assert verilator.design_hash([source], "m") == here
    monkeypatch.setattr(verilator, "_package_dir", lambda name: tmp_path / "other-venv" / name)
    assert verilator.design_hash([source], "m") != here


def test_cached_build_keeps_only_the_simulator(designs: dict[str, Any], results: dict[str, CosimResult]) -> None:
    # Verilator's objects and precompiled headers are ~150 MB a design; a test suite's worth
    # of them filled CI's disk. The simulator alone (~1 MB) is what cocotb runs.
    _, rtl, _ = designs["a"]
    manifest = read_manifest(rtl)
    top = manifest["top"]
    entry = verilator.cache_dir() / verilator.design_hash(simulation_sources(rtl, manifest), top)
    assert sorted(p.name for p in entry.iterdir()) == sorted([top, "build.log", "src"])
    assert sum(p.stat().st_size for p in entry.rglob("*")) < 20 * 2**20
