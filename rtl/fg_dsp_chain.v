// fg_dsp_chain: one PE row of the DSP-chain engine, LANES DSP48E1 slices linked through
// the dedicated cascade (PCOUT -> PCIN), so the adder tree of a LANES-wide dot product
// costs no fabric. Slice 0 computes P = A*B (OPMODE Z=0); slice j > 0 computes
// P = PCIN + A*B. Every slice uses AREG = BREG = MREG = PREG = 1.
//
// Operands must arrive skewed (lane j delayed j cycles, see fg_skew). A dot product
// whose lane-0 operands are presented in cycle t appears on p in cycle t + LANES + 2.
// All registers hold while en is low.
module fg_dsp_chain #(
    parameter integer LANES = 4,
    parameter integer A_W = 8,       // operand a: at most 25 bits signed / 24 unsigned
    parameter integer A_SIGNED = 1,
    parameter integer B_W = 8        // operand b (weights): two's complement, at most 18 bits
) (
    input  wire                 clk,
    input  wire                 en,
    input  wire [LANES*A_W-1:0] a,
    input  wire [LANES*B_W-1:0] b,
    output wire [47:0]          p
);
    // cascade[j] is the PCIN of slice j (PCOUT may only drive a PCIN, never fabric);
    // p_all[j] is the P output of slice j. Only the last P leaves the chain.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [48*(LANES+1)-1:0] cascade;
    wire [48*LANES-1:0] p_all;
    /* verilator lint_on UNUSEDSIGNAL */
    assign cascade[47:0] = 48'd0;
    genvar j;
    generate
        for (j = 0; j < LANES; j = j + 1) begin : g_slice
            wire [29:0] a_port;
            wire [17:0] b_port;
            fg_extend #(.IN_W(A_W), .OUT_W(30), .SIGNED(A_SIGNED)) u_a (.x(a[j*A_W +: A_W]), .y(a_port));
            fg_extend #(.IN_W(B_W), .OUT_W(18), .SIGNED(1)) u_b (.x(b[j*B_W +: B_W]), .y(b_port));
            // The chain uses neither the A/B cascade nor the carry and pattern outputs.
            /* verilator lint_off PINCONNECTEMPTY */
            DSP48E1 #(
                .A_INPUT("DIRECT"), .B_INPUT("DIRECT"), .USE_DPORT("FALSE"), .USE_MULT("MULTIPLY"),
                .USE_SIMD("ONE48"), .USE_PATTERN_DETECT("NO_PATDET"),
                .AREG(1), .BREG(1), .ACASCREG(1), .BCASCREG(1), .MREG(1), .PREG(1),
                .CREG(0), .DREG(0), .ADREG(0), .OPMODEREG(0), .ALUMODEREG(0), .INMODEREG(0),
                .CARRYINREG(0), .CARRYINSELREG(0)
            ) u_dsp (
                .CLK(clk),
                .A(a_port), .B(b_port), .C(48'd0), .D(25'd0),
                .ACIN(30'd0), .BCIN(18'd0), .PCIN(cascade[48*j +: 48]),
                .CARRYIN(1'b0), .CARRYCASCIN(1'b0), .MULTSIGNIN(1'b0), .CARRYINSEL(3'b000),
                .OPMODE((j == 0) ? 7'b000_01_01 : 7'b001_01_01), .ALUMODE(4'b0000), .INMODE(5'b00000),
                .CEA1(1'b0), .CEA2(en), .CEB1(1'b0), .CEB2(en), .CEM(en), .CEP(en),
                .CEC(1'b0), .CED(1'b0), .CEAD(1'b0), .CEALUMODE(1'b0), .CECTRL(1'b0),
                .CECARRYIN(1'b0), .CEINMODE(1'b0),
                .RSTA(1'b0), .RSTB(1'b0), .RSTC(1'b0), .RSTD(1'b0), .RSTM(1'b0), .RSTP(1'b0),
                .RSTCTRL(1'b0), .RSTALLCARRYIN(1'b0), .RSTALUMODE(1'b0), .RSTINMODE(1'b0),
                .PCOUT(cascade[48*(j+1) +: 48]), .P(p_all[48*j +: 48]),
                .ACOUT(), .BCOUT(), .CARRYCASCOUT(), .CARRYOUT(), .MULTSIGNOUT(),
                .OVERFLOW(), .UNDERFLOW(), .PATTERNDETECT(), .PATTERNBDETECT()
            );
            /* verilator lint_on PINCONNECTEMPTY */
        end
    endgenerate
    assign p = p_all[48*(LANES-1) +: 48];
endmodule
