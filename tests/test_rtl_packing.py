"""Two MACs per DSP48E2 (AMD WP486 operand packing): two PE rows share one cascade through the
27-bit pre-adder when the formats allow it exactly (``fpga_gen.dsp.pack_shift``).

The packing conditions are checked against a model of the slice arithmetic at the extremes of
the formats (pre-adder wrapping to 27 bits, P to 48); packed designs are bit-exact and
cycle-exact against the golden model under Verilator + cocotb with the DSP48E2 model,
including the most negative weights and inputs; Yosys (synth_xilinx -family xcup) maps half a
slice per packed lane, as the plan, the estimate and the fold budget say; wide formats, an odd
pe and DSP48E1 fall back to one MAC per slice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from graphs import random_mlp, with_folds
from hypothesis import given, settings
from hypothesis import strategies as st

from fpga_gen.backends.rtl import interval_cycles, latency_cycles, run_cosim, verilator, write_rtl
from fpga_gen.backends.rtl.plan import DenseStage, plan
from fpga_gen.backends.rtl.yosys import synth_counts
from fpga_gen.dsp import pack_shift
from fpga_gen.formats import FixedPoint, parse_format
from fpga_gen.formats.sizing import accumulator_format
from fpga_gen.golden import evaluate_ints
from fpga_gen.ir import Fold, Graph, MatMul
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.passes import FoldConfig, dsp_count, engine_cycles, fold, fuse_activations
from fpga_gen.resources import estimate

KIND = "DSP48E2"
INT8 = "fixed<8,0>"


def _fixed(name: str) -> FixedPoint:
    fmt = parse_format(name)
    assert isinstance(fmt, FixedPoint)
    return fmt


def _wrap(v: int, bits: int) -> int:
    """``v`` as a ``bits``-bit two's complement register holds it."""
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def _slice_fields(w_hi: list[int], w_lo: list[int], x: list[int], s: int) -> tuple[int, int]:
    """What fg_dsp_pair computes: each slice (D + A) * B with AD wrapped to 27 bits, the cascade
    sum wrapped to 48, then the low field P[s-1:0] sign-extended and (P - low) >> s."""
    p = _wrap(sum(_wrap((h << s) + l, 27) * xi for h, l, xi in zip(w_hi, w_lo, x, strict=True)), 48)
    lo = _wrap(p, s)
    return _wrap((p - lo) >> s, 48 - s), lo


# -- the conditions -----------------------------------------------------------------------------


def test_int8_packs_at_wp486_shift() -> None:
    """INT8 x INT8: a four-lane partial sum needs 18 bits, WP486's field; eight lanes need 19 and
    the pre-adder (-128 * 2**19 - 128) would wrap, so the layer is not packed."""
    x, w = _fixed(INT8), _fixed(INT8)
    assert pack_shift(KIND, x, w, 2, 4) == 18
    assert pack_shift(KIND, x, w, 2, 8) is None
    assert pack_shift(KIND, x, w, 3, 4) == 18  # odd pe: the last row runs alone
    assert pack_shift(KIND, x, w, 1, 4) is None  # one row: nothing to pair
    assert pack_shift("DSP48E1", x, w, 2, 4) is None  # no 27-bit pre-adder into the multiplier
    assert pack_shift(KIND, parse_format("e4m3"), w, 2, 1) is None
    assert pack_shift(KIND, _fixed("fixed<19,3>"), _fixed("fixed<2,1>"), 2, 1) is None  # x beyond the B port
    assert pack_shift(KIND, _fixed("ufixed<17,3>"), _fixed("fixed<2,1>"), 2, 1) is not None  # 18 bits signed


@settings(max_examples=60, deadline=None)
@given(
    x_bits=st.integers(2, 19),
    x_signed=st.booleans(),
    w_bits=st.integers(2, 16),
    simd=st.integers(1, 8),
)
def test_packed_fields_are_exact_at_the_extremes(x_bits: int, x_signed: bool, w_bits: int, simd: int) -> None:
    """Whenever pack_shift packs, both fields come back exactly for every extreme of the formats;
    whenever the partial sums fit a field but it refuses, the pre-adder would wrap."""
    x_fmt = FixedPoint(x_bits, 1, signed=x_signed)
    w_fmt = FixedPoint(w_bits, 1)
    s = pack_shift(KIND, x_fmt, w_fmt, 2, simd)
    w_ext, x_ext = (w_fmt.min_int, w_fmt.max_int), (x_fmt.min_int, x_fmt.max_int)
    if s is None:
        psum = accumulator_format(x_fmt, w_fmt, simd)
        field = psum.width + (0 if psum.signed else 1)
        x_fits = x_fmt.width + (0 if x_signed else 1) <= 18
        if x_fits and 2 * field <= 48:
            assert any(_wrap((h << field) + l, 27) != (h << field) + l for h, l in product(w_ext, w_ext))
        return
    for x0, h, l in product(x_ext, w_ext, w_ext):
        # every lane at the same extremes; then lane 0 at the opposite ones (mixed signs)
        xs, his, los = [x0] * simd, [h] * simd, [l] * simd
        for _ in range(2):
            want = (sum(a * b for a, b in zip(his, xs, strict=True)), sum(a * b for a, b in zip(los, xs, strict=True)))
            assert _slice_fields(his, los, xs, s) == want
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


