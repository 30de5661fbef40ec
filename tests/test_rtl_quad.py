"""Four products per DSP slice (AMD WP521, INT4): two PE rows' weights packed in the B operand
and two output positions' inputs on the pre-adder (``DspPrimitive.quad_shift``), the four
SIMD-wide partial sums recovered field by field (``boards.dsp.quad_fields``).

The field model is checked against plain integer dot products, exhaustively for one lane and at
random for cascades; the conditions refuse exactly where a port or a field would wrap. 4-bit
convolutions folded with two vectors per step (``Fold.vectors``, the fold pass's own choice in
4 DSP48E2 slices among them; an odd frame, a fold whose drains stall, a DSP48E1 one) are
bit-exact and cycle-exact in cosim (also under backpressure), map to the plan's slices in Yosys,
and run at 4.0 MACs per slice per cycle; their HLS kernels are bit-exact in C simulation and
iterate as fg_dense.h states. Dense, depthwise and 8-bit layers never quad-pack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from graphs import random_cnn, random_mlp, with_folds
from hypothesis import given, settings
from hypothesis import strategies as st

import fpga_gen
from fpga_gen.backends.hls import count_iterations, write_hls
from fpga_gen.backends.hls.csim import read_manifest as read_hls_manifest
from fpga_gen.backends.rtl import interval_cycles, latency_cycles, plan, run_cosim, write_rtl
from fpga_gen.backends.rtl.cosim import read_manifest
from fpga_gen.backends.rtl.yosys import synth_counts
from fpga_gen.boards.dsp import DSP48E1, DSP48E2, DspPrimitive, primitive, quad_fields, quad_product
from fpga_gen.errors import GraphError
from fpga_gen.formats import FixedPoint, parse_format
from fpga_gen.formats.sizing import int_range
from fpga_gen.ir import Fold, Graph, MatMul, evaluate_ints, load
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.kinds.matmul import DenseStage
from fpga_gen.passes import FoldConfig, dsp_count, engine_cycles, fold, fold_candidates
from fpga_gen.resources import estimate

U4, S4 = "ufixed<4,0>", "fixed<4,0>"


def _fixed(name: str) -> FixedPoint:
    fmt = parse_format(name)
    assert isinstance(fmt, FixedPoint)
    return fmt


def _dots(x0: list[int], x1: list[int], w0: list[int], w1: list[int]) -> tuple[int, int, int, int]:
    def dot(a: list[int], b: list[int]) -> int:
        return sum(i * j for i, j in zip(a, b, strict=True))

    return dot(x0, w0), dot(x0, w1), dot(x1, w0), dot(x1, w1)


# -- the field model ----------------------------------------------------------------------------


@pytest.mark.parametrize("x_name", [U4, S4])
def test_one_lane_exhaustive(x_name: str) -> None:
    """Every 4-bit x0, x1 and 4-bit w0, w1 on one slice: the four products come back exactly."""
    x_fmt, w_fmt = _fixed(x_name), _fixed(S4)
    k = DSP48E2.quad_shift(x_fmt, w_fmt, 2, 1)
    assert k is not None
    xs, ws = range(x_fmt.min_int, x_fmt.max_int + 1), range(w_fmt.min_int, w_fmt.max_int + 1)
    for x0, x1, w0, w1 in product(xs, xs, ws, ws):
        p = quad_product([x0], [x1], [w0], [w1], k, DSP48E2)
        assert quad_fields(p, k) == (x0 * w0, x0 * w1, x1 * w0, x1 * w1)


@settings(max_examples=300, deadline=None)
@given(
    x_bits=st.integers(2, 5),
    x_signed=st.booleans(),
    w_bits=st.integers(2, 5),
    simd=st.integers(1, 16),
    dsp=st.sampled_from([DSP48E1, DSP48E2]),
    extreme=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_cascade_fields_are_exact(
    x_bits: int, x_signed: bool, w_bits: int, simd: int, dsp: DspPrimitive, extreme: bool, seed: int
) -> None:
    """Whenever quad_shift packs, a cascade of simd slices gives the four dot products exactly, for
    random codes and for the formats' extremes (every lane at the same corner, which sets the
    fields' bounds)."""
    x_fmt, w_fmt = FixedPoint(x_bits, 1, signed=x_signed), FixedPoint(w_bits, 1)
    k = dsp.quad_shift(x_fmt, w_fmt, 2, simd)
    if k is None:
        return
    x_lo, x_hi, _ = int_range(x_fmt)
    w_lo, w_hi, _ = int_range(w_fmt)
    rng = np.random.default_rng(seed)
    if extreme:
        corner = [int(rng.choice([lo, hi])) for lo, hi in ((x_lo, x_hi), (x_lo, x_hi), (w_lo, w_hi), (w_lo, w_hi))]
        x0, x1, w0, w1 = ([v] * simd for v in corner)
    else:
        x0, x1 = (rng.integers(x_lo, x_hi, simd, endpoint=True).tolist() for _ in range(2))
        w0, w1 = (rng.integers(w_lo, w_hi, simd, endpoint=True).tolist() for _ in range(2))
    assert quad_fields(quad_product(x0, x1, w0, w1, k, dsp), k) == _dots(x0, x1, w0, w1)


