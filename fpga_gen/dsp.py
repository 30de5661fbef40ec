"""Two multiply-accumulates per DSP slice sharing one operand (operand packing).

AMD WP486 ("Deep Learning with INT8 Optimization on Xilinx Devices") packs two weights
into the DSP48E2's 27-bit pre-adder, ``AD = w_hi * 2**s + w_lo`` (D + A, UG579), and
multiplies by the shared input x on the 18-bit B port: ``P = (w_hi * x) * 2**s + w_lo * x``.
A cascade of SIMD such slices sums both fields at once, ``P = HI * 2**s + LO``, and
rtl/fg_dsp_pair.v recovers them exactly (LO = P sign-extended from s bits, HI = (P - LO) >> s)
provided, for every value the formats allow:

* x fits the B port: 18 bits two's complement;
* ``w_hi * 2**s + w_lo`` fits the pre-adder output (no wrap);
* LO fits s bits signed (the exact SIMD-wide partial sum of the layer's formats), and HI
  fits the 48 - s bits of P above it.

The partial sum bound is the plan's own (``accumulator_format(x, w, simd)``), so s is its
signed width: the smallest field that holds LO, which leaves the most room for HI and the
pre-adder. A DSP48E1 has the same pre-adder in front of its multiplier, 25 bits wide (D +
A[24:0] into the 25 x 18 multiplier, UG479), so it packs narrower layers the same way:
INT8 x INT8 only at simd=1 (s = 16: 8 + 16 bits), 4-bit weights up to far longer chains.
"""

from __future__ import annotations

from fpga_gen.formats import FixedPoint, Format
from fpga_gen.formats.sizing import accumulator_format, int_range

B_PORT_BITS = 18
PREADD_BITS = {"DSP48E1": 25, "DSP48E2": 27}  # pre-adder output = the multiplier's A operand
P_BITS = 48


def _signed_width(lo: int, hi: int) -> int:
    """Bits of the narrowest two's complement integer holding [lo, hi]."""
    return max((-lo - 1).bit_length() if lo < 0 else 0, hi.bit_length()) + 1


def cascades(pe: int, packed: bool) -> int:
    """DSP cascades of ``pe`` PE rows: one each, or with packing one per pair of rows and one
    for an odd last row (rtl/fg_dense.v); each cascade is SIMD slices long."""
    return (pe + 1) // 2 if packed else pe


def pack_shift(dsp_kind: str, x_fmt: Format, w_fmt: Format, pe: int, simd: int) -> int | None:
    """The low field's width s when a layer folded to ``pe`` x ``simd`` runs two PE rows per
    cascade of ``dsp_kind`` slices (an odd last row alone), two weights of ``w_fmt`` sharing each
    input of ``x_fmt``; None when it runs one MAC per slice."""
    if pe < 2 or dsp_kind not in PREADD_BITS or not (isinstance(x_fmt, FixedPoint) and isinstance(w_fmt, FixedPoint)):
        return None
    x_lo, x_hi, _ = int_range(x_fmt)
    if _signed_width(x_lo, x_hi) > B_PORT_BITS:
        return None
    psum = accumulator_format(x_fmt, w_fmt, simd)
    s = _signed_width(psum.min_int, psum.max_int)
    w_lo, w_hi, _ = int_range(w_fmt)
    preadd_lo, preadd_hi = w_lo * 2**s + w_lo, w_hi * 2**s + w_hi
    preadd = PREADD_BITS[dsp_kind]
    if preadd_lo < -(2 ** (preadd - 1)) or preadd_hi >= 2 ** (preadd - 1) or 2 * s > P_BITS:
        return None
    return s
