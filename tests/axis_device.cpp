// A stand-in for the FPGA in the PYNQ driver tests (tests/fake_pynq.py): the generated HLS
// top between the two channels of an AXI DMA, moving raw bytes.
//
// usage: axis_device in.bin out.bin in_beats in_beat_bytes out_beats out_beat_bytes
//
// in.bin holds what the MM2S channel reads from memory: whole samples of in_beats beats,
// each beat in_beat_bytes little-endian bytes of TDATA. Like the DMA, TLAST is set on the
// last beat of the transfer only. The top is called once per sample; its output beats' TDATA
// bytes go to out.bin. TLAST must come on the last output beat of the transfer and nowhere
// else: that is where the S2MM channel ends its transfer. Built with g++ against the project's
// firmware/<top>.cpp with -DFG_TOP=<top> -include <top>.h.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

#include "ap_int.h"
#include "hls_stream.h"

namespace {

template <int W>
int width_of(const ap_uint<W> &) {
    return W;
}

int fail(const char *what, unsigned sample, unsigned beat) {
    std::cerr << what << " (sample " << sample << ", beat " << beat << ")\n";
    return 2;
}

template <class In, class Out>
int run(void (*top)(hls::stream<In> &, hls::stream<Out> &), char **argv) {
    const unsigned in_beats = std::atoi(argv[3]), in_bytes = std::atoi(argv[4]);
    const unsigned out_beats = std::atoi(argv[5]), out_bytes = std::atoi(argv[6]);
    In in_word;
    Out out_word;
    if (width_of(in_word.data) != 8 * int(in_bytes) || width_of(out_word.data) != 8 * int(out_bytes)) {
        std::cerr << "TDATA is " << width_of(in_word.data) << " / " << width_of(out_word.data) << " bits, not "
                  << 8 * in_bytes << " / " << 8 * out_bytes << " as the driver's JSON says\n";
        return 2;
    }
    std::ifstream in_file(argv[1], std::ios::binary);
    const std::vector<unsigned char> data((std::istreambuf_iterator<char>(in_file)), std::istreambuf_iterator<char>());
    const unsigned sample_bytes = in_beats * in_bytes;
    if (data.empty() || data.size() % sample_bytes) {
        std::cerr << data.size() << " bytes are not whole samples of " << sample_bytes << " bytes\n";
        return 2;
    }
    const unsigned samples = data.size() / sample_bytes;
    std::ofstream out_file(argv[2], std::ios::binary);
    hls::stream<In> in_stream("in_stream");
    hls::stream<Out> out_stream("out_stream");
    unsigned at = 0;
    for (unsigned s = 0; s < samples; s++) {
        for (unsigned b = 0; b < in_beats; b++) {
            In word;
            word.data = 0;
            for (unsigned i = 0; i < in_bytes; i++) {
                word.data.range(8 * i + 7, 8 * i) = data[at++];
            }
            word.keep = -1;
            word.strb = -1;
            word.last = s + 1 == samples && b + 1 == in_beats;
            in_stream.write(word);
        }
        top(in_stream, out_stream);
        if (!in_stream.empty()) {
            return fail("the top left input beats unread", s, 0);
        }
        for (unsigned b = 0; b < out_beats; b++) {
            if (out_stream.empty()) {
                return fail("the top wrote too few output beats", s, b);
            }
            const Out word = out_stream.read();
            if (bool(word.last) != (s + 1 == samples && b + 1 == out_beats)) {
                return fail("TLAST out of place: the S2MM transfer would end elsewhere", s, b);
            }
            for (unsigned i = 0; i < out_bytes; i++) {
                out_file.put(char(word.data.range(8 * i + 7, 8 * i).to_uint()));
            }
        }
        if (!out_stream.empty()) {
            return fail("the top wrote too many output beats", s, out_beats);
        }
    }
    out_file.close();
    return out_file ? 0 : 2;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 7) {
        std::cerr << "usage: axis_device in.bin out.bin in_beats in_beat_bytes out_beats out_beat_bytes\n";
        return 2;
    }
    return run(&FG_TOP, argv);
}
