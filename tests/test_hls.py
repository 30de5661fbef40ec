"""HLS backend: generated project == golden model, bit for bit, through g++ C simulation.

Each distinct design costs one g++ compile (a few seconds), so the designs below are few
and cover a lot each; the compiles run in parallel once per session, batches are big.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from graphs import random_mlp, with_folds
from hls_designs import PART, Design, assert_csim_equals_golden, build_designs

from fpga_gen.backends.hls import DEFAULT_TOP, build_csim, cache_root, csim, run_csim, write_hls
from fpga_gen.errors import BoardError, FormatError, FpgaGenError, GraphError, ToolError
from fpga_gen.formats import FixedPoint
from fpga_gen.ir import Dense, Fold, Graph, Input, Output, Tensor, TensorSpec, evaluate_ints
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.passes import fuse_activations

pytestmark = pytest.mark.xdist_group("hls")

UNIT_FOLD = Fold(1, 1)
PROJECT_STEPS = ("open_project", "set_top", "add_files", "open_solution", "set_part", "create_clock")
DESIGN_STEPS = ("csim_design", "csynth_design", "cosim_design", "export_design")


def _standalone_activations() -> Graph:
    """Activation layers the fuse pass must leave alone: first after Input, and after a rounded Dense."""
    rng = np.random.default_rng(7)
    b = GraphBuilder("acts", (12,), "fixed<9,4>")
    b.activation("relu", "fixed<7,3,RND_MIN_INF,SAT>")
    b.dense(
        rng.uniform(-1, 1, (12, 10)),
        "fixed<5,1>",
        rng.uniform(-4, 4, 10),
        "fixed<6,3>",
        output_format="fixed<8,3,RND_ZERO,WRAP>",
    )
    b.activation("relu", "ufixed<6,2,RND_INF,WRAP>")
    b.dense(rng.uniform(-1, 1, (10, 6)), "fixed<6,0>", activation="relu", output_format="fixed<7,3,TRN,SAT_ZERO>")
    return with_folds(fuse_activations(b.build()), [Fold(5, 3), Fold(2, 5)])


def _designs() -> dict[str, Graph]:
    """Folds include PE=SIMD=1, fully parallel, and in-beat widths above and below SIMD.

    Output casts cover every rounding mode and every overflow mode at least once.
    """
    return {
        # relu, bias, signed input; in_pack 1 -> SIMD 4 and 3 -> 6.
        "relu_bias": random_mlp(
            11, (16, 12, 6, 4), last_format="fixed<7,2,RND,SAT_ZERO>", folds=[Fold(1, 1), Fold(3, 4), Fold(4, 6)]
        ),
        # linear, no bias, unsigned input; in_pack 8 -> SIMD 4.
        "linear_nobias": random_mlp(
            12,
            (12, 8, 5),
            input_format="ufixed<8,2>",
            bias_format=None,
            relu=False,
            act_format="fixed<6,2,TRN_ZERO,WRAP>",
            last_format="fixed<6,1,RND_MIN_INF,SAT_SYM>",
            folds=[Fold(8, 12), Fold(1, 4)],
        ),
        # 32-bit inputs x 40-bit weights, fan-in 64: accumulators and outputs beyond 64 bits.
        "wide": random_mlp(
            13,
            (64, 8, 3),
            input_format="fixed<32,10>",
            weight_format="fixed<40,4>",
            bias_format="fixed<48,20>",
            act_format="fixed<40,20,RND_CONV,SAT>",
            folds=[Fold(2, 16), Fold(3, 8)],
        ),
        "activations": _standalone_activations(),
    }


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private csim cache, so the first run of every design really compiles."""
    path = tmp_path_factory.mktemp("fpga_gen_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FPGA_GEN_CACHE", str(path))
        yield path


@pytest.fixture(scope="session")
def designs(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Design]:
    return build_designs(_designs(), tmp_path_factory.mktemp("hls"), seed=100)


