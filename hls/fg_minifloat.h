// fpga_gen HLS library: minifloats (FP8 / FP6 / FP4, any sign + ExMy), the C++ twin of
// fpga_gen.formats.MiniFloat.
//
// A code is sign | exponent field (E bits) | mantissa field (M bits). Field 0 holds zero
// and the subnormals 2^emin * m / 2^M (emin = 1 - BIAS); the other fields hold normals
// 2^(field - BIAS) * (1 + m / 2^M). FLAGS (an OR of MF_*) say which codes are special:
//   MF_INF (with MF_NAN)  IEEE style: the top field is inf (m = 0) or NaN (m != 0)
//   MF_NAN alone          the top field's all-ones mantissa is NaN (OCP E4M3 "FN")
//   MF_FNUZ (with MF_NAN) the negative-zero code is the only NaN, no -0
//   MF_SUBNORMALS         without it field 0 reads as zero and tiny results flush
//   MF_SATURATING         overflow gives +-max; else inf (if any), else NaN
// Every finite value is an integer times 2^-frac (frac = M - emin): to_fixed() is that
// integer on an ap_fixed (the Kulisch view), and from_fixed() rounds any exact ap_fixed
// accumulator back, round to nearest even. Both are synthesizable (bounded loops, shifts
// by ap_uint amounts); from_double() is for testbenches.
#ifndef FG_MINIFLOAT_H_
#define FG_MINIFLOAT_H_

#include <cmath>

#include "fg_types.h"

namespace fg {

enum minifloat_flags { MF_SUBNORMALS = 1, MF_INF = 2, MF_NAN = 4, MF_SATURATING = 8, MF_FNUZ = 16 };

// Bits needed to hold the unsigned value v (at least 1), for shift-amount types.
template <unsigned long long V>
struct bit_length {
    static const int value = V > 1 ? 1 + bit_length<V / 2>::value : 1;
};
template <>
struct bit_length<0> {
    static const int value = 1;
};

template <int E, int M, int BIAS, int FLAGS>
struct minifloat {
    static const int exponent_bits = E;
    static const int mantissa_bits = M;
    static const int bias = BIAS;
    static const int width = 1 + E + M;
    static const bool subnormals = (FLAGS & MF_SUBNORMALS) != 0;
    static const bool has_inf = (FLAGS & MF_INF) != 0;
    static const bool has_nan = (FLAGS & MF_NAN) != 0;
    static const bool saturating = (FLAGS & MF_SATURATING) != 0;
    static const bool fnuz = (FLAGS & MF_FNUZ) != 0;
    static const int emin = 1 - BIAS;  // exponent of the smallest normal and of every subnormal
    static const int frac = M - emin;  // every finite value is an integer times 2^-frac
    static const int all_ones_field = (1 << E) - 1;
    static const int all_ones_mantissa = (1 << M) - 1;
    // The largest finite value: top_field / top_mantissa (as MiniFloat._top_field / _top_mantissa).
    static const int top_field = has_inf || (has_nan && !fnuz && M == 0) ? all_ones_field - 1 : all_ones_field;
    static const int top_mantissa = has_nan && !has_inf && !fnuz && M > 0 ? all_ones_mantissa - 1 : all_ones_mantissa;
    // The narrowest ap_fixed holding every finite value (sizing.exact_fixed): the largest
    // magnitude (2^M + top_mantissa) << (top_field - 1) has M + top_field bits, plus a sign.
    static const int fixed_width = M + top_field + 1;

    typedef ap_uint<width> code_t;
    typedef ap_fixed<fixed_width, fixed_width - frac> fixed_t;
    // value = significand * 2^exponent: significand is +-(hidden bit . mantissa) on the
    // 2^-frac grid, exponent = max(field - 1, 0).
    typedef ap_fixed<M + 2, M + 2 - frac> significand_t;
    typedef ap_uint<E> exponent_t;

    code_t code;

    static minifloat from_code(const code_t &c) {
#pragma HLS INLINE
        minifloat v;
        v.code = c;
        return v;
    }

    bool sign() const { return code[width - 1] == 1; }
    ap_uint<E> field() const { return code(E + M - 1, M); }
    ap_uint<M + 1> mantissa() const { return code & all_ones_mantissa; }  // M + 1 bits: M may be 0

    bool is_nan() const {
        if (fnuz) {
            return code == code_t(1) << (width - 1);
        }
        if (has_inf) {
            return field() == all_ones_field && mantissa() != 0;
        }
        return has_nan && field() == all_ones_field && mantissa() == all_ones_mantissa;
    }
    bool is_inf() const { return has_inf && field() == all_ones_field && mantissa() == 0; }

