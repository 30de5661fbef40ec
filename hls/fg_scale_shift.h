// fpga_gen HLS library: per-channel x * scale[c] + shift[c] (a folded batchnorm).
//
// The product and the sum are exact in accum_t (sized by fpga_gen); the activation and
// the one rounding into result_t follow, as for a dense layer.
//
// CONFIG_T fields (and those of fg_channelwise.h):
//   typedef scale_t, shift_t               formats of the constants; *_store_t their codes
//   typedef accum_t                        exact x * scale + shift
//   static const bool relu                 max(., 0) before the rounding
#ifndef FG_SCALE_SHIFT_H_
#define FG_SCALE_SHIFT_H_

#include "fg_channelwise.h"
#include "fg_minifloat.h"
#include "fg_types.h"
#include "hls_stream.h"

namespace fg {

template <class CONFIG_T>
struct scale_shift_op {
    template <class A, class B>
    static typename CONFIG_T::result_t apply(const typename CONFIG_T::input_t &x, unsigned c, const A &scales,
                                             const B &shifts) {
#pragma HLS INLINE
        typename CONFIG_T::accum_t acc = exact(from_bits<typename CONFIG_T::shift_t>(shifts[c]));
        mac(acc, x, from_bits<typename CONFIG_T::scale_t>(scales[c]));
        return convert<typename CONFIG_T::result_t>(CONFIG_T::relu ? relu(acc) : acc);
    }
};

template <class CONFIG_T>
void scale_shift(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::pack> > &in,
                 hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pack> > &out,
                 const typename CONFIG_T::scale_store_t scales[CONFIG_T::channels],
                 const typename CONFIG_T::shift_store_t shifts[CONFIG_T::channels]) {
    const unsigned pack = CONFIG_T::pack;
#pragma HLS ARRAY_PARTITION variable=scales cyclic factor=pack
#pragma HLS ARRAY_PARTITION variable=shifts cyclic factor=pack
    channelwise<CONFIG_T, scale_shift_op<CONFIG_T> >(in, out, scales, shifts);
}

}  // namespace fg

#endif
