// fpga_gen HLS library: max and average pooling over windows, and global pooling.
//
// The reducer reads what fg::window emits (k_h * k_w taps per output position, each tap
// channels/pack beats: words = 1) and leaves padded taps out, as TensorFlow does. Global pooling is
// the same reducer over one window covering the whole image, read straight from the
// producer (a raster scan is that window's tap order).
//
// max: the largest exact input value, rounded once into result_t. avg: the exact sum of
// the valid taps divided by their number, rounded once (ratio() below).
//
// CONFIG_T fields: the window geometry of fg_window.h, and
//   typedef input_t, result_t    element types of the input and output tensors
//   typedef sum_t                fixed point holding every input value and every window sum exactly
//   static const bool avg        average (else max)
//   static const int extra       bits the average's quotient keeps below the input grid:
//                                max(frac(result) - frac(input), 0) + 1
// Streams: vec<input_t, pack> in, vec<result_t, pack> out (channels/pack beats per position).
// Iterations per sample: positions * taps * channels/pack, a beat each (a group's result leaves
// with its last tap).
#ifndef FG_POOL_H_
#define FG_POOL_H_

#include "fg_minifloat.h"
#include "fg_types.h"
#include "fg_window.h"
#include "hls_stream.h"

namespace fg {

// The fixed-point type of the quotient stand-in: EXTRA + 1 more fraction bits than SUM.
template <class SUM, int EXTRA>
struct ratio_of;

template <int W, int I, ap_q_mode Q, ap_o_mode O, int N, int EXTRA>
struct ratio_of<ap_fixed<W, I, Q, O, N>, EXTRA> {
    typedef ap_fixed<W + EXTRA + 2, I + 1> type;
};

template <int W, int I, ap_q_mode Q, ap_o_mode O, int N, int EXTRA>
struct ratio_of<ap_ufixed<W, I, Q, O, N>, EXTRA> {
    typedef ap_fixed<W + EXTRA + 2, I + 1> type;
};

// num / den rounded once into R (golden.cast_ratio): the quotient floored EXTRA bits below
// num's grid, doubled, plus a sticky bit for a non-zero remainder. No rounding boundary of
// R lies strictly between this stand-in and the exact quotient, so R's own rounding of it
// is the rounding of the exact rational.
template <class R, int EXTRA, class SUM>
inline R ratio(const SUM &num, unsigned den) {
#pragma HLS INLINE
    typedef typename ratio_of<SUM, EXTRA>::type ratio_t;
    typedef ap_int<bits<SUM>::width + EXTRA + 2> wide_t;
    const wide_t scaled = wide_t(to_bits(num)) << EXTRA;
    const ap_int<32> d = den;
    wide_t q = scaled / d;  // truncates toward zero
    wide_t r = scaled - q * d;
    if (r < 0) {  // floor, as the golden model's integer division
        q -= 1;
        r += d;
    }
    const wide_t stand_in = (q << 1) | wide_t(r != 0);
    return convert<R>(from_bits<ratio_t>(typename bits<ratio_t>::type(stand_in)));
}

template <class CONFIG_T>
void pool(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::pack> > &in,
          hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pack> > &out) {
    typedef typename CONFIG_T::sum_t sum_t;
    const unsigned pack = CONFIG_T::pack;
    const unsigned cb = CONFIG_T::channels / pack;
    const unsigned taps = CONFIG_T::k_h * CONFIG_T::k_w;

    sum_t acc[CONFIG_T::channels / CONFIG_T::pack][CONFIG_T::pack];
#pragma HLS ARRAY_PARTITION variable=acc complete dim=2
Rows:
    for (unsigned oy = 0; oy < CONFIG_T::out_h; oy++) {
    Columns:
        for (unsigned ox = 0; ox < CONFIG_T::out_w; ox++) {
            unsigned count = 0;              // valid taps before this one
            unsigned ky = 0, kx = 0, q = 0;  // the beat's tap and channel group (counters)
        Taps:
            for (unsigned t = 0; t < taps * cb; t++) {
#pragma HLS PIPELINE II=1
                FG_PIPELINED(CONFIG_T);
                const vec<typename CONFIG_T::input_t, CONFIG_T::pack> x = in.read();
                const bool valid = tap_valid<CONFIG_T>(oy, ox, ky, kx);
                const bool last_tap = ky == CONFIG_T::k_h - 1 && kx == CONFIG_T::k_w - 1;
                for (unsigned k = 0; k < pack; k++) {
#pragma HLS UNROLL
                    const sum_t v = exact(x[k]);
                    if (valid) {
                        if (count == 0) {
                            acc[q][k] = v;
                        } else if (CONFIG_T::avg) {
                            acc[q][k] += v;
                        } else if (v > acc[q][k]) {
                            acc[q][k] = v;
                        }
                    }
                }
                if (last_tap) {  // the window's last tap completes group q: its result leaves in this beat
                    vec<typename CONFIG_T::result_t, CONFIG_T::pack> y;
                    for (unsigned k = 0; k < pack; k++) {
#pragma HLS UNROLL
                        y[k] = CONFIG_T::avg
                                   ? ratio<typename CONFIG_T::result_t, CONFIG_T::extra>(acc[q][k], count + valid)
                                   : convert<typename CONFIG_T::result_t>(acc[q][k]);
                    }
                    out.write(y);
                }
                if (q == cb - 1) {
                    q = 0;
                    count += valid;
                    if (kx == CONFIG_T::k_w - 1) {
                        kx = 0;
                        ky++;
                    } else {
                        kx++;
                    }
                } else {
                    q++;
                }
            }
        }
    }
}

}  // namespace fg

#endif
