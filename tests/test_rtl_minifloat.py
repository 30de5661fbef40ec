"""RTL backend beyond fixed point: the minifloat MAC and RNE normaliser against the Python
formats (exhaustive for the small formats), and minifloat / ternary / binary designs
against the golden model under Verilator + cocotb, bit-exact and cycle-exact.

Every Verilator build serves a whole module's worth of checks (one harness per library
module, one build per design with big batches); the tests of one design share an xdist
group, so under ``-n 2`` each design is built by one worker only.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from graphs import random_inputs

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
from fpga_gen.backends.rtl.bench import ConvertUnit, MacUnit, run_convert_bench, run_mac_bench
from fpga_gen.backends.rtl.cosim import read_manifest, simulation_sources
from fpga_gen.backends.rtl.stages import Convert, Operand
from fpga_gen.boards.dsp import FABRIC_PRODUCT_BITS, wrap
from fpga_gen.errors import FpgaGenError, UnsupportedLayerError
from fpga_gen.formats import Binary, FixedPoint, Format, MiniFloat, Ternary, parse_format
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import Dense, Fold, Graph, evaluate_ints, quantize_inputs
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.kinds.matmul import DenseStage

BATCH = 64


def _fmt(name: str) -> Format:
    return parse_format(name)


def _finite_codes(fmt: Format) -> np.ndarray:
    """Every code of ``fmt`` that stands for a finite value (NaN / inf codes left out)."""
    codes = np.arange(1 << fmt.bits)
    return codes[np.isfinite(fmt.from_codes(codes))]


def _ints(fmt: Format, codes: np.ndarray) -> np.ndarray:
    """Codes -> exact integers on the format's grid (the golden model's form)."""
    return exact_fixed(fmt).to_int(fmt.from_codes(codes))


# -- the minifloat MAC: decode, DSP significand product, alignment, Kulisch accumulation -----

# (port, a format on the DSP A port = activations, b format on B = weights, exhaustive?)
MAC_CASES = [
    ("e2m1", "e2m1", "e2m1", True),
    ("e3m2", "e3m2", "e3m2", True),
    ("nosub", "minifloat<3,2,subnormals=false>", "e2m1", True),  # field 0 reads as zero
    ("e2m3_ufx", "e2m3", "ufixed<6,2>", True),  # fixed weights x minifloat inputs
    ("fx_e4m3", "fixed<8,3>", "e4m3", False),  # minifloat weights x fixed inputs
    ("e4m3", "e4m3", "e4m3", False),
    ("e5m2", "e5m2", "e5m2", False),
]
# Operands only the DSP48E2 multiplies: 27-bit A (UG579; a DSP48E1 takes 25) x 18-bit B.
MAC_CASES_DSP48E2 = [("fx27_fx18", "fixed<27,4>", "fixed<18,1>", False)]
MAC_RANDOM_PAIRS = 4096


def _mac_pairs(a: Format, b: Format, exhaustive: bool, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if exhaustive:
        grid_a, grid_b = np.meshgrid(_finite_codes(a), _finite_codes(b), indexing="ij")
        return grid_a.ravel(), grid_b.ravel()
    return _random_codes(a, rng), _random_codes(b, rng)


def _random_codes(fmt: Format, rng: np.random.Generator) -> np.ndarray:
    """MAC_RANDOM_PAIRS finite codes; for fixed point, codes 0 and 100..0 (a signed format's
    most negative value: pair 1 is the largest product) first, the rest sampled without
    listing every code (all are values)."""
    if isinstance(fmt, FixedPoint):
        return np.concatenate([[0, 1 << (fmt.bits - 1)], rng.integers(0, 1 << fmt.bits, MAC_RANDOM_PAIRS - 2)])
    return rng.choice(_finite_codes(fmt), MAC_RANDOM_PAIRS)


@pytest.mark.slow
@pytest.mark.parametrize("dsp_kind", ["DSP48E1", "DSP48E2"])
def test_mac_products_and_kulisch_sums_are_exact(tmp_path: Path, dsp_kind: str) -> None:
    rng = np.random.default_rng(3)
    pairs, units = {}, []
    for port, a_name, b_name, exhaustive in MAC_CASES + (MAC_CASES_DSP48E2 if dsp_kind == "DSP48E2" else []):
        a, b = _fmt(a_name), _fmt(b_name)
        assert isinstance(a, FixedPoint | MiniFloat) and isinstance(b, FixedPoint | MiniFloat)
        pairs[port] = _mac_pairs(a, b, exhaustive, rng)
        units.append(MacUnit(port, Operand(a), Operand(b), len(pairs[port][0])))
    assert len(pairs["e3m2"][0]) == 64 * 64 and len(pairs["e2m1"][0]) == 16 * 16
    got = run_mac_bench(units, {p: (a.tolist(), b.tolist()) for p, (a, b) in pairs.items()}, tmp_path, dsp_kind)

    for u in units:
        a_codes, b_codes = pairs[u.port]
        products = _ints(u.a.fmt, a_codes).astype(object) * _ints(u.b.fmt, b_codes).astype(object)
        hw_products, hw_sum = got[u.port]
        assert hw_products == products.tolist(), u.port
        assert hw_sum == sum(products.tolist()), u.port


# -- the RNE normaliser: exact accumulator -> minifloat code, == MiniFloat.cast_int -------------

ROUND_IN_W = 12  # exhaustive: every 12-bit accumulator value
# (port, format, accumulator width, accumulator frac, relu): grids finer and coarser than the
# format's own (negative frac too), no-subnormal and M = 0 variants, a non-default bias,
# FNUZ, and wide Kulisch accumulators (e4m3 x e4m3 and e5m2 x e5m2 at n = 64).
ROUND_CASES = [
    ("e2m1_f0", "e2m1", ROUND_IN_W, 0, False),
    ("e2m1_f1", "e2m1", ROUND_IN_W, 1, False),
    ("e2m1_f9", "e2m1", ROUND_IN_W, 9, False),
    ("e2m1_fm2", "e2m1", ROUND_IN_W, -2, False),
    ("e2m1_relu", "e2m1", ROUND_IN_W, 2, True),
    ("e3m2_f4", "e3m2", ROUND_IN_W, 4, False),
    ("e3m2_f7", "e3m2", ROUND_IN_W, 7, False),
    ("e2m3_f3", "e2m3", ROUND_IN_W, 3, False),
    ("e2m3_f6", "e2m3", ROUND_IN_W, 6, False),
    ("e2m1_nosub", "minifloat<2,1,subnormals=false>", ROUND_IN_W, 3, False),
    ("e3m2_nosub", "minifloat<3,2,subnormals=false>", ROUND_IN_W, 6, False),
    ("e4m0", "minifloat<4,0>", ROUND_IN_W, 7, False),
    ("e3m0_nosub", "minifloat<3,0,subnormals=false>", ROUND_IN_W, 4, False),
    ("e3m2_bias1", "minifloat<3,2,bias=1>", ROUND_IN_W, 2, False),
    ("e4m3_f9", "e4m3", ROUND_IN_W, 9, False),
    ("e4m3fnuz", "e4m3fnuz", ROUND_IN_W, 10, False),
    ("e5m2_f16", "e5m2", ROUND_IN_W, 16, False),
    ("e4m3_wide", "e4m3", 43, 18, False),
    ("e2m1_wide", "e2m1", 43, 18, False),
    ("e5m2_wide", "e5m2", 71, 32, False),
    ("e5m2_wide_relu", "e5m2", 71, 32, True),
]
ROUND_RANDOM = 1500


def _log_uniform(rng: random.Random, width: int, count: int) -> Iterator[int]:
    """Signed ``width``-bit values whose magnitudes spread evenly over the binades."""
    for _ in range(count):
        top = rng.randrange(width - 1)
        magnitude = (1 << top) | rng.getrandbits(top) if top else rng.getrandbits(1)
        yield -magnitude if rng.random() < 0.5 else magnitude


def _ties(rng: random.Random, fmt: MiniFloat, frac: int, count: int) -> Iterator[int]:
    """Accumulator values at and next to the midpoints between neighbouring values of ``fmt``."""
    codes = _finite_codes(fmt)
    positive = codes[(codes >> (fmt.bits - 1)) == 0][:-1]  # all but the largest
    grid = exact_fixed(fmt)
    for _ in range(count):
        c = int(rng.choice(positive.tolist()))
        lo, hi = (int(v) << (frac - grid.frac) for v in grid.to_int(fmt.from_codes(np.array([c, c + 1]))))
        mid = (lo + hi) // 2
        sign = rng.choice((-1, 1))
        yield from (sign * mid, sign * (mid - 1), sign * (mid + 1), sign * lo)


@pytest.mark.slow
def test_rne_normaliser_equals_cast_int(tmp_path: Path) -> None:
    units = []
    for port, name, in_w, frac, relu in ROUND_CASES:
        fmt = _fmt(name)
        assert isinstance(fmt, MiniFloat)
        units.append(ConvertUnit(port, in_w, Convert(frac, fmt, relu)))
    rng = random.Random(8)
    inputs = list(range(-(1 << (ROUND_IN_W - 1)), 1 << (ROUND_IN_W - 1)))  # every 12-bit value
    for width in sorted({u.in_w for u in units if u.in_w > ROUND_IN_W}):
        inputs += _log_uniform(rng, width, ROUND_RANDOM)
        for u in units:
            if u.in_w == width:
                assert isinstance(u.convert.out, MiniFloat)
                inputs += _ties(rng, u.convert.out, u.convert.in_frac, ROUND_RANDOM // 8)
    codes = run_convert_bench(units, inputs, tmp_path)

    patterns = [v & ((1 << 71) - 1) for v in inputs]
    for u in units:
        fmt = u.convert.out
        assert isinstance(fmt, MiniFloat)
        # the unit's view: the low in_w bits of the shared input, two's complement
        acc = np.array([wrap(p, u.in_w) for p in patterns], dtype=object)
        if u.convert.relu:
            acc = np.array([max(v, 0) for v in acc], dtype=object)
        expected = fmt.cast_int(acc, u.convert.in_frac)
        expected_codes = fmt.to_codes(exact_fixed(fmt).from_int(expected))  # zero is +0
        assert np.array_equal(codes[u.port], expected_codes), u.port


# -- whole designs ---------------------------------------------------------------------------------


def _values(rng: np.random.Generator, fmt: Format, shape: tuple[int, ...]) -> np.ndarray:
    """Random values over the whole of ``fmt``: mantissas, finite codes, or levels times the
    scale of each output channel (the last axis)."""
    if isinstance(fmt, Ternary | Binary):
        levels = rng.choice([-1, 0, 1] if isinstance(fmt, Ternary) else [-1, 1], size=shape)
        return fmt.from_levels(levels)
    return fmt.from_codes(rng.choice(_finite_codes(fmt), size=shape))


@dataclass(frozen=True)
class Layer:
    n_out: int
    weight: str
    bias: str | None
    activation: str
    output: str | None  # None: the exact accumulator
    fold: Fold


def _mlp(name: str, n_in: int, input_format: str, layers: list[Layer | tuple[str, str]], seed: int) -> Graph:
    """Dense layers (Layer) and standalone activations ((function, format)) in a chain."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder(name, (n_in,), input_format)
    n, folds = n_in, []
    for item in layers:
        if isinstance(item, tuple):
            b.activation(*item)
            continue
        w_fmt = _fmt(item.weight)
        bias = None if item.bias is None else _values(rng, _fmt(item.bias), (item.n_out,))
        b.dense(
            _values(rng, w_fmt, (n, item.n_out)),
            w_fmt,
            bias,
            item.bias,
            activation=item.activation,
            output_format=item.output,
        )
        n = item.n_out
        folds.append(item.fold)
    graph = b.build()
    fold = iter(folds)
    return graph.with_layers(tuple(replace(l, fold=next(fold)) if isinstance(l, Dense) else l for l in graph.layers))


