"""The numpy-only subset of fpga_gen that deployment drivers carry with them.

A PYNQ board or an Alveo host usually has numpy but not fpga_gen (nor TensorFlow). The
drivers convert floats to the accelerator's codes and back with the very modules the
golden model uses, so ``vendor_runtime`` copies them next to the driver, as a package
named ``fpga_gen`` holding only ``errors``, ``packing`` and ``formats``. (FINN's PYNQ
driver ships its data-packing modules the same way.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
# Everything the vendored modules import, and nothing else (tests/test_flows_runtime.py
# imports the copy with fpga_gen's own package off the path).
MODULES = ("errors.py", "packing.py", "formats")
_INIT = '"""fpga_gen runtime (vendored by fpga_gen.build): number formats and beat packing only."""\n'


def vendor_runtime(dest: Path) -> Path:
    """Copy the runtime into ``dest/fpga_gen`` (replacing an earlier copy); returns that directory."""
    target = Path(dest) / "fpga_gen"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / "__init__.py").write_text(_INIT)
    for name in MODULES:
        source = _PACKAGE / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, target / name)
    return target


__all__ = ["MODULES", "vendor_runtime"]
