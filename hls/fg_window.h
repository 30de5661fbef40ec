// fpga_gen HLS library: the sliding-window generator of convolutions and pooling.
//
// The input is a channels-last image streamed in raster order, pack channels per beat.
// For every output position (raster order) the generator emits the window as
// k_h * k_w taps in (tap row, tap col) order, each tap the pixel's channels in
// channels/pack beats: the row-major layout of a Keras kernel (kh, kw, c_in, ...).
// A tap in the padding is zeros (what a convolution multiplies); pooling tells padded taps
// apart itself with tap_valid(), from the same geometry.
//
// Line buffer: the last (k_h - 1) rows + k_w pixels read, pixel i (raster index) in slot
// i mod that size. Before emitting a window the generator reads the input up to the
// window's last (clipped) pixel; every pixel a window still to come needs is then less
// than a buffer's length behind it, so none has been overwritten.
// 1-D layers are images of one row (in_h = k_h = s_h = 1, no vertical pads).
//
// CONFIG_T fields (geometry shared with fg_pool.h):
//   typedef elem_t                       the element type (input_t of the consumer)
//   static const unsigned in_h, in_w     input rows, columns
//   static const unsigned channels, pack channels per pixel, elements per beat (pack | channels)
//   static const unsigned k_h, k_w       window rows, columns
//   static const unsigned s_h, s_w       strides
//   static const unsigned pad_t, pad_l   zero rows above, columns left (pads after follow from out_h, out_w)
//   static const unsigned out_h, out_w   output rows, columns
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

// Step t of a window's emission: tap row ky, tap column kx, beat q of the pixel's channels.
template <class CONFIG_T>
struct tap {
    unsigned ky, kx, q;
    explicit tap(unsigned t) {
#pragma HLS INLINE
        const unsigned cb = CONFIG_T::channels / CONFIG_T::pack;
        ky = t / (CONFIG_T::k_w * cb);
        kx = (t / cb) % CONFIG_T::k_w;
        q = t % cb;
    }
};

template <class CONFIG_T>
void window(hls::stream<vec<typename CONFIG_T::elem_t, CONFIG_T::pack> > &in,
            hls::stream<vec<typename CONFIG_T::elem_t, CONFIG_T::pack> > &out) {
    typedef typename CONFIG_T::elem_t elem_t;
    typedef vec<elem_t, CONFIG_T::pack> beat_t;
    const unsigned cb = CONFIG_T::channels / CONFIG_T::pack;  // beats per pixel
    const unsigned row_beats = CONFIG_T::in_w * cb;
    const unsigned taps = CONFIG_T::k_h * CONFIG_T::k_w;
    const unsigned depth = (CONFIG_T::k_h - 1) * CONFIG_T::in_w + CONFIG_T::k_w;  // pixels

    beat_t line[((CONFIG_T::k_h - 1) * CONFIG_T::in_w + CONFIG_T::k_w) * (CONFIG_T::channels / CONFIG_T::pack)];
    beat_t zero;
    for (unsigned k = 0; k < CONFIG_T::pack; k++) {
#pragma HLS UNROLL
        zero[k] = from_bits<elem_t>(typename bits<elem_t>::type(0));
    }
    unsigned read = 0;  // beats of this sample read so far
    unsigned slot = 0;  // where the next beat goes: read mod (depth * cb)

Rows:
    for (unsigned oy = 0; oy < CONFIG_T::out_h; oy++) {
    Columns:
        for (unsigned ox = 0; ox < CONFIG_T::out_w; ox++) {
            // The window's last pixel inside the image (pads are smaller than the window).
            const unsigned ry = oy * CONFIG_T::s_h + CONFIG_T::k_h - 1 - CONFIG_T::pad_t;
            const unsigned rx = ox * CONFIG_T::s_w + CONFIG_T::k_w - 1 - CONFIG_T::pad_l;
            const unsigned last_y = ry < CONFIG_T::in_h ? ry : CONFIG_T::in_h - 1;
            const unsigned last_x = rx < CONFIG_T::in_w ? rx : CONFIG_T::in_w - 1;
            const unsigned need = (last_y * CONFIG_T::in_w + last_x + 1) * cb;
        Fill:
            for (; read < need; read++) {
#pragma HLS PIPELINE II=1
                line[slot] = in.read();
                slot = slot + 1 == depth * cb ? 0 : slot + 1;
            }
        Taps:
            for (unsigned t = 0; t < taps * cb; t++) {
#pragma HLS PIPELINE II=1
                const tap<CONFIG_T> at(t);
                const unsigned iy = oy * CONFIG_T::s_h + at.ky - CONFIG_T::pad_t;
                const unsigned ix = ox * CONFIG_T::s_w + at.kx - CONFIG_T::pad_l;
                out.write(tap_valid<CONFIG_T>(oy, ox, at.ky, at.kx) ? line[(iy * CONFIG_T::in_w + ix) % depth * cb + at.q]
                                                                    : zero);
            }
        }
    }
    // Rows and columns past the last window (strides that do not reach the edge).
Drain:
    for (; read < CONFIG_T::in_h * row_beats; read++) {
#pragma HLS PIPELINE II=1
        in.read();
    }
}

}  // namespace fg

#endif
