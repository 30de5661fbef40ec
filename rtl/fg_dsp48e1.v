// Behavioural model of the Xilinx 7-series DSP48E1 primitive (UG479), for simulation
// (Verilator) only. Vendor synthesis defines SYNTHESIS and maps instances to the real
// primitive; Yosys synth_xilinx does the same with its own cell library. For vendor
// simulation with the unisim library, leave this file out (manifest.json lists it
// under "sim_sources").
//
// The port and parameter lists are the primitive's. The behaviour covers the subset
// the fpga_gen engines and common MAC/cascade designs use, and stops the simulation on
// anything outside it instead of computing something plausible:
//   - A/B: DIRECT or CASCADE input, AREG/BREG 0..2 (INMODE[0]/[4] select A1/B1),
//     INMODE[1] zeroes A; no pre-adder (USE_DPORT = "FALSE")
//   - 25x18 signed multiplier (USE_MULT = "MULTIPLY"), MREG 0..1
//   - X/Y/Z multiplexers per OPMODE, ALUMODE 0000/0001/0010/0011 (add/subtract forms),
//     CARRYINSEL 000 (fabric CARRYIN), one 48-bit ALU (USE_SIMD = "ONE48")
//   - P, PCOUT, ACOUT, BCOUT; no pattern detector, carry outputs are not modelled (0)
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
    // Static configuration outside the modelled subset: stop at time 0.
    initial begin
        if (USE_DPORT != "FALSE" || USE_MULT != "MULTIPLY" || USE_SIMD != "ONE48"
            || USE_PATTERN_DETECT != "NO_PATDET" || AREG > 2 || BREG > 2 || MREG > 1
            || PREG > 1 || CREG > 1 || IS_ALUMODE_INVERTED != 4'b0000
            || IS_CARRYIN_INVERTED != 1'b0 || IS_CLK_INVERTED != 1'b0
            || IS_INMODE_INVERTED != 5'b00000 || IS_OPMODE_INVERTED != 7'b0000000) begin
            $display("DSP48E1 model %m: configuration outside the modelled subset");
            $finish;
        end
    end

    // ---- A and B input registers (A1/B1 first stage, A2/B2 second) -----------------
    wire [29:0] a_in = (A_INPUT == "CASCADE") ? ACIN : A;
    wire [17:0] b_in = (B_INPUT == "CASCADE") ? BCIN : B;
    reg  [29:0] a1, a2;
    reg  [17:0] b1, b2;
    always @(posedge CLK) begin
        if (RSTA) begin
            a1 <= 30'd0;
            a2 <= 30'd0;
        end else begin
            if (CEA1) a1 <= a_in;
            if (CEA2) a2 <= (AREG == 2) ? a1 : a_in;
        end
        if (RSTB) begin
            b1 <= 18'd0;
            b2 <= 18'd0;
        end else begin
            if (CEB1) b1 <= b_in;
            if (CEB2) b2 <= (BREG == 2) ? b1 : b_in;
        end
    end
    // INMODE[0] / INMODE[4] = 1 multiply A1 / B1 (registered whenever AREG / BREG > 0).
    wire [29:0] a_q1 = (AREG == 0) ? a_in : a1;
    wire [29:0] a_q2 = (AREG == 0) ? a_in : a2;
    wire [17:0] b_q1 = (BREG == 0) ? b_in : b1;
    wire [17:0] b_q2 = (BREG == 0) ? b_in : b2;
    assign ACOUT = (ACASCREG == 1 && AREG == 2) ? a1 : a_q2;
    assign BCOUT = (BCASCREG == 1 && BREG == 2) ? b1 : b_q2;

    // ---- control registers ------------------------------------------------------------
    reg  [4:0] inmode_r;
    reg  [6:0] opmode_r;
    reg  [3:0] alumode_r;
    reg  [2:0] carryinsel_r;
    reg        carryin_r;
    reg [47:0] c_r;
    always @(posedge CLK) begin
        if (RSTINMODE) inmode_r <= 5'd0; else if (CEINMODE) inmode_r <= INMODE;
        if (RSTCTRL) begin
            opmode_r <= 7'd0;
            carryinsel_r <= 3'd0;
        end else if (CECTRL) begin
            opmode_r <= OPMODE;
            carryinsel_r <= CARRYINSEL;
        end
        if (RSTALUMODE) alumode_r <= 4'd0; else if (CEALUMODE) alumode_r <= ALUMODE;
        if (RSTALLCARRYIN) carryin_r <= 1'b0; else if (CECARRYIN) carryin_r <= CARRYIN;
        if (RSTC) c_r <= 48'd0; else if (CEC) c_r <= C;
    end
    wire [4:0] inmode = (INMODEREG == 1) ? inmode_r : INMODE;
    wire [6:0] opmode = (OPMODEREG == 1) ? opmode_r : OPMODE;
    wire [3:0] alumode = (ALUMODEREG == 1) ? alumode_r : ALUMODE;
    wire [2:0] carryinsel = (CARRYINSELREG == 1) ? carryinsel_r : CARRYINSEL;
    wire       carryin = (CARRYINREG == 1) ? carryin_r : CARRYIN;
    wire [47:0] c_q = (CREG == 1) ? c_r : C;

    // ---- 25 x 18 signed multiplier ------------------------------------------------------
    wire [29:0] a_sel = inmode[0] ? a_q1 : a_q2;
    wire signed [24:0] a_mult = inmode[1] ? 25'sd0 : $signed(a_sel[24:0]);
    wire signed [17:0] b_mult = $signed(inmode[4] ? b_q1 : b_q2);
    wire signed [42:0] m_d = a_mult * b_mult;
    reg  signed [42:0] m_r;
    always @(posedge CLK) begin
        if (RSTM) m_r <= 43'sd0; else if (CEM) m_r <= m_d;
    end
    wire signed [42:0] m_q = (MREG == 1) ? m_r : m_d;

    // ---- X / Y / Z multiplexers and ALU ---------------------------------------------
    // The real multiplier hands two partial products to X and Y (OPMODE X=01 with Y=01);
    // their sum is the product, which is all that is observable.
    reg  [47:0] p_r;
    wire [47:0] p_fb = p_r;  // P feedback (X=10, Z=010/110) needs PREG = 1, as on the silicon
    reg  [47:0] x_mux, y_mux, z_mux;
    always @(*) begin
        case (opmode[1:0])
            2'b00: x_mux = 48'd0;
            2'b01: x_mux = {{5{m_q[42]}}, m_q};
            2'b10: x_mux = p_fb;
            default: x_mux = {a_q2, b_q2};
        endcase
        case (opmode[3:2])
            2'b00, 2'b01: y_mux = 48'd0;
            2'b10: y_mux = {48{1'b1}};
            default: y_mux = c_q;
        endcase
        case (opmode[6:4])
            3'b000: z_mux = 48'd0;
            3'b001: z_mux = PCIN;
            3'b010: z_mux = p_fb;
            3'b011: z_mux = c_q;
            3'b101: z_mux = {{17{PCIN[47]}}, PCIN[47:17]};
            3'b110: z_mux = {{17{p_fb[47]}}, p_fb[47:17]};
            default: z_mux = 48'd0;
        endcase
    end
    wire [47:0] xyc = x_mux + y_mux + {47'd0, carryin};
    reg  [47:0] alu;
    always @(*) begin
        case (alumode[1:0])
            2'b00: alu = z_mux + xyc;          // Z + (X + Y + CIN)
            2'b01: alu = ~z_mux + xyc;         // -Z + (X + Y + CIN) - 1
            2'b10: alu = ~(z_mux + xyc);       // -(Z + X + Y + CIN) - 1
            default: alu = z_mux - xyc;        // Z - (X + Y + CIN)
        endcase
    end
    always @(posedge CLK) begin
        if (RSTP) p_r <= 48'd0; else if (CEP) p_r <= alu;
    end
    assign P = (PREG == 1) ? p_r : alu;
    assign PCOUT = P;

    // Every register powers up cleared, as after the device's global set/reset.
    initial begin
        a1 = 30'd0; a2 = 30'd0; b1 = 18'd0; b2 = 18'd0; m_r = 43'sd0; p_r = 48'd0; c_r = 48'd0;
        inmode_r = 5'd0; opmode_r = 7'd0; alumode_r = 4'd0; carryinsel_r = 3'd0; carryin_r = 1'b0;
    end

    // Dynamic control values outside the subset: stop rather than mis-compute.
    wire p_feedback = opmode[1:0] == 2'b10 || opmode[6:4] == 3'b010 || opmode[6:4] == 3'b110;
    always @(posedge CLK) begin
        if ((PREG == 0 || CEP) && (alumode[3:2] != 2'b00 || carryinsel != 3'b000 || opmode[6:4] == 3'b100
                || opmode[6:4] == 3'b111 || (opmode[1:0] == 2'b01) != (opmode[3:2] == 2'b01)
                || (PREG == 0 && p_feedback))) begin
            $display("DSP48E1 model %m: OPMODE %b / ALUMODE %b / CARRYINSEL %b outside the modelled subset",
                     opmode, alumode, carryinsel);
            $finish;
        end
    end

    assign CARRYCASCOUT = 1'b0;
    assign CARRYOUT = 4'd0;
    assign MULTSIGNOUT = m_q[42];
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
