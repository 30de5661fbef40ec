// fg_dense: the DSP-chain matmul engine for one Dense layer,
//     y = cast(activation(x @ W + b))
// with an exact accumulator and ONE rounding (fg_cast) at the end.
//
// Streams (valid/ready, AXI4-Stream semantics): the input carries IN_ELEMS elements per
// beat (element e of the vector in beat e / IN_ELEMS, lane e % IN_ELEMS, lane 0 in the
// low bits); the output carries PE elements per beat, neuron j in beat j / PE, lane j % PE,
// and m_tlast on the last beat of each vector.
//
// Micro-architecture
//   * Input: two vector banks (ping-pong registers). The input side fills one bank while
//     the compute side reads the other, so a new vector streams in during the previous
//     one's computation. s_tready = the bank being filled is free. The banks are
//     registers (2 x N_IN elements), which suits the small, fast layers this engine is
//     for; wide layers would want BRAM banks with a width-converting port.
//   * Compute: once a bank is full, NF = N_OUT/PE neuron folds x SF = N_IN/SIMD synapse
//     folds issue one step per cycle, with no bubble between vectors. Step (nf, sf)
//     broadcasts x[sf*SIMD +: SIMD] to all PE rows; PE p reads weight word nf*SF + sf of
//     its ROM (SIMD weights of neuron nf*PE + p).
//   * Each PE row is a cascade of SIMD DSP48E1 slices (fg_dsp_chain) fed through the
//     systolic skew (fg_skew); the SIMD-wide partial dot product leaves the last slice.
//   * Fold accumulation is in fabric, one ACC_W-bit adder per PE after the chain: the
//     first synapse fold loads the bias (pre-aligned to the accumulator grid), every fold
//     adds its partial sum shifted onto that grid. ACC_W is wide enough for every partial
//     sum, so nothing ever overflows.
//   * After the last synapse fold the accumulator goes through fg_cast (relu, rounding,
//     overflow) into the output register.
// Pipeline (cycle of issue = t): operands registered t+1, lane j enters slice j at
// t+1+j, chain result t+SIMD+3, accumulator t+SIMD+4, output register t+SIMD+5.
// Hence, with an always-ready output: last input beat accepted at cycle w ->
// last output beat at w + SF*NF + SIMD + 5; successive vectors SF*NF cycles apart.
// Backpressure: the whole compute pipeline (registers, ROM reads, DSP CE pins) holds
// while the output register is full and not accepted; the input side keeps filling.
module fg_dense #(
    parameter integer N_IN = 4,
    parameter integer N_OUT = 4,
    parameter integer PE = 1,
    parameter integer SIMD = 1,
    parameter integer IN_ELEMS = 1,    // elements per input beat; divides N_IN
    parameter integer IN_W = 8,
    parameter integer IN_SIGNED = 1,
    parameter integer W_W = 8,         // weight width, two's complement
    parameter integer PSUM_W = 16,     // signed width of a SIMD-wide partial dot product (<= 48)
    parameter integer ACC_W = 20,      // signed accumulator width
    parameter integer ACC_SHIFT = 0,   // product grid -> accumulator grid (bits)
    parameter integer ACC_FRAC = 8,    // accumulator fraction bits
    parameter integer HAS_BIAS = 1,
    parameter integer OUT_W = 8,
    parameter integer OUT_FRAC = 4,
    parameter integer OUT_SIGNED = 1,
    parameter integer RELU = 0,
    parameter integer RND_MODE = 0,
    parameter integer OVF_MODE = 0,
    parameter MEM_PREFIX = "dense"     // weight ROMs <prefix>_wNNNN.mem, bias <prefix>_bNNNN.mem
) (
    input  wire                     clk,
    input  wire                     rst_n,
    input  wire [IN_ELEMS*IN_W-1:0] s_tdata,
    input  wire                     s_tvalid,
    output wire                     s_tready,
    output wire [PE*OUT_W-1:0]      m_tdata,
    output wire                     m_tvalid,
    input  wire                     m_tready,
    output wire                     m_tlast
);
    localparam integer SF = N_IN / SIMD;
    localparam integer NF = N_OUT / PE;
    localparam integer STEPS = SF * NF;
    localparam integer IN_BEATS = N_IN / IN_ELEMS;
    // Counter width for n distinct values: ceil(log2(n)), at least 1 (Verilog-2001 has no $clog2).
    function integer bits_for;
        input integer n;
        integer v;
        begin
            bits_for = 1;
            for (v = 2; v < n; v = v * 2) bits_for = bits_for + 1;
        end
    endfunction
    localparam integer SF_W = bits_for(SF);
    localparam integer NF_W = bits_for(NF);
    localparam integer STEP_W = bits_for(STEPS);
    localparam integer BEAT_W = bits_for(IN_BEATS);
    localparam integer SF_LAST = SF - 1;
    localparam integer NF_LAST = NF - 1;
    localparam integer STEP_LAST = STEPS - 1;
    localparam integer BEAT_LAST = IN_BEATS - 1;
    // Control pipeline: index k holds the step issued k+1 cycles ago; the accumulator
    // consumes index SIMD+2, the bias ROM is addressed from index SIMD+1.
    localparam integer CTL = SIMD + 3;
    localparam integer ACC_AT = SIMD + 2;

    // ASCII for a 4-digit decimal: ROM file names per PE.
    function [31:0] dec4;
        input integer n;
        begin
            dec4 = ((48 + (n / 1000) % 10) << 24) | ((48 + (n / 100) % 10) << 16)
                 | ((48 + (n / 10) % 10) << 8) | (48 + n % 10);
        end
    endfunction

    // ---- input banks -------------------------------------------------------------------
    reg [N_IN*IN_W-1:0] bank0, bank1;
    reg [1:0] full;
    reg wsel, rsel;                  // bank being filled / read
    reg [BEAT_W-1:0] wbeat;
    assign s_tready = !full[wsel];
    wire wr = s_tvalid & s_tready;
    wire wr_last = wbeat == BEAT_LAST[BEAT_W-1:0];
    always @(posedge clk) begin
        if (wr && !wsel) bank0[wbeat*IN_ELEMS*IN_W +: IN_ELEMS*IN_W] <= s_tdata;
        if (wr && wsel) bank1[wbeat*IN_ELEMS*IN_W +: IN_ELEMS*IN_W] <= s_tdata;
    end

    // ---- step sequencer ----------------------------------------------------------------
    reg out_valid;
    wire en = !out_valid | m_tready;  // the compute pipeline advances unless the output is stuck
    reg [SF_W-1:0] sf;
    reg [NF_W-1:0] nf;
    reg [STEP_W-1:0] step;
    wire issue = en & full[rsel];
    wire sf_last = sf == SF_LAST[SF_W-1:0];
    wire step_last = step == STEP_LAST[STEP_W-1:0];
    always @(posedge clk) begin
        if (!rst_n) begin
            full <= 2'b00;
            wsel <= 1'b0;
            rsel <= 1'b0;
            wbeat <= {BEAT_W{1'b0}};
            sf <= {SF_W{1'b0}};
            nf <= {NF_W{1'b0}};
            step <= {STEP_W{1'b0}};
        end else begin
            if (wr) begin
                wbeat <= wr_last ? {BEAT_W{1'b0}} : wbeat + 1'b1;
                if (wr_last) begin
                    full[wsel] <= 1'b1;
                    wsel <= ~wsel;
                end
            end
            if (issue) begin
                sf <= sf_last ? {SF_W{1'b0}} : sf + 1'b1;
                if (sf_last) nf <= (nf == NF_LAST[NF_W-1:0]) ? {NF_W{1'b0}} : nf + 1'b1;
                step <= step_last ? {STEP_W{1'b0}} : step + 1'b1;
                if (step_last) begin
                    full[rsel] <= 1'b0;  // never the bank being filled: that one is not full
                    rsel <= ~rsel;
                end
            end
        end
    end

    // ---- control pipeline: valid / first fold / last fold / neuron fold -----------------
    reg [CTL-1:0] c_valid, c_first, c_last;
    reg [CTL*NF_W-1:0] c_nf;
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
    wire [NF_W-1:0] acc_nf = c_nf[ACC_AT*NF_W +: NF_W];

    // ---- operands: the x slice (broadcast to every PE), skewed once ---------------------
    reg [SIMD*IN_W-1:0] x_r;
    wire [SIMD*IN_W-1:0] x_rd = rsel ? bank1[sf*SIMD*IN_W +: SIMD*IN_W] : bank0[sf*SIMD*IN_W +: SIMD*IN_W];
    always @(posedge clk) begin
        if (en) x_r <= x_rd;
    end
    wire [SIMD*IN_W-1:0] x_skew;
    fg_skew #(.LANES(SIMD), .W(IN_W)) u_x_skew (.clk(clk), .en(en), .d(x_r), .q(x_skew));

    // ---- PE rows ------------------------------------------------------------------------
    reg done;           // the accumulators hold finished sums
    reg done_last;      // ... of the last neuron fold of a vector
    wire [PE*OUT_W-1:0] y;
    genvar p;
    generate
        for (p = 0; p < PE; p = p + 1) begin : g_pe
            wire [SIMD*W_W-1:0] w_word, w_skew;
            fg_rom #(.WIDTH(SIMD*W_W), .DEPTH(STEPS), .ADDR_W(STEP_W),
                     .FILE({MEM_PREFIX, "_w", dec4(p), ".mem"}))
                u_w (.clk(clk), .en(en), .addr(step), .q(w_word));
            fg_skew #(.LANES(SIMD), .W(W_W)) u_w_skew (.clk(clk), .en(en), .d(w_word), .q(w_skew));

            // The chain's 48-bit P holds a PSUM_W-bit value; only those bits are read.
            /* verilator lint_off UNUSEDSIGNAL */
            wire [47:0] psum;
            /* verilator lint_on UNUSEDSIGNAL */
            fg_dsp_chain #(.LANES(SIMD), .A_W(IN_W), .A_SIGNED(IN_SIGNED), .B_W(W_W))
                u_chain (.clk(clk), .en(en), .a(x_skew), .b(w_skew), .p(psum));

            // Partial sum onto the accumulator grid: sign-extend, then shift left.
            wire [ACC_W-ACC_SHIFT-1:0] psum_ext;
            fg_extend #(.IN_W(PSUM_W), .OUT_W(ACC_W - ACC_SHIFT), .SIGNED(1))
                u_psum (.x(psum[PSUM_W-1:0]), .y(psum_ext));
            wire [ACC_W-1:0] term;
            if (ACC_SHIFT > 0) begin : g_shift
                assign term = {psum_ext, {ACC_SHIFT{1'b0}}};
            end else begin : g_noshift
                assign term = psum_ext;
            end

            wire [ACC_W-1:0] acc_init;
            if (HAS_BIAS != 0) begin : g_bias
                // Addressed one stage early: the registered read lands with the first fold.
                fg_rom #(.WIDTH(ACC_W), .DEPTH(NF), .ADDR_W(NF_W),
                         .FILE({MEM_PREFIX, "_b", dec4(p), ".mem"}))
                    u_b (.clk(clk), .en(en), .addr(c_nf[(ACC_AT-1)*NF_W +: NF_W]), .q(acc_init));
            end else begin : g_nobias
                assign acc_init = {ACC_W{1'b0}};
            end

            reg [ACC_W-1:0] acc;
            always @(posedge clk) begin
                if (en && acc_valid) acc <= (acc_first ? acc_init : acc) + term;
            end
            fg_cast #(.IN_W(ACC_W), .IN_FRAC(ACC_FRAC), .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC),
                      .OUT_SIGNED(OUT_SIGNED), .RELU(RELU), .RND_MODE(RND_MODE), .OVF_MODE(OVF_MODE))
                u_cast (.x(acc), .y(y[p*OUT_W +: OUT_W]));
        end
    endgenerate

    // ---- output register ------------------------------------------------------------------
    reg [PE*OUT_W-1:0] out_data;
    reg out_last;
    always @(posedge clk) begin
        if (!rst_n) begin
            done <= 1'b0;
            out_valid <= 1'b0;
        end else if (en) begin
            done <= acc_valid & acc_last;
            out_valid <= done;
        end
        if (en) begin
            done_last <= acc_nf == NF_LAST[NF_W-1:0];
            out_data <= y;
            out_last <= done_last;
        end
    end
    assign m_tdata = out_data;
    assign m_tvalid = out_valid;
    assign m_tlast = out_last;
endmodule
