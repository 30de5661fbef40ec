// Test oracle for fpga_gen.formats.FixedPoint: casts values with the real ap_fixed headers.
//
// tests/apfixed_oracle.py compiles this file with -DCASES_FILE="<generated file>", a table with
// one case per line:
//   FROM_DOUBLE(W, I, S, Q, O)         y = ap_[u]fixed<W,I,Q,O>(x) for a double x
//   FROM_FIXED64(W, I, S, Q, O, F2)    y = ap_[u]fixed<W,I,Q,O>(x) for x an ap_fixed<64, 64 - F2>
//                                      given by its raw bits (an int64 n standing for n * 2^-F2)
// S is true for ap_fixed and false for ap_ufixed; Q and O are ap_q_mode / ap_o_mode enumerators.
// Writing the table as template instantiations keeps every combination a real compile-time
// ap_fixed type, exactly what generated HLS code uses.
//
// Protocol, binary in native byte order. stdin: for each case in table order, an int64 count and
// that many inputs (doubles, or int64 raw bits). stdout: for each input, the raw bits of y as
// (W + 63) / 64 uint64 words, least significant word first.
#include <ap_fixed.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O>
struct Fixed {
  typedef ap_fixed<W, I, Q, O> type;
};
template <int W, int I, ap_q_mode Q, ap_o_mode O>
struct Fixed<W, I, false, Q, O> {
  typedef ap_ufixed<W, I, Q, O> type;
};

typedef std::vector<uint64_t> Words;

static void read_exact(void* dst, size_t bytes) {
  if (bytes && fread(dst, 1, bytes, stdin) != bytes) {
    fprintf(stderr, "apfixed_cast: input ended early\n");
    exit(2);
  }
}

template <class T>
static std::vector<T> read_batch() {
  int64_t count = 0;
  read_exact(&count, sizeof count);
  std::vector<T> values(count);
  read_exact(values.data(), count * sizeof(T));
  return values;
}

// Takes the raw ap_private (not the ap_fixed) so that it is instantiated once per width, not per
// type: each ap_fixed instantiation costs tens of milliseconds of compile time.
template <int W, bool S>
static void put_bits(const ap_private<W, S>& raw, Words& out) {
  ap_uint<W> bits;
  bits.V = raw;
  for (int k = 0; k < (W + 63) / 64; ++k) out.push_back((bits >> (64 * k)).to_uint64());
}

template <class T>
static void from_double(Words& out) {
  std::vector<double> xs = read_batch<double>();
  for (size_t i = 0; i < xs.size(); ++i) {
    T y = xs[i];
    put_bits(y.V, out);
  }
}

template <class T, int F2>
static void from_fixed64(Words& out) {
  std::vector<int64_t> xs = read_batch<int64_t>();
  for (size_t i = 0; i < xs.size(); ++i) {
    ap_fixed<64, 64 - F2> x;
    x.V = xs[i];
    T y = x;
    put_bits(y.V, out);
  }
}

typedef void (*Case)(Words&);

#define FROM_DOUBLE(W, I, S, Q, O) &from_double<Fixed<W, I, S, Q, O>::type>,
#define FROM_FIXED64(W, I, S, Q, O, F2) &from_fixed64<Fixed<W, I, S, Q, O>::type, F2>,
static const Case kCases[] = {
#include CASES_FILE
};

int main() {
  Words out;
  for (size_t c = 0; c < sizeof kCases / sizeof kCases[0]; ++c) kCases[c](out);
  if (fgetc(stdin) != EOF) {
    fprintf(stderr, "apfixed_cast: more input than the case table reads\n");
    return 2;
  }
  if (fwrite(out.data(), sizeof(uint64_t), out.size(), stdout) != out.size()) return 3;
  return fflush(stdout) == 0 ? 0 : 3;
}
