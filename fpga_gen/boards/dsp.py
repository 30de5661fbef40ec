"""The DSP primitives the RTL engines instantiate: one entry each in ``PRIMITIVES``.

An entry holds every fact the generator needs about a slice: its multiplier operand
widths (the fold pass, the engines' operand checks), its pre-adder width (operand
packing), its P / cascade width, the Verilog files that model it in simulation, and the
``synth_xilinx -family`` whose cell library has it. Adding a primitive is one entry here
plus its thin wrapper in rtl/ over the shared behavioural datapath (rtl/fg_dsp48_model.v).

Operand packing (AMD WP486, "Deep Learning with INT8 Optimization on Xilinx Devices"):
two weights share the slice's pre-adder, ``AD = w_hi * 2**s + w_lo`` (D + A, UG579 /
UG479), multiplied by the shared input x on the B port: ``P = (w_hi * x) * 2**s + w_lo * x``.
A cascade of SIMD such slices sums both fields at once, ``P = HI * 2**s + LO``, and
rtl/fg_dsp_pair.v recovers them exactly (LO = P sign-extended from s bits, HI = (P - LO) >> s)
provided, for every value the formats allow:

* x fits the B port (two's complement);
* ``w_hi * 2**s + w_lo`` fits the pre-adder output (no wrap);
* LO fits s bits signed (the exact SIMD-wide partial sum of the layer's formats), and HI
  fits the P bits above it.

The partial sum bound is the plan's own (``accumulator_format(x, w, simd)``), so s is its
signed width: the smallest field that holds LO, which leaves the most room for HI and the
pre-adder. On a DSP48E2 (27-bit pre-adder) that packs INT8 x INT8 up to simd=4; on a
DSP48E1 (25 bits) INT8 only at simd=1, 4-bit weights up to far longer chains.

Four products per slice (AMD WP521, "Convolutional Neural Network with INT4 Optimization on
Xilinx Devices"): two PE rows' weights w0 (row 2k), w1 (row 2k+1) packed at build time into
the B operand, ``B = w1 * 2**K + w0``, and two vectors' inputs x0, x1 (two output positions
of a convolution, which share the weights) on the pre-adder, ``AD = x1 * 2**(2K) + x0``
(D + A). One slice then computes ``P = f0 + f1 * 2**K + f2 * 2**(2K) + f3 * 2**(3K)`` with
f0 = x0 w0, f1 = x0 w1, f2 = x1 w0, f3 = x1 w1, and a cascade sums every field over its SIMD
lanes (mod 2**48). Each field comes back exactly on its own (``quad_fields``):
``f_i = sext(P[iK +: K] + P[iK - 1])`` (P[-1] = 0), since the fields below field i sum to
``L_i = f_0 + ... + f_{i-1} * 2**((i-1)K)``, which the rule keeps within iK bits signed, so
``L_i = sext(P[iK-1:0])`` and ``(P - L_i) >> iK`` is exact. ``quad_shift`` gives K when, for
every value the formats allow, AD fits the pre-adder, B the B port, and L_1 .. L_3 (and the
whole sum L_4, within P) their bits; K is the fields' signed width or the first wider one
that passes, the fields bounded exactly (simd times the extreme products). On a DSP48E2,
4-bit weights x 4-bit inputs pack with K = 11 up to simd = 8 (the fields hold [-960, 840]);
a DSP48E1's 25-bit pre-adder holds a 4-bit x1 only up to 2K = 20 bits, so up to simd = 4.
8-bit formats never quad-pack.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpga_gen.errors import BoardError
from fpga_gen.formats import FixedPoint, Format, MiniFloat
from fpga_gen.formats.sizing import accumulator_format, int_range


@dataclass(frozen=True)
class DspPrimitive:
    """One DSP slice primitive: ``a_bits`` x ``b_bits`` signed multiplier, ``preadd_bits`` pre-adder
    output (the multiplier's A operand when packing), ``p_bits`` post-adder and cascade."""

    name: str
    a_bits: int
    b_bits: int
    preadd_bits: int
    p_bits: int
    sim_files: tuple[str, ...]  # rtl/ files modelling the primitive under Verilator (never synthesized)
    yosys_family: str  # synth_xilinx -family

    def pack_shift(self, x_fmt: Format, w_fmt: Format, pe: int, simd: int) -> int | None:
        """The low field's width s when a layer folded to ``pe`` x ``simd`` runs two PE rows per
        cascade of these slices (an odd last row alone), two weights of ``w_fmt`` sharing each input
        of ``x_fmt``; None when it runs one MAC per slice."""
        if pe < 2 or not (isinstance(x_fmt, FixedPoint) and isinstance(w_fmt, FixedPoint)):
            return None
        x_lo, x_hi, _ = int_range(x_fmt)
        if signed_width(x_lo, x_hi) > self.b_bits:
            return None
        psum = accumulator_format(x_fmt, w_fmt, simd)
        s = signed_width(psum.min_int, psum.max_int)
        w_lo, w_hi, _ = int_range(w_fmt)
        preadd_lo, preadd_hi = w_lo * 2**s + w_lo, w_hi * 2**s + w_hi
        limit = 2 ** (self.preadd_bits - 1)
        if preadd_lo < -limit or preadd_hi >= limit or 2 * s > self.p_bits:
            return None
        return s

    def quad_shift(self, x_fmt: Format, w_fmt: Format, pe: int, simd: int) -> int | None:
        """The field width K when a layer folded to ``pe`` x ``simd`` runs two PE rows and two input
        vectors per cascade of these slices (four products per slice, AMD WP521; see the module
        docstring); None when the formats or an odd ``pe`` do not allow it. The caller decides
        whether the layer has two vectors sharing its weights (a convolution's positions)."""
        if pe < 2 or pe % 2 or not (isinstance(x_fmt, FixedPoint) and isinstance(w_fmt, FixedPoint)):
            return None
        x_lo, x_hi, _ = int_range(x_fmt)
        w_lo, w_hi, _ = int_range(w_fmt)
        # every field is a sum of simd products of the formats' codes: the exact bound, not the
        # partial sum format's (a power of two, which would cost a bit of every field)
        products = [a * b for a in (x_lo, x_hi) for b in (w_lo, w_hi)]
        f_lo, f_hi = simd * min(products), simd * max(products)

        def packs(k: int) -> bool:
            # the fields below field i sum to L_i, in [f_lo, f_hi] * (2**(iK) - 1) / (2**K - 1)
            span = [(2 ** (i * k) - 1) // (2**k - 1) for i in range(1, 5)]
            return (
                signed_width(x_lo * 2 ** (2 * k) + x_lo, x_hi * 2 ** (2 * k) + x_hi) <= self.preadd_bits
                and signed_width(w_lo * 2**k + w_lo, w_hi * 2**k + w_hi) <= self.b_bits
                and all(signed_width(f_lo * n, f_hi * n) <= i * k for i, n in enumerate(span[:3], 1))
                and signed_width(f_lo * span[3], f_hi * span[3]) <= self.p_bits
            )

        s = signed_width(f_lo, f_hi)
        return next((k for k in range(s, self.p_bits // 4 + 1) if packs(k)), None)


# UG479 (7 Series DSP48E1): 25 x 18 multiplier, 25-bit pre-adder (D + A[24:0]), 48-bit P.
DSP48E1 = DspPrimitive("DSP48E1", 25, 18, 25, 48, ("fg_dsp48_model.v", "fg_dsp48e1.v"), "xc7")
# UG579 (UltraScale DSP48E2): 27 x 18 multiplier, 27-bit pre-adder, 48-bit P.
DSP48E2 = DspPrimitive("DSP48E2", 27, 18, 27, 48, ("fg_dsp48_model.v", "fg_dsp48e2.v"), "xcup")
PRIMITIVES: dict[str, DspPrimitive] = {p.name: p for p in (DSP48E1, DSP48E2)}


# Two's complement significand bits (4 magnitude bits) up to which the minifloat engine builds a
# lane's significand product in fabric instead of on a slice (rtl/fg_mf_mac.v LUT_V_W): every
# FP8 / FP6 / FP4 format. Such a product is a few dozen LUTs (Yosys synth_xilinx: 5 x 5 bits,
# tests/test_yosys.py), a slice is worth ~240 LUTs of an xc7z020 (53,200 LUTs / 220 DSPs).
FABRIC_PRODUCT_BITS = 5


def significand_bits(fmt: Format) -> int:
    """Two's complement bits of the minifloat engine's decoded significand of ``fmt``: a minifloat's
    sign, hidden bit and mantissa; a fixed-point mantissa (unsigned ones zero-extended)."""
    if isinstance(fmt, MiniFloat):
        return fmt.mantissa_bits + 2
    lo, hi, _ = int_range(fmt)
    return signed_width(lo, hi)


def fabric_product(x_fmt: Format, w_fmt: Format) -> bool:
    """Whether the minifloat engine (a minifloat operand, weights that multiply) multiplies these
    formats' significands in fabric: both at most FABRIC_PRODUCT_BITS wide."""
    return (
        any(isinstance(f, MiniFloat) for f in (x_fmt, w_fmt))
        and all(isinstance(f, FixedPoint | MiniFloat) for f in (x_fmt, w_fmt))
        and max(significand_bits(x_fmt), significand_bits(w_fmt)) <= FABRIC_PRODUCT_BITS
    )


def primitive(kind: str) -> DspPrimitive:
    """The primitive named ``kind`` (a board's ``dsp_kind``)."""
    found = PRIMITIVES.get(kind)
    if found is None:
        raise BoardError(
            f"dsp_kind {kind!r} is no DSP primitive fpga_gen instantiates: use one of {sorted(PRIMITIVES)} "
            "(the board's dsp_kind)"
        )
    return found


def quad_product(x0: list[int], x1: list[int], w0: list[int], w1: list[int], k: int, dsp: DspPrimitive) -> int:
    """The P of a cascade of quad-packed slices (rtl/fg_dsp_quad.v): lane j's ``AD = x1 * 2**(2K) + x0``
    wrapped to the pre-adder, ``B = w1 * 2**K + w0`` wrapped to the B port, the products summed and
    wrapped to P."""
    lanes = zip(x0, x1, w0, w1, strict=True)
    return wrap(
        sum(wrap((b << 2 * k) + a, dsp.preadd_bits) * wrap((d << k) + c, dsp.b_bits) for a, b, c, d in lanes),
        dsp.p_bits,
    )


def quad_fields(p: int, k: int) -> tuple[int, int, int, int]:
    """The four fields of a quad-packed P as rtl/fg_dsp_quad.v reads them: field i is
    ``P[iK +: K] + P[iK - 1]`` (P[-1] = 0) as a K-bit signed value: (x0 w0, x0 w1, x1 w0, x1 w1)
    summed over the lanes, whenever ``quad_shift`` gave K."""
    u = p & (2**48 - 1)
    f0, f1, f2, f3 = (wrap((u >> (i * k)) + ((u >> (i * k - 1)) & 1 if i else 0), k) for i in range(4))
    return f0, f1, f2, f3


def wrap(v: int, bits: int) -> int:
    """``v`` as a ``bits``-bit two's complement register holds it."""
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def cascades(pe: int, packed: bool) -> int:
    """DSP cascades of ``pe`` PE rows: one each, or with packing one per pair of rows and one
    for an odd last row (rtl/fg_dense.v); each cascade is SIMD slices long."""
    return (pe + 1) // 2 if packed else pe


def signed_width(lo: int, hi: int) -> int:
    """Bits of the narrowest two's complement integer holding [lo, hi]."""
    return max((-lo - 1).bit_length() if lo < 0 else 0, hi.bit_length()) + 1
