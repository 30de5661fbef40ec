"""The Alveo flow without the vendor tools: link.cfg banks, the Makefile's v++ calls, and the
kernel plus the XRT host moving real bytes (g++-compiled kernel behind a fake pyxrt), bit-exact."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from cxx_harness import compile_harness
from fake_pyxrt import FakeCard
from graphs import random_cnn, random_inputs, random_mlp

import fpga_gen
from fpga_gen import boards
from fpga_gen.backends.hls.writer import MANIFEST, SUBFUNCTION_MACRO
from fpga_gen.errors import BoardError, GraphError
from fpga_gen.flows.alveo import HOST_CONFIG, KERNEL_SUFFIX, PORT_IN, PORT_OUT, write_alveo
from fpga_gen.ir import Graph
from fpga_gen.toolpaths import ap_types_include

HARNESS = Path(__file__).resolve().parent / "alveo_kernel_harness.cpp"
TESTS = HARNESS.parent
BATCH = 300

pytestmark = pytest.mark.xdist_group("alveo")
Built = dict[str, tuple[Graph, Path, Path]]  # design -> (graph, project, compiled kernel harness)


def _project(graph: Graph, board: str, out: Path) -> Path:
    """The project of ``graph`` for ``board``, with the Alveo flow written explicitly."""
    project = fpga_gen.build(graph, board=board, out=out)
    return project.path


def _kernel(root: Path) -> tuple[str, str]:
    top = json.loads((root / "hls" / MANIFEST).read_text())["top"]
    return top, top + KERNEL_SUFFIX


def _harness(root: Path) -> Path:
    """The kernel + HLS firmware + tests/alveo_kernel_harness.cpp, compiled with csim's flags and cache."""
    top, kernel = _kernel(root)
    vitis = root / "vitis"
    sources = [vitis / f"{kernel}.cpp", root / "hls" / "firmware" / f"{top}.cpp", HARNESS]
    return compile_harness(
        root / "hls", "alveo_harness", sources, vitis / f"{kernel}.h", {"FG_KERNEL": kernel, SUBFUNCTION_MACRO: "1"}
    )


