// fpga_gen HLS library: element-wise activation, then one cast into the output format.
//
// The input's exact value (fixed point as is, a minifloat's Kulisch view) goes through
// the activation and is rounded once into result_t, as the golden model does.
//
// CONFIG_T fields:
//   typedef input_t, result_t      element types of the input and output tensors
//                                  (ap_fixed / ap_ufixed or fg::minifloat)
//   static const unsigned n        elements per sample
//   static const unsigned pack     elements per beat (in and out)
//   static const bool relu         max(x, 0) before the cast; otherwise the identity
#ifndef FG_ACTIVATION_H_
#define FG_ACTIVATION_H_

#include "fg_minifloat.h"
#include "fg_types.h"
#include "hls_stream.h"

namespace fg {

// v exact (fixed point), through relu or the identity, rounded into R.
template <class R, class F>
inline R activate(const F &v, bool use_relu) {
#pragma HLS INLINE
    return convert<R>(use_relu ? relu(v) : v);
}

template <class CONFIG_T>
void activation(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::pack> > &in,
                hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pack> > &out) {
Elements:
    for (unsigned b = 0; b < CONFIG_T::n / CONFIG_T::pack; b++) {
#pragma HLS PIPELINE II=1
        FG_PIPELINED(CONFIG_T);
        vec<typename CONFIG_T::input_t, CONFIG_T::pack> x = in.read();
        vec<typename CONFIG_T::result_t, CONFIG_T::pack> y;
        for (unsigned k = 0; k < CONFIG_T::pack; k++) {
#pragma HLS UNROLL
            y[k] = activate<typename CONFIG_T::result_t>(exact(x[k]), CONFIG_T::relu);
        }
        out.write(y);
    }
}

}  // namespace fg

#endif
