"""RTL engines on DSP48E2 slices (UltraScale+): the same designs as on DSP48E1, bit-exact and
cycle-exact under Verilator + cocotb with the DSP48E2 model, the 27-bit A port that a DSP48E1
does not have, and Yosys (synth_xilinx -family xcup, an oracle nobody here wrote) mapping
exactly the planned number of DSP48E2 primitives.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from graphs import random_cnn, random_inputs, random_mlp, with_folds

from fpga_gen.backends.rtl import (
    DspOperandError,
    interval_cycles,
    latency_cycles,
    plan,
    run_cosim,
    verilator,
    write_rtl,
)
from fpga_gen.backends.rtl.bench import MacUnit, run_mac_bench
from fpga_gen.backends.rtl.cosim import read_manifest
from fpga_gen.backends.rtl.stages import Operand
from fpga_gen.backends.rtl.yosys import synth_counts
from fpga_gen.boards.dsp import primitive
from fpga_gen.errors import BoardError
from fpga_gen.formats import FixedPoint, parse_format
from fpga_gen.ir import Fold, Graph, evaluate_ints, quantize_inputs
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.toolpaths import package_dir

KIND = "DSP48E2"
BATCH = 24

# The widest operands of each primitive: A x B, signed (UG479 / UG579).
WIDE_INPUT, WIDE_WEIGHT = "fixed<27,4>", "fixed<18,2>"


def _wide() -> Graph:
    """One layer on the widest DSP48E2 operands: 27-bit inputs (two more bits than a DSP48E1
    multiplies) x 18-bit weights, the exact 46-bit accumulator of two-product chains."""
    w_fmt = parse_format(WIDE_WEIGHT)
    assert isinstance(w_fmt, FixedPoint)
    rng = np.random.default_rng(41)
    w = w_fmt.from_int(rng.integers(w_fmt.min_int, w_fmt.max_int, size=(4, 3), endpoint=True))
    w[0, :] = w_fmt.from_int(w_fmt.min_int)  # -2**17: the largest product magnitude
    graph = GraphBuilder("wide27", (4,), WIDE_INPUT).dense(w, w_fmt, name="fc").build()
    return with_folds(graph, [Fold(1, 2)])


DESIGNS = {
    # fixed point: one slice, then a mixed fold with a chain across every input
    "mlp": lambda: random_mlp(31, (8, 6, 4), folds=[Fold(1, 1), Fold(2, 6)]),
    # minifloat: fixed inputs x e4m3 weights (significands on DSP48E2s) into e4m3, then e4m3 x e4m3
    # (significands in fabric) into the exact accumulator
    "e4m3": lambda: random_mlp(
        32,
        (8, 6, 4),
        input_format="fixed<8,3>",
        weight_format="e4m3",
        act_format="e4m3",
        folds=[Fold(3, 4), Fold(2, 3)],
    ),
    # a small convolution: window generator -> DSP chain engine, pool, dense
    "conv": lambda: random_cnn(33, (6, 6, 2), channels=4, dense_out=4),
    "wide": _wide,
}


def _inputs(graph: Graph) -> np.ndarray:
    if graph.name != "wide27":
        x, _ = quantize_inputs(graph, random_inputs(5, graph, BATCH))
        return x
    fmt = parse_format(WIDE_INPUT)
    assert isinstance(fmt, FixedPoint)
    x = np.random.default_rng(42).integers(fmt.min_int, fmt.max_int, size=(BATCH, 4), endpoint=True)
    x[0], x[1] = fmt.min_int, fmt.max_int  # every A bit, and (-2**26) * (-2**17) = 2**43
    return x


@dataclass(frozen=True)
class Built:
    graph: Graph
    rtl: Path
    x: np.ndarray


Designs = Callable[[str], Built]


@pytest.fixture(scope="module")
def designs(tmp_path_factory: pytest.TempPathFactory) -> Designs:
    """Each design written for DSP48E2 once per process, on first use."""
    built: dict[str, Built] = {}

    def get(name: str) -> Built:
        if name not in built:
            graph = DESIGNS[name]()
            rtl = write_rtl(plan(graph, KIND), out=tmp_path_factory.mktemp(f"rtl_e2_{name}"))
            built[name] = Built(graph, rtl, _inputs(graph))
        return built[name]

    return get


def _per_design(names: list[str]) -> list[Any]:
    return [pytest.param(n, marks=pytest.mark.xdist_group(f"rtl_dsp48e2_{n}")) for n in names]



def test_designs_use_dsp48e2_engines(designs: Designs) -> None:
    """Every DSP engine is covered, and a design carries the DSP48E2 model only."""
    engines = {s.get("engine") for name in DESIGNS for s in read_manifest(designs(name).rtl)["stages"]}
    assert {"dsp_chain", "minifloat"} <= engines
    assert any(s["kind"] == "Conv2D" for s in read_manifest(designs("conv").rtl)["stages"])
    for name in DESIGNS:
        manifest = read_manifest(designs(name).rtl)
        assert manifest["dsp_kind"] == KIND
        assert manifest["sim_sources"] == ["fg_dsp48_model.v", "fg_dsp48e2.v"]
        assert not any("dsp48e1" in f for f in manifest["sources"] + manifest["sim_sources"]), name
        assert not any("dsp48e1" in p.name for p in designs(name).rtl.iterdir()), name
        assert sum(s["dsp"] for s in manifest["stages"]) > 0
        top = (designs(name).rtl / f"{manifest['top']}.v").read_text()
        assert top.count('.DSP_KIND("DSP48E2")') == sum("engine" in s for s in manifest["stages"])


@pytest.mark.slow
@pytest.mark.parametrize("name", _per_design(sorted(DESIGNS)))
def test_cosim_is_bit_and_cycle_exact(name: str, designs: Designs) -> None:
    built = designs(name)
    r, graph = run_cosim(built.rtl, built.x), built.graph
    assert np.array_equal(r.outputs, evaluate_ints(graph, built.x))
    hardware = plan(graph, KIND)
    assert r.latency_cycles == latency_cycles(hardware)
    assert r.interval_cycles == interval_cycles(hardware)
    assert r.total_cycles == latency_cycles(hardware) + (BATCH - 1) * interval_cycles(hardware)


@pytest.mark.parametrize("name", _per_design(sorted(DESIGNS)))
def test_generated_rtl_is_lint_clean(name: str, designs: Designs, rtl_lint: Callable[[Path], str]) -> None:
    """Verilator -Wall as Verilog-2001, the DSP48E2 model included."""
    assert rtl_lint(designs(name).rtl) == ""


# -- the 27-bit A port -------------------------------------------------------------------------


def test_wide_input_is_refused_by_dsp48e1_only(tmp_path: Path) -> None:
    graph = _wide()
    with pytest.raises(DspOperandError, match=r"layer fc: input format fixed<27,4> needs 27 bits.*DSP48E1 A port.*25"):
        write_rtl(plan(graph), out=tmp_path / "e1")
    assert not (tmp_path / "e1").exists()
    plan(graph, KIND)  # fits the DSP48E2
    wider = GraphBuilder("w28", (4,), "ufixed<27,4>").dense(np.zeros((4, 2)), WIDE_WEIGHT, name="fc").build()
    with pytest.raises(DspOperandError, match=r"ufixed<27,4> needs 28 bits.*DSP48E2 A port .* 27 bits \(26 unsigned\)"):
        write_rtl(plan(with_folds(wider, [Fold(1, 1)]), KIND), out=tmp_path / "e2")
    with pytest.raises(BoardError, match=r"dsp_kind 'DSP58'.*DSP48E1.*DSP48E2"):
        write_rtl(plan(graph, "DSP58"), out=tmp_path / "dsp58")


def test_mac_bench_refuses_operands_beyond_the_slice(tmp_path: Path) -> None:
    a, b = parse_format(WIDE_INPUT), parse_format(WIDE_WEIGHT)
    assert isinstance(a, FixedPoint) and isinstance(b, FixedPoint)
    unit = MacUnit("wide", Operand(a), Operand(b), 1)
    with pytest.raises(DspOperandError, match=r"unit wide: fixed<27,4> x fixed<18,2> needs 27 x 18 .* 25 x 18"):
        run_mac_bench([unit], {"wide": ([0], [0])}, tmp_path)


# -- Yosys maps the planned number of DSP48E2 slices -----------------------------------------------


# Both engines and the widest operands; the convolution adds nothing DSP-specific and doubles the
# Yosys time (its window generator's fabric arithmetic is the resource report's to check).
@pytest.mark.slow
@pytest.mark.parametrize("name", _per_design(["e4m3", "mlp", "wide"]))
def test_yosys_maps_the_planned_dsp48e2(name: str, designs: Designs) -> None:
    """synth_xilinx -family xcup reads the sources with SYNTHESIS defined (the behavioural
    model drops out) and keeps each instantiated DSP48E2 as the primitive: exactly the
    planned slices, stage by stage, and no DSP48E1."""
    rtl = designs(name).rtl
    manifest = read_manifest(rtl)
    counts = synth_counts(rtl, primitive(KIND).yosys_family)
    assert counts.family == "xcup"
    assert counts.total.cells.get("DSP48E2", 0) == sum(s["dsp"] for s in manifest["stages"]) > 0
    assert "DSP48E1" not in counts.total.cells
    assert {n: c.dsp for n, c in counts.stages.items()} == {s["name"]: s["dsp"] for s in manifest["stages"]}


# -- the behavioural models stop outside their modelled subset -----------------------------------

# One slice, A and B registered: the most negative A x the most negative B (the largest product
# of the multiplier), then ALUMODE 0100 (a logic function, outside the subset). ``attrs`` adds
# an attribute outside the subset. Unconnected inputs read 0.
MODEL_HARNESS = """module h;
    reg clk = 1'b0;
    reg [3:0] alumode = 4'b0000;
    wire [47:0] p;
    /* verilator lint_off PINMISSING */
    {kind} #({attrs}.AREG(1), .BREG(1), .ACASCREG(1), .BCASCREG(1), .MREG(1), .PREG(1), .CREG(0), .DREG(0),
             .ADREG(0), .OPMODEREG(0), .ALUMODEREG(0), .INMODEREG(0), .CARRYINREG(0), .CARRYINSELREG(0))
        u_dsp (.CLK(clk), .A(30'h{a:x}), .B(18'h20000), .OPMODE({opmode}), .ALUMODE(alumode), .CEA2(1'b1),
               .CEB2(1'b1), .CEM(1'b1), .CEP(1'b1), .P(p));
    integer t;
    initial begin
        for (t = 0; t < 8; t = t + 1) begin
            #5 clk = 1'b1;
            #5 clk = 1'b0;
            if (t == 3) $display("P %0d", $signed(p));
            if (t == 4) alumode = 4'b0100;
        end
        $display("not stopped");
        $finish;
    end
endmodule
"""
# (multiplier A bits, OPMODE of P = A*B, an attribute outside the subset)
MODELS = {
    "DSP48E1": (25, "7'b000_01_01", '.USE_SIMD("TWO24"), '),
    "DSP48E2": (27, "9'b00_000_01_01", '.PREADDINSEL("B"), '),  # the pre-adder on the B path
}


def _run_model(kind: str, attrs: str, workdir: Path) -> str:
    """Build MODEL_HARNESS on ``kind``'s model with Verilator --binary and run it: its output."""
    a_bits, opmode, _ = MODELS[kind]
    a = (1 << 30) - (1 << (a_bits - 1))  # -2**(a_bits-1), sign-extended to the 30-bit port
    return _run_harness(kind, MODEL_HARNESS.format(kind=kind, attrs=attrs, a=a, opmode=opmode), workdir)


def _run_harness(kind: str, harness: str, workdir: Path) -> str:
    """Build the module ``h`` of ``harness`` on ``kind``'s model with Verilator --binary and run it: its output."""
    workdir.mkdir()
    (workdir / "h.v").write_text(harness)
    sources = [str(package_dir("rtl") / f) for f in primitive(kind).sim_files]
    # --binary simulates the delays of the harness's initial block (Verilator --timing: C++20 coroutines).
    args = [
        "--binary",
        "-CFLAGS",
        "-std=c++20",
        "-MAKEFLAGS",
        "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0",
        "--build-jobs",
        "2",
        "-Wno-fatal",
        "--Mdir",
        str(workdir / "obj"),
        "--top-module",
        "h",
    ]
    build = verilator.tool([*args, str(workdir / "h.v"), *sources], cwd=workdir)
    assert build.returncode == 0, build.stderr
    return subprocess.run([str(workdir / "obj" / "Vh")], capture_output=True, text=True, check=False).stdout


@pytest.mark.slow
@pytest.mark.parametrize("kind", [pytest.param(k, marks=pytest.mark.xdist_group(f"dsp_model_{k}")) for k in MODELS])
def test_models_stop_outside_their_subset(kind: str, tmp_path: Path) -> None:
    a_bits, _, bad_attr = MODELS[kind]
    out = _run_model(kind, "", tmp_path / "dynamic")
    assert f"P {2 ** (a_bits - 1 + 17)}\n" in out  # the full-width A port multiplies
    assert f"{kind} model h.u_dsp.u_model: OPMODE 000000101 / ALUMODE 0100 / CARRYINSEL 000 outside" in out
    assert "not stopped" not in out
    out = _run_model(kind, bad_attr, tmp_path / "static")
    assert f"{kind} model h.u_dsp.u_model: configuration outside the modelled subset" in out
    assert "P " not in out


# The pre-adder (the fg_dsp_pair slices): AD = D +/- A[n-1:0] wrapped to n bits, n = 27 on a
# DSP48E2 (AMULTSEL = "AD"), 25 on a DSP48E1 (USE_DPORT = "TRUE") (INMODE[3] subtracts; the
# unisim DSP_PREADD), times B. D = -2**(n-1), A = 2**(n-1) - 1 with bit 29 set (not an AD bit),
# B = -2**17: D + A = -1; D - A = -2**n + 1 wraps to 1. DREG = ADREG = 1.
PREADD = {
    "DSP48E1": ('.USE_DPORT("TRUE"), ', "30'h20ffffff", "25'h1000000", "7'b000_01_01"),
    "DSP48E2": ('.AMULTSEL("AD"), .PREADDINSEL("A"), ', "30'h23ffffff", "27'h4000000", "9'b00_000_01_01"),
}
PREADD_HARNESS = """module h;
    reg clk = 1'b0;
    reg [4:0] inmode = 5'b00100;
    wire [47:0] p;
    /* verilator lint_off PINMISSING */
    {kind} #({attrs}.AREG(1), .BREG(1), .ACASCREG(1), .BCASCREG(1), .MREG(1), .PREG(1),
              .CREG(0), .DREG(1), .ADREG(1), .OPMODEREG(0), .ALUMODEREG(0), .INMODEREG(0), .CARRYINREG(0),
              .CARRYINSELREG(0))
        u_dsp (.CLK(clk), .A({a}), .B(18'h20000), .D({d}), .OPMODE({opmode}),
               .ALUMODE(4'b0000), .INMODE(inmode), .CEA2(1'b1), .CEB2(1'b1), .CED(1'b1), .CEAD(1'b1), .CEM(1'b1),
               .CEP(1'b1), .P(p));
    integer t;
    initial begin
        for (t = 0; t < 10; t = t + 1) begin
            #5 clk = 1'b1;
            #5 clk = 1'b0;
            if (t == 4) begin
                $display("P %0d", $signed(p));
                inmode = 5'b01100;
            end
            if (t == 9) $display("P %0d", $signed(p));
        end
        $finish;
    end
endmodule
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind", [pytest.param(k, marks=pytest.mark.xdist_group(f"dsp_model_preadd_{k}")) for k in PREADD]
)
def test_model_pre_adder_wraps_to_its_width(kind: str, tmp_path: Path) -> None:
    n = MODELS[kind][0]
    d, a, b = -(2 ** (n - 1)), 2 ** (n - 1) - 1, -(2**17)

    def ad(v: int) -> int:  # the n-bit pre-adder result
        return (v + 2 ** (n - 1)) % 2**n - 2 ** (n - 1)

    attrs, a_lit, d_lit, opmode = PREADD[kind]
    harness = PREADD_HARNESS.format(kind=kind, attrs=attrs, a=a_lit, d=d_lit, opmode=opmode)
    out = _run_harness(kind, harness, tmp_path / "preadd")
    printed = [line for line in out.splitlines() if line.startswith("P ")]
    assert printed == [f"P {ad(d + a) * b}", f"P {ad(d - a) * b}"] == ["P 131072", "P -131072"]
