"""Exact grid integers <-> hardware codes of the tensor formats the HLS backend streams.

``run_csim`` and the golden model speak integers on the grid of ``exact_fixed(fmt)``;
the accelerator's AXI4-Stream ports (and so the testbench files) carry codes, the bit
patterns of ``fmt``. The host converts, in the same way for every format.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import FormatError
from fpga_gen.formats import FixedPoint, Format, MiniFloat
from fpga_gen.formats.fixed import INT64_MAX_WIDTH
from fpga_gen.formats.sizing import exact_fixed

IntArray = npt.NDArray[Any]
StreamFormat = FixedPoint | MiniFloat


def ints_to_codes(fmt: Format, ints: npt.ArrayLike) -> IntArray:
    """Integers on ``exact_fixed(fmt)``'s grid -> codes; int64, or Python ints past 62 bits."""
    if isinstance(fmt, FixedPoint):
        # Two's complement in integers: floats would round mantissas beyond 53 bits.
        arr = np.asarray(ints)
        return (arr.astype(object) if fmt.width > INT64_MAX_WIDTH else arr) & ((1 << fmt.width) - 1)
    if isinstance(fmt, MiniFloat):
        return fmt.to_codes(exact_fixed(fmt).from_int(ints))
    raise FormatError(f"{fmt} is not a tensor format of the HLS backend (fixed point or minifloat)")


def codes_to_ints(fmt: Format, codes: npt.ArrayLike) -> IntArray:
    """Codes -> integers on ``exact_fixed(fmt)``'s grid; NaN and inf codes have none and raise."""
    if isinstance(fmt, FixedPoint):
        arr = np.asarray(codes)
        return arr - ((arr >> (fmt.width - 1)) << fmt.width) if fmt.signed else arr
    if isinstance(fmt, MiniFloat):
        values = fmt.from_codes(codes)
        if not np.all(np.isfinite(values)):
            raise FormatError(f"{np.count_nonzero(~np.isfinite(values))} codes of {fmt} are NaN or inf")
        return exact_fixed(fmt).to_int(values)
    raise FormatError(f"{fmt} is not a tensor format of the HLS backend (fixed point or minifloat)")