def _design_e4m3() -> Graph:
    """e4m3 weights x fixed<8,3> inputs (relu into ufixed), e4m3 x ufixed into e4m3 codes
    (the normaliser inside the engine), then fixed weights x e4m3 inputs."""
    return _mlp(
        "mf_e4m3",
        12,
        "fixed<8,3>",
        [
            Layer(8, "e4m3", "fixed<8,2>", "relu", "ufixed<8,3,RND_CONV,SAT>", Fold(2, 4)),
            Layer(6, "e4m3", "e4m3", "linear", "e4m3", Fold(3, 8)),
            Layer(4, "fixed<6,1>", None, "linear", None, Fold(1, 2)),
        ],
        seed=21,
    )


def _design_e2m1() -> Graph:
    """FP4 everywhere: standalone activations minifloat -> minifloat, fixed accumulator ->
    minifloat and minifloat -> fixed around e2m1 x e2m1 layers."""
    return _mlp(
        "mf_e2m1",
        8,
        "e2m1",
        [
            ("linear", "e2m1"),
            Layer(6, "e2m1", "e2m1", "relu", "e2m1", Fold(3, 4)),
            Layer(4, "e2m1", None, "linear", None, Fold(2, 6)),
            ("linear", "e2m1"),
            ("relu", "ufixed<4,2,RND_CONV,SAT>"),
        ],
        seed=22,
    )


