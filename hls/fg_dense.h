// fpga_gen HLS library: the folded dense (matrix-vector) engine.
//
// One sample: y = convert<result_t>(act(scale_j * sum_i x_i * w_ji + b_j)). The products
// and the sums are exact (the sum and accumulator types are sized by fpga_gen so they
// can never overflow); the only rounding is the final conversion into result_t, with
// result_t's own rules (ap_fixed modes, or minifloat round to nearest even).
//
// Weights that multiply (fixed point, minifloat): each term is an exact product (for a
// minifloat the significand product and an exponent shift) and there is no scale.
// Ternary / binary weights: no multiplier, each term is +-x or 0 (fg_ternary.h), and
// the sum is scaled once per output neuron by its channel's scale.
//
// Folding: PE output neurons and SIMD inputs per cycle. One pipelined loop (II=1) runs the
// fold steps of every vector of a sample: step (nf, sf) of vector v multiplies inputs
// [sf*SIMD, sf*SIMD + SIMD) by the weights of outputs [nf*PE, nf*PE + PE), the accumulators
// load on sf = 0 and the results leave on sf = SF - 1 (NF = n_out/PE, SF = n_in/SIMD). In the
// same loop, and in the same iteration, the input side reads one beat of the next vector
// still to come into the other of two input banks (ping-pong; one bank when a sample is one
// vector), so reading overlaps computing: a step waits only for the inputs it multiplies
// (the first output fold of a vector reads just in time; every later fold replays the bank).
// All counters, no division.
//
// Cycle count per sample (UG1399: a pipelined loop of N iterations at II=1 takes N + D - 1
// cycles, D its pipeline depth; Vitis reports D): positions * NF * SF iterations with in_pack
// a multiple of SIMD (as fpga_gen writes it), the fold schedule exactly (step sf's inputs
// arrive in beat sf*SIMD/in_pack); csim counts the iterations (FG_PIPELINED).
//
// Two vectors per step (vectors = 2, a convolution folded for four products per DSP slice, the
// RTL's schedule): each step multiplies the same weights with the inputs of two consecutive
// output positions (a pair; an odd sample's last position alone), from four input banks (a
// pair computed, the next pair read). Each finished neuron fold writes the pair's first
// result and keeps its second in a buffer of NF results; after the pair's last fold the loop
// writes those NF, one per iteration, while the next pair's steps run on (a step finishing
// a fold waits for the drain). With P = ceil(positions / 2) pairs, F = n_in / in_pack beats
// per vector (the first vector of a sample is read before its pair's first step) and in_pack
// such that a pair's 2F beats take no more iterations than its steps (NF * in_pack >= 2 SIMD):
//     F + P * NF * SF + (P - 1) * max(0, NF - SF + 1) + (positions even ? NF : 0)
// iterations (the RTL's steady state is P * NF * SF cycles when SF > NF).
//
// Convolutions run the same engine once per output position on the windows of
// fg_window.h (n_in = taps * channels); depthwise convolutions have their own (fg_depthwise.h).
//
// Weights: [n_out][n_in] codes, partitioned cyclically over the PE rows (dim 1) and reshaped
// cyclically by SIMD along the inputs (dim 2): one ROM per PE whose word nf*SF + sf holds the
// SIMD weights of step (nf, sf), NF*SF words of SIMD*W bits (the layout of hls4ml's resource
// strategy and FINN's MVAU), which Vitis maps to BRAM or LUTRAM by its size.
//
// CONFIG_T fields (written by fpga_gen into parameters.h):
//   typedef input_t          element type of the input tensor (ap_fixed or fg::minifloat)
//   typedef result_t         element type of the output tensor (ap_fixed or fg::minifloat)
//   typedef weight_t         weight type (ap_fixed, fg::minifloat, fg::ternary, fg::binary);
//                            weight_store_t: its codes, fg::bits<weight_t>::type
//   typedef bias_t           bias type; bias_store_t: its codes (if biased)
//   typedef sum_t            the exact sum of the weighted inputs (accum_t when multiplying)
//   typedef scale_t          fg::channel_scale<...> (ternary / binary only), with
//   static const unsigned n_scales       1, or n_out for per-channel scales
//   typedef accum_t          the exact accumulator: scaled sum plus bias
//   static const unsigned n_in, n_out, pe, simd
//   static const unsigned positions      input vectors (output positions) per sample: 1 for dense
//   static const unsigned vectors        input vectors per step: 1, or 2 (a pair of positions)
//   static const unsigned in_pack        elements per input beat (the producer's width)
//   static const unsigned buf_factor     lcm(simd, in_pack): input buffer partitions
//   static const bool relu               clamp the accumulator at 0 before the cast
// Streams: in carries vec<input_t, in_pack>, out carries vec<result_t, pe>.
#ifndef FG_DENSE_H_
#define FG_DENSE_H_

