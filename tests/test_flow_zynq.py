"""Zynq flow: vivado/build.tcl run in tclsh with stub Vivado commands, and the PYNQ driver run
against a fake pynq whose DMA moves real bytes through the generated HLS top (compiled with g++)."""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import fake_pynq
import numpy as np
import pytest
from graphs import random_cnn, random_inputs, random_mlp
from tclstub import Call, TclScriptError, run_tcl

import fpga_gen
from fpga_gen import boards
from fpga_gen.backends.hls.codes import ints_to_codes
from fpga_gen.errors import BoardError, FormatError
from fpga_gen.flows.zynq import BD_NAME, DMA_CELL, hls_ip_dir, ip_vlnv, write_zynq
from fpga_gen.ir import Graph, quantize_inputs
from fpga_gen.packing import pack

BOARDS = ("pynq-z2", "kv260", "zcu104")
PS_VLNV = {"zynq7": "xilinx.com:ip:processing_system7", "zynqmp": "xilinx.com:ip:zynq_ultra_ps_e"}
PS_CLOCK = {"zynq7": "CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ", "zynqmp": "CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ"}
MAX_TRANSFER = 2**26 - 1  # PG021: a 26-bit buffer length register

# Vivado's outputs, where Vivado 2022+ writes them: the hardware handoff with the block
# design's output products (during synth_1), the bitstream at the end of impl_1.
VIVADO_STUBS = {
    "create_project": "lassign [lsearch -all -inline -not -glob $args -*] name dir; "
    "set ::fg_project [file join $dir $name]",
    "create_bd_design": "set ::fg_bd [lindex $args 0]",
    "launch_runs": "if {[lindex $args 0] eq {synth_1}} { "
    "set f ${::fg_project}.gen/sources_1/bd/$::fg_bd/hw_handoff/$::fg_bd.hwh } else { "
    "set f ${::fg_project}.runs/impl_1/${::fg_bd}_wrapper.bit }; "
    "file mkdir [file dirname $f]; set fd [open $f w]; puts -nonewline $fd [file tail $f]; close $fd",
}


def zynq_project(graph: Graph, board: str, out: Path) -> Path:
    fpga_gen.build(graph, board, out=out)
    return out


def export_hls_ip(root: Path) -> None:
    """What `vitis_hls -f hls/build.tcl` leaves for Vivado: the packaged IP's component.xml."""
    top = json.loads((root / "hls" / "fpga_gen_hls.json").read_text())["top"]
    ip = root / hls_ip_dir(top)
    ip.mkdir(parents=True, exist_ok=True)
    (ip / "component.xml").write_text("<spirit:component/>\n")


def properties(call: Call) -> dict[str, str]:
    """``set_property -dict [list K V ...] obj`` -> {K: V}."""
    words = call.args[1].split()
    return dict(zip(words[::2], words[1::2], strict=True))


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    graph = random_cnn(0)  # 16-bit input beats (a 32-bit memory side), 32-bit output beats
    root = tmp_path_factory.mktemp("zynq")
    return {board: zynq_project(graph, board, root / board) for board in BOARDS}


