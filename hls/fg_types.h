// fpga_gen HLS library: small value types shared by the kernels.
//
// Every number in a generated design is an ap_fixed / ap_ufixed whose format comes
// from the IR; constants are stored as integer mantissas and reinterpreted here, so no
// floating-point literal ever sits between the Python model and the hardware.
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

// The signed (or unsigned) integer type that holds the mantissa of fixed-point type T.
template <class T>
struct mantissa {
    typedef ap_int<T::width> type;
};
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct mantissa<ap_ufixed<W, I, Q, O, N> > {
    typedef ap_uint<W> type;
};

// value = bits * 2^-frac: a pure reinterpretation (wires, no logic). The mantissa type has
// T's width and signedness, so the underlying bit vectors (V) are the same type; copying V
// is also far faster in C simulation than a range() assignment.
template <class T>
inline T from_bits(const typename mantissa<T>::type &bits) {
#pragma HLS INLINE
    T v;
    v.V = bits.V;
    return v;
}

template <class T>
inline typename mantissa<T>::type to_bits(const T &v) {
#pragma HLS INLINE
    typename mantissa<T>::type bits;
    bits.V = v.V;
    return bits;
}

// ReLU on any fixed-point type: max(v, 0), exact (no rounding happens here).
template <class T>
inline T relu(const T &v) {
#pragma HLS INLINE
    return v < 0 ? T(0) : v;
}

}  // namespace fg

#endif
