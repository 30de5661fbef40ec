// fpga_gen HLS library: ternary and binary weights, the C++ twins of
// fpga_gen.formats.Ternary / Binary.
//
// A weight is only a sign level, so a dense layer needs no multiplier: it adds or
// subtracts each (exact) input by the weight's sign, a mux in front of an adder, into an
// exact sum, and applies the scale once per output neuron (fg::scale below).
#ifndef FG_TERNARY_H_
#define FG_TERNARY_H_

#include "fg_types.h"

namespace fg {

// Level -1, 0 or +1; the code is its two's complement (+1 -> 0b01, -1 -> 0b11, 0 -> 0b00).
struct ternary {
    ap_int<2> level;
};

// Level +1 (code 0) or -1 (code 1).
struct binary {
    ap_uint<1> negative;
};

template <>
struct bits<ternary> {
    static const int width = 2;
    typedef ap_int<2> type;
    static ternary from(const type &b) {
#pragma HLS INLINE
        ternary w;
        w.level = b;
        return w;
    }
    static type to(const ternary &w) {
#pragma HLS INLINE
        return w.level;
    }
};

template <>
struct bits<binary> {
    static const int width = 1;
    typedef ap_uint<1> type;
    static binary from(const type &b) {
#pragma HLS INLINE
        binary w;
        w.negative = b;
        return w;
    }
    static type to(const binary &w) {
#pragma HLS INLINE
        return w.negative;
    }
};

// acc += level * x: add, subtract or keep (SUM holds every sum of +-x exactly).
template <class SUM, class X>
inline void mac(SUM &acc, const X &x, const ternary &w) {
#pragma HLS INLINE
    if (w.level == 1) {
        acc += exact(x);
    } else if (w.level == -1) {
        acc -= exact(x);
    }
}

template <class SUM, class X>
inline void mac(SUM &acc, const X &x, const binary &w) {
#pragma HLS INLINE
    if (w.negative) {
        acc -= exact(x);
    } else {
        acc += exact(x);
    }
}

// One output channel's scale, sig * 2^(shift - FRAC) with sig odd: a power of two has
// sig = 1 (SIG_W = 1) and costs only the shift; any other scale one multiply by the short
// constant sig. FRAC is the Ternary/Binary format's frac (the finest grid of its scales).
template <int SIG_W, int SHIFT_W, int FRAC>
struct channel_scale {
    ap_uint<SIG_W> sig;
    ap_uint<SHIFT_W> shift;
};

// sum * scale, exactly, as an ACC: ACC's grid is the product's and it holds every product.
template <class ACC, class SUM, int SIG_W, int SHIFT_W, int FRAC>
inline ACC scale(const SUM &sum, const channel_scale<SIG_W, SHIFT_W, FRAC> &s) {
#pragma HLS INLINE
    ap_ufixed<SIG_W, SIG_W - FRAC> sig;
    sig.V = s.sig.V;
    return ACC(sum * sig) << s.shift;
}

}  // namespace fg

#endif