    // Special codes (NaN, +-inf) read as 0: they have no fixed-point value, and a network
    // never carries them (inputs are quantized on the host, every cast here is finite
    // unless the format is non-saturating).
    significand_t significand() const {
#pragma HLS INLINE
        const bool normal = field() != 0;
        ap_uint<M + 1> sig = mantissa();
        if (!normal && !subnormals) {
            sig = 0;  // flushing hardware reads field 0 as zero (DAZ), as MiniFloat.from_codes
        }
        if (normal) {
            sig[M] = 1;  // the hidden bit
        }
        if (is_nan() || is_inf()) {
            sig = 0;
        }
        ap_int<M + 2> s = sign() ? ap_int<M + 2>(-sig) : ap_int<M + 2>(sig);
        significand_t r;
        r.V = s.V;
        return r;
    }

    exponent_t exponent() const {
#pragma HLS INLINE
        const ap_uint<E> f = field();
        return f == 0 ? exponent_t(0) : exponent_t(f - 1);
    }

    // The exact value (MiniFloat's integer on the 2^-frac grid, as exact_fixed(fmt)).
    fixed_t to_fixed() const {
#pragma HLS INLINE
        return fixed_t(significand()) << exponent();
    }

    // RNE conversion of an exact accumulator v = n * 2^-F, exactly MiniFloat.cast_int:
    // ties to even, saturating to +-max (non-saturating formats: inf, else NaN; a format
    // with neither saturates), tiny results flushed when there are no subnormals (a tie
    // goes to 0), and zero results are +0.
    template <int W2, int I2, bool S2, ap_q_mode Q2, ap_o_mode O2, int N2>
    static minifloat from_fixed(const ap_fixed_base<W2, I2, S2, Q2, O2, N2> &v) {
#pragma HLS INLINE
        const int F = W2 - I2;
        ap_int_base<W2, S2> n;
        n.V = v.V;
        const bool negative = S2 && n < 0;
        const ap_uint<W2> mag = negative ? ap_uint<W2>(-n) : ap_uint<W2>(n);

        // Leading one: a priority encoder over the W2 bits.
        int lead = -1;
    LeadingOne:
        for (int i = 0; i < W2; i++) {
#pragma HLS UNROLL
            if (mag[i]) {
                lead = i;
            }
        }
        if (lead < 0) {
            return from_code(0);
        }

        // Bits of n below the result's step: the binade's, or the subnormal step's.
        const int subnormal_drop = F - frac;
        const int drop = lead - M > subnormal_drop ? lead - M : subnormal_drop;
        // Rounded significand: at most 2^(M+1) (a carry into the next binade).
        ap_uint<M + 2> q = 0;
        if (drop >= W2) {
            q = 0;  // |n| <= 2^(W2-1) is at most half a step: 0 (a tie goes to the even 0)
        } else if (drop > 0) {
            const ap_uint<bit_length<W2>::value> sh = drop;
            const ap_uint<W2> kept = mag >> sh;
            const ap_uint<W2> rem = mag - (kept << sh);
            const ap_uint<W2> half = ap_uint<W2>(1) << (sh - 1);
            q = kept + ((rem > half || (rem == half && kept[0])) ? 1 : 0);
        } else {
            const ap_uint<bit_length<M + 1>::value> sh = -drop;
            q = ap_uint<M + 2>(mag) << sh;  // exact: n has no bits below the step
        }

        const int exp = drop + M - F;  // q is in units of 2^(exp - M)
        int out_field = 0;
        ap_uint<M + 2> out_mant = q;
        if (q[M + 1]) {
            out_field = exp + BIAS + 1;
            out_mant = 0;
        } else if (q[M]) {
            out_field = exp + BIAS;
            out_mant = q & all_ones_mantissa;
        } else if (!subnormals && q != 0) {
            // A subnormal result flushes to 0 or to the smallest normal, whichever is
            // nearer to the unrounded value (a tie goes to 0): compare n with 2^(emin-1+F).
            const int half_min = emin - 1 + F;
            bool up = true;
            if (half_min >= W2) {
                up = false;
            } else if (half_min >= 0) {
                up = mag > (ap_uint<W2>(1) << half_min);
            }
            out_field = up ? 1 : 0;
            out_mant = 0;
        }

        if (out_field > top_field || (out_field == top_field && out_mant > top_mantissa)) {
            return overflow(negative);
        }
        return pack(negative && (out_field != 0 || out_mant != 0), out_field, out_mant);
    }