def _design_ternary() -> Graph:
    """No multiplier: ternary with a power-of-two scale (a shift), binary with 0.375 (a
    constant shift-and-add), ternary with one scale per output channel (a ROM), on signed
    and unsigned fixed-point inputs."""
    return _mlp(
        "tern",
        12,
        "fixed<8,3>",
        [
            Layer(8, "ternary<0.5>", "fixed<8,2>", "relu", "ufixed<8,3,RND_CONV,SAT>", Fold(4, 6)),
            Layer(6, "binary<0.375>", "fixed<10,4>", "relu", "fixed<8,3,RND_CONV,SAT>", Fold(2, 4)),
            Layer(4, "ternary<0.375, 1.0, 0.125, 3.0>", "fixed<8,2>", "linear", None, Fold(2, 3)),
        ],
        seed=23,
    )


def _design_e5m2() -> Graph:
    """FP8 E5M2 everywhere, 68-bit Kulisch accumulators (beyond int64 in the golden model)."""
    return _mlp(
        "mf_e5m2",
        8,
        "e5m2",
        [
            Layer(6, "e5m2", "e5m2", "relu", "e5m2", Fold(2, 4)),
            Layer(4, "e5m2", "e5m2", "linear", "e5m2", Fold(2, 3)),
        ],
        seed=24,
    )


