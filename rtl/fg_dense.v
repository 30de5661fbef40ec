// fg_dense: the matmul engine for one Dense layer,
//     y = convert(activation(x @ W + b))
// with an exact accumulator and ONE rounding (fg_convert) at the end. Three engines
// share everything but the per-PE dot product (ENGINE):
//   0  DSP chain, fixed x fixed: each PE row is a cascade of SIMD DSP slices
//      (fg_dsp_chain) fed with systolically skewed operands (see below); the SIMD-wide
//      partial dot product leaves the last slice. SIMD slices per PE; or, with PACK_SHIFT > 0
//      (DSP48E1 or DSP48E2), PE rows 2k (low field) and 2k+1 (high field) share one cascade
//      (fg_dsp_pair: two 8-bit-class MACs per slice on the pre-adder), SIMD slices per
//      pair of PEs, with the same pipeline; an odd last row has a cascade of its own. With
//      VECTORS = 2 (a convolution, DSP48E1 or DSP48E2, PE even) every step computes two input
//      vectors, consecutive output positions of a frame, and rows 2k, 2k+1 x both vectors
//      share one cascade (fg_dsp_quad: four 4-bit-class MACs per slice, the weights packed in
//      the ROM word, W_W bits a pair of rows, QUAD_SHIFT the field width), SIMD slices per
//      pair of PEs, with the same pipeline.
//   1  minifloat (any operand a minifloat): the inputs are decoded once (fg_mf_decode,
//      shared by every PE), each PE row is an fg_mf_dot: one DSP slice per lane for the
//      significand product, a barrel shifter for the exponents, a fabric adder tree.
//      SIMD slices per PE.
//   2  multiplier-free, ternary / binary weights x fixed-point or minifloat inputs: each
//      PE row is an fg_tern_dot (add / subtract / skip per lane, fabric adder tree) and
//      the weight scale is applied once per output, after the fold accumulation
//      (fg_scale: a shift, or shift-and-add by a constant or by a per-channel ROM). No DSP
//      at all. Minifloat inputs (IN_MF = 1) are first made exact, once for all PEs: each
//      lane is decoded (fg_mf_decode, as for engine 1) and v << e widened to its exact
//      fixed-point value in X_W bits (the Kulisch view, sizing.exact_fixed), combinationally
//      in the operand cycle, so the pipeline is the same as for fixed-point inputs.
//
// Streams (valid/ready, AXI4-Stream semantics): the input carries IN_ELEMS elements per
// beat (element e of the vector in beat e / IN_ELEMS, lane e % IN_ELEMS, lane 0 in the
// low bits); the output carries PE elements per beat, neuron j in beat j / PE, lane j % PE,
// and m_tlast on the last beat of each vector. Elements are fixed-point mantissas or
// minifloat codes. A frame is POSITIONS vectors (one per output position of a
// convolution, fed window by window by fg_window); m_tlast marks the last beat of a frame.
// With VECTORS = 2 a bank holds two vectors of a frame (positions 2m, 2m+1; the last position
// of an odd frame alone, its partner's results dropped), and the output order is the same:
// vector 2m's NF beats, then 2m+1's.
//
// Micro-architecture
//   * Input: two vector banks (ping-pong) in one RAM (fg_bank): the input side fills one
//     bank while the compute side reads the other, so a new vector streams in during the
//     previous one's computation. s_tready = the bank being filled is free. A RAM word holds
//     LANES = lcm(IN_ELEMS, SIMD) elements, so an input beat writes one lane group of a word
//     and a step reads one lane group of a word: element e of bank b is lane e mod LANES of
//     word b*DEPTH + e / LANES (DEPTH = N_IN / LANES words per bank). The RAM is LUTRAM or,
//     for a large one, block RAM (BANK_BLOCK, chosen by the generator), never flip-flops.
//   * Compute: once a bank is full, NF = N_OUT/PE neuron folds x SF = N_IN/SIMD synapse
//     folds issue one step per cycle, with no bubble between vectors. Step (nf, sf)
//     broadcasts x[sf*SIMD +: SIMD] to all PE rows. The weights are in SIMD lane ROMs
//     (fg_weights; block RAM when W_BLOCK): word nf*SF + sf of ROM j holds lane j's weight
//     codes of neurons nf*PE + p, PE p at bits p*W_W.
//   * Systolic skew (engine 0): slice j of every DSP cascade must see its operands j cycles
//     after slice 0. Lane ROM j is read at the step address delayed j cycles by ONE address
//     chain shared by all PE rows (fg_weights: SIMD-1 registers of bits_for(STEPS) bits), so
//     no weight is ever delayed; the inputs, shared by all rows, pass fg_skew (lane j delayed j
//     cycles). Reading the input bank at skewed addresses instead would let a refill
//     overwrite elements the late lanes of the last steps still have to read (for as long
//     as the output stalls), unless the refill waited for them.
//   * Fold accumulation is in fabric, one ACC_W-bit adder per PE after the dot product:
//     the first synapse fold loads the initial value, every fold adds its partial sum
//     (PSUM_W bits on the product grid) shifted onto the accumulator grid. ACC_W is wide
//     enough for every partial sum, so nothing ever overflows. Engines 0 and 1 start
//     from the bias (pre-aligned to the accumulator grid); engine 2 accumulates the
//     weight levels' sum from 0, then scales it and adds the bias (FIN_W bits) once.
//   * After the last synapse fold the exact value goes through fg_convert (relu, then
//     fixed-point rounding / overflow or minifloat RNE) into the output register.
//   * VECTORS = 2: two input RAMs (fg_bank, one per vector of a pair) read at the same
//     address, two skews, two accumulators and conversions per PE. Each finished neuron fold
//     pushes vector 0's beat to the output register and stores vector 1's in a LUTRAM of NF
//     beats; after a pair's last fold the output drains those NF beats, one per cycle the
//     register takes one, while the compute pipeline runs on until its next finished fold
//     has to wait for the drain (the pipeline holds in that cycle, as for a full output).
// Pipeline (cycle of issue = t): operands (the bank's and the ROMs' read registers) in
// t+1, dot product ready in cycle t + DOT (DOT = SIMD+3 for engine 0: lane j's weights,
// read at t+j, and its skewed input enter slice j at t+1+j, AREG/MREG/PREG;
// 6 for engine 1: MAC 4, tree register 1; 2 for engine 2: tree register 1, with or
// without the combinational minifloat decode),
// accumulator t+DOT+1, output register t+DOT+2.
// Hence, with an always-ready output: last input beat accepted at cycle w ->
// last output beat at w + SF*NF + DOT + 2; successive vectors SF*NF cycles apart. VECTORS = 2:
// successive pairs SF*NF cycles apart while SF > NF (the drain of a pair's NF second-vector
// beats fits between the next pair's first folds), otherwise the drain adds cycles (the
// handshake model, fpga_gen/backends/rtl/handshake.py DenseEngine, counts them exactly); the
// last output beat of a pair leaves NF cycles after its first vector's.
// Backpressure: the whole compute pipeline (registers, RAM / ROM reads, the address chain,
// DSP CE pins) holds while the output register is full and not accepted; the input side
// keeps filling.
`include "fg_params.vh"
module fg_dense #(
    parameter integer ENGINE = 0,      // 0 DSP chain, 1 minifloat, 2 multiplier-free
    parameter integer N_IN = 4,
    parameter integer N_OUT = 4,
    parameter integer PE = 1,
    parameter integer SIMD = 1,
    parameter integer IN_ELEMS = 1,    // elements per input beat; divides N_IN
    parameter integer POSITIONS = 1,   // vectors per frame (a convolution's output positions)
    // input elements: IN_W bits, two's complement if IN_SIGNED (engines 0, 2), or an
    // fg_mf_decode operand (engine 1; engine 2 with IN_MF = 1)
    parameter integer IN_W = 8,
    parameter integer IN_SIGNED = 1,
    // weights: codes of W_W bits (engine 0: two's complement mantissas, or with VECTORS = 2 the
    // packed word w[2k+1] * 2**QUAD_SHIFT + w[2k] of rows 2k, 2k+1; engine 1: see
    // fg_mf_decode; engine 2: ternary / binary codes, W_W = 2 - BINARY)
    parameter integer W_W = 8,
    // Engine-specific parameters: each engine reads only its own, and the modules of the
    // other engines are not part of the design (writer.py copies only what is used).
    /* verilator lint_off UNUSEDPARAM */
    parameter DSP_KIND = "DSP48E1",    // engines 0, 1: the slice primitive, DSP48E1 or DSP48E2 (fg_dsp_chain)
    parameter integer PACK_SHIFT = 0,  // engine 0: 0 one chain per PE, else two PEs per chain (fg_dsp_pair)
    parameter integer VECTORS = 1,     // engine 0: 2 = two vectors per step on fg_dsp_quad, PE even
    parameter integer QUAD_SHIFT = 0,  // VECTORS = 2: the field width K (W_W: a packed pair of weights)
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
    parameter integer X_W = 9,         // engine 2, IN_MF = 1: an input's exact value, two's complement
    parameter integer PROD_W = 16,     // engines 1, 2: one lane's exact product / term
    // engine 2: the scale, applied as  accumulator * scale << SCALE_SHIFT
    parameter integer SCALE_W = 1,     // unsigned factor width
    parameter integer SCALE = 1,       // the factor, one for every neuron
    parameter integer SCALE_ROM = 0,   // ... or per neuron, from ROMs <prefix>_sNNNN.mem
    parameter integer SCALE_SHIFT = 0,
    /* verilator lint_on UNUSEDPARAM */
    parameter integer PSUM_W = 16,     // signed width of a SIMD-wide partial dot product
    parameter integer ACC_W = 20,      // signed accumulator width
    parameter integer ACC_SHIFT = 0,   // product grid -> accumulator grid (bits)
    parameter integer HAS_BIAS = 1,
    // memories in block RAM (1) or LUTs (0), as the generator's cost rule chose (fg_rom, fg_bank)
    parameter integer BANK_BLOCK = 0,
    parameter integer W_BLOCK = 0,
    /* verilator lint_off UNUSEDPARAM */  // without a bias / per-neuron scale ROM
    parameter integer B_BLOCK = 0,
    parameter integer S_BLOCK = 0,
    /* verilator lint_on UNUSEDPARAM */
    // the exact result converted to the output: the accumulator itself (engines 0, 1),
    // or (engine 2) accumulator * scale << SCALE_SHIFT + bias in FIN_W bits
    parameter integer FIN_W = 20,
    parameter integer FIN_FRAC = 8,
    // output conversion (fg_convert)
    parameter integer RELU = 0,
    parameter integer OUT_W = 8,
    `FG_CONVERT_PARAMS,
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
    // the input banks' RAM (fg_bank): LANES elements a word, DEPTH words a bank
    localparam integer LANES = lcm(IN_ELEMS, SIMD);
    localparam integer DEPTH = N_IN / LANES;
    localparam integer WGROUPS = LANES / IN_ELEMS;  // input beats per word
    localparam integer RGROUPS = LANES / SIMD;      // steps per word
    `FG_BITS_FOR
    localparam integer BANK_A_W = bits_for(2 * DEPTH);
    localparam integer WG_W = bits_for(WGROUPS);
    localparam integer RG_W = bits_for(RGROUPS);
    localparam integer WORD_LAST = 2 * DEPTH - 1;
    localparam integer WG_LAST = WGROUPS - 1;
    localparam integer RG_LAST = RGROUPS - 1;
    localparam integer SF_W = bits_for(SF);
    localparam integer NF_W = bits_for(NF);
    localparam integer STEP_W = bits_for(STEPS);
    localparam integer BEAT_W = bits_for(IN_BEATS);
    localparam integer SF_LAST = SF - 1;
    localparam integer NF_LAST = NF - 1;
    localparam integer STEP_LAST = STEPS - 1;
    localparam integer BEAT_LAST = IN_BEATS - 1;
    localparam integer POS_W = bits_for(POSITIONS);
    localparam integer POS_LAST = POSITIONS - 1;
    localparam integer W_COLS = PE / VECTORS;  // weight ROM columns: a row, or a pair of rows
    // Issue -> dot product ready (see the pipeline above).
    localparam integer DOT = (ENGINE == 0) ? SIMD + 3 : (ENGINE == 1) ? 6 : 2;
    // Control pipeline: index k holds the step issued k+1 cycles ago; the accumulator
    // consumes index DOT-1. A registered ROM read addressed from index i lands with
    // index i+1: the initial bias from ACC_AT-1 (with the first fold), the final bias
    // and scale of engine 2 from ACC_AT (with the finished sum).
    localparam integer CTL = DOT;
    localparam integer ACC_AT = DOT - 1;
    localparam integer BIAS_AT = (ENGINE == 2) ? ACC_AT : ACC_AT - 1;
    // The bias, on the grid of the value it is added to: the initial accumulator
    // (engines 0, 1) or the scaled sum (engine 2).
    localparam integer B_W = (ENGINE == 2) ? FIN_W : ACC_W;

    function [31:0] lcm;
        input [31:0] a;
        input [31:0] b;
        begin
            lcm = a;
            while (lcm % b != 0) lcm = lcm + a;
        end
    endfunction

    `FG_DEC4

    // ---- input banks ----------------------------------------------------------------------
    reg [1:0] full;
    reg wsel, rsel;                  // bank being filled / read
    reg [BEAT_W-1:0] wbeat;
    reg [BANK_A_W-1:0] waddr;        // word of the next beat, across both banks
    reg [WG_W-1:0] wgroup;           // its lane group
    reg wvec;                        // VECTORS = 2: the vector of the pair being written
    reg [POS_W-1:0] wpos;            // its position in the frame
    assign s_tready = !full[wsel];
    wire wr = s_tvalid & s_tready;
    wire wr_last = wbeat == BEAT_LAST[BEAT_W-1:0];
    wire wgroup_last = wgroup == WG_LAST[WG_W-1:0];
    // the bank is full after its last vector: the pair's second, or an odd frame's last position
    wire wbank_last = VECTORS == 1 || wvec || wpos == POS_LAST[POS_W-1:0];
    wire [BANK_A_W-1:0] wbase = wsel ? DEPTH[BANK_A_W-1:0] : {BANK_A_W{1'b0}};

    // ---- step sequencer ----------------------------------------------------------------
    wire en;  // from the output register: the compute pipeline advances unless the output is stuck
    reg [SF_W-1:0] sf;
    reg [NF_W-1:0] nf;
    reg [STEP_W-1:0] step;
    reg [BANK_A_W-1:0] raddr;        // word of x[sf*SIMD +: SIMD] in bank rsel
    reg [RG_W-1:0] rgroup;           // its lane group
    wire issue = en & full[rsel];
    wire sf_last = sf == SF_LAST[SF_W-1:0];
    wire step_last = step == STEP_LAST[STEP_W-1:0];
    wire rgroup_last = rgroup == RG_LAST[RG_W-1:0];
    // a neuron fold starts over at the first word of its bank, the next vector's of the other bank
    wire [BANK_A_W-1:0] rbase = (rsel ^ step_last) ? DEPTH[BANK_A_W-1:0] : {BANK_A_W{1'b0}};
    always @(posedge clk) begin
        if (!rst_n) begin
            full <= 2'b00;
            wsel <= 1'b0;
            rsel <= 1'b0;
            wbeat <= {BEAT_W{1'b0}};
            waddr <= {BANK_A_W{1'b0}};
            wgroup <= {WG_W{1'b0}};
            wvec <= 1'b0;
            wpos <= {POS_W{1'b0}};
            raddr <= {BANK_A_W{1'b0}};
            rgroup <= {RG_W{1'b0}};
            sf <= {SF_W{1'b0}};
            nf <= {NF_W{1'b0}};
            step <= {STEP_W{1'b0}};
        end else begin
            if (wr) begin
                wbeat <= wr_last ? {BEAT_W{1'b0}} : wbeat + 1'b1;
                wgroup <= wgroup_last ? {WG_W{1'b0}} : wgroup + 1'b1;
                // bank 0 is words 0 .. DEPTH-1, bank 1 the next DEPTH: one count through both (the
                // second vector of a pair in the other RAM, at the same words)
                if (wgroup_last) begin
                    if (wr_last && !wbank_last) waddr <= wbase;
                    else waddr <= (waddr == WORD_LAST[BANK_A_W-1:0]) ? {BANK_A_W{1'b0}} : waddr + 1'b1;
                end
                if (wr_last) begin
                    wpos <= (wpos == POS_LAST[POS_W-1:0]) ? {POS_W{1'b0}} : wpos + 1'b1;
                    wvec <= !wbank_last;
                    if (wbank_last) begin
                        full[wsel] <= 1'b1;
                        wsel <= ~wsel;
                    end
                end
            end
            if (issue) begin
                sf <= sf_last ? {SF_W{1'b0}} : sf + 1'b1;
                rgroup <= rgroup_last ? {RG_W{1'b0}} : rgroup + 1'b1;
                raddr <= sf_last ? rbase : raddr + {{(BANK_A_W-1){1'b0}}, rgroup_last};
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
    // the neuron fold of each step: the bias ROM's address, and at ACC_AT a per-neuron scale ROM's
    // (engine 2); unread slots are left to synthesis to remove
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

    // ---- operands: the x slice, broadcast to every PE -----------------------------------
    // the banks' read registers: the step issued last cycle, vector v's slice at bits v*SIMD*IN_W
    wire [VECTORS*SIMD*IN_W-1:0] x_rv;
    /* verilator lint_off UNUSEDSIGNAL */  // engine 0 reads the skewed views of x_rv
    wire [SIMD*IN_W-1:0] x_r = x_rv[SIMD*IN_W-1:0];  // the first vector's, what engines 1 and 2 read
    /* verilator lint_on UNUSEDSIGNAL */
    genvar v;
    generate
        for (v = 0; v < VECTORS; v = v + 1) begin : g_bank
            fg_bank #(.W(IN_W), .LANES(LANES), .GROUP(IN_ELEMS), .SIMD(SIMD), .WORDS(2 * DEPTH), .BLOCK(BANK_BLOCK),
                      .ADDR_W(BANK_A_W), .WG_W(WG_W), .RG_W(RG_W))
                u_bank (.clk(clk), .we(wr && wvec == (v != 0)), .waddr(waddr), .wgroup(wgroup), .wdata(s_tdata), .en(en),
                        .raddr(raddr), .rgroup(rgroup), .q(x_rv[v*SIMD*IN_W +: SIMD*IN_W]));
        end
    endgenerate
    // Engine-specific views of x_r, made once for all PEs: the systolic skew of the DSP
    // chains (engine 0), the decoded significands and exponents (engine 1, and engine 2
    // with minifloat inputs), the inputs the add / subtract lanes read (engine 2).
    // Each engine reads only its own view; the others are tied to zero.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [VECTORS*SIMD*IN_W-1:0] x_skew;
    wire [SIMD*IN_V_W-1:0] x_v;
    localparam integer DECODE = (ENGINE == 1 || (ENGINE == 2 && IN_MF != 0)) ? 1 : 0;
    // engine 2: what the add / subtract lanes read (x_t), exact inputs of T_X_W bits
    // (engines 0 and 1 read neither parameter)
    /* verilator lint_off UNUSEDPARAM */
    localparam integer T_X_W = (ENGINE == 2 && IN_MF != 0) ? X_W : IN_W;
    localparam integer T_X_SIGNED = (IN_MF != 0) ? 1 : IN_SIGNED;
    /* verilator lint_on UNUSEDPARAM */
    wire [SIMD*IN_E_W-1:0] x_e;
    wire [SIMD*T_X_W-1:0] x_t;
    /* verilator lint_on UNUSEDSIGNAL */
    genvar j;
    generate
        if (ENGINE == 0) begin : g_x_skew
            for (v = 0; v < VECTORS; v = v + 1) begin : g_vec
                fg_skew #(.LANES(SIMD), .W(IN_W))
                    u_x_skew (.clk(clk), .en(en), .d(x_rv[v*SIMD*IN_W +: SIMD*IN_W]), .q(x_skew[v*SIMD*IN_W +: SIMD*IN_W]));
            end
        end else begin : g_no_skew
            assign x_skew = {VECTORS*SIMD*IN_W{1'b0}};
        end
        if (DECODE != 0) begin : g_x_decode
            for (j = 0; j < SIMD; j = j + 1) begin : g_lane
                fg_mf_decode #(.MF(IN_MF), .W(IN_W), .SIGNED(IN_SIGNED), .E(IN_E), .M(IN_M), .SUB(IN_SUB),
                               .V_W(IN_V_W), .E_W(IN_E_W))
                    u_x (.c(x_r[j*IN_W +: IN_W]), .v(x_v[j*IN_V_W +: IN_V_W]), .e(x_e[j*IN_E_W +: IN_E_W]));
            end
        end else begin : g_no_decode
            assign x_v = {SIMD*IN_V_W{1'b0}};
            assign x_e = {SIMD*IN_E_W{1'b0}};
        end
        if (DECODE != 0 && ENGINE == 2) begin : g_x_exact
            // each minifloat input's exact value v << e on its format's grid (the grid of
            // sizing.exact_fixed): sign-extend v to X_W bits, then shift
            for (j = 0; j < SIMD; j = j + 1) begin : g_lane
                wire [X_W-1:0] ve;
                fg_extend #(.IN_W(IN_V_W), .OUT_W(X_W), .SIGNED(1)) u_v (.x(x_v[j*IN_V_W +: IN_V_W]), .y(ve));
                assign x_t[j*X_W +: X_W] = ve << x_e[j*IN_E_W +: IN_E_W];
            end
        end else if (ENGINE == 2) begin : g_x_fixed
            assign x_t = x_r;
        end else begin : g_no_exact
            assign x_t = {SIMD*T_X_W{1'b0}};
        end
    endgenerate

    // ---- weights: SIMD lane ROMs, skewed for the DSP chains (fg_weights) ----------------------
    wire [W_COLS*SIMD*W_W-1:0] w_words;   // column c's SIMD-wide word at bits c*SIMD*W_W
    fg_weights #(.SIMD(SIMD), .PE(W_COLS), .W(W_W), .STEPS(STEPS), .ADDR_W(STEP_W), .SKEW(ENGINE == 0 ? 1 : 0),
                 .BLOCK(W_BLOCK), .PREFIX(MEM_PREFIX))
        u_w (.clk(clk), .en(en), .step(step), .q(w_words));

    // ---- PE rows ------------------------------------------------------------------------
    genvar p;
    reg done;           // the accumulators hold finished sums
    wire [VECTORS*PE*OUT_W-1:0] y;  // vector v's results at bits v*PE*OUT_W
    // Engine 0 only: each PE's SIMD-wide partial dot product of each vector (v at bits
    // v*PE*PSUM_W), from its own chain, a shared pair or a shared quad.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [VECTORS*PE*PSUM_W-1:0] chain_psum;
    /* verilator lint_on UNUSEDSIGNAL */
    localparam integer PAIRS = PACK_SHIFT == 0 ? 0 : PE / 2;  // cascades shared by two rows
    generate
        if (ENGINE == 0 && VECTORS == 2) begin : g_quads
            // rows 2k, 2k+1 x vectors 0, 1 on one cascade: fields F0..F3 = (row 2k, v0), (2k+1, v0), (2k, v1), (2k+1, v1)
            for (p = 0; p < PE / 2; p = p + 1) begin : g_quad
                wire [4*PSUM_W-1:0] f;
                fg_dsp_quad #(.DSP_KIND(DSP_KIND), .LANES(SIMD), .X_W(IN_W), .X_SIGNED(IN_SIGNED), .W_W(W_W),
                              .SHIFT(QUAD_SHIFT), .PSUM_W(PSUM_W))
                    u_quad (.clk(clk), .en(en), .x0(x_skew[0 +: SIMD*IN_W]), .x1(x_skew[SIMD*IN_W +: SIMD*IN_W]),
                            .w(w_words[p*SIMD*W_W +: SIMD*W_W]), .f(f));
                assign chain_psum[2*p*PSUM_W +: 2*PSUM_W] = f[0 +: 2*PSUM_W];
                assign chain_psum[(PE+2*p)*PSUM_W +: 2*PSUM_W] = f[2*PSUM_W +: 2*PSUM_W];
            end
        end else if (ENGINE == 0) begin : g_chains
            // With PACK_SHIFT, rows 2k and 2k+1 share a cascade; an odd last row has its own
            // (fg_dsp_pair's pipeline is fg_dsp_chain's, so every row's sum is ready together).
            for (p = 0; p < PAIRS; p = p + 1) begin : g_pair
                fg_dsp_pair #(.DSP_KIND(DSP_KIND), .LANES(SIMD), .X_W(IN_W), .X_SIGNED(IN_SIGNED), .W_W(W_W), .SHIFT(PACK_SHIFT),
                              .PSUM_W(PSUM_W))
                    u_pair (.clk(clk), .en(en), .x(x_skew), .w_lo(w_words[2*p*SIMD*W_W +: SIMD*W_W]),
                            .w_hi(w_words[(2*p+1)*SIMD*W_W +: SIMD*W_W]), .lo(chain_psum[2*p*PSUM_W +: PSUM_W]),
                            .hi(chain_psum[(2*p+1)*PSUM_W +: PSUM_W]));
            end
            for (p = 2 * PAIRS; p < PE; p = p + 1) begin : g_row
                // The chain's 48-bit P holds a PSUM_W-bit value; only those bits are read.
                /* verilator lint_off UNUSEDSIGNAL */
                wire [47:0] p48;
                /* verilator lint_on UNUSEDSIGNAL */
                fg_dsp_chain #(.DSP_KIND(DSP_KIND), .LANES(SIMD), .A_W(IN_W), .A_SIGNED(IN_SIGNED), .B_W(W_W))
                    u_chain (.clk(clk), .en(en), .a(x_skew), .b(w_words[p*SIMD*W_W +: SIMD*W_W]), .d({SIMD*27{1'b0}}),
                             .p(p48));
                assign chain_psum[p*PSUM_W +: PSUM_W] = p48[PSUM_W-1:0];
            end
        end else begin : g_no_chains
            assign chain_psum = {VECTORS*PE*PSUM_W{1'b0}};
        end
        for (p = 0; p < PE; p = p + 1) begin : g_pe
            wire [B_W-1:0] bias;
            if (HAS_BIAS != 0) begin : g_bias
                fg_rom #(.WIDTH(B_W), .DEPTH(NF), .ADDR_W(NF_W), .BLOCK(B_BLOCK), .FILE({MEM_PREFIX, "_b", dec4(p), ".mem"}))
                    u_b (.clk(clk), .en(en), .addr(c_nf[BIAS_AT*NF_W +: NF_W]), .q(bias));
            end else begin : g_nobias
                assign bias = {B_W{1'b0}};
            end
            for (v = 0; v < VECTORS; v = v + 1) begin : g_vec
                // SIMD-wide partial dot product on the product grid, ready DOT cycles after issue.
                wire [PSUM_W-1:0] psum;
                if (ENGINE == 0) begin : g_chain
                    assign psum = chain_psum[(v*PE+p)*PSUM_W +: PSUM_W];
                end else if (ENGINE == 1) begin : g_mf
                    fg_mf_dot #(.DSP_KIND(DSP_KIND), .SIMD(SIMD), .X_V_W(IN_V_W), .X_E_W(IN_E_W), .W_MF(W_MF), .W_W(W_W),
                                .W_SIGNED(W_SIGNED), .W_E(W_E), .W_M(W_M), .W_SUB(W_SUB), .W_V_W(W_V_W),
                                .W_E_W(W_E_W), .PROD_W(PROD_W), .PSUM_W(PSUM_W))
                        u_dot (.clk(clk), .en(en), .x_v(x_v), .x_e(x_e), .w(w_words[p*SIMD*W_W +: SIMD*W_W]), .psum(psum));
                end else begin : g_tern
                    fg_tern_dot #(.SIMD(SIMD), .X_W(T_X_W), .X_SIGNED(T_X_SIGNED), .BINARY(BINARY), .T_W(PROD_W),
                                  .PSUM_W(PSUM_W))
                        u_dot (.clk(clk), .en(en), .x(x_t), .w(w_words[p*SIMD*W_W +: SIMD*W_W]), .psum(psum));
                end

                fg_fold_out #(.PSUM_W(PSUM_W), .ACC_W(ACC_W), .ACC_SHIFT(ACC_SHIFT), .FIN_W(FIN_W), .FIN_FRAC(FIN_FRAC),
                              .SCALED(ENGINE == 2 ? 1 : 0), .B_W(B_W), .SCALE_W(SCALE_W), .SCALE(SCALE),
                              .SCALE_ROM(SCALE_ROM), .SCALE_SHIFT(SCALE_SHIFT), .NF(NF), .NF_W(NF_W), .S_BLOCK(S_BLOCK),
                              .S_FILE({MEM_PREFIX, "_s", dec4(p), ".mem"}), .RELU(RELU), .OUT_W(OUT_W), `FG_CONVERT_PASS)
                    u_fold (.clk(clk), .en(en), .valid(acc_valid), .first(acc_first), .psum(psum), .bias(bias),
                            .scale_addr(c_nf[ACC_AT*NF_W +: NF_W]), .y(y[(v*PE+p)*OUT_W +: OUT_W]));
            end
        end
    endgenerate

    // ---- output register ------------------------------------------------------------------
    // One beat per finished neuron fold: NF per vector, POSITIONS vectors per frame.
    always @(posedge clk) begin
        if (!rst_n) done <= 1'b0;
        else if (en) done <= acc_valid & acc_last;
    end
    wire out_en;  // the output register is free, or empties this cycle
    wire push;
    wire [PE*OUT_W-1:0] out_d;
    generate
        if (VECTORS == 2) begin : g_drain
            // Vector 1's beat of each finished fold waits in ybuf; after a pair's last fold
            // (unless it is an odd frame's last position, alone) the output drains them in order.
            localparam integer PAIRS_LAST = (POSITIONS + 1) / 2 - 1;
            localparam integer PAIR_W = bits_for(PAIRS_LAST + 1);
            (* ram_style = "distributed" *) reg [PE*OUT_W-1:0] ybuf [0:NF-1];
            reg draining;
            reg [NF_W-1:0] ofold, didx;   // folds of the pair pushed; the next beat to drain
            reg [PAIR_W-1:0] opair;       // the pair in the frame
            wire fold_push = done & en;
            wire pair_end = ofold == NF_LAST[NF_W-1:0];
            wire pair_half = (POSITIONS % 2 == 1) && opair == PAIRS_LAST[PAIR_W-1:0];
            // the pipeline holds while its finished fold waits for the drain
            assign en = out_en & !(draining & done);
            assign push = fold_push | (draining & out_en);
            assign out_d = draining ? ybuf[didx] : y[0 +: PE*OUT_W];
            always @(posedge clk) begin
                if (fold_push) ybuf[ofold] <= y[PE*OUT_W +: PE*OUT_W];
                if (!rst_n) begin
                    draining <= 1'b0;
                    ofold <= {NF_W{1'b0}};
                    didx <= {NF_W{1'b0}};
                    opair <= {PAIR_W{1'b0}};
                end else if (fold_push) begin
                    ofold <= pair_end ? {NF_W{1'b0}} : ofold + 1'b1;
                    if (pair_end) begin
                        opair <= (opair == PAIRS_LAST[PAIR_W-1:0]) ? {PAIR_W{1'b0}} : opair + 1'b1;
                        draining <= !pair_half;
                        didx <= {NF_W{1'b0}};
                    end
                end else if (draining & out_en) begin
                    didx <= didx + 1'b1;
                    if (didx == NF_LAST[NF_W-1:0]) draining <= 1'b0;
                end
            end
        end else begin : g_direct_out
            assign en = out_en;
            assign push = done & en;
            assign out_d = y;
        end
    endgenerate
    fg_out_reg #(.W(PE*OUT_W), .BEATS(NF * POSITIONS)) u_out (
        .clk(clk), .rst_n(rst_n), .push(push), .d(out_d), .en(out_en),
        .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tready(m_tready), .m_tlast(m_tlast)
    );
endmodule
