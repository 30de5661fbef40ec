"""Two MACs per DSP slice (AMD WP486 operand packing): two PE rows share one cascade through the
pre-adder (27 bits on DSP48E2, 25 on DSP48E1) when the formats allow it exactly
(``DspPrimitive.pack_shift``).

The packing conditions are checked against a model of the slice arithmetic at the extremes of
the formats (pre-adder wrapping to its width, P to 48); packed designs are bit-exact and
cycle-exact against the golden model under Verilator + cocotb with the DSP48E2 and DSP48E1
models, including the most negative weights and inputs and an odd pe; Yosys (synth_xilinx
-family xcup / xc7) maps one slice per pair of packed lanes, as the plan, the estimate and the
fold budget say; wide formats and pe=1 fall back to one MAC per slice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from graphs import random_mlp, with_folds
from hypothesis import given, settings
from hypothesis import strategies as st

from fpga_gen.backends.rtl import interval_cycles, latency_cycles, plan, run_cosim, write_rtl
from fpga_gen.backends.rtl.cosim import read_manifest
from fpga_gen.backends.rtl.yosys import synth_counts
from fpga_gen.boards.dsp import primitive, wrap
from fpga_gen.formats import FixedPoint, parse_format
from fpga_gen.formats.sizing import accumulator_format
from fpga_gen.ir import Fold, Graph, MatMul, evaluate_ints
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.kinds.matmul import DenseStage
from fpga_gen.passes import FoldConfig, dsp_count, engine_cycles, fold, fuse_activations
from fpga_gen.resources import estimate

KIND = "DSP48E2"
INT8 = "fixed<8,0>"


def _fixed(name: str) -> FixedPoint:
    fmt = parse_format(name)
    assert isinstance(fmt, FixedPoint)
    return fmt


def _slice_fields(w_hi: list[int], w_lo: list[int], x: list[int], s: int, preadd: int) -> tuple[int, int]:
    """What fg_dsp_pair computes: each slice (D + A) * B with AD wrapped to ``preadd`` bits, the
    cascade sum wrapped to 48, then the low field P[s-1:0] sign-extended and (P - low) >> s."""
    p = wrap(sum(wrap((h << s) + l, preadd) * xi for h, l, xi in zip(w_hi, w_lo, x, strict=True)), 48)
    lo = wrap(p, s)
    return wrap((p - lo) >> s, 48 - s), lo


# -- the conditions -----------------------------------------------------------------------------


def test_int8_packs_at_wp486_shift() -> None:
    """INT8 x INT8: a four-lane partial sum needs 18 bits, WP486's field; eight lanes need 19 and
    the pre-adder (-128 * 2**19 - 128) would wrap, so the layer is not packed."""
    x, w = _fixed(INT8), _fixed(INT8)
    assert primitive(KIND).pack_shift(x, w, 2, 4) == 18
    assert primitive(KIND).pack_shift(x, w, 2, 8) is None
    assert primitive(KIND).pack_shift(x, w, 3, 4) == 18  # odd pe: the last row runs alone
    assert primitive(KIND).pack_shift(x, w, 1, 4) is None  # one row: nothing to pair
    assert primitive("DSP48E1").pack_shift(x, w, 2, 4) is None  # its 25-bit pre-adder cannot hold 8 + 18 bits
    assert primitive("DSP48E1").pack_shift(x, w, 2, 1) == 16  # ... but 8 + 16
    assert primitive("DSP48E1").pack_shift(_fixed("fixed<4,0>"), _fixed("fixed<4,0>"), 2, 64) == 14  # 64 * 64 = 2**12
    assert primitive(KIND).pack_shift(parse_format("e4m3"), w, 2, 1) is None
    assert primitive(KIND).pack_shift(_fixed("fixed<19,3>"), _fixed("fixed<2,1>"), 2, 1) is None  # x beyond the B port
    assert primitive(KIND).pack_shift(_fixed("ufixed<17,3>"), _fixed("fixed<2,1>"), 2, 1) is not None  # 18 bits signed


@settings(max_examples=60, deadline=None)
@given(
    x_bits=st.integers(2, 19),
    x_signed=st.booleans(),
    w_bits=st.integers(2, 16),
    simd=st.integers(1, 8),
    kind=st.sampled_from(["DSP48E1", KIND]),
)
def test_packed_fields_are_exact_at_the_extremes(
    x_bits: int, x_signed: bool, w_bits: int, simd: int, kind: str
) -> None:
    """Whenever pack_shift packs, both fields come back exactly for every extreme of the formats;
    whenever the partial sums fit a field but it refuses, the pre-adder would wrap."""
    x_fmt = FixedPoint(x_bits, 1, signed=x_signed)
    w_fmt = FixedPoint(w_bits, 1)
    s = primitive(kind).pack_shift(x_fmt, w_fmt, 2, simd)
    preadd = {"DSP48E1": 25, KIND: 27}[kind]  # UG479, UG579
    w_ext, x_ext = (w_fmt.min_int, w_fmt.max_int), (x_fmt.min_int, x_fmt.max_int)
    if s is None:
        psum = accumulator_format(x_fmt, w_fmt, simd)
        field = psum.width + (0 if psum.signed else 1)
        x_fits = x_fmt.width + (0 if x_signed else 1) <= 18
        if x_fits and 2 * field <= 48:
            assert any(wrap((h << field) + l, preadd) != (h << field) + l for h, l in product(w_ext, w_ext))
        return
    for x0, h, l in product(x_ext, w_ext, w_ext):
        # every lane at the same extremes; then lane 0 at the opposite ones (mixed signs)
        xs, his, los = [x0] * simd, [h] * simd, [l] * simd
        for _ in range(2):
            want = (sum(a * b for a, b in zip(his, xs, strict=True)), sum(a * b for a, b in zip(los, xs, strict=True)))
            assert _slice_fields(his, los, xs, s, preadd) == want
            xs[0], his[0], los[0] = sum(x_ext) - x0, sum(w_ext) - h, sum(w_ext) - l


# -- designs ------------------------------------------------------------------------------------

BATCH = 16


def _int8() -> Graph:
    """INT8 x INT8 (pe=4, simd=4: two pairs of rows, s = 18: 4 * 128 * 128 = 2**16 needs 18 bits)
    into relu, then unsigned 8-bit inputs x INT8 (pe=3, simd=2, s = 17: |2 * 255 * -128| < 2**16:
    one pair and a row alone): the most negative weights in whole neurons of both rows of a pair."""
    rng = np.random.default_rng(7)
    w8 = _fixed(INT8)
    w1 = rng.integers(w8.min_int, w8.max_int, size=(16, 8), endpoint=True)
    w1[:, 0] = w1[:, 1] = w8.min_int  # PE 0 and 1 (one pair): -128 everywhere
    w1[:, 2], w1[:, 3] = w8.max_int, w8.min_int
    w1[::2, 4] = w8.min_int
    w2 = rng.integers(w8.min_int, w8.max_int, size=(8, 6), endpoint=True)
    w2[:, 0] = w2[:, 1] = w8.min_int
    w2[:, 2] = w8.min_int  # the unpaired row (neurons 2 and 5)
    b = GraphBuilder("pack8", (16,), INT8)
    b.dense(w8.from_int(w1), w8, rng.integers(-64, 64, size=8) / 4, "fixed<12,10>", name="fc1")
    b.activation("relu", "ufixed<8,2,RND_CONV,SAT>")
    b.dense(w8.from_int(w2), w8, name="fc2")
    return with_folds(fuse_activations(b.build()), [Fold(4, 4), Fold(3, 2)])


def _int8_e1() -> Graph:
    """For DSP48E1's 25-bit pre-adder: INT8 x INT8 at simd=1 (pe=3, s = 16: 8 + 16 bits; one pair
    and a row alone) into a 4-bit relu, then ufixed<4,1> x fixed<4,0> (pe=4, simd=3, s = 10:
    |3 * 15 * -8| < 2**9), the most negative weights in whole neurons of a pair and the lone row."""
    rng = np.random.default_rng(9)
    w8, w4 = _fixed(INT8), _fixed("fixed<4,0>")
    w1 = rng.integers(w8.min_int, w8.max_int, size=(16, 6), endpoint=True)
    w1[:, 0] = w1[:, 1] = w1[:, 2] = w8.min_int
    w2 = rng.integers(w4.min_int, w4.max_int, size=(6, 4), endpoint=True)
    w2[:, 2] = w2[:, 3] = w4.min_int
    b = GraphBuilder("pack8e1", (16,), INT8)
    b.dense(w8.from_int(w1), w8, rng.integers(-64, 64, size=6) / 4, "fixed<12,10>", name="fc1")
    b.activation("relu", "ufixed<4,1,RND_CONV,SAT>")
    b.dense(w4.from_int(w2), w4, name="fc2")
    return with_folds(fuse_activations(b.build()), [Fold(3, 1), Fold(4, 3)])


def _inputs(graph: Graph) -> np.ndarray:
    fmt = _fixed(INT8)
    x = np.random.default_rng(8).integers(fmt.min_int, fmt.max_int, size=(BATCH, 16), endpoint=True)
    x[0], x[1] = fmt.min_int, fmt.max_int  # (-128) * (-128) in every lane: the largest field
    x[2, ::2] = fmt.min_int
    return x


# Per DSP kind: the design, its Yosys family, and each dense stage's (pack_shift, DSP slices).
DESIGNS = {
    KIND: (_int8, "xcup", {"fc1": (18, 8), "fc2": (17, 4)}),  # 4 x 4: two pairs; 3 x 2: a pair and a row
    "DSP48E1": (_int8_e1, "xc7", {"fc1": (16, 2), "fc2": (10, 6)}),  # 3 x 1: a pair and a row; 4 x 3: two pairs
}


@dataclass(frozen=True)
class Built:
    graph: Graph
    rtl: Path


@pytest.fixture(scope="module", params=sorted(DESIGNS))
def packed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Built]:
    kind: str = request.param
    graph = DESIGNS[kind][0]()
    return kind, Built(graph, write_rtl(plan(graph, kind), out=tmp_path_factory.mktemp(f"rtl_pack_{kind}")))


def test_designs_are_packed(packed: tuple[str, Built], rtl_lint: Callable[[Path], str]) -> None:
    kind, built = packed
    expected = DESIGNS[kind][2]
    stages = [s for s in plan(built.graph, kind).stages if isinstance(s, DenseStage)]
    assert {s.name: (s.pack_shift, s.dsp) for s in stages} == expected  # ceil(pe/2) * simd slices
    matmuls = [l for l in built.graph.layers if isinstance(l, MatMul) and l.fold]
    budget = {l.name: dsp_count(l, l.fold, built.graph.input_spec(l).format, kind) for l in matmuls if l.fold}
    est = estimate(plan(built.graph, kind))
    manifest = read_manifest(built.rtl)
    assert "fg_dsp_pair.v" in manifest["sources"]
    dsp = {name: dsp for name, (_, dsp) in expected.items()}
    assert {s["name"]: s["dsp"] for s in manifest["stages"] if "engine" in s} == dsp == budget
    assert {s.name: est[s.name].dsp for s in stages} == dsp
    assert rtl_lint(built.rtl) == ""


@pytest.mark.slow
@pytest.mark.xdist_group("rtl_pack8")
def test_packed_cosim_is_bit_and_cycle_exact(packed: tuple[str, Built]) -> None:
    kind, built = packed
    x = _inputs(built.graph)
    r = run_cosim(built.rtl, x)
    assert np.array_equal(r.outputs, evaluate_ints(built.graph, x))
    assert r.latency_cycles == latency_cycles(plan(built.graph, kind))
    assert r.interval_cycles == interval_cycles(plan(built.graph, kind))


@pytest.mark.slow
@pytest.mark.xdist_group("rtl_pack8")
def test_yosys_maps_one_slice_per_pair_of_packed_lanes(packed: tuple[str, Built]) -> None:
    kind, built = packed
    _, family, expected = DESIGNS[kind]
    counts = synth_counts(built.rtl, family)
    assert counts.total.cells.get(kind, 0) == sum(dsp for _, dsp in expected.values())
    assert {n: c.dsp for n, c in counts.stages.items() if c.dsp} == {n: dsp for n, (_, dsp) in expected.items()}


# -- fallback -----------------------------------------------------------------------------------


def test_wide_formats_single_rows_and_long_dsp48e1_chains_fall_back(tmp_path: Path) -> None:
    """16-bit inputs x 12-bit weights: a partial sum of 27+ bits leaves no room in the pre-adder,
    so the pe=2 layer runs one chain per row; pe=1 never packs, nor INT8 beyond simd=1 on DSP48E1."""
    wide = random_mlp(5, (4, 2), input_format="fixed<16,4>", weight_format="fixed<12,2>", folds=[Fold(2, 2)])
    stage = next(s for s in plan(wide, KIND).stages if isinstance(s, DenseStage))
    assert (stage.pack_shift, stage.dsp) == (0, 4)
    rtl = write_rtl(plan(wide, KIND), out=tmp_path / "wide")
    assert "fg_dsp_chain.v" in read_manifest(rtl)["sources"] and "fg_dsp_pair.v" not in read_manifest(rtl)["sources"]
    assert "PACK_SHIFT" not in (rtl / f"{read_manifest(rtl)['top']}.v").read_text()
    narrow = random_mlp(5, (4, 3), input_format=INT8, weight_format=INT8, folds=[Fold(1, 2)])
    assert [s.dsp for s in plan(narrow, KIND).stages if isinstance(s, DenseStage)] == [2]
    assert [s.dsp for s in plan(_int8(), "DSP48E1").stages if isinstance(s, DenseStage)] == [16, 6]


# -- the fold budget ----------------------------------------------------------------------------


def test_fold_budgets_packed_layers_at_their_slices() -> None:
    """INT8 x INT8 packs up to simd=4 on DSP48E2 but only at simd=1 on DSP48E1 (its 25-bit pre-adder
    holds 8 + 16 bits): the same budget buys 16 lanes on the one, 8 lanes in half the slices on
    the other, and the fold the pass picks uses exactly what the plan instantiates."""
    graph = random_mlp(9, (16, 8), input_format=INT8, weight_format=INT8, folds=[Fold(1, 1)])
    x_fmt = graph.input.output.format
    folded = {kind: fold(graph, FoldConfig(max_dsp=8, dsp_kind=kind)) for kind in ("DSP48E1", KIND)}
    layers = {kind: next(l for l in g.layers if isinstance(l, MatMul)) for kind, g in folded.items()}
    folds = {kind: l.fold for kind, l in layers.items()}
    assert folds == {"DSP48E1": Fold(8, 1), KIND: Fold(4, 4)}
    for kind, g in folded.items():
        layer, f = layers[kind], folds[kind]
        assert f is not None
        assert sum(s.dsp for s in plan(g, kind).stages) == dsp_count(layer, f, x_fmt, kind) == f.pe * f.simd // 2
    assert engine_cycles(layers[KIND], Fold(4, 4)) < engine_cycles(layers["DSP48E1"], Fold(8, 1))
