// fg_dsp_chain: one PE row of the DSP-chain engine, LANES DSP slices linked through
// the dedicated cascade (PCOUT -> PCIN), so the adder tree of a LANES-wide dot product
// costs no fabric. DSP_KIND picks the primitive: "DSP48E1" (7-series, UG479: 25 x 18
// multiplier) or "DSP48E2" (UltraScale+, UG579: 27 x 18); both have a 48-bit cascade.
// Slice 0 computes P = A*B (OPMODE Z=0); slice j > 0 computes P = PCIN + A*B. Every slice
// uses AREG = BREG = MREG = PREG = 1. With AMULTSEL = "AD" the multiplier's first operand
// is the pre-adder output instead, P = (D + A)*B (INMODE = 00100: D + A2, B2; DSP48E2:
// AMULTSEL = "AD", PREADDINSEL = "A", UG579; DSP48E1: USE_DPORT = "TRUE", UG479), with
// DREG = 1 and ADREG = 0, so the pipeline is the same; D + A wraps to 27 bits on a DSP48E2,
// 25 on a DSP48E1 (D[24:0] used) -- the caller keeps it in range, see fg_dsp_pair.
//
// Operands must arrive skewed (lane j delayed j cycles, see fg_skew). A dot product
// whose lane-0 operands are presented in cycle t appears on p in cycle t + LANES + 2.
// All registers hold while en is low.
module fg_dsp_chain #(
    parameter DSP_KIND = "DSP48E1",
    parameter integer LANES = 4,
    parameter integer A_W = 8,       // operand a: at most 25 (DSP48E1) / 27 (DSP48E2) bits signed, one less unsigned
    parameter integer A_SIGNED = 1,
    parameter integer B_W = 8,       // operand b: at most 18 bits signed (17 unsigned)
    parameter integer B_SIGNED = 1,
    parameter AMULTSEL = "A"         // "AD": multiply (d + a) * b; "A": a * b, d unused
) (
    input  wire                 clk,
    input  wire                 en,
    input  wire [LANES*A_W-1:0] a,
    input  wire [LANES*B_W-1:0] b,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [LANES*27-1:0]  d,   // AMULTSEL = "AD": the D port of each slice, 27 bits (DSP48E1: 25 used)
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [47:0]          p
);
    // cascade[j] is the PCIN of slice j (PCOUT may only drive a PCIN, never fabric);
    // p_all[j] is the P output of slice j. Only the last P leaves the chain.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [48*(LANES+1)-1:0] cascade;
    wire [48*LANES-1:0] p_all;
    /* verilator lint_on UNUSEDSIGNAL */
    assign cascade[47:0] = 48'd0;
    // Lint: the string attribute is compared with literals of other lengths; each primitive's
    // branch reads only one of the two.
    /* verilator lint_off WIDTHEXPAND */
    localparam integer PREADD = (AMULTSEL == "AD") ? 1 : 0;
    localparam integer KNOWN_SEL = (AMULTSEL == "AD" || AMULTSEL == "A") ? 1 : 0;
    /* verilator lint_on WIDTHEXPAND */
    genvar j;
    generate
        for (j = 0; j < LANES; j = j + 1) begin : g_slice
            wire [29:0] a_port;
            wire [17:0] b_port;
            fg_extend #(.IN_W(A_W), .OUT_W(30), .SIGNED(A_SIGNED)) u_a (.x(a[j*A_W +: A_W]), .y(a_port));
            fg_extend #(.IN_W(B_W), .OUT_W(18), .SIGNED(B_SIGNED)) u_b (.x(b[j*B_W +: B_W]), .y(b_port));
            wire [47:0] pcin = cascade[48*j +: 48];
            wire [47:0] pcout, p_j;
            assign cascade[48*(j+1) +: 48] = pcout;
            assign p_all[48*j +: 48] = p_j;
            wire [2:0] z_sel = (j == 0) ? 3'b000 : 3'b001;  // Z: 0, then PCIN; X = Y = 01: the product
            // The chain uses neither the A/B cascade, the C port nor the carry and pattern outputs.
            /* verilator lint_off PINCONNECTEMPTY */
            if (DSP_KIND == "DSP48E2" && KNOWN_SEL == 1) begin : g_e2
                DSP48E2 #(
                    .A_INPUT("DIRECT"), .B_INPUT("DIRECT"), .AMULTSEL(AMULTSEL), .BMULTSEL("B"),
                    .PREADDINSEL("A"), .USE_MULT("MULTIPLY"), .USE_SIMD("ONE48"), .USE_WIDEXOR("FALSE"),
                    .USE_PATTERN_DETECT("NO_PATDET"), .AREG(1), .BREG(1), .ACASCREG(1), .BCASCREG(1), .MREG(1), .PREG(1),
                    .CREG(0), .DREG(PREADD), .ADREG(0), .OPMODEREG(0), .ALUMODEREG(0), .INMODEREG(0),
                    .CARRYINREG(0), .CARRYINSELREG(0)
                ) u_dsp (
                    .CLK(clk), .A(a_port), .B(b_port), .C(48'd0), .D((PREADD != 0) ? d[j*27 +: 27] : 27'd0), .ACIN(30'd0),
                    .BCIN(18'd0), .PCIN(pcin), .CARRYIN(1'b0), .CARRYCASCIN(1'b0), .MULTSIGNIN(1'b0), .CARRYINSEL(3'b000),
                    .OPMODE({2'b00, z_sel, 4'b0101}), .ALUMODE(4'b0000),  // W = 0
                    .INMODE((PREADD != 0) ? 5'b00100 : 5'b00000),  // INMODE[2]: AD = D + A2; B2
                    .CEA1(1'b0), .CEA2(en), .CEB1(1'b0), .CEB2(en), .CEM(en), .CEP(en),
                    .CEC(1'b0), .CED((PREADD != 0) ? en : 1'b0), .CEAD(1'b0), .CEALUMODE(1'b0), .CECTRL(1'b0), .CECARRYIN(1'b0),
                    .CEINMODE(1'b0), .RSTA(1'b0), .RSTB(1'b0), .RSTC(1'b0), .RSTD(1'b0), .RSTM(1'b0), .RSTP(1'b0),
                    .RSTCTRL(1'b0), .RSTALLCARRYIN(1'b0), .RSTALUMODE(1'b0), .RSTINMODE(1'b0),
                    .PCOUT(pcout), .P(p_j), .ACOUT(), .BCOUT(), .CARRYCASCOUT(), .CARRYOUT(), .MULTSIGNOUT(),
                    .OVERFLOW(), .UNDERFLOW(), .PATTERNDETECT(), .PATTERNBDETECT(), .XOROUT()
                );
            end else if (DSP_KIND == "DSP48E1" && KNOWN_SEL == 1) begin : g_e1
                DSP48E1 #(
                    .A_INPUT("DIRECT"), .B_INPUT("DIRECT"), .USE_DPORT((PREADD != 0) ? "TRUE" : "FALSE"), .USE_MULT("MULTIPLY"),
                    .USE_SIMD("ONE48"), .USE_PATTERN_DETECT("NO_PATDET"),
                    .AREG(1), .BREG(1), .ACASCREG(1), .BCASCREG(1), .MREG(1), .PREG(1),
                    .CREG(0), .DREG(PREADD), .ADREG(0), .OPMODEREG(0), .ALUMODEREG(0), .INMODEREG(0),
                    .CARRYINREG(0), .CARRYINSELREG(0)
                ) u_dsp (
                    .CLK(clk), .A(a_port), .B(b_port), .C(48'd0), .D((PREADD != 0) ? d[j*27 +: 25] : 25'd0), .ACIN(30'd0),
                    .BCIN(18'd0), .PCIN(pcin), .CARRYIN(1'b0), .CARRYCASCIN(1'b0), .MULTSIGNIN(1'b0), .CARRYINSEL(3'b000),
                    .OPMODE({z_sel, 4'b0101}), .ALUMODE(4'b0000),
                    .INMODE((PREADD != 0) ? 5'b00100 : 5'b00000),  // INMODE[2]: AD = D + A2; B2
                    .CEA1(1'b0), .CEA2(en), .CEB1(1'b0), .CEB2(en), .CEM(en), .CEP(en),
                    .CEC(1'b0), .CED((PREADD != 0) ? en : 1'b0), .CEAD(1'b0), .CEALUMODE(1'b0), .CECTRL(1'b0), .CECARRYIN(1'b0),
                    .CEINMODE(1'b0), .RSTA(1'b0), .RSTB(1'b0), .RSTC(1'b0), .RSTD(1'b0), .RSTM(1'b0), .RSTP(1'b0),
                    .RSTCTRL(1'b0), .RSTALLCARRYIN(1'b0), .RSTALUMODE(1'b0), .RSTINMODE(1'b0),
                    .PCOUT(pcout), .P(p_j), .ACOUT(), .BCOUT(), .CARRYCASCOUT(), .CARRYOUT(), .MULTSIGNOUT(),
                    .OVERFLOW(), .UNDERFLOW(), .PATTERNDETECT(), .PATTERNBDETECT()
                );
            end else begin : g_bad_kind
                // An unknown DSP_KIND or AMULTSEL is a generator bug: refuse to elaborate in every tool.
                fg_dsp_chain_DSP_KIND_must_be_DSP48E1_or_DSP48E2_and_AMULTSEL_A_or_AD u_bad ();
            end
            /* verilator lint_on PINCONNECTEMPTY */
        end
    endgenerate
    assign p = p_all[48*(LANES-1) +: 48];
endmodule