#include "fg_minifloat.h"
#include "fg_ternary.h"
#include "fg_types.h"
#include "hls_stream.h"

namespace fg {

struct no_bias {};
struct no_scale {};

// The exact bias of output j added to a; no_bias: a itself.
template <class CONFIG_T>
inline typename CONFIG_T::accum_t add_bias(const typename CONFIG_T::accum_t &a,
                                           const typename CONFIG_T::bias_store_t *biases, unsigned j) {
#pragma HLS INLINE
    // The bias sits on a grid no finer than the accumulator's, so this is exact.
    return typename CONFIG_T::accum_t(a + exact(from_bits<typename CONFIG_T::bias_t>(biases[j])));
}

template <class CONFIG_T>
inline typename CONFIG_T::accum_t add_bias(const typename CONFIG_T::accum_t &a, no_bias, unsigned) {
#pragma HLS INLINE
    return a;
}

// The sum of output j times its channel's scale; no_scale (multiplying weights): the sum.
template <class CONFIG_T>
inline typename CONFIG_T::accum_t apply_scale(const typename CONFIG_T::sum_t &sum,
                                              const typename CONFIG_T::scale_t *scales, unsigned j) {
#pragma HLS INLINE
    return scale<typename CONFIG_T::accum_t>(sum, scales[CONFIG_T::n_scales == 1 ? 0 : j]);
}

template <class CONFIG_T>
inline typename CONFIG_T::accum_t apply_scale(const typename CONFIG_T::sum_t &sum, no_scale, unsigned) {
#pragma HLS INLINE
    return sum;
}

template <class CONFIG_T, class bias_arg_T, class scale_arg_T>
void dense_engine(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::in_pack> > &in,
                  hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pe> > &out,
                  const typename CONFIG_T::weight_store_t weights[CONFIG_T::n_out][CONFIG_T::n_in],
                  bias_arg_T biases, scale_arg_T scales) {
#pragma HLS INLINE
    typedef typename CONFIG_T::input_t input_t;
    typedef typename CONFIG_T::weight_t weight_t;
    typedef typename CONFIG_T::sum_t sum_t;
    typedef typename CONFIG_T::accum_t accum_t;
    const unsigned pe = CONFIG_T::pe;
    const unsigned simd = CONFIG_T::simd;
    const unsigned in_pack = CONFIG_T::in_pack;
    const unsigned buf_factor = CONFIG_T::buf_factor;
    const unsigned vectors = CONFIG_T::vectors;
    const unsigned nf_last = CONFIG_T::n_out / pe - 1;
    const unsigned sf_last = CONFIG_T::n_in / simd - 1;
    // a group of vectors computed, the next read (ping-pong), unless a sample is one group
    const unsigned banks = CONFIG_T::positions > vectors ? 2 * vectors : vectors;
    const unsigned groups = (CONFIG_T::positions + vectors - 1) / vectors;
    const unsigned steps = groups * (nf_last + 1) * (sf_last + 1);
    const unsigned max_steps = steps + CONFIG_T::positions * (CONFIG_T::n_in / in_pack + nf_last + 1);

    // The input vectors (kept as codes: minifloats are decoded where they are used), the
    // one (pair) being computed and the next one being read.
    input_t buf[banks][CONFIG_T::n_in];
#pragma HLS ARRAY_PARTITION variable=buf complete dim=1
#pragma HLS ARRAY_PARTITION variable=buf cyclic factor=buf_factor dim=2
    sum_t acc[vectors][CONFIG_T::pe];
#pragma HLS ARRAY_PARTITION variable=acc complete dim=0
    // vectors = 2: the second vector's results of the pair's folds, waiting for the first's
    vec<typename CONFIG_T::result_t, CONFIG_T::pe> held[vectors == 2 ? nf_last + 1 : 1];

    // Input side: vector rv into bank rbank, avail of its elements read so far.
    unsigned rv = 0, rbank = 0, avail = 0;
    // Compute side: vectors cv .. last in banks cbank .., step (nf, sf); need = inputs step sf
    // multiplies; drain = the held results still to write, the next of them held[didx].
    unsigned cv = 0, cbank = 0, nf = 0, sf = 0, need = simd, didx = 0;
    bool drain = false;
Steps:
    while (cv < CONFIG_T::positions || drain) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=steps max=max_steps
        FG_PIPELINED(CONFIG_T);
        // Read a beat when its bank is free: vector rv's bank last held vector rv - banks.
        if (rv < CONFIG_T::positions && rv < cv + banks) {
            const vec<input_t, CONFIG_T::in_pack> beat = in.read();
            for (unsigned k = 0; k < in_pack; k++) {
#pragma HLS UNROLL
                buf[rbank][avail + k] = beat[k];
            }
            if (avail == CONFIG_T::n_in - in_pack) {
                avail = 0;
                rv++;
                rbank = rbank == banks - 1 ? 0 : rbank + 1;
            } else {
                avail += in_pack;
            }
        }
        // A step runs once its inputs are in (all of them after the first output fold) and,
        // when it finishes a fold, once the output has no held results to write first.
        const unsigned last = cv + vectors - 1 < CONFIG_T::positions ? cv + vectors - 1 : CONFIG_T::positions - 1;
        const bool ready = cv < CONFIG_T::positions && (nf > 0 || rv > last || (rv == last && avail >= need));
        const bool draining = drain;
        if (draining) {
            out.write(held[didx]);
            drain = didx != nf_last;
            didx++;
        }
        if (ready && !(draining && sf == sf_last)) {
            for (unsigned v = 0; v < vectors; v++) {
#pragma HLS UNROLL
                for (unsigned p = 0; p < pe; p++) {
#pragma HLS UNROLL
                    sum_t sum = sf == 0 ? sum_t(0) : acc[v][p];
                    for (unsigned s = 0; s < simd; s++) {
#pragma HLS UNROLL
                        const unsigned j = nf * pe + p;
                        const unsigned i = sf * simd + s;
                        // Exact term (product, or +-x for sign weights), exact add; the weight is
                        // the same for every vector of the step.
                        mac(sum, buf[cbank + v][i], from_bits<weight_t>(weights[j][i]));
                    }
                    acc[v][p] = sum;
                }
            }
            if (sf == sf_last) {
                for (unsigned v = 0; v < vectors; v++) {
#pragma HLS UNROLL
                    vec<typename CONFIG_T::result_t, CONFIG_T::pe> res;
                    for (unsigned p = 0; p < pe; p++) {
#pragma HLS UNROLL
                        const unsigned j = nf * pe + p;
                        const accum_t a = add_bias<CONFIG_T>(apply_scale<CONFIG_T>(acc[v][p], scales, j), biases, j);
                        res[p] = convert<typename CONFIG_T::result_t>(CONFIG_T::relu ? relu(a) : a);  // the one rounding
                    }
                    if (v == 0) {
                        out.write(res);
                    } else {
                        held[nf] = res;
                    }
                }
            }
            // Advance (nf, sf); the first output fold asks for SIMD more inputs per step.
            if (sf == sf_last) {
                sf = 0;
                if (nf == nf_last) {
                    nf = 0;
                    drain = last > cv;  // the pair's second vector has results held
                    didx = 0;
                    cv += vectors;
                    cbank = cbank + vectors == banks ? 0 : cbank + vectors;
                    need = simd;
                } else {
                    nf++;
                }
            } else {
                sf++;
                need += simd;
            }
        }
    }
}

