// fg_dsp_pair: two PE rows of the DSP-chain engine on ONE cascade of LANES DSP slices,
// sharing their input x (the operand packing of AMD WP486, "Deep Learning with INT8
// Optimization on Xilinx Devices"). Slice j multiplies the pre-adder output by x on B
// (fg_dsp_chain with AMULTSEL = "AD": (D + A) * B, AD 27 bits on a DSP48E2, 25 on a DSP48E1):
//     D = w_hi << SHIFT,  A = w_lo,  B = x
//     P = sum_j (w_hi[j] * 2**SHIFT + w_lo[j]) * x[j] = HI * 2**SHIFT + LO   (mod 2**48)
// with HI, LO the two rows' SIMD-wide partial dot products. The generator (plan.py,
// fpga_gen.dsp.pack_shift) packs only when, for every code of the formats,
//   - x fits the 18-bit B port and w_hi * 2**SHIFT + w_lo the pre-adder (27 / 25 bits),
//   - LO fits SHIFT bits signed (SHIFT >= PSUM_W), and HI fits 48 - SHIFT bits,
// so both fields come back exactly:
//     lo = P[PSUM_W-1:0] (LO sign-extended from SHIFT bits is LO itself),
//     hi = (P - LO) >>> SHIFT = P[SHIFT +: PSUM_W] + P[SHIFT-1] (floor(P / 2**SHIFT) is
//          HI - 1 exactly when LO < 0).
// The pipeline is fg_dsp_chain's: lane-0 operands presented in cycle t give lo / hi in
// cycle t + LANES + 2, both fields in the same cycle. Operands arrive skewed (fg_skew).
module fg_dsp_pair #(
    parameter DSP_KIND = "DSP48E2",
    parameter integer LANES = 4,
    parameter integer X_W = 8,       // x: two's complement if X_SIGNED, at most 18 bits signed
    parameter integer X_SIGNED = 1,
    parameter integer W_W = 8,       // weights: two's complement
    parameter integer SHIFT = 18,    // the low field's width
    parameter integer PSUM_W = 18    // signed width of each field's partial sum, at most SHIFT
) (
    input  wire                 clk,
    input  wire                 en,
    input  wire [LANES*X_W-1:0] x,
    input  wire [LANES*W_W-1:0] w_lo,
    input  wire [LANES*W_W-1:0] w_hi,
    output wire [PSUM_W-1:0]    lo,
    output wire [PSUM_W-1:0]    hi
);
    wire [LANES*27-1:0] d;
    genvar j;
    generate
        for (j = 0; j < LANES; j = j + 1) begin : g_lane
            wire [26:0] w_hi_ext;
            fg_extend #(.IN_W(W_W), .OUT_W(27), .SIGNED(1)) u_hi (.x(w_hi[j*W_W +: W_W]), .y(w_hi_ext));
            assign d[j*27 +: 27] = w_hi_ext << SHIFT;
        end
    endgenerate
    /* verilator lint_off UNUSEDSIGNAL */  // bits above SHIFT + PSUM_W hold no field
    wire [47:0] p;
    /* verilator lint_on UNUSEDSIGNAL */
    fg_dsp_chain #(.DSP_KIND(DSP_KIND), .LANES(LANES), .A_W(W_W), .A_SIGNED(1), .B_W(X_W), .B_SIGNED(X_SIGNED),
                   .AMULTSEL("AD"))
        u_chain (.clk(clk), .en(en), .a(w_lo), .b(x), .d(d), .p(p));
    assign lo = p[PSUM_W-1:0];
    assign hi = p[SHIFT +: PSUM_W] + {{(PSUM_W-1){1'b0}}, p[SHIFT-1]};
endmodule
