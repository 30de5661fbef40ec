// fg_fold_out: one PE row's fold accumulation and its one rounding, shared by the matmul
// engines (fg_dense, fg_vvau). Each synapse fold's SIMD-wide partial sum (PSUM_W bits on the
// product grid) is sign-extended and shifted onto the accumulator grid, then
//     acc <= (first ? init : acc) + term        in a cycle with en & valid,
// exact in ACC_W bits. Unscaled (SCALED = 0): init is the bias (on the accumulator grid) and the
// value converted is acc. Scaled (SCALED = 1, the multiplier-free engine): init is 0, and the
// value converted is acc * scale << SCALE_SHIFT + bias (fg_scale, FIN_W bits), with the scale a
// constant or read from a per-neuron ROM at scale_addr (one cycle, registered). fg_convert makes
// the one rounding into OUT_W bits, combinationally; the caller registers y.
`include "fg_params.vh"
module fg_fold_out #(
    parameter integer PSUM_W = 16,
    parameter integer ACC_W = 20,
    parameter integer ACC_SHIFT = 0,
    parameter integer FIN_W = 20,      // the exact value converted (ACC_W when unscaled)
    parameter integer FIN_FRAC = 8,
    parameter integer SCALED = 0,
    parameter integer B_W = SCALED != 0 ? FIN_W : ACC_W,
    /* verilator lint_off UNUSEDPARAM */  // unscaled: no scale
    parameter integer SCALE_W = 1,
    parameter integer SCALE = 1,       // the factor, one for every neuron
    parameter integer SCALE_ROM = 0,   // ... or per neuron, from the ROM S_FILE of NF words
    parameter integer SCALE_SHIFT = 0,
    parameter integer NF = 1,
    parameter integer NF_W = 1,
    parameter integer S_BLOCK = 0,
    parameter S_FILE = "scale.mem",
    /* verilator lint_on UNUSEDPARAM */
    parameter integer RELU = 0,
    parameter integer OUT_W = 8,
    `FG_CONVERT_PARAMS
) (
    input  wire              clk,
    input  wire              en,
    input  wire              valid,
    input  wire              first,
    input  wire [PSUM_W-1:0] psum,
    input  wire [B_W-1:0]    bias,
    /* verilator lint_off UNUSEDSIGNAL */  // read only by a per-neuron scale ROM
    input  wire [NF_W-1:0]   scale_addr,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [OUT_W-1:0]  y
);
    // Partial sum onto the accumulator grid: sign-extend, then shift left.
    wire [ACC_W-ACC_SHIFT-1:0] psum_ext;
    fg_extend #(.IN_W(PSUM_W), .OUT_W(ACC_W - ACC_SHIFT), .SIGNED(1)) u_psum (.x(psum), .y(psum_ext));
    wire [ACC_W-1:0] term;
    generate
        if (ACC_SHIFT > 0) begin : g_shift
            assign term = {psum_ext, {ACC_SHIFT{1'b0}}};
        end else begin : g_noshift
            assign term = psum_ext;
        end
    endgenerate

    reg [ACC_W-1:0] acc;
    wire [ACC_W-1:0] acc_init;
    wire [FIN_W-1:0] fin;  // the exact value to convert
    generate
        if (SCALED != 0) begin : g_scaled
            assign acc_init = {ACC_W{1'b0}};
            wire [SCALE_W-1:0] scale;
            if (SCALE_ROM != 0) begin : g_scale_rom
                fg_rom #(.WIDTH(SCALE_W), .DEPTH(NF), .ADDR_W(NF_W), .BLOCK(S_BLOCK), .FILE(S_FILE))
                    u_s (.clk(clk), .en(en), .addr(scale_addr), .q(scale));
            end else begin : g_scale_const
                assign scale = SCALE[SCALE_W-1:0];
            end
            wire [FIN_W-1:0] scaled;
            fg_scale #(.X_W(ACC_W), .S_W(SCALE_W), .SHIFT(SCALE_SHIFT), .Y_W(FIN_W))
                u_scale (.x(acc), .s(scale), .y(scaled));
            assign fin = scaled + bias;
        end else begin : g_direct
            assign acc_init = bias;
            assign fin = acc;
        end
    endgenerate
    always @(posedge clk) begin
        if (en && valid) acc <= (first ? acc_init : acc) + term;
    end
    fg_convert #(.IN_W(FIN_W), .IN_FRAC(FIN_FRAC), .RELU(RELU), .OUT_W(OUT_W), `FG_CONVERT_PASS)
        u_convert (.x(fin), .y(y));
endmodule
