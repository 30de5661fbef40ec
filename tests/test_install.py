"""A non-editable install carries hls/, templates/, rtl/, sim/ and boards/ inside the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ("hls", "templates", "rtl", "sim", "boards")


def test_wheel_install_finds_package_data(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    script = (
        "import fpga_gen, fpga_gen.toolpaths as t\n"
        "from fpga_gen import boards\n"
        f"for name in {DATA!r}:\n"
        "    d = t.package_dir(name)\n"
        "    assert d.is_relative_to(%r), (name, d)\n"
        "    assert any(d.iterdir()), name\n"
        "print(fpga_gen.__file__, boards.load('pynq-z2').part)\n" % str(target)
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(target)}
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(str(target)) and "xc7z020clg400-1" in done.stdout
    for name in DATA:
        shipped = {
            p.relative_to(ROOT / name) for p in (ROOT / name).rglob("*") if p.is_file() and "__pycache__" not in p.parts
        }
        installed = {
            p.relative_to(target / "fpga_gen" / "_data" / name)
            for p in (target / "fpga_gen" / "_data" / name).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
        assert shipped <= installed, (name, shipped - installed)


def test_every_data_subfolder_is_a_listed_package() -> None:
    """setuptools warns (once per folder, on every install) about data folders it is not told of."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    for name in DATA:
        for folder in [
            ROOT / name,
            *(p for p in (ROOT / name).rglob("*") if p.is_dir() and "__pycache__" not in p.parts),
        ]:
            package = ".".join(("fpga_gen", "_data", *folder.relative_to(ROOT).parts))
            assert package in listed, f"add {package!r} to [tool.setuptools] packages in pyproject.toml"
