// Behavioural model of the Xilinx 7-series DSP48E1 primitive (UG479, UG953), for
// simulation (Verilator) only, on the datapath shared with the DSP48E2 model
// (rtl/fg_dsp48_model.v, which lists the modelled subset). Vendor synthesis defines
// SYNTHESIS and maps instances to the real primitive; Yosys synth_xilinx does the same
// with its own cell library. For vendor simulation with the unisim library, leave this
// file and fg_dsp48_model.v out (manifest.json lists them under "sim_sources").
//
// The port and parameter lists are the primitive's. Its own part of the subset: the
// 25 x 18 multiplier on A[24:0] x B (USE_DPORT = "FALSE") or on the 25-bit pre-adder output
// D +/- A[24:0] x B (USE_DPORT = "TRUE"), USE_MULT = "MULTIPLY", USE_SIMD = "ONE48", no
// pattern detector (its outputs and the carry outputs read 0), no inverted pins.
// Lint: the module is named after the primitive, not the file; a primitive has ports and
// attributes a given use leaves unconnected; string attributes are compared with literals
// of other lengths.
/* verilator lint_off DECLFILENAME */
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
/* verilator lint_off WIDTHEXPAND */
`ifndef SYNTHESIS
module DSP48E1 #(
    parameter integer ACASCREG = 1,
    parameter integer ADREG = 1,
    parameter integer ALUMODEREG = 1,
    parameter integer AREG = 1,
    parameter AUTORESET_PATDET = "NO_RESET",
    parameter A_INPUT = "DIRECT",
    parameter integer BCASCREG = 1,
    parameter integer BREG = 1,
    parameter B_INPUT = "DIRECT",
    parameter integer CARRYINREG = 1,
    parameter integer CARRYINSELREG = 1,
    parameter integer CREG = 1,
    parameter integer DREG = 1,
    parameter integer INMODEREG = 1,
    parameter [47:0] MASK = 48'h3fffffffffff,
    parameter integer MREG = 1,
    parameter integer OPMODEREG = 1,
    parameter [47:0] PATTERN = 48'h000000000000,
    parameter integer PREG = 1,
    parameter SEL_MASK = "MASK",
    parameter SEL_PATTERN = "PATTERN",
    parameter USE_DPORT = "FALSE",
    parameter USE_MULT = "MULTIPLY",
    parameter USE_PATTERN_DETECT = "NO_PATDET",
    parameter USE_SIMD = "ONE48",
    parameter [3:0] IS_ALUMODE_INVERTED = 4'b0000,
    parameter [0:0] IS_CARRYIN_INVERTED = 1'b0,
    parameter [0:0] IS_CLK_INVERTED = 1'b0,
    parameter [4:0] IS_INMODE_INVERTED = 5'b00000,
    parameter [6:0] IS_OPMODE_INVERTED = 7'b0000000
) (
    output wire [29:0] ACOUT,
    output wire [17:0] BCOUT,
    output wire        CARRYCASCOUT,
    output wire [3:0]  CARRYOUT,
    output wire        MULTSIGNOUT,
    output wire        OVERFLOW,
    output wire [47:0] P,
    output wire        PATTERNBDETECT,
    output wire        PATTERNDETECT,
    output wire [47:0] PCOUT,
    output wire        UNDERFLOW,
    input  wire [29:0] A,
    input  wire [29:0] ACIN,
    input  wire [3:0]  ALUMODE,
    input  wire [17:0] B,
    input  wire [17:0] BCIN,
    input  wire [47:0] C,
    input  wire        CARRYCASCIN,
    input  wire        CARRYIN,
    input  wire [2:0]  CARRYINSEL,
    input  wire        CEA1,
    input  wire        CEA2,
    input  wire        CEAD,
    input  wire        CEALUMODE,
    input  wire        CEB1,
    input  wire        CEB2,
    input  wire        CEC,
    input  wire        CECARRYIN,
    input  wire        CECTRL,
    input  wire        CED,
    input  wire        CEINMODE,
    input  wire        CEM,
    input  wire        CEP,
    input  wire        CLK,
    input  wire [24:0] D,
    input  wire [4:0]  INMODE,
    input  wire        MULTSIGNIN,
    input  wire [6:0]  OPMODE,
    input  wire [47:0] PCIN,
    input  wire        RSTA,
    input  wire        RSTALLCARRYIN,
    input  wire        RSTALUMODE,
    input  wire        RSTB,
    input  wire        RSTC,
    input  wire        RSTCTRL,
    input  wire        RSTD,
    input  wire        RSTINMODE,
    input  wire        RSTM,
    input  wire        RSTP
);
    // The primitive's own attributes outside the subset stop the model at time 0.
    localparam integer PREADD = USE_DPORT == "TRUE";
    localparam integer IN_SUBSET = (USE_DPORT == "FALSE" || USE_DPORT == "TRUE") && USE_MULT == "MULTIPLY" && USE_SIMD == "ONE48"
        && USE_PATTERN_DETECT == "NO_PATDET" && IS_ALUMODE_INVERTED == 4'b0000 && IS_CARRYIN_INVERTED == 1'b0
        && IS_CLK_INVERTED == 1'b0 && IS_INMODE_INVERTED == 5'b00000 && IS_OPMODE_INVERTED == 7'b0000000;
    fg_dsp48_model #(
        .NAME("DSP48E1"), .IN_SUBSET(IN_SUBSET), .MULT_A_W(25), .PREADD(PREADD), .ADREG(ADREG), .DREG(DREG),
        .ACASCREG(ACASCREG), .ALUMODEREG(ALUMODEREG), .AREG(AREG), .A_INPUT(A_INPUT), .BCASCREG(BCASCREG),
        .BREG(BREG), .B_INPUT(B_INPUT), .CARRYINREG(CARRYINREG), .CARRYINSELREG(CARRYINSELREG), .CREG(CREG),
        .INMODEREG(INMODEREG), .MREG(MREG), .OPMODEREG(OPMODEREG), .PREG(PREG)
    ) u_model (
        .CLK(CLK), .A(A), .ACIN(ACIN), .B(B), .BCIN(BCIN), .C(C), .D({2'b00, D}), .PCIN(PCIN), .CARRYIN(CARRYIN),
        .CARRYINSEL(CARRYINSEL), .ALUMODE(ALUMODE), .INMODE(INMODE), .OPMODE({2'b00, OPMODE}),  // no W multiplexer
        .CEA1(CEA1), .CEA2(CEA2), .CEB1(CEB1), .CEB2(CEB2), .CEC(CEC), .CED(CED), .CEAD(CEAD), .CEM(CEM), .CEP(CEP), .CECTRL(CECTRL),
        .CEINMODE(CEINMODE), .CEALUMODE(CEALUMODE), .CECARRYIN(CECARRYIN),
        .RSTA(RSTA), .RSTB(RSTB), .RSTC(RSTC), .RSTD(RSTD), .RSTM(RSTM), .RSTP(RSTP), .RSTCTRL(RSTCTRL), .RSTINMODE(RSTINMODE),
        .RSTALUMODE(RSTALUMODE), .RSTALLCARRYIN(RSTALLCARRYIN),
        .ACOUT(ACOUT), .BCOUT(BCOUT), .P(P), .PCOUT(PCOUT), .MULTSIGNOUT(MULTSIGNOUT)
    );
    assign CARRYCASCOUT = 1'b0;
    assign CARRYOUT = 4'd0;
    assign OVERFLOW = 1'b0;
    assign UNDERFLOW = 1'b0;
    assign PATTERNDETECT = 1'b0;
    assign PATTERNBDETECT = 1'b0;
endmodule
`endif
/* verilator lint_on WIDTHEXPAND */
/* verilator lint_on UNUSEDPARAM */
/* verilator lint_on UNUSEDSIGNAL */
/* verilator lint_on DECLFILENAME */
