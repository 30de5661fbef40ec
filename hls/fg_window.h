// fpga_gen HLS library: the sliding-window generator of convolutions and pooling.
//
// The input is a channels-last image streamed in raster order, pack channels (one channel
// group) per beat. For every output position (raster order) the generator emits the window's
// words -- a word is one channel group g of tap (ky, kx) -- `block` groups at a time, each
// block `rep` times over, in (tap row, tap col, group) order: with one block of all the groups,
// the row-major layout of a Keras kernel (kh, kw, c_in, ...) for a convolution; for a depthwise
// convolution (fg_depthwise.h) a block per neuron fold that reads its channels. `words` words
// per output beat (word r of a beat in elements r*pack and up; words divides a block's
// k_h * k_w * block words), so an engine gets its SIMD inputs of a fold step in one beat. A word in the padding is zeros (what a convolution multiplies);
// pooling tells padded taps apart itself with tap_valid(), from the same geometry.
// 1-D layers are images of one row (in_h = k_h = s_h = 1, no vertical pads).
//
// One pipelined loop (II=1) per sample: each iteration reads an input beat while the line
// buffer has room for it and emits an output beat once the position's last real pixel is in
// (the same rule as rtl/fg_window.v, for one frame):
//   * line buffer: input beat n at address n mod depth (a power of two >= limit, so the address
//     is n's low bits), one copy per word of an output beat, written alike, each read at its
//     own address: the words of a beat sit at taps no one interleaving keeps apart;
//   * free: the first beat this position or a later one reads; the beats before it are dead,
//     and the input side reads while fewer than `limit` beats are live (limit: (k_h - 1) rows
//     plus k_w + s_w pixels, s_h more rows at a row stride >= 2 so new rows stream in while a
//     row is emitted; fpga_gen.backends.linebuffer);
//   * thr: the beats read once this position's last real pixel is in.
// Counters, no division: (oy, ox), the block, its repetition and the beat of the block; per
// word a three-digit counter (group in the block, tap column, tap row) advanced by `words` per
// beat, with carries, and reset at a block's first beat.
// Cycle count per sample: the loop's iterations (fpga_gen.backends.linebuffer.loop_iterations:
// the rule above for one frame, input always there, output always taken) plus its depth (UG1399).
//
// CONFIG_T fields (geometry shared with fg_pool.h):
//   typedef elem_t                       the element type (input_t of the consumer)
//   static const unsigned in_h, in_w     input rows, columns
//   static const unsigned channels, pack channels per pixel, elements per beat (pack | channels)
//   static const unsigned k_h, k_w       window rows, columns
//   static const unsigned s_h, s_w       strides
//   static const unsigned pad_t, pad_l   zero rows above, columns left (pads after follow from out_h, out_w)
//   static const unsigned out_h, out_w   output rows, columns
//   static const unsigned block, rep     channel groups per block (divides channels / pack), times each is emitted
//   static const unsigned words          channel groups per output beat (divides k_h * k_w * block)
//   static const unsigned limit, depth   live beats of the line buffer, its power-of-two size
// Streams: in carries vec<elem_t, pack>, out vec<elem_t, pack * words>.
#ifndef FG_WINDOW_H_
#define FG_WINDOW_H_

#include "fg_types.h"
#include "hls_stream.h"

