"""Choosing a format's scale from data: the range calibration of post-training quantization.

A *template* format names the kind and width (``fixed<8,3>``, ``e4m3``, ``ternary<1.0>``);
calibration keeps everything about it except its scale, which it picks from the data so
that the arithmetic stays exact:

- ``FixedPoint``: the integer bits (a power-of-two scale); width, sign and modes stay.
- ``MiniFloat``: the exponent bias (a power-of-two scale, ``MiniFloat.covering``).
- ``Ternary`` / ``Binary``: the scale itself, rounded to ``SCALE_BITS`` significant bits
  (a short fixed-point constant, exact in every product).

Methods: ``max`` covers the largest magnitude; ``percentile`` covers the given percentile
of the magnitudes (clipping outliers); ``mse`` tries ranges from the maximum down to
``2**-MSE_OCTAVES`` of it in steps of ``2**(1/MSE_STEPS)`` and keeps the one whose
quantization error (mean squared) is smallest.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import FormatError
from fpga_gen.formats import Binary, FixedPoint, Format, MiniFloat, Ternary

METHODS = ("max", "percentile", "mse")
SCALE_BITS = 8
MSE_OCTAVES = 6
MSE_STEPS = 4
# Activations are calibrated on a deterministic subsample of at most this many values.
MAX_SAMPLES = 200_000


def scaled(template: Format, max_abs: float) -> Format:
    """``template`` with the scale that puts ``max_abs`` at the top of its range."""
    r = float(max_abs) if np.isfinite(max_abs) and max_abs > 0 else 1.0  # an all-zero tensor: any scale
    if isinstance(template, FixedPoint):
        # the smallest integer part whose range reaches r: 2**(I - signed) > r
        return replace(template, integer=int(np.floor(np.log2(r))) + 1 + template.signed)
    if isinstance(template, MiniFloat):
        return template.covering(r)
    if isinstance(template, Ternary | Binary):
        mantissa, exponent = np.frexp(r)
        return type(template)(float(np.ldexp(np.round(mantissa * 2**SCALE_BITS), int(exponent) - SCALE_BITS)))
    raise FormatError(f"format {template} has no scale that calibration can choose")


def power_of_two_shift(reference: Format, fmt: Format) -> int:
    """k with fmt's values = reference's values * 2**k (both scalings of one fixed/minifloat template)."""
    if isinstance(reference, FixedPoint) and isinstance(fmt, FixedPoint):
        return fmt.integer - reference.integer
    if isinstance(reference, MiniFloat) and isinstance(fmt, MiniFloat):
        return reference.bias - fmt.bias
    raise FormatError(f"{fmt} is not a power-of-two scaling of {reference}")


def calibrate(values: npt.ArrayLike, template: Format, method: str = "max", percentile: float = 99.99) -> Format:
    """One format (per-tensor scale) for all of ``values``."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    if flat.size > MAX_SAMPLES:
        flat = flat[:: -(-flat.size // MAX_SAMPLES)]
    return calibrate_channels(flat[:, None], template, method, percentile)[0]


def calibrate_channels(
    values: npt.ArrayLike, template: Format, method: str = "max", percentile: float = 99.99
) -> list[Format]:
    """One format per column of ``values`` (n, channels)."""
    if method not in METHODS:
        raise FormatError(f"calibration method {method!r} is not one of {METHODS}")
    if not 0 < percentile <= 100:
        raise FormatError(f"percentile {percentile} must lie in (0, 100]")
    data = np.asarray(values, dtype=np.float64)
    top = np.max(np.abs(data), axis=0)
    if method == "max":
        return [scaled(template, r) for r in top]
    if method == "percentile":
        pct = np.percentile(np.abs(data), percentile, axis=0)
        return [scaled(template, p if p > 0 else r) for p, r in zip(pct, top, strict=True)]
    return [_mse_best(data[:, c], template, float(top[c])) for c in range(data.shape[1])]


def _mse_best(column: npt.NDArray[np.float64], template: Format, top: float) -> Format:
    candidates = {scaled(template, top * 2.0 ** (-j / MSE_STEPS)) for j in range(MSE_OCTAVES * MSE_STEPS + 1)}
    # sorted by name so that ties between equal errors are broken the same way every run
    ranked = sorted(candidates, key=str)
    errors = [float(np.mean((fmt.quantize(column) - column) ** 2)) for fmt in ranked]
    return ranked[int(np.argmin(errors))]