def _design_ternary_minifloat() -> Graph:
    """No multiplier on minifloat inputs (each decoded to its exact fixed-point value):
    ternary<0.25> x e4m3, binary with one scale per output channel x e2m1, an e3m2
    activation, then binary x e3m2 into the exact accumulator."""
    return _mlp(
        "tern_mf",
        8,
        "e4m3",
        [
            Layer(6, "ternary<0.25>", "fixed<8,2>", "linear", "e2m1", Fold(3, 4)),
            Layer(4, "binary<0.375, 1.0, 0.125, 3.0>", "e2m1", "linear", "e3m2", Fold(2, 3)),
            ("relu", "e3m2"),
            Layer(2, "binary<0.5>", None, "linear", None, Fold(1, 2)),
        ],
        seed=25,
    )


DESIGNS = {
    "e4m3": _design_e4m3,
    "e2m1": _design_e2m1,
    "ternary": _design_ternary,
    "e5m2": _design_e5m2,
    "tern_mf": _design_ternary_minifloat,
}


@dataclass
class Built:
    graph: Graph
    rtl: Path
    x: np.ndarray
    result: CosimResult | None = None


class Designs:
    """Each design written once per process, simulated (built) on first use."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.built: dict[str, Built] = {}

    def __call__(self, name: str) -> Built:
        if name not in self.built:
            graph = DESIGNS[name]()
            x, _ = quantize_inputs(graph, random_inputs(5, graph, BATCH))
            self.built[name] = Built(graph, write_rtl(plan(graph), out=self.factory.mktemp(f"rtl_{name}")), x)
        return self.built[name]

    def simulated(self, name: str) -> Built:
        built = self(name)
        if built.result is None:
            built.result = run_cosim(built.rtl, built.x)
        return built


@pytest.fixture(scope="module")
def designs(tmp_path_factory: pytest.TempPathFactory) -> Designs:
    return Designs(tmp_path_factory)


def _per_design(names: list[str]) -> list[Any]:
    return [pytest.param(n, marks=pytest.mark.xdist_group(f"rtl_minifloat_{n}")) for n in names]


def test_designs_use_the_engines_they_are_for(designs: Designs) -> None:
    engines = {
        name: [
            (s.engine, type(s.x.fmt).__name__) for s in plan(designs(name).graph).stages if isinstance(s, DenseStage)
        ]
        for name in DESIGNS
    }
    assert engines["e4m3"] == [("minifloat", "FixedPoint"), ("minifloat", "FixedPoint"), ("minifloat", "MiniFloat")]
    assert engines["e2m1"] == [("minifloat", "MiniFloat")] * 2
    assert engines["ternary"] == [("multiplier_free", "FixedPoint")] * 3
    assert engines["e5m2"] == [("minifloat", "MiniFloat")] * 2
    assert engines["tern_mf"] == [("multiplier_free", "MiniFloat")] * 3
    assert [str(s.x.fmt) for s in plan(designs("tern_mf").graph).stages if isinstance(s, DenseStage)] == [
        "e4m3",
        "e2m1",
        "e3m2",
    ]
    kinds = [l.kind for l in designs("e2m1").graph.layers]
    assert kinds.count("Activation") == 3
    stages = [s for s in plan(designs("ternary").graph).stages if isinstance(s, DenseStage)]
    scalings = [s.scaling for s in stages]
    assert [(sc.factors, sc.per_neuron) for sc in scalings if sc is not None] == [
        ((1,), False),  # 0.5: a shift
        ((3,), False),  # 0.375 = 3/8: one constant factor
        ((3, 8, 1, 24), True),  # 3/8, 1, 1/8, 3 on the grid 1/8
    ]
    e5m2 = plan(designs("e5m2").graph).stages[0]
    assert isinstance(e5m2, DenseStage) and e5m2.acc_bits > 64


def test_timing_formulas() -> None:
    """Hand-derived numbers (see fpga_gen/backends/rtl/timing.py)."""
    # input 3 beats (simd 4); dense0 2x4: 4*3 steps + 8; dense1 3x8: 2*1 + 8; dense2 1x2: 4*3 + 8
    assert latency_cycles(plan(_design_e4m3())) == (3 - 1) + (12 + 8) + (2 + 8) + (12 + 8)
    assert interval_cycles(plan(_design_e4m3())) == 12
    # input 2 beats (simd 6); dense0 4x6: 2*2 steps + 4; dense1 2x4: 3*2 + 4; dense2 2x3: 2*2 + 4
    assert latency_cycles(plan(_design_ternary())) == (2 - 1) + (4 + 4) + (6 + 4) + (4 + 4)
    assert interval_cycles(plan(_design_ternary())) == 6
    # input 2 beats (simd 4), then the activation: 1; dense0 3x4: 2*2 + 8; dense1 2x6: 2*1 + 8; two activations
    assert latency_cycles(plan(_design_e2m1())) == (2 - 1) + 1 + (4 + 8) + (2 + 8) + 1 + 1
    assert interval_cycles(plan(_design_e2m1())) == 4
    # minifloat inputs decode in the operand cycle: the multiplier-free DOT stays 2
    # input 2 beats (simd 4); dense0 3x4: 2*2 steps + 4; dense1 2x3: 2*2 + 4; activation 1; dense2 1x2: 2*2 + 4
    assert latency_cycles(plan(_design_ternary_minifloat())) == (2 - 1) + (4 + 4) + (4 + 4) + 1 + (4 + 4)
    assert interval_cycles(plan(_design_ternary_minifloat())) == 4


@pytest.mark.slow
@pytest.mark.parametrize("name", _per_design(sorted(DESIGNS)))
def test_cosim_is_bit_and_cycle_exact(name: str, designs: Designs) -> None:
    built = designs.simulated(name)
    r, graph = built.result, built.graph
    assert r is not None
    assert np.array_equal(r.outputs, evaluate_ints(graph, built.x))
    assert r.latency_cycles == latency_cycles(plan(graph))
    assert r.interval_cycles == interval_cycles(plan(graph))
    assert np.all(np.diff(r.output_cycles) == interval_cycles(plan(graph)))
    assert r.total_cycles == latency_cycles(plan(graph)) + (BATCH - 1) * interval_cycles(plan(graph))


@pytest.mark.slow
@pytest.mark.parametrize("name", _per_design(["e5m2"]))
def test_backpressure_and_idle_inputs_stay_exact(name: str, designs: Designs) -> None:
    built = designs(name)
    r = run_cosim(built.rtl, built.x, backpressure=0.6, idle=0.3, seed=9)
    assert np.array_equal(r.outputs, evaluate_ints(built.graph, built.x))
    assert r.total_cycles > latency_cycles(plan(built.graph)) + (BATCH - 1) * interval_cycles(plan(built.graph))


def _sources(rtl: Path) -> tuple[dict[str, Any], list[Path]]:
    manifest = read_manifest(rtl)
    return manifest, simulation_sources(rtl, manifest)


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_generated_rtl_is_lint_clean(name: str, designs: Designs) -> None:
    """Verilator -Wall as Verilog-2001; the library's lint_off pragmas each say why."""
    manifest, files = _sources(designs(name).rtl)
    assert verilator.lint(files, manifest["top"]) == ""


