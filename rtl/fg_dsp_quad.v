// fg_dsp_quad: two PE rows x two input vectors of the DSP-chain engine on ONE cascade of LANES
// DSP slices, four products per slice (the INT4 packing of AMD WP521, "Convolutional Neural
// Network with INT4 Optimization on Xilinx Devices"). Slice j multiplies the pre-adder output
// by the packed weights on B (fg_dsp_chain with AMULTSEL = "AD": (D + A) * B):
//     D = x1 << 2K,  A = x0,  B = w = w1 * 2**K + w0   (packed by the generator, in the ROM)
//     P = sum_j (x1[j] * 2**(2K) + x0[j]) * (w1[j] * 2**K + w0[j])
//       = F0 + F1 * 2**K + F2 * 2**(2K) + F3 * 2**(3K)   (mod 2**48)
// with F0 = x0.w0, F1 = x0.w1, F2 = x1.w0, F3 = x1.w1 the SIMD-wide partial dot products of
// rows 0, 1 for vectors 0, 1 (K = SHIFT). The generator (boards/dsp.py quad_shift) packs only
// when, for every code of the formats, AD fits the pre-adder (27 / 25 bits), B the 18-bit B
// port, and the fields below field i (L_i = F0 + ... + F_{i-1} * 2**((i-1)K)) fit iK bits
// signed (the whole sum 48), so every field comes back exactly on its own:
//     F_i = P[iK +: K] + P[iK-1]   (K bits signed; P[-1] = 0),
// since L_i = P[iK-1:0] sign-extended and (P - L_i) >>> iK is exact; each F_i fits K bits.
// The pipeline is fg_dsp_chain's: lane-0 operands presented in cycle t give the four fields in
// cycle t + LANES + 2. Operands arrive skewed (fg_skew).
module fg_dsp_quad #(
    parameter DSP_KIND = "DSP48E2",
    parameter integer LANES = 4,
    parameter integer X_W = 4,       // x0, x1: two's complement if X_SIGNED
    parameter integer X_SIGNED = 0,
    parameter integer W_W = 16,      // a packed weight word: two's complement, at most 18 bits
    parameter integer SHIFT = 11,    // K, the field width
    parameter integer PSUM_W = 11    // signed width of each field's partial sum
) (
    input  wire                  clk,
    input  wire                  en,
    input  wire [LANES*X_W-1:0]  x0,
    input  wire [LANES*X_W-1:0]  x1,
    input  wire [LANES*W_W-1:0]  w,
    output wire [4*PSUM_W-1:0]   f   // F_i at bits i*PSUM_W
);
    wire [LANES*27-1:0] d;
    genvar j, i;
    generate
        for (j = 0; j < LANES; j = j + 1) begin : g_lane
            wire [26:0] x1_ext;
            fg_extend #(.IN_W(X_W), .OUT_W(27), .SIGNED(X_SIGNED)) u_x1 (.x(x1[j*X_W +: X_W]), .y(x1_ext));
            assign d[j*27 +: 27] = x1_ext << (2 * SHIFT);
        end
    endgenerate
    /* verilator lint_off UNUSEDSIGNAL */  // bits above the top field hold nothing
    wire [47:0] p;
    /* verilator lint_on UNUSEDSIGNAL */
    fg_dsp_chain #(.DSP_KIND(DSP_KIND), .LANES(LANES), .A_W(X_W), .A_SIGNED(X_SIGNED), .B_W(W_W), .B_SIGNED(1),
                   .AMULTSEL("AD"))
        u_chain (.clk(clk), .en(en), .a(x0), .b(w), .d(d), .p(p));
    generate
        for (i = 0; i < 4; i = i + 1) begin : g_field
            // the field on K bits, then as PSUM_W bits (it fits both)
            wire [SHIFT-1:0] k_bits;
            if (i == 0) begin : g_low
                assign k_bits = p[SHIFT-1:0];
            end else begin : g_corrected
                assign k_bits = p[i*SHIFT +: SHIFT] + {{(SHIFT-1){1'b0}}, p[i*SHIFT-1]};
            end
            /* verilator lint_off UNUSEDSIGNAL */  // a field wider than PSUM_W: its top bits are sign copies
            wire [SHIFT+PSUM_W-1:0] ext;
            /* verilator lint_on UNUSEDSIGNAL */
            fg_extend #(.IN_W(SHIFT), .OUT_W(SHIFT + PSUM_W), .SIGNED(1)) u_f (.x(k_bits), .y(ext));
            assign f[i*PSUM_W +: PSUM_W] = ext[PSUM_W-1:0];
        end
    endgenerate
endmodule