# -- vivado/build.tcl -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", BOARDS)
def test_block_design_for_the_board(projects: dict[str, Path], name: str) -> None:
    root, board = projects[name], boards.load(name)
    export_hls_ip(root)
    manifest = json.loads((root / "hls" / "fpga_gen_hls.json").read_text())
    top = manifest["top"]
    run = run_tcl(root / "vivado" / "build.tcl", VIVADO_STUBS, cwd=root.parent)

    project = run.one("create_project")
    assert project.option("-part") == board.part
    assert Path(project.args[2]) == root / "vivado" / "zynq_prj"
    assert run.one("get_board_parts").args == ("-quiet", "-latest_file_version", f"{board.board_parts[0]}:*")
    assert ("board_part", f"{board.board_parts[0]}:1.1", "current_project") in [
        c.args for c in run.named("set_property")
    ]
    repo = run.index("set_property", "ip_repo_paths")
    assert Path(run.calls[repo].args[1]) == root / hls_ip_dir(top)

    cells = {c.args[-1]: c.option("-vlnv") for c in run.named("create_bd_cell")}
    assert cells["ps_0"] == PS_VLNV[board.family]
    assert cells[f"{top}_0"] == ip_vlnv(top) == f"xilinx.com:hls:{top}:1.0"
    assert cells[DMA_CELL] == "xilinx.com:ip:axi_dma"
    automation = run.one("apply_bd_automation")
    assert automation.option("-rule") == PS_VLNV[board.family].replace(":ip:", ":bd_rule:")
    assert 'apply_board_preset "1"' in automation.option("-config")

    props = {c.args[-1]: properties(c) for c in run.named("set_property") if c.args[0] == "-dict"}
    assert float(props["ps_0"][PS_CLOCK[board.family]]) == board.clock_mhz
    dma = props[DMA_CELL]
    assert dma["CONFIG.c_include_sg"] == "0"
    assert int(dma["CONFIG.c_m_axis_mm2s_tdata_width"]) == manifest["input"]["beat_bits"]
    assert int(dma["CONFIG.c_s_axis_s2mm_tdata_width"]) == manifest["output"]["beat_bits"]
    assert int(dma["CONFIG.c_m_axi_mm2s_data_width"]) == max(32, manifest["input"]["beat_bits"])
    assert int(dma["CONFIG.c_m_axi_s2mm_data_width"]) == max(32, manifest["output"]["beat_bits"])
    assert manifest["input"]["beat_bits"] != manifest["output"]["beat_bits"]  # so a swap would show
    assert 2 ** int(dma["CONFIG.c_sg_length_width"]) - 1 == MAX_TRANSFER

    nets = {c.args for c in run.named("connect_bd_intf_net")}
    assert (f"{DMA_CELL}/M_AXIS_MM2S", f"{top}_0/in_stream") in nets
    assert (f"{top}_0/out_stream", f"{DMA_CELL}/S_AXIS_S2MM") in nets
    clock_net = next(c.args for c in run.named("connect_bd_net") if f"{top}_0/ap_clk" in c.args)
    assert f"{DMA_CELL}/m_axi_mm2s_aclk" in clock_net
    assert any(f"{top}_0/ap_rst_n" in c.args for c in run.named("connect_bd_net"))

    order = [
        run.index("create_project"),
        run.index("create_bd_design"),
        run.index("assign_bd_address"),
        run.index("validate_bd_design"),
        run.index("make_wrapper"),
        run.index("launch_runs", "synth_1"),
        run.index("launch_runs", "impl_1", "-to_step", "write_bitstream"),
        run.index("open_run", "impl_1"),
        run.index("report_timing_summary"),
    ]
    assert order == sorted(order)
    driver = root / "driver"
    assert (driver / f"{top}.bit").read_text() == f"{BD_NAME}_wrapper.bit"
    assert (driver / f"{top}.hwh").read_text() == f"{BD_NAME}.hwh"
    assert json.loads((driver / "fpga_gen_overlay.json").read_text())["bitfile"] == f"{top}.bit"


def test_hls_and_vivado_scripts_agree_on_the_ip(projects: dict[str, Path]) -> None:
    root = projects["pynq-z2"]
    hls = run_tcl(root / "hls" / "build.tcl")
    project = hls.one("open_project").args[-1]
    solution = hls.one("open_solution").args[1]
    assert hls.one("export_design").option("-format") == "ip_catalog"
    top = hls.one("set_top").args[0]
    # Vitis HLS packages the IP into <project>/<solution>/impl/ip (UG1399).
    assert hls_ip_dir(top) == f"hls/{project}/{solution}/impl/ip"


def test_hardware_handoff_of_older_vivado_and_a_missing_bitstream(projects: dict[str, Path]) -> None:
    root = projects["zcu104"]
    export_hls_ip(root)
    srcs = {"launch_runs": VIVADO_STUBS["launch_runs"].replace(".gen/", ".srcs/")}  # Vivado before 2020.2
    top = json.loads((root / "hls" / "fpga_gen_hls.json").read_text())["top"]
    (root / "driver" / f"{top}.hwh").unlink(missing_ok=True)
    shutil.rmtree(root / "vivado" / "zynq_prj", ignore_errors=True)  # no .gen from an earlier run
    run_tcl(root / "vivado" / "build.tcl", {**VIVADO_STUBS, **srcs})
    assert (root / "driver" / f"{top}.hwh").read_text() == f"{BD_NAME}.hwh"
    no_bitstream = {
        "launch_runs": "file delete -force -- ${::fg_project}.runs ${::fg_project}.gen ${::fg_project}.srcs"
    }
    with pytest.raises(TclScriptError, match=r"bitstream .*_wrapper.bit.* not found after implementation"):
        run_tcl(root / "vivado" / "build.tcl", {**VIVADO_STUBS, **no_bitstream})