def _dsp48e1_per_stage(rtl: Path, workdir: Path) -> dict[str, int]:
    """DSP48E1 instances under each stage instance of the elaborated design."""
    manifest, files = _sources(rtl)
    workdir.mkdir()
    modules = {m["addr"]: m for m in verilator.netlist(files, manifest["top"], workdir)["modulesp"]}
    cells: dict[str, list[tuple[str, str]]] = {}  # module addr -> (cell name, its module's addr)

    def collect(node: Any, owner: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "CELL":
                cells[owner].append((node["name"], node["modp"]))
            for value in node.values():
                collect(value, owner)
        elif isinstance(node, list):
            for item in node:
                collect(item, owner)

    for addr, module in modules.items():
        cells[addr] = []
        collect(module.get("stmtsp", []), addr)

    def count(addr: str) -> int:
        if modules[addr]["origName"] == "DSP48E1":
            return 1
        return sum(count(sub) for _, sub in cells[addr])

    top = next(a for a, m in modules.items() if m["origName"] == manifest["top"])
    return {name.removeprefix("u_"): count(sub) for name, sub in cells[top]}


def test_dsp48e1_instances_match_the_manifest(designs: Designs, tmp_path: Path) -> None:
    """Ternary / binary layers instantiate no DSP48E1 (a design of them has no DSP model at
    all); the minifloat engine one per lane, none where the significands are multiplied in
    fabric (every minifloat x minifloat product: e2m1 x e2m1 takes no slice at all)."""
    for name in ("ternary", "e4m3", "tern_mf", "e2m1"):
        rtl = designs(name).rtl
        manifest = read_manifest(rtl)
        found = _dsp48e1_per_stage(rtl, tmp_path / name)
        expected = {s["name"]: s["dsp"] for s in manifest["stages"]}
        assert found == expected, name
        for stage in manifest["stages"]:
            if stage["kind"] != "Dense":
                assert stage["dsp"] == 0
                continue
            significands = (stage["params"].get("IN_V_W", 99), stage["params"].get("W_V_W", 99))
            no_slice = stage["engine"] == "multiplier_free" or max(significands) <= FABRIC_PRODUCT_BITS
            assert stage["dsp"] == (0 if no_slice else stage["pe"] * stage["simd"])
    assert all(s["dsp"] == 0 for s in read_manifest(designs("e2m1").rtl)["stages"])
    for name in ("ternary", "tern_mf"):
        tern = read_manifest(designs(name).rtl)
        assert all(s["dsp"] == 0 for s in tern["stages"]), name
        assert not any("dsp" in f for f in tern["sources"] + tern["sim_sources"]), name
    tern_mf = read_manifest(designs("tern_mf").rtl)
    assert "fg_mf_decode.v" in tern_mf["sources"]
    assert [s["params"].get("IN_MF") for s in tern_mf["stages"]] == [1, 1, 1, 1]


def test_streams_carry_minifloat_codes(designs: Designs) -> None:
    built = designs("e5m2")
    manifest = read_manifest(built.rtl)
    assert manifest["input"] | {"format": "e5m2", "width": 8, "signed": False, "codes": True} == manifest["input"]
    # Lane ROM 0's first word packs the codes of input 0's weights for the first PE neurons, PE 0 low.
    dense0 = built.graph["dense0"]
    assert isinstance(dense0, Dense) and dense0.fold is not None
    pe = dense0.fold.pe
    word = int((built.rtl / "dense0_w0000.mem").read_text().split()[0], 16)
    assert [(word >> (8 * p)) & 0xFF for p in range(pe)] == dense0.weight.codes[0, 0:pe].tolist()


# -- what the RTL backend refuses, before anything is built ----------------------------------------


def _one_layer(input_format: str, weight: str, output: str | None = None) -> Graph:
    return _mlp("one", 4, input_format, [Layer(2, weight, None, "linear", output, Fold(1, 2))], seed=1)


@pytest.mark.parametrize(
    ("graph", "error", "match"),
    [
        (lambda: _one_layer("fixed<8,3>", "e4m3", "ternary<1.0>"), UnsupportedLayerError, r"cannot travel on an RTL"),
        (
            lambda: _one_layer("fixed<8,3>", "minifloat<4,17>"),
            DspOperandError,
            r"dense0: weight format minifloat<4, ?17> needs 19 bits as a signed multiplier significand.*at most 18",
        ),
    ],
)
def test_unsupported_formats_are_refused(tmp_path: Path, graph: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        write_rtl(plan(graph()), out=tmp_path / "rtl")
    assert not (tmp_path / "rtl").exists()


def test_cosim_rejects_values_that_are_not_minifloats(designs: Designs) -> None:
    built = designs("e2m1")  # e2m1 inputs: integers on the grid 1/2, values 0..6 -> 0..12
    bad = built.x.copy()
    bad[0, 0] = 5  # 2.5 is no e2m1 value
    with pytest.raises(FpgaGenError, match=r"not all values of e2m1"):
        run_cosim(built.rtl, bad)
    with pytest.raises(FpgaGenError, match=r"mantissa 13 .* outside \[-12, 12\]"):
        run_cosim(built.rtl, np.where(built.x == built.x[0, 0], 13, built.x))
