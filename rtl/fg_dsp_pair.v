// fg_dsp_pair: two PE rows of the DSP-chain engine on ONE cascade of LANES DSP48E2 slices,
// sharing their input x (the operand packing of AMD WP486, "Deep Learning with INT8
// Optimization on Xilinx Devices"). Slice j multiplies the pre-adder output (UG579:
// AMULTSEL = "AD", PREADDINSEL = "A", INMODE = 00100: AD = D + A2, 27 bits) by x on B:
//     D = w_hi << SHIFT,  A = w_lo,  B = x
//     P = sum_j (w_hi[j] * 2**SHIFT + w_lo[j]) * x[j] = HI * 2**SHIFT + LO   (mod 2**48)
// with HI, LO the two rows' SIMD-wide partial dot products. The generator (plan.py,
// fpga_gen.dsp.pack_shift) packs only when, for every code of the formats,
//   - x fits the 18-bit B port and w_hi * 2**SHIFT + w_lo the 27-bit pre-adder,
//   - LO fits SHIFT bits signed (SHIFT >= PSUM_W), and HI fits 48 - SHIFT bits,
// so both fields come back exactly:
//     lo = P[PSUM_W-1:0] (LO sign-extended from SHIFT bits is LO itself),
//     hi = (P - LO) >>> SHIFT = P[SHIFT +: PSUM_W] + P[SHIFT-1] (floor(P / 2**SHIFT) is
//          HI - 1 exactly when LO < 0).
// Registers: AREG = DREG = BREG = 1, ADREG = 0, MREG = PREG = 1, so the pipeline is the
// plain chain's (fg_dsp_chain): lane-0 operands presented in cycle t give lo / hi in
// cycle t + LANES + 2. Operands arrive skewed (fg_skew). All registers hold while en is low.
module fg_dsp_pair #(
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
    /* verilator lint_off UNUSEDSIGNAL */
    wire [48*(LANES+1)-1:0] cascade;
    wire [48*LANES-1:0] p_all;
    /* verilator lint_on UNUSEDSIGNAL */
    assign cascade[47:0] = 48'd0;
    genvar j;
    generate
        for (j = 0; j < LANES; j = j + 1) begin : g_slice
            wire [29:0] a_port;
            wire [26:0] d_ext;
            wire [17:0] b_port;
            fg_extend #(.IN_W(W_W), .OUT_W(30), .SIGNED(1)) u_a (.x(w_lo[j*W_W +: W_W]), .y(a_port));
            fg_extend #(.IN_W(W_W), .OUT_W(27), .SIGNED(1)) u_d (.x(w_hi[j*W_W +: W_W]), .y(d_ext));
            fg_extend #(.IN_W(X_W), .OUT_W(18), .SIGNED(X_SIGNED)) u_b (.x(x[j*X_W +: X_W]), .y(b_port));
            wire [26:0] d_port = d_ext << SHIFT;
            wire [47:0] pcin = cascade[48*j +: 48];
            wire [47:0] pcout, p_j;
            assign cascade[48*(j+1) +: 48] = pcout;
            assign p_all[48*j +: 48] = p_j;
            wire [2:0] z_sel = (j == 0) ? 3'b000 : 3'b001;  // Z: 0, then PCIN; X = Y = 01: the product
            /* verilator lint_off PINCONNECTEMPTY */
            DSP48E2 #(
                .A_INPUT("DIRECT"), .B_INPUT("DIRECT"), .AMULTSEL("AD"), .BMULTSEL("B"), .PREADDINSEL("A"),
                .USE_MULT("MULTIPLY"), .USE_SIMD("ONE48"), .USE_WIDEXOR("FALSE"), .USE_PATTERN_DETECT("NO_PATDET"),
                .AREG(1), .BREG(1), .ACASCREG(1), .BCASCREG(1), .MREG(1), .PREG(1),
                .CREG(0), .DREG(1), .ADREG(0), .OPMODEREG(0), .ALUMODEREG(0), .INMODEREG(0),
                .CARRYINREG(0), .CARRYINSELREG(0)
            ) u_dsp (
                .CLK(clk), .A(a_port), .B(b_port), .C(48'd0), .D(d_port), .ACIN(30'd0), .BCIN(18'd0), .PCIN(pcin),
                .CARRYIN(1'b0), .CARRYCASCIN(1'b0), .MULTSIGNIN(1'b0), .CARRYINSEL(3'b000),
                .OPMODE({2'b00, z_sel, 4'b0101}), .ALUMODE(4'b0000), .INMODE(5'b00100),  // W = 0; AD = D + A2, B2
                .CEA1(1'b0), .CEA2(en), .CEB1(1'b0), .CEB2(en), .CED(en), .CEM(en), .CEP(en),
                .CEC(1'b0), .CEAD(1'b0), .CEALUMODE(1'b0), .CECTRL(1'b0), .CECARRYIN(1'b0),
                .CEINMODE(1'b0), .RSTA(1'b0), .RSTB(1'b0), .RSTC(1'b0), .RSTD(1'b0), .RSTM(1'b0), .RSTP(1'b0),
                .RSTCTRL(1'b0), .RSTALLCARRYIN(1'b0), .RSTALUMODE(1'b0), .RSTINMODE(1'b0),
                .PCOUT(pcout), .P(p_j), .ACOUT(), .BCOUT(), .CARRYCASCOUT(), .CARRYOUT(), .MULTSIGNOUT(),
                .OVERFLOW(), .UNDERFLOW(), .PATTERNDETECT(), .PATTERNBDETECT(), .XOROUT()
            );
            /* verilator lint_on PINCONNECTEMPTY */
        end
    endgenerate
    /* verilator lint_off UNUSEDSIGNAL */  // bits above SHIFT + PSUM_W hold no field
    wire [47:0] p = p_all[48*(LANES-1) +: 48];
    /* verilator lint_on UNUSEDSIGNAL */
    assign lo = p[PSUM_W-1:0];
    assign hi = p[SHIFT +: PSUM_W] + {{(PSUM_W-1){1'b0}}, p[SHIFT-1]};
endmodule
