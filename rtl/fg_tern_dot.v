// fg_tern_dot: one PE row of the multiplier-free engine -- a SIMD-wide dot product of
// fixed-point inputs with ternary or binary weight LEVELS, on the input grid:
//     psum = sum_j level[j] * x[j],   level in {-1, 0, +1} (ternary) or {-1, +1} (binary)
// No multiplier and no DSP: each lane passes, negates or zeroes its input by the weight
// code, and a fabric adder tree (fg_add_tree) sums the lanes. The weights' scale is not
// applied here but once per output neuron, after the fold accumulation (see fg_dense).
// Weight codes (Ternary/Binary.to_codes): ternary 2 bits, 2'b01 = +1, 2'b11 = -1,
// 2'b00 = 0; binary 1 bit, 0 = +1, 1 = -1.
// Latency: operands presented in cycle t give psum in cycle t + 1 (the tree register).
// The register holds while en is low.
module fg_tern_dot #(
    parameter integer SIMD = 2,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer BINARY = 0,    // 0 ternary (2-bit codes), 1 binary (1-bit codes)
    parameter integer T_W = 9,       // one lane's term: +-x, two's complement
    parameter integer PSUM_W = 10
) (
    input  wire                  clk,
    input  wire                  en,
    input  wire [SIMD*X_W-1:0]   x,
    input  wire [SIMD*(2-BINARY)-1:0] w,
    output reg  [PSUM_W-1:0]     psum
);
    localparam integer C_W = 2 - BINARY;  // code width

    wire [SIMD*T_W-1:0] terms;
    genvar j;
    generate
        for (j = 0; j < SIMD; j = j + 1) begin : g_lane
            wire [T_W-1:0] xe;
            fg_extend #(.IN_W(X_W), .OUT_W(T_W), .SIGNED(X_SIGNED)) u_x (.x(x[j*X_W +: X_W]), .y(xe));
            wire negative = w[j*C_W + C_W - 1];            // the sign bit of either code
            wire nonzero = (BINARY != 0) | w[j*C_W];       // binary has no zero level
            assign terms[j*T_W +: T_W] = !nonzero ? {T_W{1'b0}} : negative ? -xe : xe;
        end
    endgenerate
    wire [PSUM_W-1:0] sum;
    fg_add_tree #(.N(SIMD), .W(T_W), .OUT_W(PSUM_W)) u_tree (.x(terms), .y(sum));
    always @(posedge clk) begin
        if (en) psum <= sum;
    end
endmodule
