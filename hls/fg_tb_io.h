// fpga_gen HLS library: testbench helpers (C simulation only, never synthesized).
//
// Samples travel as text: a header line "<samples> <elements>" then one line of decimal
// codes per sample: each element's bit pattern (fg::bits) read as an unsigned integer.
// fpga_gen converts them to and from exact values on the host. Decimal text keeps every
// width exact, including accumulators far beyond 64 bits.
#ifndef FG_TB_IO_H_
#define FG_TB_IO_H_

#include <fstream>
#include <stdexcept>
#include <string>

#include "fg_stream.h"

namespace fg {

// The code of a T as an unsigned integer.
template <class T>
struct code {
    typedef ap_uint<bits<T>::width> type;
};

template <class T>
typename code<T>::type parse_code(const std::string &token) {
    return typename code<T>::type(token.c_str(), 10);
}

template <class T>
typename code<T>::type to_code(const T &v) {
    return typename code<T>::type(to_bits(v));
}

// A whitespace-separated matrix file whose header must announce `cols` columns.
class matrix_reader {
  public:
    matrix_reader(const char *path, unsigned cols) : file_(path) {
        unsigned header_cols = 0;
        if (!(file_ >> rows_ >> header_cols)) {
            throw std::runtime_error(std::string("cannot read the header of ") + path);
        }
        if (header_cols != cols) {
            throw std::runtime_error(std::string(path) + ": " + std::to_string(header_cols) +
                                     " values per sample, the design expects " + std::to_string(cols));
        }
    }
    unsigned rows() const { return rows_; }
    std::string next() {
        std::string token;
        if (!(file_ >> token)) {
            throw std::runtime_error("input ended early");
        }
        return token;
    }

  private:
    std::ifstream file_;
    unsigned rows_ = 0;
};

// One sample from `reader` onto the AXI4-Stream, TLAST on its final beat if `last`.
template <class CONFIG_T>
void write_sample(matrix_reader &reader, hls::stream<typename axis_beat<CONFIG_T>::type> &out, bool last) {
    typedef typename CONFIG_T::elem_t elem_t;
    const int w = bits<elem_t>::width;
    const unsigned beats = CONFIG_T::n / CONFIG_T::pack;
    for (unsigned b = 0; b < beats; b++) {
        typename axis_beat<CONFIG_T>::type word;
        word.data = 0;
        for (unsigned k = 0; k < CONFIG_T::pack; k++) {
            word.data.range(k * w + w - 1, k * w) = parse_code<elem_t>(reader.next());
        }
        word.keep = -1;
        word.strb = -1;
        word.last = last && b == beats - 1;
        out.write(word);
    }
}

// One sample off the AXI4-Stream into `values`; returns whether TLAST was set on its
// final beat, and throws if TLAST shows up anywhere else.
template <class CONFIG_T>
bool read_sample(hls::stream<typename axis_beat<CONFIG_T>::type> &in, typename CONFIG_T::elem_t values[CONFIG_T::n]) {
    typedef typename CONFIG_T::elem_t elem_t;
    const int w = bits<elem_t>::width;
    const unsigned beats = CONFIG_T::n / CONFIG_T::pack;
    bool last = false;
    for (unsigned b = 0; b < beats; b++) {
        if (in.empty()) {
            throw std::runtime_error("the design produced fewer output beats than a sample needs");
        }
        typename axis_beat<CONFIG_T>::type word = in.read();
        for (unsigned k = 0; k < CONFIG_T::pack; k++) {
            values[b * CONFIG_T::pack + k] = from_bits<elem_t>(word.data.range(k * w + w - 1, k * w));
        }
        if (word.last == 1 && b != beats - 1) {
            throw std::runtime_error("TLAST set before the final beat of a sample");
        }
        last = word.last == 1;
    }
    return last;
}

}  // namespace fg

#endif