def test_quad_conditions() -> None:
    """4-bit x 4-bit packs on a DSP48E2 up to simd = 8 with K = 11 (the fields hold [-960, 840]);
    a wider input would wrap the pre-adder, an 8-bit format every field; pe must pair rows."""
    u4, s4 = _fixed(U4), _fixed(S4)
    assert [DSP48E2.quad_shift(u4, s4, 2, simd) for simd in (1, 4, 8, 9)] == [8, 10, 11, None]
    assert DSP48E2.quad_shift(u4, s4, 3, 4) is None  # odd pe: rows pair up only two by two
    assert DSP48E2.quad_shift(u4, s4, 1, 4) is None
    assert DSP48E2.quad_shift(_fixed("fixed<8,0>"), s4, 2, 1) is None
    assert DSP48E2.quad_shift(u4, _fixed("fixed<8,0>"), 2, 1) is None
    assert DSP48E2.quad_shift(parse_format("e2m1"), s4, 2, 1) is None
    assert DSP48E1.quad_shift(u4, s4, 2, 4) == 10  # 15 * 2**20 + 15 fits its 25-bit pre-adder
    assert DSP48E1.quad_shift(u4, s4, 2, 8) is None  # 15 * 2**22 does not


def test_refusal_is_tight() -> None:
    """At K one below what quad_shift picks, some corner of the formats breaks a field."""
    u4, s4 = _fixed(U4), _fixed(S4)
    for simd in (1, 2, 4, 8):
        k = DSP48E2.quad_shift(u4, s4, 2, simd)
        assert k is not None
        corners = product((0, 15), (0, 15), (-8, 7), (-8, 7))
        assert any(
            quad_fields(quad_product([a] * simd, [b] * simd, [c] * simd, [d] * simd, k - 1, DSP48E2), k - 1)
            != _dots([a] * simd, [b] * simd, [c] * simd, [d] * simd)
            for a, b, c, d in corners
        )


# -- designs ------------------------------------------------------------------------------------

KIND = "DSP48E2"
BATCH = 6


def _conv4(side: int, fold: Fold, channels: int = 4) -> Graph:
    """Conv2D 3x3 'valid', ``channels`` -> 8 channels on a side x side 4-bit unsigned input, 4-bit
    signed weights (whole neurons of a pair of rows at -8, the largest fields), bias and relu into
    4 bits."""
    rng = np.random.default_rng(side)
    w4 = _fixed(S4)
    w = rng.integers(w4.min_int, w4.max_int, size=(3, 3, channels, 8), endpoint=True)
    w[..., 0] = w[..., 1] = w4.min_int
    w[..., 3] = w4.max_int
    b = GraphBuilder(f"quad{side}_{channels}", (side, side, channels), "ufixed<4,2>")
    b.conv(
        w4.from_int(w),
        w4,
        rng.integers(-32, 32, size=8) / 8,
        "fixed<8,3>",
        activation="relu",
        output_format="ufixed<4,2,RND_CONV,SAT>",
    )
    return with_folds(b.build(), [fold])


