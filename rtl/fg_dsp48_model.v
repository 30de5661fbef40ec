// Behavioural datapath shared by the models of the Xilinx DSP48E1 (7-series, UG479) and
// DSP48E2 (UltraScale / UltraScale+, UG579) primitives, rtl/fg_dsp48e1.v and
// rtl/fg_dsp48e2.v: for simulation (Verilator) only. Vendor synthesis defines SYNTHESIS
// and maps the primitives' instances to the real slices; Yosys synth_xilinx does the same
// with its own cell library. Each primitive model checks its own attributes and passes
// IN_SUBSET; this module checks what both share and stops the simulation on anything
// outside the modelled subset instead of computing something plausible:
//   - A/B: DIRECT or CASCADE input, AREG/BREG 0..2 (INMODE[0]/[4] select A1/B1),
//     INMODE[1] zeroes A
//   - MULT_A_W x 18 signed multiplier on A[MULT_A_W-1:0] (25 on DSP48E1, 27 on DSP48E2),
//     MREG 0..1; or, with PREADD = 1 (DSP48E1 USE_DPORT = "TRUE"; DSP48E2 AMULTSEL = "AD",
//     PREADDINSEL = "A"), on the MULT_A_W-bit pre-adder output
//     AD = (INMODE[2] ? D : 0) +/- A[MULT_A_W-1:0] (INMODE[3] subtracts, INMODE[1] zeroes A),
//     wrapping to MULT_A_W bits, DREG / ADREG 0..1 (UG479 table "INMODE functions"; the
//     unisim DSP_PREADD_DATA / DSP_PREADD behaviour); without PREADD the D port and
//     INMODE[3:2] are unused
//   - W/X/Y/Z multiplexers per OPMODE (9 bits; a DSP48E1 has no W multiplexer and passes
//     OPMODE[8:7] = 00), ALUMODE 0000/0001/0010/0011 (add/subtract forms), CARRYINSEL 000
//     (fabric CARRYIN), one 48-bit ALU (USE_SIMD = "ONE48")
//   - P, PCOUT, ACOUT, BCOUT, MULTSIGNOUT (the models tie the other outputs to 0)
// Lint: string attributes are compared with literals of other lengths.
/* verilator lint_off WIDTHEXPAND */
`ifndef SYNTHESIS
module fg_dsp48_model #(
    parameter NAME = "DSP48E1",        // the primitive, for messages
    parameter integer IN_SUBSET = 1,   // 0: the primitive's own attributes are outside the subset
    parameter integer MULT_A_W = 25,
    parameter integer PREADD = 0,      // 1: the multiplier's A operand is the pre-adder output AD
    parameter integer ADREG = 1,
    parameter integer DREG = 1,
    parameter integer ACASCREG = 1,
    parameter integer ALUMODEREG = 1,
    parameter integer AREG = 1,
    parameter A_INPUT = "DIRECT",
    parameter integer BCASCREG = 1,
    parameter integer BREG = 1,
    parameter B_INPUT = "DIRECT",
    parameter integer CARRYINREG = 1,
    parameter integer CARRYINSELREG = 1,
    parameter integer CREG = 1,
    parameter integer INMODEREG = 1,
    parameter integer MREG = 1,
    parameter integer OPMODEREG = 1,
    parameter integer PREG = 1,
    parameter [47:0] RND = 48'h000000000000  // W multiplexer constant (DSP48E2)
) (
    input  wire        CLK,
    input  wire [29:0] A,
    input  wire [29:0] ACIN,
    input  wire [17:0] B,
    input  wire [17:0] BCIN,
    input  wire [47:0] C,
    input  wire [26:0] D,
    input  wire [47:0] PCIN,
    input  wire        CARRYIN,
    input  wire [2:0]  CARRYINSEL,
    input  wire [3:0]  ALUMODE,
    input  wire [4:0]  INMODE,
    input  wire [8:0]  OPMODE,
    input  wire        CEA1,
    input  wire        CEA2,
    input  wire        CEB1,
    input  wire        CEB2,
    input  wire        CEC,
    input  wire        CED,
    input  wire        CEAD,
    input  wire        CEM,
    input  wire        CEP,
    input  wire        CECTRL,
    input  wire        CEINMODE,
    input  wire        CEALUMODE,
    input  wire        CECARRYIN,
    input  wire        RSTA,
    input  wire        RSTB,
    input  wire        RSTC,
    input  wire        RSTD,
    input  wire        RSTM,
    input  wire        RSTP,
    input  wire        RSTCTRL,
    input  wire        RSTINMODE,
    input  wire        RSTALUMODE,
    input  wire        RSTALLCARRYIN,
    output wire [29:0] ACOUT,
    output wire [17:0] BCOUT,
    output wire [47:0] P,
    output wire [47:0] PCOUT,
    output wire        MULTSIGNOUT
);
    localparam integer M_W = MULT_A_W + 18;  // the exact product

    // Static configuration outside the modelled subset: stop at time 0.
    initial begin
        if (IN_SUBSET == 0 || AREG > 2 || BREG > 2 || MREG > 1 || PREG > 1 || CREG > 1 || DREG > 1
                || ADREG > 1) begin
            $display("%0s model %m: configuration outside the modelled subset", NAME);
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
    reg  [8:0] opmode_r;
    reg  [3:0] alumode_r;
    reg  [2:0] carryinsel_r;
    reg        carryin_r;
    reg [47:0] c_r;
    always @(posedge CLK) begin
        if (RSTINMODE) inmode_r <= 5'd0; else if (CEINMODE) inmode_r <= INMODE;
        if (RSTCTRL) begin
            opmode_r <= 9'd0;
            carryinsel_r <= 3'd0;
        end else if (CECTRL) begin
            opmode_r <= OPMODE;
            carryinsel_r <= CARRYINSEL;
        end
        if (RSTALUMODE) alumode_r <= 4'd0; else if (CEALUMODE) alumode_r <= ALUMODE;
        if (RSTALLCARRYIN) carryin_r <= 1'b0; else if (CECARRYIN) carryin_r <= CARRYIN;
        if (RSTC) c_r <= 48'd0; else if (CEC) c_r <= C;
    end
    /* verilator lint_off UNUSEDSIGNAL */  // INMODE[3:2] only drive the pre-adder (PREADD = 1)
    wire [4:0] inmode = (INMODEREG == 1) ? inmode_r : INMODE;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [8:0] opmode = (OPMODEREG == 1) ? opmode_r : OPMODE;
    wire [3:0] alumode = (ALUMODEREG == 1) ? alumode_r : ALUMODE;
    wire [2:0] carryinsel = (CARRYINSELREG == 1) ? carryinsel_r : CARRYINSEL;
    wire       carryin = (CARRYINREG == 1) ? carryin_r : CARRYIN;
    wire [47:0] c_q = (CREG == 1) ? c_r : C;

    // ---- MULT_A_W x 18 signed multiplier --------------------------------------------------
    /* verilator lint_off UNUSEDSIGNAL */  // A above the multiplier input only reaches X (A:B)
    wire [29:0] a_sel = inmode[0] ? a_q1 : a_q2;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [26:0] a_gated = inmode[1] ? 27'd0 : a_sel[26:0];  // A[MULT_A_W-1:0] reaches the multiplier
    // ---- pre-adder (PREADD = 1): AD = (INMODE[2] ? D : 0) +/- A; its low MULT_A_W bits ------
    // (25 on a DSP48E1, whose D port the primitive model zero-extends) feed the multiplier.
    reg  [26:0] d_r, ad_r;
    wire [26:0] d_q = (DREG == 1) ? d_r : D;
    wire [26:0] d_gated = inmode[2] ? d_q : 27'd0;
    wire [26:0] ad_d = inmode[3] ? d_gated - a_gated : d_gated + a_gated;
    always @(posedge CLK) begin
        if (RSTD) begin
            d_r <= 27'd0;
            ad_r <= 27'd0;
        end else begin
            if (CED) d_r <= D;
            if (CEAD) ad_r <= ad_d;
        end
    end
    /* verilator lint_off UNUSEDSIGNAL */  // a DSP48E1 (MULT_A_W = 25) reads AD[24:0]
    wire [26:0] ad_q = (ADREG == 1) ? ad_r : ad_d;
    /* verilator lint_on UNUSEDSIGNAL */
    wire signed [MULT_A_W-1:0] a_mult = $signed((PREADD != 0) ? ad_q[MULT_A_W-1:0] : a_gated[MULT_A_W-1:0]);
    wire signed [17:0] b_mult = $signed(inmode[4] ? b_q1 : b_q2);
    wire signed [M_W-1:0] m_d = a_mult * b_mult;
    reg  signed [M_W-1:0] m_r;
    always @(posedge CLK) begin
        if (RSTM) m_r <= {M_W{1'b0}}; else if (CEM) m_r <= m_d;
    end
    wire signed [M_W-1:0] m_q = (MREG == 1) ? m_r : m_d;

    // ---- W / X / Y / Z multiplexers and ALU -----------------------------------------
    // The real multiplier hands two partial products to X and Y (OPMODE X=01 with Y=01);
    // their sum is the product, which is all that is observable.
    reg  [47:0] p_r;
    wire [47:0] p_fb = p_r;  // P feedback (W=01, X=10, Z=010/110) needs PREG = 1, as on the silicon
    reg  [47:0] w_mux, x_mux, y_mux, z_mux;
    always @(*) begin
        case (opmode[8:7])
            2'b00: w_mux = 48'd0;
            2'b01: w_mux = p_fb;
            2'b10: w_mux = RND;
            default: w_mux = c_q;
        endcase
        case (opmode[1:0])
            2'b00: x_mux = 48'd0;
            2'b01: x_mux = {{(48 - M_W){m_q[M_W-1]}}, m_q};
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
    wire [47:0] wxyc = w_mux + x_mux + y_mux + {47'd0, carryin};
    reg  [47:0] alu;
    always @(*) begin
        case (alumode[1:0])
            2'b00: alu = z_mux + wxyc;         // Z + (W + X + Y + CIN)
            2'b01: alu = ~z_mux + wxyc;        // -Z + (W + X + Y + CIN) - 1
            2'b10: alu = ~(z_mux + wxyc);      // -(Z + W + X + Y + CIN) - 1
            default: alu = z_mux - wxyc;       // Z - (W + X + Y + CIN)
        endcase
    end
    always @(posedge CLK) begin
        if (RSTP) p_r <= 48'd0; else if (CEP) p_r <= alu;
    end
    assign P = (PREG == 1) ? p_r : alu;
    assign PCOUT = P;
    assign MULTSIGNOUT = m_q[M_W-1];

    // Every register powers up cleared, as after the device's global set/reset.
    initial begin
        a1 = 30'd0; a2 = 30'd0; b1 = 18'd0; b2 = 18'd0; m_r = {M_W{1'b0}}; p_r = 48'd0; c_r = 48'd0;
        d_r = 27'd0; ad_r = 27'd0;
        inmode_r = 5'd0; opmode_r = 9'd0; alumode_r = 4'd0; carryinsel_r = 3'd0; carryin_r = 1'b0;
    end

    // Dynamic control values outside the subset: stop rather than mis-compute.
    wire p_feedback = opmode[8:7] == 2'b01 || opmode[1:0] == 2'b10 || opmode[6:4] == 3'b010
                      || opmode[6:4] == 3'b110;
    always @(posedge CLK) begin
        if ((PREG == 0 || CEP) && (alumode[3:2] != 2'b00 || carryinsel != 3'b000 || opmode[6:4] == 3'b100
                || opmode[6:4] == 3'b111 || (opmode[1:0] == 2'b01) != (opmode[3:2] == 2'b01)
                || (PREG == 0 && p_feedback))) begin
            $display("%0s model %m: OPMODE %b / ALUMODE %b / CARRYINSEL %b outside the modelled subset",
                     NAME, opmode, alumode, carryinsel);
            $finish;
        end
    end
endmodule
`endif
/* verilator lint_on WIDTHEXPAND */
