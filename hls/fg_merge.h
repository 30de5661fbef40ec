// fpga_gen HLS library: the kernels of Add and Concatenate layers.
//
// add: element-wise sum of two tensors, exact, then one rounding. concat: two channels-last
// tensors joined along the channel axis, each element rounded into result_t.
// Layers with more inputs chain these two-input kernels through exact (add) or
// already-rounded (concat) intermediate tensors, which gives the same single rounding.
#ifndef FG_MERGE_H_
#define FG_MERGE_H_

#include "fg_minifloat.h"
#include "fg_types.h"
#include "hls_stream.h"

namespace fg {

// CONFIG_T: typedef a_t, b_t, result_t, accum_t (holds every a + b exactly); n, pack.
template <class CONFIG_T>
void add(hls::stream<vec<typename CONFIG_T::a_t, CONFIG_T::pack> > &in_a,
         hls::stream<vec<typename CONFIG_T::b_t, CONFIG_T::pack> > &in_b,
         hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pack> > &out) {
Beats:
    for (unsigned b = 0; b < CONFIG_T::n / CONFIG_T::pack; b++) {
#pragma HLS PIPELINE II=1
        FG_PIPELINED(CONFIG_T);
        const vec<typename CONFIG_T::a_t, CONFIG_T::pack> x = in_a.read();
        const vec<typename CONFIG_T::b_t, CONFIG_T::pack> y = in_b.read();
        vec<typename CONFIG_T::result_t, CONFIG_T::pack> z;
        for (unsigned k = 0; k < CONFIG_T::pack; k++) {
#pragma HLS UNROLL
            typename CONFIG_T::accum_t sum = exact(x[k]);
            sum += exact(y[k]);
            z[k] = convert<typename CONFIG_T::result_t>(sum);
        }
        out.write(z);
    }
}

// CONFIG_T: typedef a_t, b_t, result_t; pixels, a_channels, b_channels, pack (dividing both).
template <class CONFIG_T>
void concat(hls::stream<vec<typename CONFIG_T::a_t, CONFIG_T::pack> > &in_a,
            hls::stream<vec<typename CONFIG_T::b_t, CONFIG_T::pack> > &in_b,
            hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pack> > &out) {
    const unsigned a_beats = CONFIG_T::a_channels / CONFIG_T::pack;
    const unsigned beats = (CONFIG_T::a_channels + CONFIG_T::b_channels) / CONFIG_T::pack;
Pixels:
    for (unsigned p = 0; p < CONFIG_T::pixels; p++) {
    Beats:
        for (unsigned b = 0; b < beats; b++) {
#pragma HLS PIPELINE II=1
            FG_PIPELINED(CONFIG_T);
            vec<typename CONFIG_T::result_t, CONFIG_T::pack> z;
            if (b < a_beats) {
                const vec<typename CONFIG_T::a_t, CONFIG_T::pack> x = in_a.read();
                for (unsigned k = 0; k < CONFIG_T::pack; k++) {
#pragma HLS UNROLL
                    z[k] = convert<typename CONFIG_T::result_t>(exact(x[k]));
                }
            } else {
                const vec<typename CONFIG_T::b_t, CONFIG_T::pack> x = in_b.read();
                for (unsigned k = 0; k < CONFIG_T::pack; k++) {
#pragma HLS UNROLL
                    z[k] = convert<typename CONFIG_T::result_t>(exact(x[k]));
                }
            }
            out.write(z);
        }
    }
}

}  // namespace fg

#endif