// Weights [n_out][n_in]: PE ROMs (rows j = p mod PE) of (n_out/PE)*(n_in/SIMD) words of SIMD
// weights (columns i = s mod SIMD reshaped into one word), see the header.
// Weights that multiply (fixed point, minifloat), with and without bias:
template <class CONFIG_T>
void dense(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::in_pack> > &in,
           hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pe> > &out,
           const typename CONFIG_T::weight_store_t weights[CONFIG_T::n_out][CONFIG_T::n_in],
           const typename CONFIG_T::bias_store_t biases[CONFIG_T::n_out]) {
    const unsigned pe = CONFIG_T::pe;
    const unsigned simd = CONFIG_T::simd;
#pragma HLS ARRAY_PARTITION variable=weights cyclic factor=pe dim=1
#pragma HLS ARRAY_RESHAPE variable=weights cyclic factor=simd dim=2
#pragma HLS ARRAY_PARTITION variable=biases cyclic factor=pe
    dense_engine<CONFIG_T>(in, out, weights, biases, no_scale());
}

template <class CONFIG_T>
void dense(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::in_pack> > &in,
           hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pe> > &out,
           const typename CONFIG_T::weight_store_t weights[CONFIG_T::n_out][CONFIG_T::n_in]) {
    const unsigned pe = CONFIG_T::pe;
    const unsigned simd = CONFIG_T::simd;
#pragma HLS ARRAY_PARTITION variable=weights cyclic factor=pe dim=1
#pragma HLS ARRAY_RESHAPE variable=weights cyclic factor=simd dim=2
    dense_engine<CONFIG_T>(in, out, weights, no_bias(), no_scale());
}