@pytest.mark.parametrize("name", ["relu_bias", "linear_nobias", "wide", "activations"])
def test_csim_equals_golden(designs: dict[str, Design], name: str) -> None:
    assert_csim_equals_golden(designs[name])


def test_wide_outputs_come_back_as_python_ints(designs: dict[str, Design]) -> None:
    d = designs["wide"]
    out_fmt = d.graph.output.output.format
    assert isinstance(out_fmt, FixedPoint) and out_fmt.width > 64
    dense = [l for l in d.graph.layers if isinstance(l, Dense)]
    first_in = d.graph.input.output.format
    assert isinstance(first_in, FixedPoint) and dense[0].accumulator(first_in).width > 64
    y = run_csim(d.path, d.x)
    assert y.dtype == object
    assert max(abs(v) for v in y.ravel().tolist()) >= 1 << 63


def test_project_tree_is_complete_for_vitis(designs: dict[str, Design]) -> None:
    d = designs["relu_bias"]
    top = d.graph.name
    expected = [
        "build.tcl",
        f"firmware/{top}.cpp",
        f"firmware/{top}.h",
        "firmware/parameters.h",
        "firmware/fg/fg_dense.h",
        "firmware/fg/fg_activation.h",
        "firmware/fg/fg_stream.h",
        "firmware/fg/fg_types.h",
        f"tb/{top}_tb.cpp",
        "tb_data/input_codes.txt",
        "tb_data/expected_codes.txt",
    ]
    expected += [f"firmware/weights/{l.name}_{s}.h" for l in d.graph.layers if isinstance(l, Dense) for s in "wb"]
    for rel in expected:
        assert (d.path / rel).is_file(), rel
    source = (d.path / f"firmware/{top}.cpp").read_text()
    for pragma in ("INTERFACE mode=axis port=in_stream", "INTERFACE mode=ap_ctrl_none port=return", "DATAFLOW"):
        assert f"#pragma HLS {pragma}" in source


def test_build_tcl_runs_in_tclsh_with_the_part_and_period(designs: dict[str, Design], tmp_path: Path) -> None:
    tclsh = shutil.which("tclsh")
    if tclsh is None:
        pytest.skip("tclsh is not installed")
    stubs = "".join(
        f"proc {cmd} {{args}} {{ puts [list {cmd} {{*}}$args] }}\n" for cmd in (*PROJECT_STEPS, *DESIGN_STEPS)
    )
    d = designs["relu_bias"]
    script = tmp_path / "run.tcl"
    script.write_text(stubs + f"source {{{d.path / 'build.tcl'}}}\n")
    run = subprocess.run([tclsh, str(script)], capture_output=True, text=True, check=True)
    calls = [line.split() for line in run.stdout.splitlines()]
    assert ["set_part", PART] in calls
    assert ["create_clock", "-period", "4", "-name", "default"] in calls
    assert ["set_top", d.graph.name] in calls
    assert [c[0] for c in calls if c[0] in DESIGN_STEPS] == list(DESIGN_STEPS)
    assert ["export_design", "-format", "ip_catalog"] in calls


