"""The testbench's text format for element codes (bit patterns read as unsigned integers).

A header line ``<samples> <values per sample>``, then one sample per line of decimal
integers. Decimal text is exact for every width, including formats beyond 64 bits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import ToolError
from fpga_gen.formats.fixed import INT64_MAX_WIDTH


def write_matrix(path: Path, ints: npt.NDArray[Any], per_sample: int) -> None:
    rows = np.asarray(ints).reshape(len(ints), per_sample)
    lines = [f"{rows.shape[0]} {per_sample}"]
    lines += [" ".join(map(str, row)) for row in rows.tolist()]
    path.write_text("\n".join(lines) + "\n")


def read_matrix(path: Path, width: int) -> npt.NDArray[Any]:
    """(samples, values per sample) codes: int64 up to ``INT64_MAX_WIDTH`` bits, else Python ints."""
    tokens = path.read_text().split()
    try:
        samples, per_sample = int(tokens[0]), int(tokens[1])
        values = tokens[2:]
        if len(values) != samples * per_sample:
            raise ValueError(f"{len(values)} values for {samples} x {per_sample}")
        if width <= INT64_MAX_WIDTH:
            return np.array(values, dtype=np.int64).reshape(samples, per_sample)
        out = np.empty(len(values), dtype=object)
        out[:] = [int(v) for v in values]
        return out.reshape(samples, per_sample)
    except (IndexError, ValueError) as exc:
        raise ToolError(f"{path}: not a code matrix written by the testbench ({exc})") from exc