def test_a_missing_hls_ip_stops_before_the_project(tmp_path: Path) -> None:
    root = zynq_project(random_mlp(5, (8, 4)), "pynq-z2", tmp_path / "p")
    with pytest.raises(TclScriptError, match=r"run vitis_hls -f hls/build.tcl first") as info:
        run_tcl(root / "vivado" / "build.tcl", VIVADO_STUBS)
    assert not [c for c in info.value.calls if c.name == "create_project"]


def test_board_part_is_the_first_installed_candidate(tmp_path: Path) -> None:
    board = boards.load("zcu104").model_copy(
        update={"board_parts": ("acme.com:old_zcu104:part0", "xilinx.com:zcu104:part0")}
    )
    root = tmp_path / "p"
    fpga_gen.build(random_mlp(5, (8, 4)), board, out=root)
    export_hls_ip(root)
    only_xilinx = "if {[string match xilinx.com:* [lindex $args end]]} { return xilinx.com:zcu104:part0:1.1 }"
    run = run_tcl(root / "vivado" / "build.tcl", {**VIVADO_STUBS, "get_board_parts": only_xilinx})
    assert len(run.named("get_board_parts")) == 2
    assert run.index("set_property", "board_part", "xilinx.com:zcu104:part0:1.1") > run.index("create_project")
    with pytest.raises(TclScriptError, match=r"no board files for zcu104 are installed.*old_zcu104.*zcu104:part0"):
        run_tcl(root / "vivado" / "build.tcl", {**VIVADO_STUBS, "get_board_parts": "return {}"})


def test_streams_the_dma_cannot_move_are_refused(projects: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "p"
    fpga_gen.build(random_mlp(5, (8, 4)), "pynq-z2", out=root)
    path = root / "hls" / "fpga_gen_hls.json"
    manifest = json.loads(path.read_text())
    manifest["input"]["beat_bits"] = 2048
    path.write_text(json.dumps(manifest))
    with pytest.raises(BoardError, match=r"2048-bit beats.*at most 1024 bits.*SIMD"):
        write_zynq(root, boards.load("pynq-z2"))
    with pytest.raises(BoardError, match=r"alveo-u55c.*not a Zynq board"):
        write_zynq(projects["pynq-z2"], boards.load("alveo-u55c"))


# -- the PYNQ driver ------------------------------------------------------------------------------


driver_group = pytest.mark.xdist_group("zynq_driver")  # one worker builds the devices, once
DESIGNS = {
    "fixed_mlp": lambda: random_mlp(11, (16, 8, 4)),
    # Small fixed-point weights keep the e4m3 activations off their saturation value.
    "e4m3_mlp": lambda: random_mlp(
        12,
        (12, 8, 6),
        input_format="e4m3",
        weight_format="fixed<6,-3>",
        bias_format=None,
        act_format="e4m3",
        last_format="e4m3",
    ),
    "cnn": lambda: random_cnn(13),
}


def load_driver(root: Path, monkeypatch: pytest.MonkeyPatch, dma: fake_pynq.Dma) -> Any:
    """Import driver/fpga_gen_overlay.py with the fake pynq and return an overlay on ``dma``."""
    driver = root / "driver"
    top = json.loads((driver / "fpga_gen_overlay.json").read_text())["top"]
    for suffix in ("bit", "hwh"):  # what vivado/build.tcl copies here
        (driver / f"{top}.{suffix}").write_text(suffix)
    monkeypatch.setitem(sys.modules, "pynq", fake_pynq.module())
    monkeypatch.setitem(fake_pynq.Overlay.ip, str(driver / f"{top}.bit"), {DMA_CELL: dma})
    spec = importlib.util.spec_from_file_location(f"fpga_gen_overlay_{root.name}", driver / "fpga_gen_overlay.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FpgaGenOverlay()


@pytest.fixture(scope="module")
def driver_projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Graph, Path, fake_pynq.AxisDevice]]:
    """The designs built for pynq-z2, their stand-in devices compiled in parallel (cached afterwards)."""
    root = tmp_path_factory.mktemp("driver")
    graphs = {name: make() for name, make in DESIGNS.items()}
    paths = {name: zynq_project(graph, "pynq-z2", root / name) for name, graph in graphs.items()}
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        devices = dict(zip(paths, pool.map(fake_pynq.AxisDevice, paths.values()), strict=True))
    return {name: (graphs[name], paths[name], devices[name]) for name in DESIGNS}


