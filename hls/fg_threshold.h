// fpga_gen HLS library: per-channel multi-threshold (FINN's MultiThreshold).
//
// y = values[c][k], k = the number of thresholds t of channel c with x >= t. The
// comparisons are on exact values (ap_fixed compares across grids exactly), so there is
// no rounding at all: the values are already codes of result_t.
//
// CONFIG_T fields (and those of fg_channelwise.h):
//   typedef threshold_t                    format of the thresholds; threshold_store_t its codes
//   typedef value_store_t                  codes of result_t
//   static const unsigned levels           thresholds per channel (values: levels + 1)
#ifndef FG_THRESHOLD_H_
#define FG_THRESHOLD_H_

#include "fg_channelwise.h"
#include "fg_minifloat.h"
#include "fg_types.h"
#include "hls_stream.h"

namespace fg {

template <class CONFIG_T>
struct threshold_op {
    template <class A, class B>
    static typename CONFIG_T::result_t apply(const typename CONFIG_T::input_t &x, unsigned c, const A &thresholds,
                                             const B &values) {
#pragma HLS INLINE
        unsigned count = 0;
        for (unsigned l = 0; l < CONFIG_T::levels; l++) {
#pragma HLS UNROLL
            count += exact(x) >= exact(from_bits<typename CONFIG_T::threshold_t>(thresholds[c][l]));
        }
        return from_bits<typename CONFIG_T::result_t>(values[c][count]);
    }
};

template <class CONFIG_T>
void threshold(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::pack> > &in,
               hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pack> > &out,
               const typename CONFIG_T::threshold_store_t thresholds[CONFIG_T::channels][CONFIG_T::levels],
               const typename CONFIG_T::value_store_t values[CONFIG_T::channels][CONFIG_T::levels + 1]) {
    const unsigned pack = CONFIG_T::pack;
#pragma HLS ARRAY_PARTITION variable=thresholds complete dim=2
#pragma HLS ARRAY_PARTITION variable=thresholds cyclic factor=pack dim=1
#pragma HLS ARRAY_PARTITION variable=values cyclic factor=pack dim=1
    channelwise<CONFIG_T, threshold_op<CONFIG_T> >(in, out, thresholds, values);
}

}  // namespace fg

#endif
