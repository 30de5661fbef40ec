// fg_vvau: the depthwise convolution engine (the shape of FINN's VVAU), one instance per layer,
//     y[c*M + m] = convert(activation(sum_t x[t][c] * w[t][c][m] + b[c*M + m]))
// per output position, with an exact accumulator and ONE rounding (fg_convert) at the end.
// Each of PE lanes computes one output's dot product over the kernel's taps, SIMD taps per
// cycle, of ONE channel's inputs: lane p of neuron fold nf is output j = nf*PE + p, channel j / M.
// A frame takes POSITIONS * NF * SF cycles (NF = N_OUT/PE neuron folds, SF = TAPS/SIMD synapse
// folds), MACs / (PE * SIMD): no lane ever multiplies another channel's inputs.
//
// Input: the window generator (fg_window) hands each step its operands in one beat, so nothing
// is buffered here: a beat is SIMD taps of CB channels (tap s's channel k at element s*CB + k),
// a block of the channels the neuron folds read; fg_window emits each block R times, once per
// neuron fold of its channels (R = CB*M/PE), and lane p of repetition r reads channel
// (r*PE + p) / M of the block. Beats arrive fold step by fold step: neuron folds of a position
// in order, synapse folds fastest.
//
// Engines (ENGINE), per lane, as fg_dense's rows:
//   0  DSP chain, fixed x fixed: a cascade of SIMD DSP slices (fg_dsp_chain) fed with
//      systolically skewed operands (fg_skew, all lanes at once; lane ROM j read at the step
//      address delayed j cycles). PE * SIMD slices.
//   1  minifloat (any operand a minifloat): each lane's inputs decoded (fg_mf_decode), an
//      fg_mf_dot (a DSP slice per product, exponent alignment, fabric adder tree). PE * SIMD slices.
//   2  multiplier-free, ternary / binary weights x fixed-point inputs: fg_tern_dot, the scale
//      applied once per output after the fold accumulation (fg_scale). No DSP.
// Weights: SIMD lane ROMs (fg_rom; block RAM when W_BLOCK): word nf*SF + sf of ROM j holds the
// weight codes of tap sf*SIMD + j for outputs nf*PE + p, PE p at bits p*W_W. Bias (and per-output
// scale) ROMs per PE, word nf.
// Pipeline (beat accepted = step issued in cycle t): operands (the lane selection's register and
// the ROMs' read registers) in t+1, partial dot product in t + DOT (SIMD+3 / 6 / 2 by engine, as
// fg_dense), accumulator t+DOT+1, output register t+DOT+2. Hence last beat accepted at cycle w ->
// last output beat at w + DOT + 2; s_tready is the pipeline's enable: everything holds while the
// output register is full and not accepted.
`include "fg_params.vh"
module fg_vvau #(
    parameter integer ENGINE = 0,      // 0 DSP chain, 1 minifloat, 2 multiplier-free
    parameter integer TAPS = 9,
    parameter integer N_OUT = 4,       // channels x multiplier
    parameter integer PE = 1,
    parameter integer SIMD = 1,
    parameter integer CB = 1,          // channels per input beat (a block)
    parameter integer M = 1,           // depth multiplier
    parameter integer R = 1,           // neuron folds per block: CB * M / PE
    parameter integer POSITIONS = 1,
    parameter integer IN_W = 8,
    parameter integer IN_SIGNED = 1,
    parameter integer W_W = 8,
    /* verilator lint_off UNUSEDPARAM */  // each engine reads its own
    parameter DSP_KIND = "DSP48E1",
    parameter integer IN_MF = 0,
    parameter integer IN_E = 4,
    parameter integer IN_M = 3,
    parameter integer IN_SUB = 1,
    parameter integer IN_V_W = 9,
    parameter integer IN_E_W = 1,
    parameter integer W_SIGNED = 1,
    parameter integer W_MF = 0,
    parameter integer W_E = 4,
    parameter integer W_M = 3,
    parameter integer W_SUB = 1,
    parameter integer W_V_W = 8,
    parameter integer W_E_W = 1,
    parameter integer BINARY = 0,
    parameter integer PROD_W = 16,
    parameter integer SCALE_W = 1,
    parameter integer SCALE = 1,
    parameter integer SCALE_ROM = 0,
    parameter integer SCALE_SHIFT = 0,
    parameter integer B_BLOCK = 0,
    parameter integer S_BLOCK = 0,
    /* verilator lint_on UNUSEDPARAM */
    parameter integer PSUM_W = 16,
    parameter integer ACC_W = 20,
    parameter integer ACC_SHIFT = 0,
    parameter integer HAS_BIAS = 1,
    parameter integer W_BLOCK = 0,
    parameter integer FIN_W = 20,
    parameter integer FIN_FRAC = 8,
    parameter integer RELU = 0,
    parameter integer OUT_W = 8,
    `FG_CONVERT_PARAMS,
    parameter MEM_PREFIX = "vvau"
) (
    input  wire                    clk,
    input  wire                    rst_n,
    input  wire [SIMD*CB*IN_W-1:0] s_tdata,
    input  wire                    s_tvalid,
    output wire                    s_tready,
    output wire [PE*OUT_W-1:0]     m_tdata,
    output wire                    m_tvalid,
    input  wire                    m_tready,
    output wire                    m_tlast
);
    localparam integer SF = TAPS / SIMD;
    localparam integer NF = N_OUT / PE;
    localparam integer STEPS = SF * NF;
    `FG_BITS_FOR
    localparam integer SF_W = bits_for(SF);
    localparam integer NF_W = bits_for(NF);
    localparam integer STEP_W = bits_for(STEPS);
    localparam integer R_W = bits_for(R);
    localparam integer SF_LAST = SF - 1;
    localparam integer NF_LAST = NF - 1;
    localparam integer STEP_LAST = STEPS - 1;
    localparam integer R_LAST = R - 1;
    localparam integer DOT = (ENGINE == 0) ? SIMD + 3 : (ENGINE == 1) ? 6 : 2;
    localparam integer CTL = DOT;
    localparam integer ACC_AT = DOT - 1;
    localparam integer BIAS_AT = (ENGINE == 2) ? ACC_AT : ACC_AT - 1;
    localparam integer B_W = (ENGINE == 2) ? FIN_W : ACC_W;

    function [31:0] dec4;
        input [31:0] n;
        begin
            dec4 = ((48 + (n / 1000) % 10) << 24) | ((48 + (n / 100) % 10) << 16)
                 | ((48 + (n / 10) % 10) << 8) | (48 + n % 10);
        end
    endfunction

    // ---- step sequencer: a step per beat ------------------------------------------------
    wire en;  // from the output register
    assign s_tready = en;
    wire issue = s_tvalid & en;
    reg [SF_W-1:0] sf;
    reg [NF_W-1:0] nf;
    reg [STEP_W-1:0] step;
    reg [R_W-1:0] rep;               // nf mod R: the repetition of the block
    wire sf_last = sf == SF_LAST[SF_W-1:0];
    wire nf_last = nf == NF_LAST[NF_W-1:0];
    always @(posedge clk) begin
        if (!rst_n) begin
            sf <= {SF_W{1'b0}};
            nf <= {NF_W{1'b0}};
            step <= {STEP_W{1'b0}};
            rep <= {R_W{1'b0}};
        end else if (issue) begin
            sf <= sf_last ? {SF_W{1'b0}} : sf + 1'b1;
            step <= step == STEP_LAST[STEP_W-1:0] ? {STEP_W{1'b0}} : step + 1'b1;
            if (sf_last) begin
                nf <= nf_last ? {NF_W{1'b0}} : nf + 1'b1;
                rep <= (nf_last || rep == R_LAST[R_W-1:0]) ? {R_W{1'b0}} : rep + 1'b1;
            end
        end
    end

    // ---- control pipeline: valid / first fold / last fold / neuron fold -----------------
    reg [CTL-1:0] c_valid, c_first, c_last;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [CTL*NF_W-1:0] c_nf;
    /* verilator lint_on UNUSEDSIGNAL */
    always @(posedge clk) begin
        if (!rst_n) c_valid <= {CTL{1'b0}};
        else if (en) c_valid <= {c_valid[CTL-2:0], issue};
        if (en) begin
            c_first <= {c_first[CTL-2:0], sf == {SF_W{1'b0}}};
            c_last <= {c_last[CTL-2:0], sf_last};
            c_nf <= {c_nf[(CTL-1)*NF_W-1:0], nf};
        end
    end
    wire acc_valid = c_valid[ACC_AT];
    wire acc_first = c_first[ACC_AT];
    wire acc_last = c_last[ACC_AT];

    // ---- operands: each lane's channel out of the beat, registered ------------------------
    // x_r lane s holds PE inputs (PE p at bits p*IN_W): tap sf*SIMD + s of each lane's channel.
    reg [SIMD*PE*IN_W-1:0] x_r;
    /* verilator lint_off UNUSEDSIGNAL */  // engine 0 reads x_r skewed instead
    wire [PE*SIMD*IN_W-1:0] x_pe;    // the same by lane: PE p's SIMD inputs
    /* verilator lint_on UNUSEDSIGNAL */
    genvar j, p, k;
    generate
        for (j = 0; j < SIMD; j = j + 1) begin : g_tap
            for (p = 0; p < PE; p = p + 1) begin : g_lane
                wire [R*IN_W-1:0] cand;  // the lane's channel in each repetition of the block
                for (k = 0; k < R; k = k + 1) begin : g_rep
                    assign cand[k*IN_W +: IN_W] = s_tdata[(j*CB + (k*PE + p)/M)*IN_W +: IN_W];
                end
                always @(posedge clk) begin
                    if (en) x_r[(j*PE+p)*IN_W +: IN_W] <= cand[rep*IN_W +: IN_W];
                end
                assign x_pe[(p*SIMD+j)*IN_W +: IN_W] = x_r[(j*PE+p)*IN_W +: IN_W];
            end
        end
    endgenerate

    // ---- weights: SIMD lane ROMs, skewed for the DSP chains ------------------------------
    localparam integer SKEW = ENGINE == 0 ? 1 : 0;
    wire [SIMD*STEP_W-1:0] w_addr;
    wire [SIMD*PE*W_W-1:0] w_lanes;
    wire [PE*SIMD*W_W-1:0] w_words;
    assign w_addr[0 +: STEP_W] = step;
    generate
        for (j = 0; j < SIMD; j = j + 1) begin : g_w_lane
            if (j > 0 && SKEW != 0) begin : g_skewed
                reg [STEP_W-1:0] a;
                always @(posedge clk) begin
                    if (en) a <= w_addr[(j-1)*STEP_W +: STEP_W];
                end
                assign w_addr[j*STEP_W +: STEP_W] = a;
            end else if (j > 0) begin : g_direct
                assign w_addr[j*STEP_W +: STEP_W] = step;
            end
            fg_rom #(.WIDTH(PE*W_W), .DEPTH(STEPS), .ADDR_W(STEP_W), .BLOCK(W_BLOCK),
                     .FILE({MEM_PREFIX, "_w", dec4(j), ".mem"}))
                u_w (.clk(clk), .en(en), .addr(w_addr[j*STEP_W +: STEP_W]), .q(w_lanes[j*PE*W_W +: PE*W_W]));
            for (p = 0; p < PE; p = p + 1) begin : g_by_pe
                assign w_words[(p*SIMD+j)*W_W +: W_W] = w_lanes[(j*PE+p)*W_W +: W_W];
            end
        end
    endgenerate

    // Engine 0: every lane's inputs skewed at once (tap lane j delayed j cycles).
    /* verilator lint_off UNUSEDSIGNAL */
    wire [SIMD*PE*IN_W-1:0] x_skew;
    /* verilator lint_on UNUSEDSIGNAL */
    generate
        if (ENGINE == 0) begin : g_x_skew
            fg_skew #(.LANES(SIMD), .W(PE*IN_W)) u_x_skew (.clk(clk), .en(en), .d(x_r), .q(x_skew));
        end else begin : g_no_skew
            assign x_skew = {SIMD*PE*IN_W{1'b0}};
        end
    endgenerate

    // ---- PE lanes -------------------------------------------------------------------------
    reg done;
    wire [PE*OUT_W-1:0] y;
    generate
        for (p = 0; p < PE; p = p + 1) begin : g_pe
            wire [PSUM_W-1:0] psum;
            if (ENGINE == 0) begin : g_chain
                wire [SIMD*IN_W-1:0] a;
                for (j = 0; j < SIMD; j = j + 1) begin : g_a
                    assign a[j*IN_W +: IN_W] = x_skew[(j*PE+p)*IN_W +: IN_W];
                end
                /* verilator lint_off UNUSEDSIGNAL */
                wire [47:0] p48;
                /* verilator lint_on UNUSEDSIGNAL */
                fg_dsp_chain #(.DSP_KIND(DSP_KIND), .LANES(SIMD), .A_W(IN_W), .A_SIGNED(IN_SIGNED), .B_W(W_W))
                    u_chain (.clk(clk), .en(en), .a(a), .b(w_words[p*SIMD*W_W +: SIMD*W_W]), .d({SIMD*27{1'b0}}),
                             .p(p48));
                assign psum = p48[PSUM_W-1:0];
            end else if (ENGINE == 1) begin : g_mf
                wire [SIMD*IN_V_W-1:0] x_v;
                wire [SIMD*IN_E_W-1:0] x_e;
                for (j = 0; j < SIMD; j = j + 1) begin : g_dec
                    fg_mf_decode #(.MF(IN_MF), .W(IN_W), .SIGNED(IN_SIGNED), .E(IN_E), .M(IN_M), .SUB(IN_SUB),
                                   .V_W(IN_V_W), .E_W(IN_E_W))
                        u_x (.c(x_pe[(p*SIMD+j)*IN_W +: IN_W]), .v(x_v[j*IN_V_W +: IN_V_W]),
                             .e(x_e[j*IN_E_W +: IN_E_W]));
                end
                fg_mf_dot #(.DSP_KIND(DSP_KIND), .SIMD(SIMD), .X_V_W(IN_V_W), .X_E_W(IN_E_W), .W_MF(W_MF), .W_W(W_W),
                            .W_SIGNED(W_SIGNED), .W_E(W_E), .W_M(W_M), .W_SUB(W_SUB), .W_V_W(W_V_W),
                            .W_E_W(W_E_W), .PROD_W(PROD_W), .PSUM_W(PSUM_W))
                    u_dot (.clk(clk), .en(en), .x_v(x_v), .x_e(x_e), .w(w_words[p*SIMD*W_W +: SIMD*W_W]), .psum(psum));
            end else begin : g_tern
                fg_tern_dot #(.SIMD(SIMD), .X_W(IN_W), .X_SIGNED(IN_SIGNED), .BINARY(BINARY), .T_W(PROD_W),
                              .PSUM_W(PSUM_W))
                    u_dot (.clk(clk), .en(en), .x(x_pe[p*SIMD*IN_W +: SIMD*IN_W]), .w(w_words[p*SIMD*W_W +: SIMD*W_W]),
                           .psum(psum));
            end

            wire [B_W-1:0] bias;
            if (HAS_BIAS != 0) begin : g_bias
                fg_rom #(.WIDTH(B_W), .DEPTH(NF), .ADDR_W(NF_W), .BLOCK(B_BLOCK), .FILE({MEM_PREFIX, "_b", dec4(p), ".mem"}))
                    u_b (.clk(clk), .en(en), .addr(c_nf[BIAS_AT*NF_W +: NF_W]), .q(bias));
            end else begin : g_nobias
                assign bias = {B_W{1'b0}};
            end

            fg_fold_out #(.PSUM_W(PSUM_W), .ACC_W(ACC_W), .ACC_SHIFT(ACC_SHIFT), .FIN_W(FIN_W), .FIN_FRAC(FIN_FRAC),
                          .SCALED(ENGINE == 2 ? 1 : 0), .B_W(B_W), .SCALE_W(SCALE_W), .SCALE(SCALE),
                          .SCALE_ROM(SCALE_ROM), .SCALE_SHIFT(SCALE_SHIFT), .NF(NF), .NF_W(NF_W), .S_BLOCK(S_BLOCK),
                          .S_FILE({MEM_PREFIX, "_s", dec4(p), ".mem"}), .RELU(RELU), .OUT_W(OUT_W), `FG_CONVERT_PASS)
                u_fold (.clk(clk), .en(en), .valid(acc_valid), .first(acc_first), .psum(psum), .bias(bias),
                        .scale_addr(c_nf[ACC_AT*NF_W +: NF_W]), .y(y[p*OUT_W +: OUT_W]));
        end
    endgenerate

    // ---- output register: one beat per finished neuron fold -------------------------------
    always @(posedge clk) begin
        if (!rst_n) done <= 1'b0;
        else if (en) done <= acc_valid & acc_last;
    end
    fg_out_reg #(.W(PE*OUT_W), .BEATS(NF * POSITIONS)) u_out (
        .clk(clk), .rst_n(rst_n), .push(done & en), .d(y), .en(en),
        .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tready(m_tready), .m_tlast(m_tlast)
    );
endmodule
