// fpga_gen HLS library: the depthwise convolution engine (the shape of FINN's VVAU).
//
// Per output position: y[c*M + m] = convert<result_t>(act(scale_j * sum_t x[t][c] * w[t][c][m] + b_j)),
// exact products and sums, one rounding (as fg_dense.h; sign weights through fg_ternary.h).
// Folding: PE outputs x SIMD taps per step; lane p of neuron fold nf is output j = nf*PE + p,
// whose dot product runs over the taps of its own channel j / M only.
//
// Input: fg_window.h hands each step its operands in one beat, so nothing is buffered: a beat is
// SIMD taps of `cb` channels (tap s's channel k at element s*cb + k), a block of the channels
// the neuron folds read, emitted `rep` times (cb * M / PE, once per neuron fold of the block);
// lane p of repetition r reads channel (r*PE + p) / M of the block. Beats arrive step by step:
// the neuron folds of a position in order, the synapse folds (SF = taps/SIMD) fastest.
//
// One pipelined loop (II=1), an iteration per step: read the beat, PE x SIMD exact MACs, and
// after the last synapse fold write PE results. Counters, no division (a lane's channel in the
// block is one of `rep` constants).
// Cycle count per sample: positions * (n_out/PE) * (taps/SIMD) iterations, the fold schedule
// exactly, plus the loop's depth (UG1399); csim counts the iterations (FG_PIPELINED).
//
// Weights: [n_out][taps] codes, partitioned cyclically over the PE lanes (dim 1) and reshaped
// cyclically by SIMD along the taps (dim 2): a ROM per PE whose word nf*SF + sf holds step
// (nf, sf)'s SIMD weights.
//
// CONFIG_T fields (written by fpga_gen into parameters.h): the types of fg_dense.h (input_t,
// result_t, weight_t, weight_store_t, accum_t, sum_t, and scale_t / n_scales, bias_t /
// bias_store_t where the layer has them), and
//   static const unsigned taps, n_out, pe, simd   kernel taps, outputs (channels x multiplier), the fold
//   static const unsigned cb, multiplier, rep     channels per beat, depth multiplier, repetitions of a block
//   static const unsigned positions               output positions per sample
//   static const bool relu                        clamp the accumulator at 0 before the cast
// Streams: in carries vec<input_t, simd * cb>, out carries vec<result_t, pe>.
#ifndef FG_DEPTHWISE_H_
#define FG_DEPTHWISE_H_

#include "fg_dense.h"

namespace fg {

template <class CONFIG_T, class bias_arg_T, class scale_arg_T>
void depthwise_engine(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::simd * CONFIG_T::cb> > &in,
                      hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pe> > &out,
                      const typename CONFIG_T::weight_store_t weights[CONFIG_T::n_out][CONFIG_T::taps],
                      bias_arg_T biases, scale_arg_T scales) {
#pragma HLS INLINE
    typedef typename CONFIG_T::weight_t weight_t;
    typedef typename CONFIG_T::sum_t sum_t;
    typedef typename CONFIG_T::accum_t accum_t;
    const unsigned pe = CONFIG_T::pe;
    const unsigned simd = CONFIG_T::simd;
    const unsigned cb = CONFIG_T::cb;
    const unsigned nf_last = CONFIG_T::n_out / pe - 1;
    const unsigned sf_last = CONFIG_T::taps / simd - 1;
    const unsigned steps = CONFIG_T::positions * (nf_last + 1) * (sf_last + 1);

    sum_t acc[CONFIG_T::pe];
#pragma HLS ARRAY_PARTITION variable=acc complete
    unsigned position = 0, nf = 0, sf = 0, rep = 0;
Steps:
    while (position < CONFIG_T::positions) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=steps max=steps
        FG_PIPELINED(CONFIG_T);
        const vec<typename CONFIG_T::input_t, simd * cb> beat = in.read();
        for (unsigned p = 0; p < pe; p++) {
#pragma HLS UNROLL
            unsigned channel = 0;  // the lane's channel in the block: a constant per repetition
            for (unsigned r = 0; r < CONFIG_T::rep; r++) {
#pragma HLS UNROLL
                if (r == rep) channel = (r * pe + p) / CONFIG_T::multiplier;
            }
            const unsigned j = nf * pe + p;
            sum_t sum = sf == 0 ? sum_t(0) : acc[p];
            for (unsigned s = 0; s < simd; s++) {
#pragma HLS UNROLL
                mac(sum, beat[s * cb + channel], from_bits<weight_t>(weights[j][sf * simd + s]));
            }
            acc[p] = sum;
        }
        if (sf == sf_last) {
            vec<typename CONFIG_T::result_t, CONFIG_T::pe> res;
            for (unsigned p = 0; p < pe; p++) {
#pragma HLS UNROLL
                const unsigned j = nf * pe + p;
                const accum_t a = add_bias<CONFIG_T>(apply_scale<CONFIG_T>(acc[p], scales, j), biases, j);
                res[p] = convert<typename CONFIG_T::result_t>(CONFIG_T::relu ? relu(a) : a);  // the one rounding
            }
            out.write(res);
            sf = 0;
            rep = rep == CONFIG_T::rep - 1 ? 0 : rep + 1;
            if (nf == nf_last) {
                nf = 0;
                position++;
            } else {
                nf++;
            }
        } else {
            sf++;
        }
    }
}

