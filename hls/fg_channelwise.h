// fpga_gen HLS library: the loop of the per-channel element-wise layers.
//
// Every element of a channels-last sample goes through OP::apply(x, c, a, b), c its
// channel (the last axis) and a, b the layer's two constant tables (ROMs indexed by c).
// A beat never straddles two pixels: pack divides channels.
//
// CONFIG_T fields: typedef input_t, result_t; static const unsigned n (elements per
// sample), channels, pack.
#ifndef FG_CHANNELWISE_H_
#define FG_CHANNELWISE_H_

#include "fg_types.h"
#include "hls_stream.h"

namespace fg {

template <class CONFIG_T, class OP, class A, class B>
void channelwise(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::pack> > &in,
                 hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pack> > &out, const A &a, const B &b) {
#pragma HLS INLINE
    const unsigned pack = CONFIG_T::pack;
    unsigned c0 = 0;  // channel of the beat's first element
Elements:
    for (unsigned i = 0; i < CONFIG_T::n / pack; i++) {
#pragma HLS PIPELINE II=1
        FG_PIPELINED(CONFIG_T);
        const vec<typename CONFIG_T::input_t, CONFIG_T::pack> x = in.read();
        vec<typename CONFIG_T::result_t, CONFIG_T::pack> y;
        for (unsigned k = 0; k < pack; k++) {
#pragma HLS UNROLL
            y[k] = OP::apply(x[k], c0 + k, a, b);
        }
        out.write(y);
        c0 = c0 + pack == CONFIG_T::channels ? 0 : c0 + pack;
    }
}

}  // namespace fg

#endif
