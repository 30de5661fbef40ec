// fpga_gen HLS library: the AXI4-Stream edge of a generated accelerator, and the stream
// plumbing of a DAG: duplicate (one tensor read by several layers, each its own copy of the
// stream: a dataflow channel has one consumer) and repack (the same elements in beats of
// another width).
//
// A sample of n elements crosses the AXI4-Stream port as n/pack beats; each beat's TDATA
// holds pack element codes (fg::bits: fixed-point mantissas, minifloat bit patterns),
// element k at bits [k*W, k*W+W), the rest zero. The host marks the final beat of a
// batch with TLAST; the accelerator repeats it on the final beat of that sample's
// result, so a DMA transfer of a whole batch ends cleanly.
//
// CONFIG_T fields:
//   typedef elem_t                 element type (the Input / Output tensor format)
//   static const unsigned n        elements per sample
//   static const unsigned pack     elements per beat
//   static const unsigned beat_bits TDATA width: pack * bits<elem_t>::width rounded up to a
//                                  power of two bytes (fpga_gen.packing.beat_bytes)
#ifndef FG_STREAM_H_
#define FG_STREAM_H_

#include "fg_minifloat.h"
#include "fg_types.h"
#include "hls_stream.h"

#if defined(__has_include)
#if __has_include(<ap_axi_sdata.h>)
#include <ap_axi_sdata.h>
#define FG_HAVE_AP_AXI_SDATA 1
#endif
#endif

