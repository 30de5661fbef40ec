// fg_mf_dot: one PE row of the minifloat engine -- a SIMD-wide exact dot product of
// decoded inputs (shared by every PE, decoded once by the caller) and weight codes
// (decoded here), on the product grid:
//     psum = sum_j (x_v[j] * w_v[j]) << (x_e[j] + w_e[j])
// Each lane is one fg_mf_mac (one DSP slice, its own alignment shift); the aligned
// products meet in a fabric adder tree (fg_add_tree), PSUM_W bits wide, which the caller
// sizes for SIMD products (sizing.accumulator_format) so nothing wraps.
// Latency: operands presented in cycle t give psum in cycle t + 5 (MAC 4, tree register 1).
// Registers hold while en is low.
module fg_mf_dot #(
    parameter DSP_KIND = "DSP48E1",  // the slice primitive, see fg_dsp_chain
    parameter integer SIMD = 2,
    parameter integer X_V_W = 5,
    parameter integer X_E_W = 4,
    parameter integer W_MF = 1,      // weights: 1 minifloat codes, 0 fixed-point mantissas
    parameter integer W_W = 8,       // weight code / mantissa width
    parameter integer W_SIGNED = 1,
    parameter integer W_E = 4,
    parameter integer W_M = 3,
    parameter integer W_SUB = 1,
    parameter integer W_V_W = 5,
    parameter integer W_E_W = 4,
    parameter integer PROD_W = 36,
    parameter integer PSUM_W = 38
) (
    input  wire                    clk,
    input  wire                    en,
    input  wire [SIMD*X_V_W-1:0]   x_v,
    input  wire [SIMD*X_E_W-1:0]   x_e,
    input  wire [SIMD*W_W-1:0]     w,
    output reg  [PSUM_W-1:0]       psum
);
    wire [SIMD*PROD_W-1:0] prods;
    genvar j;
    generate
        for (j = 0; j < SIMD; j = j + 1) begin : g_lane
            wire [W_V_W-1:0] w_v;
            wire [W_E_W-1:0] w_e;
            fg_mf_decode #(.MF(W_MF), .W(W_W), .SIGNED(W_SIGNED), .E(W_E), .M(W_M), .SUB(W_SUB),
                           .V_W(W_V_W), .E_W(W_E_W))
                u_w (.c(w[j*W_W +: W_W]), .v(w_v), .e(w_e));
            fg_mf_mac #(.DSP_KIND(DSP_KIND), .A_V_W(X_V_W), .A_E_W(X_E_W), .B_V_W(W_V_W), .B_E_W(W_E_W), .PROD_W(PROD_W))
                u_mac (.clk(clk), .en(en), .a_v(x_v[j*X_V_W +: X_V_W]), .a_e(x_e[j*X_E_W +: X_E_W]),
                       .b_v(w_v), .b_e(w_e), .p(prods[j*PROD_W +: PROD_W]));
        end
    endgenerate
    wire [PSUM_W-1:0] sum;
    fg_add_tree #(.N(SIMD), .W(PROD_W), .OUT_W(PSUM_W)) u_tree (.x(prods), .y(sum));
    always @(posedge clk) begin
        if (en) psum <= sum;
    end
endmodule