def _inputs(graph: Graph) -> np.ndarray:
    fmt = _fixed(INT8)
    x = np.random.default_rng(8).integers(fmt.min_int, fmt.max_int, size=(BATCH, 16), endpoint=True)
    x[0], x[1] = fmt.min_int, fmt.max_int  # (-128) * (-128) in every lane: the largest field
    x[2, ::2] = fmt.min_int
    return x


@dataclass(frozen=True)
class Built:
    graph: Graph
    rtl: Path


@pytest.fixture(scope="module")
def int8(tmp_path_factory: pytest.TempPathFactory) -> Built:
    graph = _int8()
    return Built(graph, write_rtl(graph, out=tmp_path_factory.mktemp("rtl_pack8"), dsp_kind=KIND))


def _manifest(rtl: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((rtl / "manifest.json").read_text())
    return doc


def test_int8_design_is_packed(int8: Built) -> None:
    stages = [s for s in plan(int8.graph, KIND).stages if isinstance(s, DenseStage)]
    assert [(s.pack_shift, s.dsp) for s in stages] == [(18, 8), (17, 4)]  # ceil(pe/2) * simd
    manifest = _manifest(int8.rtl)
    assert "fg_dsp_pair.v" in manifest["sources"]
    assert [s["dsp"] for s in manifest["stages"] if "engine" in s] == [8, 4]
    est = estimate(int8.graph, KIND)
    assert [est[s.name].dsp for s in stages] == [8, 4]
    assert verilator.lint([int8.rtl / f for f in manifest["sources"] + manifest["sim_sources"]], manifest["top"]) == ""


@pytest.mark.slow
@pytest.mark.xdist_group("rtl_pack8")
def test_packed_cosim_is_bit_and_cycle_exact(int8: Built) -> None:
    x = _inputs(int8.graph)
    r = run_cosim(int8.rtl, x)
    assert np.array_equal(r.outputs, evaluate_ints(int8.graph, x))
    assert r.latency_cycles == latency_cycles(int8.graph)
    assert r.interval_cycles == interval_cycles(int8.graph)


@pytest.mark.slow
@pytest.mark.xdist_group("rtl_pack8")
def test_yosys_maps_one_dsp48e2_per_pair_of_packed_lanes(int8: Built) -> None:
    counts = synth_counts(int8.rtl, "xcup")
    matmuls = [l for l in int8.graph.layers if isinstance(l, MatMul) and l.fold]
    budget = sum(dsp_count(l, l.fold, int8.graph.input_spec(l).format, KIND) for l in matmuls if l.fold)
    # fc1: 4 x 4 lanes in two pairs of rows; fc2: 3 x 2 lanes, one pair and one row alone
    assert counts.total.cells.get("DSP48E2", 0) == budget == 8 + 4
    assert {n: c.dsp for n, c in counts.stages.items() if c.dsp} == {"fc1": 8, "fc2": 4}


# -- fallback -----------------------------------------------------------------------------------


def test_wide_formats_single_rows_and_dsp48e1_fall_back(tmp_path: Path) -> None:
    """16-bit inputs x 12-bit weights: a partial sum of 27+ bits leaves no room in the pre-adder,
    so the pe=2 layer runs one chain per row; pe=1 and DSP48E1 slices never pack."""
    wide = random_mlp(5, (4, 2), input_format="fixed<16,4>", weight_format="fixed<12,2>", folds=[Fold(2, 2)])
    stage = next(s for s in plan(wide, KIND).stages if isinstance(s, DenseStage))
    assert (stage.pack_shift, stage.dsp) == (0, 4)
    rtl = write_rtl(wide, out=tmp_path / "wide", dsp_kind=KIND)
    assert "fg_dsp_chain.v" in _manifest(rtl)["sources"] and "fg_dsp_pair.v" not in _manifest(rtl)["sources"]
    assert "PACK_SHIFT" not in (rtl / f"{_manifest(rtl)['top']}.v").read_text()
    narrow = random_mlp(5, (4, 3), input_format=INT8, weight_format=INT8, folds=[Fold(1, 2)])
    assert [s.dsp for s in plan(narrow, KIND).stages if isinstance(s, DenseStage)] == [2]
    assert [s.dsp for s in plan(_int8(), "DSP48E1").stages if isinstance(s, DenseStage)] == [16, 6]


# -- the fold budget ----------------------------------------------------------------------------


def test_fold_budgets_packed_layers_at_half_a_slice() -> None:
    """The same DSP budget buys twice the lanes of a packable layer on DSP48E2, and the fold the pass
    picks uses exactly what the plan instantiates; the default FoldConfig keeps DSP48E1 counting."""
    graph = random_mlp(9, (16, 8), input_format=INT8, weight_format=INT8, folds=[Fold(1, 1)])
    e1 = fold(graph, FoldConfig(max_dsp=8))
    e2 = fold(graph, FoldConfig(max_dsp=8, dsp_kind=KIND))
    (l1,), (l2,) = ([l for l in g.layers if isinstance(l, MatMul)] for g in (e1, e2))
    assert l1.fold and l2.fold
    assert l1.fold.pe * l1.fold.simd == 8 and l2.fold.pe * l2.fold.simd == 16
    assert engine_cycles(l2, l2.fold) < engine_cycles(l1, l1.fold)
    assert sum(s.dsp for s in plan(e2, KIND).stages) == dsp_count(l2, l2.fold, graph.input_spec(l2).format, KIND) <= 8
    assert sum(s.dsp for s in plan(e1, "DSP48E1").stages) == 8