namespace fg {

#ifdef FG_HAVE_AP_AXI_SDATA
// Vitis HLS only gives TLAST/TKEEP/TSTRB side channels to its own ap_axiu type.
template <int W>
struct axis_word {
    typedef ap_axiu<W, 0, 0, 0> type;
};
#else
// Plain g++ with hls4ml's ap_types (no ap_axi_sdata.h): the same fields, for C simulation.
template <int W>
struct axis_word_sim {
    ap_uint<W> data;
    ap_uint<(W + 7) / 8> keep;
    ap_uint<(W + 7) / 8> strb;
    ap_uint<1> last;
};
template <int W>
struct axis_word {
    typedef axis_word_sim<W> type;
};
#endif

template <class CONFIG_T>
struct axis_beat {
    typedef typename axis_word<CONFIG_T::beat_bits>::type type;
};

// AXI4-Stream beats -> internal stream of vec<elem_t, pack>; TLAST goes to `last`.
template <class CONFIG_T>
void axis_to_stream(hls::stream<typename axis_beat<CONFIG_T>::type> &in,
                    hls::stream<vec<typename CONFIG_T::elem_t, CONFIG_T::pack> > &out,
                    hls::stream<bool> &last) {
    typedef typename CONFIG_T::elem_t elem_t;
    const int w = bits<elem_t>::width;
    bool is_last = false;
Beats:
    for (unsigned b = 0; b < CONFIG_T::n / CONFIG_T::pack; b++) {
#pragma HLS PIPELINE II=1
        FG_PIPELINED(CONFIG_T);
        typename axis_beat<CONFIG_T>::type word = in.read();
        vec<elem_t, CONFIG_T::pack> v;
        for (unsigned k = 0; k < CONFIG_T::pack; k++) {
#pragma HLS UNROLL
            v[k] = from_bits<elem_t>(word.data.range(k * w + w - 1, k * w));
        }
        out.write(v);
        is_last = word.last == 1;
    }
    last.write(is_last);
}

// Internal stream -> AXI4-Stream beats, TLAST on the final beat of a flagged sample.
template <class CONFIG_T>
void stream_to_axis(hls::stream<vec<typename CONFIG_T::elem_t, CONFIG_T::pack> > &in,
                    hls::stream<typename axis_beat<CONFIG_T>::type> &out, hls::stream<bool> &last) {
    typedef typename CONFIG_T::elem_t elem_t;
    const int w = bits<elem_t>::width;
    const unsigned beats = CONFIG_T::n / CONFIG_T::pack;
    const bool sample_last = last.read();
Beats:
    for (unsigned b = 0; b < beats; b++) {
#pragma HLS PIPELINE II=1
        FG_PIPELINED(CONFIG_T);
        vec<elem_t, CONFIG_T::pack> v = in.read();
        typename axis_beat<CONFIG_T>::type word;
        word.data = 0;
        for (unsigned k = 0; k < CONFIG_T::pack; k++) {
#pragma HLS UNROLL
            word.data.range(k * w + w - 1, k * w) = to_bits(v[k]);
        }
        word.keep = -1;
        word.strb = -1;
        word.last = sample_last && b == beats - 1;
        out.write(word);
    }
}

// The same for `samples` samples in one call: processes of a dataflow region that runs a
// whole batch (the Alveo kernel's), so that successive samples overlap across processes.
template <class CONFIG_T>
void axis_to_stream_n(hls::stream<typename axis_beat<CONFIG_T>::type> &in,
                      hls::stream<vec<typename CONFIG_T::elem_t, CONFIG_T::pack> > &out, hls::stream<bool> &last,
                      unsigned samples) {
Samples:
    for (unsigned s = 0; s < samples; s++) {
        axis_to_stream<CONFIG_T>(in, out, last);
    }
}

template <class CONFIG_T>
void stream_to_axis_n(hls::stream<vec<typename CONFIG_T::elem_t, CONFIG_T::pack> > &in,
                      hls::stream<typename axis_beat<CONFIG_T>::type> &out, hls::stream<bool> &last,
                      unsigned samples) {
Samples:
    for (unsigned s = 0; s < samples; s++) {
        stream_to_axis<CONFIG_T>(in, out, last);
    }
}

// CONFIG_T: typedef beat_t; static const unsigned beats (per sample), copies.
template <class CONFIG_T>
void duplicate(hls::stream<typename CONFIG_T::beat_t> &in,
               hls::stream<typename CONFIG_T::beat_t> out[CONFIG_T::copies]) {
Beats:
    for (unsigned b = 0; b < CONFIG_T::beats; b++) {
#pragma HLS PIPELINE II=1
        FG_PIPELINED(CONFIG_T);
        const typename CONFIG_T::beat_t v = in.read();
        for (unsigned k = 0; k < CONFIG_T::copies; k++) {
#pragma HLS UNROLL
            out[k].write(v);
        }
    }
}

// CONFIG_T: typedef elem_t; static const unsigned n, in_pack, out_pack, group
// (group = lcm(in_pack, out_pack), a divisor of n).
template <class CONFIG_T>
void repack(hls::stream<vec<typename CONFIG_T::elem_t, CONFIG_T::in_pack> > &in,
            hls::stream<vec<typename CONFIG_T::elem_t, CONFIG_T::out_pack> > &out) {
    typename CONFIG_T::elem_t buf[CONFIG_T::group];
#pragma HLS ARRAY_PARTITION variable=buf complete
Groups:
    for (unsigned g = 0; g < CONFIG_T::n / CONFIG_T::group; g++) {
    Read:
        for (unsigned b = 0; b < CONFIG_T::group / CONFIG_T::in_pack; b++) {
#pragma HLS PIPELINE II=1
            FG_PIPELINED(CONFIG_T);
            const vec<typename CONFIG_T::elem_t, CONFIG_T::in_pack> v = in.read();
            for (unsigned k = 0; k < CONFIG_T::in_pack; k++) {
#pragma HLS UNROLL
                buf[b * CONFIG_T::in_pack + k] = v[k];
            }
        }
    Write:
        for (unsigned b = 0; b < CONFIG_T::group / CONFIG_T::out_pack; b++) {
#pragma HLS PIPELINE II=1
            FG_PIPELINED(CONFIG_T);
            vec<typename CONFIG_T::elem_t, CONFIG_T::out_pack> v;
            for (unsigned k = 0; k < CONFIG_T::out_pack; k++) {
#pragma HLS UNROLL
                v[k] = buf[b * CONFIG_T::out_pack + k];
            }
            out.write(v);
        }
    }
}

}  // namespace fg

#endif