// Ternary / binary weights: their scales (n_scales of them) come right after them.
template <class CONFIG_T>
void dense(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::in_pack> > &in,
           hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pe> > &out,
           const typename CONFIG_T::weight_store_t weights[CONFIG_T::n_out][CONFIG_T::n_in],
           const typename CONFIG_T::scale_t scales[CONFIG_T::n_scales],
           const typename CONFIG_T::bias_store_t biases[CONFIG_T::n_out]) {
    const unsigned pe = CONFIG_T::pe;
    const unsigned simd = CONFIG_T::simd;
#pragma HLS ARRAY_PARTITION variable=weights cyclic factor=pe dim=1
#pragma HLS ARRAY_RESHAPE variable=weights cyclic factor=simd dim=2
#pragma HLS ARRAY_PARTITION variable=scales cyclic factor=pe
#pragma HLS ARRAY_PARTITION variable=biases cyclic factor=pe
    dense_engine<CONFIG_T>(in, out, weights, biases, scales);
}

template <class CONFIG_T>
void dense(hls::stream<vec<typename CONFIG_T::input_t, CONFIG_T::in_pack> > &in,
           hls::stream<vec<typename CONFIG_T::result_t, CONFIG_T::pe> > &out,
           const typename CONFIG_T::weight_store_t weights[CONFIG_T::n_out][CONFIG_T::n_in],
           const typename CONFIG_T::scale_t scales[CONFIG_T::n_scales]) {
    const unsigned pe = CONFIG_T::pe;
    const unsigned simd = CONFIG_T::simd;
#pragma HLS ARRAY_PARTITION variable=weights cyclic factor=pe dim=1
#pragma HLS ARRAY_RESHAPE variable=weights cyclic factor=simd dim=2
#pragma HLS ARRAY_PARTITION variable=scales cyclic factor=pe
    dense_engine<CONFIG_T>(in, out, weights, no_bias(), scales);
}

}  // namespace fg

#endif