def _designs() -> dict[str, Graph]:
    return {
        "mlp": random_mlp(61, (20, 12, 6)),
        "e4m3": random_mlp(
            62, (16, 10, 5), input_format="e4m3", weight_format="e4m3", act_format="e4m3", last_format="e4m3"
        ),
        "cnn": random_cnn(63, (6, 6, 2), channels=4, dense_out=5),
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Each design's project for alveo-u55c and its compiled harness."""
    root = tmp_path_factory.mktemp("alveo")
    graphs = _designs()
    paths = {name: _project(graph, "alveo-u55c", root / name) for name, graph in graphs.items()}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        harnesses = dict(zip(paths, pool.map(_harness, paths.values()), strict=True))
    return {name: (graphs[name], paths[name], harnesses[name]) for name in graphs}


@pytest.fixture
def fake_pyxrt(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Installs a FakeCard as ``pyxrt``; yields a function card(harness, root) -> FakeCard."""

    def install(binary: Path, root: Path) -> FakeCard:
        xclbin = root / "card.xclbin"
        xclbin.write_bytes(b"xclbin2\0")  # the fake card checks which file is loaded, not its contents
        card = FakeCard(binary, _kernel(root)[1], xclbin)
        monkeypatch.setitem(sys.modules, "pyxrt", card.module())
        return card

    monkeypatch.setattr(sys, "path", list(sys.path))  # run.py puts host/ on the path
    yield install


def _host_module(root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"alveo_host_{root.name}", root / "host" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- link.cfg ---------------------------------------------------------------------------------
def _read_cfg(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A v++ config file: section -> (key, value) in order (keys repeat, so not configparser)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if m := re.fullmatch(r"\[(\w+)\]", line):
            current = m.group(1)
            sections.setdefault(current, [])
            continue
        key, sep, value = line.partition("=")
        assert sep and current, f"{path}: {line!r} is not key=value inside a section"
        sections[current].append((key.strip(), value.strip()))
    return sections


def _kernel_args(header: Path, kernel: str) -> list[str]:
    signature = re.search(rf'extern "C" void {kernel}\((.*)\);', header.read_text())
    assert signature is not None
    return [arg.split("*")[-1].split()[-1] for arg in signature.group(1).split(",")]


@pytest.mark.parametrize(
    ("board", "banks"),
    [("alveo-u55c", ("HBM[0]", "HBM[1]")), ("alveo-u250", ("DDR[0]", "DDR[1]")), ("alveo-u280", ("HBM[0]", "HBM[1]"))],
)
def test_link_cfg_puts_the_buffers_in_the_boards_banks(tmp_path: Path, board: str, banks: tuple[str, str]) -> None:
    root = _project(random_mlp(64, (8, 4)), board, tmp_path / "p")
    _, kernel = _kernel(root)
    cfg = _read_cfg(root / "vitis" / "link.cfg")
    assert list(cfg) == ["connectivity"]
    assert cfg["connectivity"] == [
        ("nk", f"{kernel}:1:{kernel}_1"),
        ("sp", f"{kernel}_1.{PORT_IN}:{banks[0]}"),
        ("sp", f"{kernel}_1.{PORT_OUT}:{banks[1]}"),
    ]
    assert set(banks) <= set(boards.load(board).sp_names)
    # sp= names the kernel's real arguments
    assert _kernel_args(root / "vitis" / f"{kernel}.h", kernel) == [PORT_IN, PORT_OUT, "samples"]


# -- Makefile -----------------------------------------------------------------------------------
FAKE_VPP = """#!{python}
# Records its arguments and creates the file it was asked for (-o), like v++ would.
import json, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
out = sys.argv[sys.argv.index("-o") + 1]
open(out, "w").write("fake " + out)
"""


def _make(root: Path, tmp_path: Path, *args: str) -> list[list[str]]:
    """Run make in vitis/ with a fake v++ first on PATH; returns the v++ calls it made."""
    bin_dir, log = tmp_path / "bin", tmp_path / "vpp.log"
    bin_dir.mkdir(exist_ok=True)
    vpp = bin_dir / "v++"
    vpp.write_text(FAKE_VPP.format(python=sys.executable, log=str(log)))
    vpp.chmod(0o755)
    log.write_text("")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["make", "-C", str(root / "vitis"), *args], env=env, check=True, capture_output=True, text=True)
    return [json.loads(line) for line in log.read_text().splitlines()]


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_makefile_compiles_then_links_for_the_boards_platform(tmp_path: Path) -> None:
    root = _project(random_mlp(65, (8, 4)), "alveo-u55c", tmp_path / "p")
    top, kernel = _kernel(root)
    board = boards.load("alveo-u55c")
    vitis = root / "vitis"
    compile_, link = _make(root, tmp_path)
    assert compile_[0] == "-c" and link[0] == "-l"
    for argv in (compile_, link):
        assert _option(argv, "-t") == "hw"
        assert _option(argv, "--platform") == board.platform == "xilinx_u55c_gen3x16_xdma_3_202210_1"
    xo = _option(compile_, "-o")
    assert xo == f"build_hw/{kernel}.xo"
    assert _option(compile_, "-k") == kernel
    assert _option(compile_, "--hls.clock") == f"300000000:{kernel}"
    assert "-I../hls/firmware" in compile_
    # The accelerator is a sub-function of the kernel: its INTERFACE pragmas must be compiled out.
    assert f"-D{SUBFUNCTION_MACRO}" in compile_
    firmware = root / "hls" / "firmware" / f"{top}.cpp"
    for defines, interfaces in (([], 3), ([f"-D{SUBFUNCTION_MACRO}"], 0)):
        text = subprocess.run(
            ["g++", "-E", "-P", *defines, "-I", str(firmware.parent), "-I", str(ap_types_include()), str(firmware)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert len(re.findall(r"#pragma HLS INTERFACE", text)) == interfaces
        assert "#pragma HLS DATAFLOW" in text
    alone = subprocess.run(
        [
            "g++",
            "-fsyntax-only",
            "-I",
            str(firmware.parent),
            "-I",
            str(ap_types_include()),
            str(vitis / f"{kernel}.cpp"),
        ],
        capture_output=True,
        text=True,
    )
    assert alone.returncode != 0 and f"compile with -D{SUBFUNCTION_MACRO}" in alone.stderr
    sources = compile_[-2:]
    assert sources == [f"{kernel}.cpp", f"../hls/firmware/{top}.cpp"]
    assert all((vitis / s).is_file() for s in sources)
    assert _option(link, "--config") == "link.cfg"
    assert _option(link, "--kernel_frequency") == "300"
    assert link[-1] == xo and _option(link, "-o") == f"build_hw/{kernel}.xclbin"
    assert (vitis / "build_hw" / f"{kernel}.xclbin").is_file()
    assert _make(root, tmp_path) == []  # up to date: nothing runs again
    # an edit to the HLS firmware rebuilds both
    (root / "hls" / "firmware" / "parameters.h").touch()
    assert [argv[0] for argv in _make(root, tmp_path)] == ["-c", "-l"]

    emu = _make(root, tmp_path, "TARGET=hw_emu", "PLATFORM=my_platform", "FREQ_MHZ=250")
    assert [(argv[0], _option(argv, "-t"), _option(argv, "--platform")) for argv in emu] == [
        ("-c", "hw_emu", "my_platform"),
        ("-l", "hw_emu", "my_platform"),
    ]
    assert _option(emu[0], "--hls.clock") == f"250000000:{kernel}"
    assert _option(emu[1], "--kernel_frequency") == "250"
    assert _option(emu[1], "-o") == f"build_hw_emu/{kernel}.xclbin"
    with pytest.raises(subprocess.CalledProcessError) as bad:
        _make(root, tmp_path, "TARGET=hardware")
    assert "TARGET must be hw, hw_emu or sw_emu" in bad.value.stderr
    subprocess.run(["make", "-C", str(vitis), "clean"], check=True, capture_output=True)
    assert not (vitis / "build_hw").exists() and (vitis / "link.cfg").is_file()


# -- kernel + host, bit-exact ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mlp", "e4m3", "cnn"])
def test_host_predict_equals_golden(built: Built, fake_pyxrt: Any, name: str) -> None:
    graph, root, harness = built[name]
    card = fake_pyxrt(harness, root)
    host = _host_module(root)
    accelerator = host.Accelerator(xclbin=card.xclbin)
    x = random_inputs(70, graph, BATCH)
    golden = graph.predict(x)
    y = accelerator.predict(x)
    assert y.shape == golden.shape == (BATCH, *graph.output.output.shape)
    assert np.array_equal(y, golden)
    assert len(np.unique(golden)) > 10  # the outputs really vary
    assert card.runs == [BATCH]
    # A batch larger than a bank holds runs in parts.
    accelerator.max_batch = 128
    assert np.array_equal(accelerator.predict(x), golden)
    assert card.runs == [BATCH, 128, 128, BATCH - 256]
    assert accelerator.predict(x[:0]).shape == (0, *graph.output.output.shape)


def test_host_refuses_wrong_shapes_and_a_missing_xclbin(built: Built, fake_pyxrt: Any) -> None:
    _, root, harness = built["mlp"]
    card = fake_pyxrt(harness, root)
    host = _host_module(root)
    with pytest.raises(FileNotFoundError, match="make"):
        host.Accelerator()  # nothing built in vitis/build_hw
    accelerator = host.Accelerator(xclbin=card.xclbin)
    with pytest.raises(ValueError, match=r"shape \(n, 20\)"):
        accelerator.predict(np.zeros((3, 21)))
    config = json.loads((root / "host" / HOST_CONFIG).read_text())
    config["input"]["beat_bits"] *= 2
    bad = root / "bad.json"
    bad.write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"disagrees with fpga_gen\.packing"):
        host.Accelerator(xclbin=card.xclbin, config=bad)


SHIM = """import atexit, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from fake_pyxrt import FakeCard
# Which fpga_gen run.py imported: the copy in host/, not the installed package.
atexit.register(lambda: Path({log!r}).write_text(sys.modules["fpga_gen"].__file__))
sys.modules[__name__] = FakeCard(Path({binary!r}), {kernel!r}, Path({xclbin!r})).module()
"""


def test_host_command_line_with_the_vendored_runtime(built: Built, tmp_path: Path) -> None:
    graph, root, harness = built["cnn"]
    xclbin, log = tmp_path / "card.xclbin", tmp_path / "fpga_gen_used.txt"
    xclbin.write_bytes(b"xclbin2\0")
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "pyxrt.py").write_text(
        SHIM.format(tests=str(TESTS), log=str(log), binary=str(harness), kernel=_kernel(root)[1], xclbin=str(xclbin))
    )
    x = random_inputs(71, graph, 40)
    np.save(tmp_path / "x.npy", x)
    env = {**os.environ, "PYTHONPATH": str(shim)}
    cmd = [sys.executable, str(root / "host" / "run.py"), str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy")]
    cmd += ["--xclbin", str(xclbin)]
    run = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "40 outputs" in run.stdout
    assert np.array_equal(np.load(tmp_path / "y.npy"), graph.predict(x))
    assert Path(log.read_text()).is_relative_to(root / "host" / "fpga_gen")


# -- the project as a whole --------------------------------------------------------------------
def test_u280_project_is_complete(tmp_path: Path) -> None:
    root = _project(random_mlp(66, (12, 6)), "alveo-u280", tmp_path / "p")
    top, kernel = _kernel(root)
    for rel in (
        f"vitis/{kernel}.cpp",
        f"vitis/{kernel}.h",
        "vitis/link.cfg",
        "vitis/Makefile",
        "vitis/README.md",
        "host/run.py",
        f"host/{HOST_CONFIG}",
        "host/fpga_gen/packing.py",
        "host/fpga_gen/formats/__init__.py",
        f"hls/firmware/{top}.cpp",
    ):
        assert (root / rel).is_file(), rel
    config = json.loads((root / "host" / HOST_CONFIG).read_text())
    assert config["platform"] == "xilinx_u280_gen3x16_xdma_1_202211_1"
    assert config["bank_bytes"] == 256 << 20  # one U280 HBM pseudo channel
    assert (root / "host" / config["xclbin"]).resolve() == (root / "vitis" / "build_hw" / f"{kernel}.xclbin").resolve()
    readme = (root / "vitis" / "README.md").read_text()
    assert "make" in readme and "python run.py" in readme


def test_refuses_a_zynq_board_a_directory_without_hls_and_words_wider_than_m_axi(tmp_path: Path) -> None:
    root = fpga_gen.build(random_mlp(67, (8, 4)), board="pynq-z2", out=tmp_path / "p").path
    with pytest.raises(BoardError, match="pynq-z2 uses the 'zynq' flow"):
        write_alveo(root, boards.load("pynq-z2"))
    with pytest.raises(GraphError, match="not an HLS project written by fpga_gen"):
        write_alveo(tmp_path / "empty", boards.load("alveo-u55c"))
    manifest_path = root / "hls" / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["output"]["beat_bits"] = 2048
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(
        BoardError, match="2048 bits; an m_axi port of alveo-u55c moves power-of-two words of 8 to 1024"
    ):
        write_alveo(root, boards.load("alveo-u55c"))
    assert not (root / "vitis").exists()