    // Round a double exactly as MiniFloat.quantize (RNE, -0 kept except in FNUZ formats,
    // NaN and inf where the format has them). For testbenches, not for synthesis. Where
    // quantize raises (NaN into a format without NaN, overflow of a non-saturating format
    // without inf or NaN) this gives +0 and +-max respectively.
    static minifloat from_double(double x) {
        const double a = std::fabs(x);
        const bool negative = std::signbit(x);
        if (std::isnan(x)) {
            return has_nan ? nan() : from_code(0);
        }
        const double min_normal = std::ldexp(1.0, emin);
        const double max_value = std::ldexp(double((1 << M) + top_mantissa), top_field - 1 - frac);
        double r = a;
        if (!std::isinf(a)) {
            int e = 0;
            std::frexp(a, &e);
            const int step_exp = (e - 1 > emin ? e - 1 : emin) - M;
            r = std::ldexp(std::nearbyint(std::ldexp(a, -step_exp)), step_exp);  // exact scalings
        }
        if (!subnormals && r < min_normal) {
            r = a > min_normal / 2 ? min_normal : 0.0;
        }
        if (!(r <= max_value)) {
            return overflow(negative);
        }
        if (r == 0) {
            return from_code(negative && !fnuz ? code_t(1) << (width - 1) : code_t(0));
        }
        int e = 0;
        std::frexp(r, &e);
        const int out_field = r >= min_normal ? e - 1 + BIAS : 0;
        const int step_exp = (out_field > 0 ? e - 1 : emin) - M;
        const long long m = (long long)std::ldexp(r, -step_exp);
        return pack(negative, out_field, ap_uint<M + 2>(m & all_ones_mantissa));
    }

  private:
    static minifloat pack(bool negative, int out_field, const ap_uint<M + 2> &out_mant) {
#pragma HLS INLINE
        code_t c = code_t(ap_uint<E>(out_field)) << M;
        c |= code_t(out_mant & all_ones_mantissa);
        c[width - 1] = negative;
        return from_code(c);
    }

    static minifloat nan() {
#pragma HLS INLINE
        // MiniFloat._nan_code: the negative-zero code in FNUZ, else all ones but the sign.
        const code_t sign_bit = code_t(1) << (width - 1);
        return from_code(fnuz ? sign_bit : code_t(sign_bit - 1));
    }

    static minifloat overflow(bool negative) {
#pragma HLS INLINE
        if (saturating || (!has_inf && !has_nan)) {
            return pack(negative, top_field, top_mantissa);
        }
        if (has_inf) {
            return pack(negative, all_ones_field, 0);
        }
        return nan();
    }
};

template <int E, int M, int BIAS, int FLAGS>
struct bits<minifloat<E, M, BIAS, FLAGS> > {
    static const int width = minifloat<E, M, BIAS, FLAGS>::width;
    typedef ap_uint<width> type;
    static minifloat<E, M, BIAS, FLAGS> from(const type &b) {
#pragma HLS INLINE
        return minifloat<E, M, BIAS, FLAGS>::from_code(b);
    }
    static type to(const minifloat<E, M, BIAS, FLAGS> &v) {
#pragma HLS INLINE
        return v.code;
    }
};

template <int E, int M, int BIAS, int FLAGS>
inline typename minifloat<E, M, BIAS, FLAGS>::fixed_t exact(const minifloat<E, M, BIAS, FLAGS> &v) {
#pragma HLS INLINE
    return v.to_fixed();
}

template <int E, int M, int BIAS, int FLAGS>
struct converter<minifloat<E, M, BIAS, FLAGS> > {
    template <class F>
    static minifloat<E, M, BIAS, FLAGS> from(const F &v) {
#pragma HLS INLINE
        return minifloat<E, M, BIAS, FLAGS>::from_fixed(v);
    }
};

template <int E, int M, int BIAS, int FLAGS>
struct significand_of<minifloat<E, M, BIAS, FLAGS> > {
    static const bool shifted = true;
    typedef typename minifloat<E, M, BIAS, FLAGS>::significand_t type;
    typedef typename minifloat<E, M, BIAS, FLAGS>::exponent_t exponent_t;
    static type significand(const minifloat<E, M, BIAS, FLAGS> &v) {
#pragma HLS INLINE
        return v.significand();
    }
    static exponent_t exponent(const minifloat<E, M, BIAS, FLAGS> &v) {
#pragma HLS INLINE
        return v.exponent();
    }
};

}  // namespace fg

#endif
