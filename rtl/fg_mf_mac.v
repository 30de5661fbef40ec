// fg_mf_mac: the exact product of two decoded operands (fg_mf_decode), aligned onto the
// product grid:  p = (a_v * b_v) << (a_e + b_e).
//
// The significand product runs on one DSP slice (fg_dsp_chain with one lane: AREG,
// MREG, PREG), or, when both significands have at most LUT_V_W bits (4 magnitude bits: every
// FP8 / FP6 / FP4 format), in fabric (fg_lut_mult, the same three registers): a slice would
// multiply 4 x 4 bits of its 25 x 18 (27 x 18) and cost far more of the board than the few
// LUTs of the product. The exponents travel beside it through three registers, and the
// product is then aligned by a barrel shifter in fabric. Every lane of a minifloat dot
// product has its own shift, so lanes cannot share the DSP cascade: each lane is one slice.
// fpga_gen.boards.dsp.fabric_product is the same rule, for the fold and the estimate.
// A minifloat operand has a short significand (M + 2 bits) on A or B; a fixed-point
// operand goes through with shift 0, which covers minifloat x fixed in both orders.
//
// p is the exact product in PROD_W bits (two's complement): the caller sizes PROD_W from
// the formats' value ranges (sizing.product_format), so the aligned product always fits
// and the bits the shifter moves beyond PROD_W are sign copies.
// Latency: operands presented in cycle t give p in cycle t + 4. Registers hold while
// en is low.
module fg_mf_mac #(
    parameter DSP_KIND = "DSP48E1",  // the slice primitive, see fg_dsp_chain
    parameter integer A_V_W = 5,   // a significand, two's complement, <= 25 / 27 (DSP48E1 / DSP48E2 A port)
    parameter integer A_E_W = 4,
    parameter integer B_V_W = 5,   // b significand, two's complement, <= 18 (DSP B port)
    parameter integer B_E_W = 4,
    parameter integer PROD_W = 36
) (
    input  wire              clk,
    input  wire              en,
    input  wire [A_V_W-1:0]  a_v,
    input  wire [A_E_W-1:0]  a_e,
    input  wire [B_V_W-1:0]  b_v,
    input  wire [B_E_W-1:0]  b_e,
    output reg  [PROD_W-1:0] p
);
    localparam integer S_W = ((A_E_W > B_E_W) ? A_E_W : B_E_W) + 1;
    localparam integer PM_W = A_V_W + B_V_W;  // the significand product, exact
    // The shifter works at least PM_W wide, so no product bit is lost before alignment.
    localparam integer SX_W = (PM_W > PROD_W) ? PM_W : PROD_W;
    localparam integer DSP_LAT = 3;  // fg_dsp_chain, one lane: AREG, MREG, PREG (fg_lut_mult alike)
    localparam integer LUT_V_W = 5;

    // The slice's 48-bit P holds a PM_W-bit product; only those bits are read.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [47:0] pm48;
    /* verilator lint_on UNUSEDSIGNAL */
    generate
        if (A_V_W <= LUT_V_W && B_V_W <= LUT_V_W) begin : g_fabric
            fg_lut_mult #(.A_W(A_V_W), .B_W(B_V_W))
                u_mult (.clk(clk), .en(en), .a(a_v), .b(b_v), .p(pm48[PM_W-1:0]));
            assign pm48[47:PM_W] = {(48 - PM_W){pm48[PM_W-1]}};
        end else begin : g_slice
            fg_dsp_chain #(.DSP_KIND(DSP_KIND), .LANES(1), .A_W(A_V_W), .A_SIGNED(1), .B_W(B_V_W))
                u_mult (.clk(clk), .en(en), .a(a_v), .b(b_v), .d(27'd0), .p(pm48));
        end
    endgenerate

    wire [S_W-1:0] a_ex, b_ex;
    fg_extend #(.IN_W(A_E_W), .OUT_W(S_W), .SIGNED(0)) u_ae (.x(a_e), .y(a_ex));
    fg_extend #(.IN_W(B_E_W), .OUT_W(S_W), .SIGNED(0)) u_be (.x(b_e), .y(b_ex));
    reg [DSP_LAT*S_W-1:0] shift_d;  // newest in the low bits
    always @(posedge clk) begin
        if (en) shift_d <= {shift_d[(DSP_LAT-1)*S_W-1:0], a_ex + b_ex};
    end

    wire [SX_W-1:0] pm;
    fg_extend #(.IN_W(PM_W), .OUT_W(SX_W), .SIGNED(1)) u_pm (.x(pm48[PM_W-1:0]), .y(pm));
    // Above PROD_W the aligned product holds only sign copies.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [SX_W-1:0] aligned = pm << shift_d[(DSP_LAT-1)*S_W +: S_W];
    /* verilator lint_on UNUSEDSIGNAL */
    always @(posedge clk) begin
        if (en) p <= aligned[PROD_W-1:0];
    end
endmodule