namespace fg {

// Whether tap (ky, kx) of output position (oy, ox) lies inside the image (not padding).
template <class CONFIG_T>
inline bool tap_valid(unsigned oy, unsigned ox, unsigned ky, unsigned kx) {
#pragma HLS INLINE
    const int iy = int(oy * CONFIG_T::s_h + ky) - int(CONFIG_T::pad_t);
    const int ix = int(ox * CONFIG_T::s_w + kx) - int(CONFIG_T::pad_l);
    return iy >= 0 && iy < int(CONFIG_T::in_h) && ix >= 0 && ix < int(CONFIG_T::in_w);
}

// The first beat of the nearest real pixel to (y, x).
template <class CONFIG_T>
inline int pixel_beat(int y, int x) {
#pragma HLS INLINE
    const int cy = y < 0 ? 0 : (y > int(CONFIG_T::in_h) - 1 ? int(CONFIG_T::in_h) - 1 : y);
    const int cx = x < 0 ? 0 : (x > int(CONFIG_T::in_w) - 1 ? int(CONFIG_T::in_w) - 1 : x);
    return (cy * int(CONFIG_T::in_w) + cx) * int(CONFIG_T::channels / CONFIG_T::pack);
}

template <class CONFIG_T>
void window(hls::stream<vec<typename CONFIG_T::elem_t, CONFIG_T::pack> > &in,
            hls::stream<vec<typename CONFIG_T::elem_t, CONFIG_T::pack * CONFIG_T::words> > &out) {
    typedef typename CONFIG_T::elem_t elem_t;
    const unsigned pack = CONFIG_T::pack;
    const unsigned words = CONFIG_T::words;
    const int groups = CONFIG_T::channels / pack;  // beats per pixel
    const int frame = CONFIG_T::in_h * CONFIG_T::in_w * groups;
    const unsigned block = CONFIG_T::block;
    const unsigned beats = CONFIG_T::k_h * CONFIG_T::k_w * block / words;  // per block
    const unsigned positions = CONFIG_T::out_h * CONFIG_T::out_w;
    const unsigned min_iterations = positions * beats * CONFIG_T::rep * (groups / block);
    const unsigned max_iterations = min_iterations + frame;
    // `words` in (group, tap column, tap row) digits: every word counter's step per beat.
    const unsigned s0 = words % block;
    const unsigned s1 = (words / block) % CONFIG_T::k_w;
    const unsigned s2 = words / (block * CONFIG_T::k_w);

    vec<elem_t, pack> line[words][CONFIG_T::depth];
#pragma HLS ARRAY_PARTITION variable=line complete dim=1
    unsigned d0[words], d1[words], d2[words];  // word r's group, tap column, tap row
#pragma HLS ARRAY_PARTITION variable=d0 complete
#pragma HLS ARRAY_PARTITION variable=d1 complete
#pragma HLS ARRAY_PARTITION variable=d2 complete
    for (unsigned r = 0; r < words; r++) {
#pragma HLS UNROLL
        d0[r] = r % block;
        d1[r] = (r / block) % CONFIG_T::k_w;
        d2[r] = r / (block * CONFIG_T::k_w);
    }
    int read = 0;                 // input beats read
    unsigned oy = 0, ox = 0;      // output position
    unsigned gbase = 0, rep = 0, b = 0;  // its block's first group, the block's repetition and beat
    int iy0 = -int(CONFIG_T::pad_t), ix0 = -int(CONFIG_T::pad_l);  // the window's origin pixel
Beats:
    while (oy < CONFIG_T::out_h || read < frame) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=min_iterations max=max_iterations
        FG_PIPELINED(CONFIG_T);
        const bool emitting = oy < CONFIG_T::out_h;
        const int first = pixel_beat<CONFIG_T>(iy0, ix0);
        const int next_row = pixel_beat<CONFIG_T>(iy0 + int(CONFIG_T::s_h), 0);
        const bool next_lower = oy + 1 < CONFIG_T::out_h && iy0 + int(CONFIG_T::s_h) <= int(CONFIG_T::in_h) - 1 &&
                                next_row < first;
        const int free = !emitting ? read : (next_lower ? next_row : first);
        if (read < frame && read - free < int(CONFIG_T::limit)) {
            const vec<elem_t, pack> v = in.read();
            for (unsigned r = 0; r < words; r++) {
#pragma HLS UNROLL
                line[r][unsigned(read) & (CONFIG_T::depth - 1)] = v;
            }
            read++;
        }
        const int thr = pixel_beat<CONFIG_T>(iy0 + int(CONFIG_T::k_h) - 1, ix0 + int(CONFIG_T::k_w) - 1) + groups;
        if (emitting && read >= thr) {
            vec<elem_t, pack * words> y;
            for (unsigned r = 0; r < words; r++) {
#pragma HLS UNROLL
                const int iy = iy0 + int(d2[r]);
                const int ix = ix0 + int(d1[r]);
                const bool pad = iy < 0 || iy >= int(CONFIG_T::in_h) || ix < 0 || ix >= int(CONFIG_T::in_w);
                const unsigned at = unsigned((iy * int(CONFIG_T::in_w) + ix) * groups + int(gbase + d0[r]));
                const vec<elem_t, pack> v = line[r][at & (CONFIG_T::depth - 1)];
                for (unsigned k = 0; k < pack; k++) {
#pragma HLS UNROLL
                    y[r * pack + k] = pad ? from_bits<elem_t>(typename bits<elem_t>::type(0)) : v[k];
                }
                // the next beat's word: + words, with carries (the tap row never wraps inside a block)
                const unsigned n0 = d0[r] + s0;
                const bool c0 = n0 >= block;
                const unsigned n1 = d1[r] + s1 + c0;
                const bool c1 = n1 >= CONFIG_T::k_w;
                d0[r] = c0 ? n0 - block : n0;
                d1[r] = c1 ? n1 - CONFIG_T::k_w : n1;
                d2[r] = d2[r] + s2 + c1;
            }
            out.write(y);
            if (b == beats - 1) {  // the block's last beat: words from r again
                b = 0;
                for (unsigned r = 0; r < words; r++) {
#pragma HLS UNROLL
                    d0[r] = r % block;
                    d1[r] = (r / block) % CONFIG_T::k_w;
                    d2[r] = r / (block * CONFIG_T::k_w);
                }
            } else {
                b++;
            }
            const bool block_done = b == 0 && rep == CONFIG_T::rep - 1;
            if (b == 0) {
                rep = block_done ? 0 : rep + 1;
            }
            if (block_done && gbase + block == unsigned(groups)) {  // the position's last beat: the next position
                gbase = 0;
                if (ox == CONFIG_T::out_w - 1) {
                    ox = 0;
                    ix0 = -int(CONFIG_T::pad_l);
                    oy++;
                    iy0 += CONFIG_T::s_h;
                } else {
                    ox++;
                    ix0 += CONFIG_T::s_w;
                }
            } else if (block_done) {
                gbase += block;
            }
        }
    }
}

}  // namespace fg

#endif
