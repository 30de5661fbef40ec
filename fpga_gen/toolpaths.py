"""Where fpga_gen's data directories and external headers live on this machine.

The data directories (``hls``, ``templates``, ``rtl``, ``sim``, ``boards``) sit next to
the ``fpga_gen`` package in a source checkout and inside it, under ``fpga_gen/_data``,
in an installed wheel; both layouts are looked up the same way.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fpga_gen.errors import ToolError

DATA_DIRS = ("boards", "hls", "rtl", "sim", "templates")
_PACKAGE = Path(__file__).resolve().parent


def package_dir(name: str) -> Path:
    """The directory of data ``name`` (one of ``DATA_DIRS``): wheel layout first, then checkout."""
    if name not in DATA_DIRS:
        raise ValueError(f"unknown fpga_gen data directory {name!r}; expected one of {DATA_DIRS}")
    candidates = (_PACKAGE / "_data" / name, _PACKAGE.parent / name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise ToolError(
        f"fpga_gen data directory {name!r} is missing (looked in {', '.join(map(str, candidates))}); "
        "the installation is incomplete: reinstall fpga_gen"
    )


def ap_types_include() -> Path:
    """The ``ap_types`` headers (ap_fixed.h, hls_stream.h) that the hls4ml package ships.

    hls4ml is located with ``find_spec`` so that it is never imported (importing it pulls
    in TensorFlow and takes seconds).
    """
    spec = importlib.util.find_spec("hls4ml")
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    for root in roots:
        include = Path(root) / "templates" / "vivado" / "ap_types"
        if (include / "ap_fixed.h").is_file():
            return include
    raise ToolError(
        "the ap_types C++ headers (ap_fixed.h) were not found: they come with the hls4ml "
        "package; install it with `pip install hls4ml` to run C simulation"
    )
