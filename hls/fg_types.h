// fpga_gen HLS library: small value types shared by the kernels.
//
// Every number in a generated design is an ap_fixed / ap_ufixed or an fg::minifloat
// (fg_minifloat.h) whose format comes from the IR; ternary / binary weights are
// fg::ternary / fg::binary (fg_ternary.h). Constants and stream lanes are the formats'
// bit patterns ("codes"), reinterpreted here, so no floating-point literal ever sits
// between the Python model and the hardware.
#ifndef FG_TYPES_H_
#define FG_TYPES_H_

#include "ap_fixed.h"
#include "ap_int.h"

namespace fg {

// N elements moved together: one beat of an internal stream (SIMD inputs or PE outputs).
template <class T, unsigned N>
struct vec {
    T data[N];
    T &operator[](unsigned i) { return data[i]; }
    const T &operator[](unsigned i) const { return data[i]; }
};

// bits<T>: how one value of T is stored. `type` is an ap_int / ap_uint of `width` bits
// holding the format's code (for fixed point: its two's complement mantissa); from() and
// to() reinterpret it (wires, no logic). Every element type has a specialization.
template <class T>
struct bits;

template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct bits<ap_fixed<W, I, Q, O, N> > {
    static const int width = W;
    typedef ap_int<W> type;
    // Copying V (same ap_private type) is far faster in C simulation than range().
    static ap_fixed<W, I, Q, O, N> from(const type &b) {
#pragma HLS INLINE
        ap_fixed<W, I, Q, O, N> v;
        v.V = b.V;
        return v;
    }
    static type to(const ap_fixed<W, I, Q, O, N> &v) {
#pragma HLS INLINE
        type b;
        b.V = v.V;
        return b;
    }
};

template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct bits<ap_ufixed<W, I, Q, O, N> > {
    static const int width = W;
    typedef ap_uint<W> type;
    static ap_ufixed<W, I, Q, O, N> from(const type &b) {
#pragma HLS INLINE
        ap_ufixed<W, I, Q, O, N> v;
        v.V = b.V;
        return v;
    }
    static type to(const ap_ufixed<W, I, Q, O, N> &v) {
#pragma HLS INLINE
        type b;
        b.V = v.V;
        return b;
    }
};

template <class T>
inline T from_bits(const typename bits<T>::type &b) {
#pragma HLS INLINE
    return bits<T>::from(b);
}

template <class T>
inline typename bits<T>::type to_bits(const T &v) {
#pragma HLS INLINE
    return bits<T>::to(v);
}

// exact(v): the value of v as a fixed-point number, exactly. Fixed point is already one;
// fg_minifloat.h adds the minifloat overload (its Kulisch view).
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
inline ap_fixed<W, I, Q, O, N> exact(const ap_fixed<W, I, Q, O, N> &v) {
#pragma HLS INLINE
    return v;
}

template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
inline ap_ufixed<W, I, Q, O, N> exact(const ap_ufixed<W, I, Q, O, N> &v) {
#pragma HLS INLINE
    return v;
}

// convert<R>(v): a fixed-point value into element type R, the one rounding of a layer.
// Fixed point uses R's own rounding / overflow modes; minifloat specializes it (RNE).
template <class R>
struct converter {
    template <class F>
    static R from(const F &v) {
#pragma HLS INLINE
        return R(v);
    }
};

template <class R, class F>
inline R convert(const F &v) {
#pragma HLS INLINE
    return converter<R>::from(v);
}

// significand_of<T>: a value as significand * 2^exponent, which is how exact products are
// formed (a narrow multiply, then a shift). Fixed point is its own significand, exponent 0.
template <class T>
struct significand_of {
    static const bool shifted = false;
    typedef T type;
    typedef ap_uint<1> exponent_t;
    static type significand(const T &v) {
#pragma HLS INLINE
        return v;
    }
    static exponent_t exponent(const T &) {
#pragma HLS INLINE
        return 0;
    }
};

// The exact product a * b as an ACC, which must hold every product of the two formats.
template <bool SHIFTED>
struct exact_product {
    // Significand product (a small multiplier), then the exponent alignment (a shifter).
    // ACC's grid is the product's, so the conversion is exact, and so is the shift.
    template <class ACC, class A, class B>
    static ACC of(const A &a, const B &b) {
#pragma HLS INLINE
        typedef significand_of<A> sa;
        typedef significand_of<B> sb;
        return ACC(sa::significand(a) * sb::significand(b)) << (sa::exponent(a) + sb::exponent(b));
    }
};

template <>
struct exact_product<false> {
    // Fixed point times fixed point: the plain full-precision ap_fixed product.
    template <class ACC, class A, class B>
    static ACC of(const A &a, const B &b) {
#pragma HLS INLINE
        return ACC(a * b);
    }
};

template <class ACC, class A, class B>
inline ACC product(const A &a, const B &b) {
#pragma HLS INLINE
    return exact_product<significand_of<A>::shifted || significand_of<B>::shifted>::template of<ACC>(a, b);
}

// acc += x * w for weights that multiply (fixed point, minifloat); fg_ternary.h
// overloads it for sign weights. SUM holds every sum of such products exactly.
template <class SUM, class X, class W>
inline void mac(SUM &acc, const X &x, const W &w) {
#pragma HLS INLINE
    acc += product<SUM>(x, w);
}

// ReLU on any fixed-point type: max(v, 0), exact (no rounding happens here).
template <class T>
inline T relu(const T &v) {
#pragma HLS INLINE
    return v < 0 ? T(0) : v;
}

// Iterations of the pipelined loops of the process configured by CONFIG_T. C simulation built
// with -DFG_COUNT_ITERATIONS counts them (FG_PIPELINED, the first statement of every pipelined
// loop body) so a test can check each process's count against the schedule fpga_gen wrote
// into the manifest; synthesis never defines it, and the macro is then nothing.
template <class CONFIG_T>
struct iterations {
    static unsigned long count;
};
template <class CONFIG_T>
unsigned long iterations<CONFIG_T>::count = 0;

}  // namespace fg

#ifdef FG_COUNT_ITERATIONS
#define FG_PIPELINED(CONFIG_T) (++::fg::iterations<CONFIG_T>::count)
#else
#define FG_PIPELINED(CONFIG_T) ((void)0)
#endif

#endif