def _inputs(graph: Graph) -> np.ndarray:
    fmt = _fixed(str(graph.input.output.format))
    x = np.random.default_rng(3).integers(
        fmt.min_int, fmt.max_int, size=(BATCH, *graph.input.output.shape), endpoint=True
    )
    x[0] = fmt.max_int  # 15 * -8 in every lane of both vectors: the most negative fields
    x[1, ::2] = fmt.max_int
    return x


@dataclass(frozen=True)
class Built:
    graph: Graph
    rtl: Path


def _folded(side: int, max_dsp: int, kind: str) -> Graph:
    """The 4-bit convolution folded by the fold pass within ``max_dsp`` slices of ``kind``."""
    return fold(_conv4(side, Fold(1, 1)), FoldConfig(max_dsp=max_dsp, dsp_kind=kind))


@dataclass(frozen=True)
class Case:
    side: int
    channels: int
    kind: str
    fold: Fold
    dsp: int  # the engine's slices
    hls_iterations: int  # its HLS loop's, per sample (fg_dense.h)
    interval: int  # the design's cycles per frame in cosim (as the cycle model gives them)


# 6 x 6 = 36 output positions (18 pairs of NF x SF = 4 x 9 steps), 5 x 5 = 25 (12 pairs and the
# last alone, 2 x 18 steps), 4 x 4 = 16 (8 pairs of 1 x 18, or of 4 x 3 steps); HLS reads the
# first vector first (9 beats of 4 elements, 3 of 3) and writes an even frame's last NF held
# results at its end; with NF = 4 > SF - 1 = 2, each pair's drain holds the next pair 2 cycles.
# RTL: the engine's schedule, ceil(positions / 2) * SF * NF, but for the stalls and, on DSP48E1,
# the window generator, whose 144 cycles a frame (as the engine's) leave no room for its rows' edges.
CASES = {
    "quad8": Case(8, 4, KIND, Fold(2, 4, 2), 4, 9 + 18 * 36 + 4, 18 * 36),  # the fold pass's choice in 4 slices
    "quad7": Case(7, 4, KIND, Fold(4, 2, 2), 4, 9 + 13 * 36, 13 * 36),
    "stall": Case(6, 1, KIND, Fold(2, 3, 2), 3, 3 + 8 * 12 + 7 * 2 + 4, 8 * 12 + 8 * 2),
    "quad6_e1": Case(6, 4, "DSP48E1", Fold(8, 2, 2), 8, 9 + 8 * 18 + 1, 164),
}


def _design(name: str) -> Graph:
    c = CASES[name]
    return _folded(c.side, c.dsp, c.kind) if name == "quad8" else _conv4(c.side, c.fold, c.channels)


@pytest.fixture(scope="module", params=sorted(CASES))
def quad(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Case, Built]:
    name: str = request.param
    graph = _design(name)
    return CASES[name], Built(graph, write_rtl(plan(graph, CASES[name].kind), out=tmp_path_factory.mktemp(name)))


def _engine(graph: Graph, kind: str = KIND) -> DenseStage:
    return next(s for s in plan(graph, kind).stages if isinstance(s, DenseStage))


