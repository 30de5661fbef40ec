// fpga_gen HLS library: element-wise activation, then one cast into the output format.
//
// CONFIG_T fields:
//   typedef input_t, result_t      element types of the input and output tensors
//   static const unsigned n        elements per sample
//   static const unsigned pack     elements per beat (in and out)
//   static const bool relu         max(x, 0) before the cast; otherwise the identity
#ifndef FG_ACTIVATION_H_
#define FG_ACTIVATION_H_

#include "fg_types.h"
#include "hls_stream.h"

namespace fg {

template <class CONFIG_T>
void activation(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::pack> > &in,
                hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pack> > &out) {
    typedef typename CONFIG_T::input_t input_t;
Elements:
    for (unsigned b = 0; b < CONFIG_T::n / CONFIG_T::pack; b++) {
#pragma HLS PIPELINE II=1
        vec<input_t, CONFIG_T::pack> x = in.read();
        vec<typename CONFIG_T::result_t, CONFIG_T::pack> y;
        for (unsigned k = 0; k < CONFIG_T::pack; k++) {
#pragma HLS UNROLL
            const input_t v = CONFIG_T::relu ? relu(x[k]) : x[k];
            y[k] = typename CONFIG_T::result_t(v);
        }
        out.write(y);
    }
}

}  // namespace fg

#endif
