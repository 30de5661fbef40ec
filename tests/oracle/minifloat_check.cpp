// Drives hls/fg_minifloat.h for tests/test_hls_minifloat.py, which compares every result
// with fpga_gen.formats.MiniFloat.
//
// Compiled with -DCASES_FILE="<generated file>", a table of one case per line:
//   &check<fg::minifloat<E, M, BIAS, FLAGS>, AW, AI>,
// (the minifloat type spelled by MiniFloat.cpp_type(); AW, AI: an ap_fixed<AW, AI>
// accumulator for from_fixed).
//
// Protocol, binary in native byte order. stdin, for each case in table order: an int64
// count and that many doubles (for from_double), then an int64 count and that many
// accumulators, each as two int64 words (low, high) of its raw bits. stdout, for each
// case: the raw to_fixed() mantissa of every code 0 .. 2^width - 1 (int64), the code
// from_double gives for each double, the code from_fixed gives for each accumulator.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fg_minifloat.h"

typedef std::vector<int64_t> Words;

static void read_exact(void *dst, size_t bytes) {
    if (bytes && fread(dst, 1, bytes, stdin) != bytes) {
        fprintf(stderr, "minifloat_check: input ended early\n");
        exit(2);
    }
}

template <class T>
static std::vector<T> read_batch(size_t per_item) {
    int64_t count = 0;
    read_exact(&count, sizeof count);
    std::vector<T> values(count * per_item);
    read_exact(values.data(), values.size() * sizeof(T));
    return values;
}

template <class MF, int AW, int AI>
static void check(Words &out) {
    for (int64_t c = 0; c < (int64_t(1) << MF::width); ++c) {
        const MF v = MF::from_code(typename MF::code_t(c));
        out.push_back(fg::to_bits(v.to_fixed()).to_int64());
    }
    const std::vector<double> xs = read_batch<double>(1);
    for (size_t i = 0; i < xs.size(); ++i) {
        out.push_back(int64_t(MF::from_double(xs[i]).code.to_uint64()));
    }
    const std::vector<int64_t> accs = read_batch<int64_t>(2);
    for (size_t i = 0; i < accs.size(); i += 2) {
        const ap_int<128> raw = (ap_int<128>(accs[i + 1]) << 64) | ap_int<128>(ap_uint<64>(uint64_t(accs[i])));
        ap_fixed<AW, AI> acc;
        acc.V = ap_int<AW>(raw).V;
        out.push_back(int64_t(MF::from_fixed(acc).code.to_uint64()));
    }
}

typedef void (*Case)(Words &);

static const Case kCases[] = {
#include CASES_FILE
};

int main() {
    Words out;
    for (size_t c = 0; c < sizeof kCases / sizeof kCases[0]; ++c) kCases[c](out);
    if (fgetc(stdin) != EOF) {
        fprintf(stderr, "minifloat_check: more input than the case table reads\n");
        return 2;
    }
    if (fwrite(out.data(), sizeof(int64_t), out.size(), stdout) != out.size()) return 3;
    return fflush(stdout) == 0 ? 0 : 3;
}