def test_testbench_checks_the_golden_stimulus(designs: dict[str, Design], tmp_path: Path) -> None:
    """What Vitis csim_design/cosim_design run: tb_data inputs against the golden outputs."""
    d = designs["activations"]
    data = d.path / "tb_data"
    args = [str(data / "input_codes.txt"), str(tmp_path / "out.txt"), str(data / "expected_codes.txt")]
    run = subprocess.run([str(build_csim(d.path)), *args], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 outputs differ" in run.stdout


def test_second_csim_hits_the_cache(
    designs: dict[str, Design], cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = designs["relu_bias"]
    binary = build_csim(d.path)
    assert binary.is_relative_to(cache_root() / "csim") and cache_root() == cache_dir

    def no_compile(*args: object) -> None:
        raise AssertionError("csim recompiled a cached design")

    monkeypatch.setattr(csim, "compile_binary", no_compile)
    assert np.array_equal(run_csim(d.path, d.x[:10]), evaluate_ints(d.graph, d.x[:10]))
    # The key is the content, not the location: the same design written elsewhere hits too.
    moved = write_hls(d.graph, part=PART, clock_mhz=250.0, out=tmp_path / "again")
    assert build_csim(moved) == binary


def test_compile_error_is_a_tool_error_with_the_log(designs: dict[str, Design], tmp_path: Path) -> None:
    d = designs["relu_bias"]
    broken = Path(shutil.copytree(d.path, tmp_path / "broken"))
    top = broken / f"firmware/{d.graph.name}.cpp"
    top.write_text(top.read_text() + "\n#error deliberately broken\n")
    with pytest.raises(ToolError, match="deliberately broken"):
        run_csim(broken, d.x[:1])


def test_csim_checks_its_inputs(designs: dict[str, Design]) -> None:
    d = designs["relu_bias"]
    with pytest.raises(FormatError, match="outside"):
        run_csim(d.path, np.full((1, 16), 128))  # fixed<8,3> mantissas stop at 127
    with pytest.raises(FormatError, match="shape"):
        run_csim(d.path, np.zeros((2, 15), dtype=np.int64))
    with pytest.raises(FormatError, match="dtype"):
        run_csim(d.path, np.zeros((2, 16)))
    assert run_csim(d.path, np.zeros((0, 16), dtype=np.int64)).shape == (0, 4)


# -- refusals (no compiler involved) ---------------------------------------------------------------


def _tiny(name: str = "tiny", dense: str = "dense0", fold: Fold | None = UNIT_FOLD) -> Graph:
    fmt = FixedPoint(8, 3)
    w = Tensor.from_values(FixedPoint(4, 1), np.full((3, 2), 0.5))
    layers = (
        Input(name="input", output=TensorSpec((3,), fmt)),
        Dense(name=dense, inputs=("input",), output=TensorSpec((2,), fmt), weight=w, fold=fold),
        Output(name="output", inputs=(dense,), output=TensorSpec((2,), fmt)),
    )
    return Graph(layers, name=name)


def test_refuses_what_it_cannot_express(tmp_path: Path) -> None:
    with pytest.raises(GraphError, match="schedule"):
        write_hls(_tiny(fold=None), part=PART, clock_mhz=100, out=tmp_path / "a")
    with pytest.raises(GraphError, match="must divide"):
        write_hls(_tiny(fold=Fold(2, 2)), part=PART, clock_mhz=100, out=tmp_path / "b")
    with pytest.raises(GraphError, match="wchar_t"):
        write_hls(_tiny(dense="wchar"), part=PART, clock_mhz=100, out=tmp_path / "c")
    with pytest.raises(BoardError, match="part"):
        write_hls(_tiny(), part="xc7z020 {evil}", clock_mhz=100, out=tmp_path / "d")
    with pytest.raises(BoardError, match="clock"):
        write_hls(_tiny(), part=PART, clock_mhz=0.0, out=tmp_path / "e")
    foreign = tmp_path / "foreign"
    (foreign / "firmware").mkdir(parents=True)
    with pytest.raises(FpgaGenError, match="not an fpga_gen HLS project"):
        write_hls(_tiny(), part=PART, clock_mhz=100, out=foreign)


def test_top_name_falls_back_when_the_graph_name_is_not_an_identifier(tmp_path: Path) -> None:
    for name, top in (("tiny", "tiny"), ("my-model", DEFAULT_TOP), ("int", DEFAULT_TOP), ("main", DEFAULT_TOP)):
        out = write_hls(_tiny(name=name), part=PART, clock_mhz=100, out=tmp_path / name)
        assert (out / f"firmware/{top}.cpp").is_file(), name
