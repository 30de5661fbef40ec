// Test harness of a generated Alveo kernel (tests/test_flow_alveo.py): raw memory in, raw memory out.
//
// Built with g++ together with vitis/<kernel>.cpp and the HLS firmware, and with
//   -include <kernel>.h -DFG_KERNEL=<kernel>
// usage: alveo_kernel_harness <input bytes file> <output bytes file> <samples> <output bytes>
// The input file is the device buffer of the input argument, the output file receives the
// device buffer of the output argument: little-endian words, as an XRT buffer holds them.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

namespace {

// The kernel's memory word types, read off its signature (ap_uint<IN_BITS>, ap_uint<OUT_BITS>).
template <class In, class Out>
struct words {
    typedef In in_t;
    typedef Out out_t;
};
template <class In, class Out>
words<In, Out> words_of(void (*)(const In *, Out *, unsigned));
typedef decltype(words_of(&FG_KERNEL)) kernel_words;
typedef kernel_words::in_t in_word;
typedef kernel_words::out_t out_word;
const unsigned in_bytes = in_word::width / 8;
const unsigned out_bytes = out_word::width / 8;

int run(const char *in_path, const char *out_path, unsigned samples, unsigned long size_out) {
    std::ifstream in(in_path, std::ios::binary);
    if (!in) {
        std::cerr << "cannot read " << in_path << "\n";
        return 2;
    }
    const std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (raw.size() % in_bytes || size_out % out_bytes) {
        std::cerr << "buffers of " << raw.size() << " and " << size_out << " bytes are not whole words of "
                  << in_bytes << " and " << out_bytes << " bytes\n";
        return 2;
    }
    std::vector<in_word> mem_in(raw.size() / in_bytes);
    for (size_t w = 0; w < mem_in.size(); w++) {
        for (unsigned b = 0; b < in_bytes; b++) {
            mem_in[w].range(8 * b + 7, 8 * b) = (unsigned char)raw[w * in_bytes + b];
        }
    }
    std::vector<out_word> mem_out(size_out / out_bytes);
    FG_KERNEL(mem_in.data(), mem_out.data(), samples);
    std::ofstream out(out_path, std::ios::binary);
    for (size_t w = 0; w < mem_out.size(); w++) {
        for (unsigned b = 0; b < out_bytes; b++) {
            out.put((char)(unsigned)mem_out[w].range(8 * b + 7, 8 * b));
        }
    }
    out.close();
    return out ? 0 : 2;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 5) {
        std::cerr << "usage: " << argv[0] << " <input bytes> <output bytes> <samples> <output size>\n";
        return 2;
    }
    return run(argv[1], argv[2], std::strtoul(argv[3], 0, 10), std::strtoul(argv[4], 0, 10));
}
