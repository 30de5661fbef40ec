"""The package's layering, checked by import-linter with the contracts of pyproject.toml.

formats -> ir -> (passes, golden, frontends) -> backends -> (resources, flows) -> kinds ->
project -> cli: a module imports only the layers below its own, and no package's modules
import each other in a cycle. The contracts run on the package as it is, and once on a copy
with an upward import planted, which they must refuse.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the fpga_gen package found in ``root``, with ``root``'s pyproject.toml (its
    working directory's)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    lint_imports = Path(sys.executable).parent / "lint-imports"  # import-linter's command, beside this Python
    command = [str(lint_imports), "--no-cache"]
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "fpga_gen", root / "fpga_gen", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_package_keeps_its_layers() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract", "names"),
    [
        # the golden arithmetic reaching up into the RTL backend
        ("golden/__init__.py", "import fpga_gen.backends.rtl.cost", "package layers", "golden -> fpga_gen.backends"),
        # the IR reaching up into the project
        ("ir/tensor.py", "import fpga_gen.project", "package layers", "fpga_gen.ir.tensor -> fpga_gen.project"),
        # two modules of the RTL backend importing each other
        ("backends/rtl/cost.py", "import fpga_gen.backends.rtl.stages", "no import cycles", ".stages -> .cost"),
    ],
)
def test_a_planted_upward_import_breaks_a_contract(
    tmp_path: Path, module: str, planted: str, contract: str, names: str
) -> None:
    root = _copy(tmp_path)
    target = root / "fpga_gen" / module
    target.write_text(target.read_text() + f"\n{planted}  # planted by tests/test_layers.py\n")
    result = _lint_imports(root)
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout
    assert names in result.stdout, result.stdout