// Weights [n_out][taps]: PE ROMs of (n_out/PE)*(taps/SIMD) words of SIMD weights, see the header.
// Weights that multiply (fixed point, minifloat), with and without bias:
template <class CONFIG_T>
void depthwise(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::simd * CONFIG_T::cb> > &in,
               hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pe> > &out,
               const typename CONFIG_T::weight_store_t weights[CONFIG_T::n_out][CONFIG_T::taps],
               const typename CONFIG_T::bias_store_t biases[CONFIG_T::n_out]) {
#pragma HLS ARRAY_PARTITION variable=weights cyclic factor=CONFIG_T::pe dim=1
#pragma HLS ARRAY_RESHAPE variable=weights cyclic factor=CONFIG_T::simd dim=2
#pragma HLS ARRAY_PARTITION variable=biases cyclic factor=CONFIG_T::pe
    depthwise_engine<CONFIG_T>(in, out, weights, biases, no_scale());
}

template <class CONFIG_T>
void depthwise(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::simd * CONFIG_T::cb> > &in,
               hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pe> > &out,
               const typename CONFIG_T::weight_store_t weights[CONFIG_T::n_out][CONFIG_T::taps]) {
#pragma HLS ARRAY_PARTITION variable=weights cyclic factor=CONFIG_T::pe dim=1
#pragma HLS ARRAY_RESHAPE variable=weights cyclic factor=CONFIG_T::simd dim=2
    depthwise_engine<CONFIG_T>(in, out, weights, no_bias(), no_scale());
}

// Ternary / binary weights: their scales (n_scales of them) come right after them.
template <class CONFIG_T>
void depthwise(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::simd * CONFIG_T::cb> > &in,
               hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pe> > &out,
               const typename CONFIG_T::weight_store_t weights[CONFIG_T::n_out][CONFIG_T::taps],
               const typename CONFIG_T::scale_t scales[CONFIG_T::n_scales],
               const typename CONFIG_T::bias_store_t biases[CONFIG_T::n_out]) {
#pragma HLS ARRAY_PARTITION variable=weights cyclic factor=CONFIG_T::pe dim=1
#pragma HLS ARRAY_RESHAPE variable=weights cyclic factor=CONFIG_T::simd dim=2
#pragma HLS ARRAY_PARTITION variable=scales cyclic factor=CONFIG_T::pe
#pragma HLS ARRAY_PARTITION variable=biases cyclic factor=CONFIG_T::pe
    depthwise_engine<CONFIG_T>(in, out, weights, biases, scales);
}

template <class CONFIG_T>
void depthwise(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::simd * CONFIG_T::cb> > &in,
               hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pe> > &out,
               const typename CONFIG_T::weight_store_t weights[CONFIG_T::n_out][CONFIG_T::taps],
               const typename CONFIG_T::scale_t scales[CONFIG_T::n_scales]) {
#pragma HLS ARRAY_PARTITION variable=weights cyclic factor=CONFIG_T::pe dim=1
#pragma HLS ARRAY_RESHAPE variable=weights cyclic factor=CONFIG_T::simd dim=2
#pragma HLS ARRAY_PARTITION variable=scales cyclic factor=CONFIG_T::pe
    depthwise_engine<CONFIG_T>(in, out, weights, no_bias(), scales);
}

}  // namespace fg

#endif
