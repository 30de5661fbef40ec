"""The exact integer arithmetic the golden model is written in (the kinds' rules, ``fpga_gen.kinds``).

Values are integers on a known grid (``sizing.exact_fixed``). Matmuls are exact: float64
BLAS when the exact accumulator fits in 53 bits (every partial sum is then an exactly
representable integer, whatever order BLAS adds in), int64 when it fits in 63 bits, Python
integers beyond. Rounding happens once per layer, in the output format's ``cast_int``.

The walk over a graph is ``Graph.predict`` / ``fpga_gen.ir.evaluate_ints``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.formats import Format
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import IntArray, Layer


def widen(x: IntArray, bits: int) -> IntArray:
    """``x`` as int64 when values of ``bits`` bits (sign included) fit, else as Python ints."""
    return x.astype(np.int64) if bits <= 63 else x.astype(object)


def dot(a: IntArray, b: IntArray, width: int) -> IntArray:
    """Exact a @ b for a sum known to fit ``width`` bits (BLAS while exact)."""
    if width <= 53:
        return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return widen(a, width) @ widen(b, width)


def exact_dtype(width: int) -> Any:
    """The numpy dtype that holds sums of ``width`` bits exactly: float64 (BLAS), int64, or Python ints."""
    return np.float64 if width <= 53 else (np.int64 if width <= 63 else object)


def windows(
    x: IntArray, window: tuple[int, ...], strides: tuple[int, ...], padding: tuple[tuple[int, int], ...]
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Sliding windows of a channels-last batch: (n, *out, *window, C), and which taps are not padding.

    Padded taps hold 0; the mask, shaped (*out, *window), tells them apart.
    """
    rank = len(window)
    pads = ((0, 0), *padding, (0, 0))
    padded = np.pad(x, pads)
    valid = np.pad(np.ones(x.shape[1:-1], dtype=bool), padding)
    axes = tuple(range(1, rank + 1))
    win = np.lib.stride_tricks.sliding_window_view(padded, window, axis=axes)
    mask = np.lib.stride_tricks.sliding_window_view(valid, window)
    step = tuple(slice(None, None, s) for s in strides)
    # sliding_window_view puts the window axes last: move the channel axis behind them
    win = np.moveaxis(win[(slice(None), *step)], rank + 1, -1)
    return win, mask[step]


def cast_ratio(num: IntArray, frac: int, den: Any, fmt: Format) -> IntArray:
    """Round ``num * 2**-frac / den`` (den > 0, integers) once into ``fmt``, exactly.

    The quotient is truncated to one bit finer than ``fmt``'s finest grid, and a sticky
    bit records a non-zero remainder: no rounding boundary of ``fmt`` lies strictly
    between that stand-in and the true quotient, so every rounding mode gives the result
    of rounding the exact rational.
    """
    extra = max(exact_fixed(fmt).frac - frac, 0) + 1
    bits = max(int(np.max(np.abs(num), initial=0)).bit_length(), 1) + extra + 2
    scaled = widen(np.asarray(num), bits) << extra
    den = widen(np.asarray(den), bits)
    q = scaled // den
    sticky = (scaled - q * den != 0).astype(q.dtype)
    return fmt.cast_int(2 * q + sticky, frac + extra + 1)


def finish(function: str, layer: Layer, acc: IntArray, frac: int) -> IntArray:
    """The activation (linear or relu) of an exact value on the grid 2**-frac, then its one
    rounding into ``layer``'s output format."""
    if function == "relu":
        acc = np.maximum(acc, 0)
    return layer.output.format.cast_int(acc, frac)


__all__ = ["cast_ratio", "dot", "exact_dtype", "finish", "widen", "windows"]