def test_design_is_quad_packed(quad: tuple[Case, Built], rtl_lint: Callable[[Path], str]) -> None:
    """The plan, the fold budget, the estimate and the schedule agree: ceil(pe / 2) * simd slices,
    ceil(positions / 2) * SF * NF cycles; the fold pass itself picks two vectors for the 4-bit
    convolution in 4 DSP48E2 slices."""
    case, built = quad
    stage = _engine(built.graph, case.kind)
    layer = stage.layer
    assert layer.fold == case.fold
    assert stage.quad_shift == primitive(case.kind).quad_shift(stage.x.fmt, layer.weight.format, stage.pe, stage.simd)
    assert stage.dsp == case.dsp == stage.pe // 2 * stage.simd
    assert stage.dsp == dsp_count(layer, case.fold, built.graph.input_spec(layer).format, case.kind)
    assert stage.period == engine_cycles(layer, case.fold) == -(-layer.positions // 2) * stage.steps
    assert estimate(plan(built.graph, case.kind))[stage.name].dsp == stage.dsp
    manifest = read_manifest(built.rtl)
    assert "fg_dsp_quad.v" in manifest["sources"] and "fg_dsp_pair.v" not in manifest["sources"]
    assert rtl_lint(built.rtl) == ""


@pytest.mark.slow
@pytest.mark.xdist_group("rtl_quad")
def test_quad_cosim_is_bit_and_cycle_exact(quad: tuple[Case, Built]) -> None:
    """Bit-exact against the golden model, the latency and interval the cycle model gives; the
    fold pass's choice runs at its schedule, four MACs per slice per cycle (>= 3.5 measured)."""
    case, built = quad
    x = _inputs(built.graph)
    r = run_cosim(built.rtl, x)
    assert np.array_equal(r.outputs, evaluate_ints(built.graph, x))
    p = plan(built.graph, case.kind)
    assert r.latency_cycles == latency_cycles(p)
    assert r.interval_cycles == interval_cycles(p) == case.interval
    stage = _engine(built.graph, case.kind)
    layer = stage.layer
    macs_per_slice = layer.positions * layer.n_in * layer.n_out / r.interval_cycles / stage.dsp
    if case == CASES["quad8"]:
        assert r.interval_cycles == stage.period == engine_cycles(layer, case.fold)
        assert macs_per_slice == 4.0


@pytest.mark.slow
@pytest.mark.xdist_group("rtl_quad")
def test_quad_stays_exact_under_backpressure_and_idle_inputs(quad: tuple[Case, Built]) -> None:
    """The drain of the held results and the pipeline's hold on a full output under a sink that
    refuses beats and a source that withholds them."""
    _, built = quad
    x = _inputs(built.graph)
    r = run_cosim(built.rtl, x, backpressure=0.6, idle=0.3, seed=5)
    assert np.array_equal(r.outputs, evaluate_ints(built.graph, x))


@pytest.mark.slow
@pytest.mark.xdist_group("rtl_quad")
def test_yosys_maps_one_slice_per_pair_of_rows(quad: tuple[Case, Built]) -> None:
    """Yosys (synth_xilinx) maps the plan's slices: ceil(pe / 2) * simd, four products each."""
    case, built = quad
    counts = synth_counts(built.rtl, primitive(case.kind).yosys_family)
    assert counts.total.cells.get(case.kind, 0) == case.dsp
    assert {n: c.dsp for n, c in counts.stages.items() if c.dsp} == {"conv2d0": case.dsp}


# -- HLS ----------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_hls_runs_the_same_pairs(name: str, tmp_path: Path) -> None:
    """The HLS kernel runs two positions per iteration of its loop: C simulation equals the golden
    model, and counts the iterations fg_dense.h states (the first vector read, then the pairs'
    steps, the drains of their second results)."""
    graph = _design(name)
    path = write_hls(graph, part="xczu7ev-ffvc1156-2-e", clock_mhz=250.0, out=tmp_path / "hls")
    x = _inputs(graph)
    y, counts = count_iterations(path, x)
    assert np.array_equal(y, evaluate_ints(graph, x))
    processes = read_hls_manifest(path)["processes"]
    assert counts == {config: BATCH * p["iterations"] for config, p in processes.items()}
    assert processes["config_conv2d0"]["iterations"] == CASES[name].hls_iterations


# -- where it never applies ---------------------------------------------------------------------


def test_fold_round_trips_and_validates(tmp_path: Path) -> None:
    graph = _design("quad8")
    assert str(next(l for l in graph.layers if isinstance(l, MatMul)).fold) == "pe=2 simd=4 vectors=2"
    loaded = load(graph.save(tmp_path / "g"))
    assert [getattr(l, "fold", None) for l in loaded.layers] == [getattr(l, "fold", None) for l in graph.layers]
    with pytest.raises(GraphError, match="vectors=3"):
        Fold(2, 4, 3)


def test_dense_depthwise_and_8_bit_layers_never_quad_pack() -> None:
    """Only a convolution's positions share the weights: a Dense or depthwise layer never runs two
    vectors per step (the fold pass never offers it, the plan refuses it); nor 8-bit formats, whose
    fields do not fit four in P."""
    u4 = "ufixed<4,2>"
    conv = {"pool": None, "dense_out": None}
    cases = {
        "dense": random_mlp(3, (36, 8), input_format=u4, weight_format=S4, folds=[Fold(2, 4)]),
        "depthwise": random_cnn(
            3, (6, 6, 4), input_format=u4, weight_format=S4, depthwise=True, folds=[Fold(2, 3)], **conv
        ),
        "int8": random_cnn(
            3, (6, 6, 4), input_format="fixed<8,3>", weight_format="fixed<8,1>", folds=[Fold(2, 4)], **conv
        ),
    }
    for name, graph in cases.items():
        layer = next(l for l in graph.layers if isinstance(l, MatMul))
        x_fmt = graph.input_spec(layer).format
        for kind in ("DSP48E1", KIND):
            assert all(f.vectors == 1 for f in fold_candidates(layer, 16, x_fmt, kind)), (name, kind)
            folded = fold(graph, FoldConfig(max_dsp=4, dsp_kind=kind))
            assert all(l.fold.vectors == 1 for l in folded.layers if isinstance(l, MatMul) and l.fold), (name, kind)
        with pytest.raises(GraphError, match="vectors=2"):
            plan(with_folds(graph, [Fold(2, 4 if name != "depthwise" else 3, 2)]), KIND)


def test_quad_is_chosen_where_it_pays() -> None:
    """In the same 4 DSP48E2 slices the 4-bit convolution runs twice as fast with two vectors per
    step as with the two-rows packing (WP486), and the fold pass takes it; with the budget for the
    fastest folding it still saves slices."""
    graph = _conv4(8, Fold(1, 1))
    layer = next(l for l in graph.layers if isinstance(l, MatMul))
    x_fmt = graph.input_spec(layer).format
    pair = min(
        (f for f in fold_candidates(layer, 16) if dsp_count(layer, f, x_fmt, KIND) <= 4),
        key=lambda f: engine_cycles(layer, f),
    )
    assert engine_cycles(layer, pair) == 2 * engine_cycles(layer, CASES["quad8"].fold)
    assert next(l for l in _design("quad8").layers if isinstance(l, MatMul)).fold == CASES["quad8"].fold


@pytest.mark.slow
def test_kv260_build_reports_the_quad_layer(tmp_path: Path) -> None:
    """A build for the KV260 (DSP48E2) with 4 slices for the matmuls folds the 4-bit convolution to
    two vectors per step; the report's intervals (fold, RTL stage) and the Yosys slices agree:
    10368 MACs in 648 cycles on 4 slices."""
    project = fpga_gen.build(
        _conv4(8, Fold(1, 1)), board="kv260", out=tmp_path / "p", fold=FoldConfig(4, dsp_kind=KIND)
    )
    (entry,) = [l for l in project.report(yosys=True)["layers"] if l["kind"] == "Conv2D"]
    assert (entry["pe"], entry["simd"], entry["vectors"]) == (2, 4, 2)
    assert entry["interval"]["fold"] == entry["interval"]["rtl"] == 648
    assert entry["estimate"]["dsp"] == entry["yosys"]["dsp"] == 4
    assert entry["macs"] / entry["interval"]["rtl"] / entry["yosys"]["dsp"] == 4.0