@driver_group
@pytest.mark.parametrize("name", DESIGNS)
def test_driver_predict_equals_golden(
    driver_projects: dict[str, tuple[Graph, Path, fake_pynq.AxisDevice]], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph, root, device = driver_projects[name]
    dma = fake_pynq.Dma(device, MAX_TRANSFER)
    overlay = load_driver(root, monkeypatch, dma)
    x = random_inputs(21, graph, 200)
    y = overlay.predict(x)
    golden = graph.predict(x)
    assert y.dtype == np.float64 and y.shape == golden.shape
    assert np.array_equal(y, golden)
    assert len(np.unique(golden)) > 10  # the outputs really vary
    # One transfer each way; the bytes sent are the golden codes, packed.
    assert [kind for kind, _ in dma.transfers] == ["recv", "send"]
    fmt = graph.input.output.format
    spec = json.loads((root / "driver" / "fpga_gen_overlay.json").read_text())["input"]
    codes = ints_to_codes(fmt, quantize_inputs(graph, x)[0]).reshape(len(x), -1)
    assert dma.sent == [pack(codes, spec["pack"], spec["bits"]).tobytes()]


@driver_group
def test_driver_splits_batches_at_the_dma_limit(
    driver_projects: dict[str, tuple[Graph, Path, fake_pynq.AxisDevice]], monkeypatch: pytest.MonkeyPatch
) -> None:
    graph, root, device = driver_projects["cnn"]
    spec = json.loads((root / "driver" / "fpga_gen_overlay.json").read_text())
    sample = max(math.prod(s["shape"]) // s["pack"] * s["beat_bits"] // 8 for s in (spec["input"], spec["output"]))
    dma = fake_pynq.Dma(device, 3 * sample + 1)
    overlay = load_driver(root, monkeypatch, dma)
    overlay.max_transfer_bytes = dma.buffer_max_size
    x = random_inputs(22, graph, 10)
    assert np.array_equal(overlay.predict(x), graph.predict(x))
    assert len(dma.sent) == 4  # 3 + 3 + 3 + 1 samples
    dma.sent.clear()
    assert np.array_equal(overlay.predict(x, batch_size=2), graph.predict(x))
    assert len(dma.sent) == 5
    assert overlay.predict(x[:0]).shape == (0, *graph.output.output.shape)
    with pytest.raises(FormatError, match=r"does not match"):
        overlay.predict(x[:, :-1])


_ISOLATED = """
import json, sys, types
import numpy as np
fake = types.ModuleType("pynq")
fake.Overlay = type("Overlay", (), {"__init__": lambda self, bitfile, **kw: None})
sys.modules["pynq"] = fake
import fpga_gen_overlay
overlay = fpga_gen_overlay.FpgaGenOverlay()
data = overlay.encode(np.array(json.loads(sys.stdin.read())))
files = [m.__file__ for n, m in sys.modules.items() if n.split(".")[0] == "fpga_gen"]
print(json.dumps({"bytes": data.tobytes().hex(), "files": files}))
"""


@driver_group
def test_driver_runs_with_only_numpy_and_its_vendored_runtime(
    driver_projects: dict[str, tuple[Graph, Path, fake_pynq.AxisDevice]],
) -> None:
    graph, root, _ = driver_projects["e4m3_mlp"]
    driver = root / "driver"
    x = random_inputs(23, graph, 7)
    # -I -S: no PYTHONPATH, no site hooks (the editable install of fpga_gen); numpy from site-packages.
    site = [p for p in sys.path if p.endswith("site-packages")]
    preamble = f"import sys; sys.path[:0] = {[str(driver), *site]!r}\n"
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", preamble + _ISOLATED],
        input=json.dumps(x.tolist()),
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(run.stdout)
    assert got["files"] and all(Path(f).is_relative_to(driver / "fpga_gen") for f in got["files"])
    spec = json.loads((driver / "fpga_gen_overlay.json").read_text())["input"]
    codes = ints_to_codes(graph.input.output.format, quantize_inputs(graph, x)[0]).reshape(len(x), -1)
    assert bytes.fromhex(got["bytes"]) == pack(codes, spec["pack"], spec["bits"]).tobytes()
