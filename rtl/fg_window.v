// fg_window: sliding-window generator over a channels-last tensor (H, W, C) streamed in
// row-major order, ELEMS elements (one channel group) per input beat. A 1-D tensor (L, C) is
// H = 1, W = L with a 1-tap, unpadded first axis.
//
// For each output position (oy, ox), row-major, it emits the window's words: a word is one
// channel group g of the tap (ky, kx), the input pixel (oy*SH + ky - PT, ox*SW + kx - PL). The
// G = C/ELEMS groups are taken BLOCK at a time; each block's words are emitted REP times over,
// in the order (ky, kx, g) with g fastest:
//   BLOCK = G (convolution): the window vector in the row-major layout of a Keras kernel
//           (kh, kw, c_in, ...), for fg_dense;
//   BLOCK = 1 (pooling):     one channel group's taps in a row, (g, ky, kx), for fg_pool;
//   in between (depthwise):  BLOCK groups' taps, tap by tap, for fg_vvau, which takes a block
//           REP times, once per neuron fold that reads its channels.
// WORDS consecutive words per output beat (word r of a beat in bits r*ELEMS*EW and up; WORDS
// divides a block's KH*KW*BLOCK words), so an engine gets a whole fold step per cycle and
// runs at its fold's rate. A word outside the input (explicit padding) is sent as zeros with
// its m_tpad bit high.
//
// Micro-architecture: a line buffer. Input beats are numbered in stream order across
// frames; beat n lives at address n mod DEPTH of an inferred RAM (one write port, one
// registered read port), one identical copy per word of an output beat, so the WORDS words
// are read in the same cycle whatever taps and pads they hold (a window's words are not in
// distinct banks of any one interleaving once padding and strides are allowed). A
// position's taps lie between its first real pixel and its last one, at most (KH-1) rows
// plus KW pixels apart, so LIMIT = ((KH-1)*W + KW + SW)*G live beats suffice; the SW*G
// slack lets the next position's new pixels stream in while this one is emitted. At a row
// stride SH >= 2 an output row takes as long as its SH new input rows take to arrive, so
// those rows stream in while the row before is still emitted: SH extra lines, without
// which each row change would wait for them (a gap the fold does not schedule). LIMIT is
// capped at two frames (a small input is double buffered); DEPTH is LIMIT rounded up to a
// power of two, so an address is a beat number's low bits.
//   * free: the first beat this position or a later one reads (this window's first real
//     pixel, or the next output row's first row if that is lower); the beats before it
//     are dead. s_tready = fewer than LIMIT beats written and not dead (live).
//   * thr: the beat count that holds this window's last real pixel. A position's beats
//     issue one per cycle from the cycle after it was written.
// Each copy's read address is the position's base address plus its block's first group plus
// its word's offset; the word is a three-digit counter (group in the block, tap column, tap
// row), reset to the copy's own word r at a block's first beat and advanced by WORDS per beat
// (carries, no division); a block's beats, its repetitions and the blocks are counted apart.
// The RAM's read register is the output register (m_tvalid = one issue ago), so a beat
// issued in cycle t leaves in cycle t+1. The read holds while the output is full and not
// accepted. Address arithmetic (constant multiples of W, G, SW, FRAME) stays in fabric: the
// DSP slices of a design are the matmul engines' alone, as the fold pass budgets them
// (UG901 USE_DSP).
(* use_dsp = "no" *)
`include "fg_params.vh"
module fg_window #(
    parameter integer H = 1,
    parameter integer W = 4,
    parameter integer C = 1,
    parameter integer ELEMS = 1,       // elements per beat; divides C
    parameter integer EW = 8,          // bits per element
    parameter integer KH = 1,
    parameter integer KW = 3,
    parameter integer SH = 1,
    parameter integer SW = 1,
    parameter integer PT = 0,          // padding before the first row / column
    parameter integer PL = 0,
    parameter integer OH = 1,
    parameter integer OW = 2,
    parameter integer BLOCK = 1,       // channel groups per block; divides C/ELEMS
    parameter integer REP = 1,         // times each block is emitted
    parameter integer WORDS = 1        // words per output beat; divides KH*KW*BLOCK
) (
    input  wire                      clk,
    input  wire                      rst_n,
    input  wire [ELEMS*EW-1:0]       s_tdata,
    input  wire                      s_tvalid,
    output wire                      s_tready,
    output wire [WORDS*ELEMS*EW-1:0] m_tdata,
    output wire [WORDS-1:0]          m_tpad,
    output wire                      m_tvalid,
    input  wire                      m_tready
);
    localparam integer G = C / ELEMS;
    localparam integer FRAME = H * W * G;   // beats per frame
    localparam integer EXTRA = SH > 1 ? SH : 0;  // lines streaming in while a row is emitted
    localparam integer SPAN = ((KH - 1 + EXTRA) * W + KW + SW) * G;
    localparam integer LIMIT = SPAN < 2 * FRAME ? SPAN : 2 * FRAME;
    localparam integer BEATS = KH * KW * BLOCK / WORDS;  // output beats per block
    localparam integer BLOCKS = G / BLOCK;
    `FG_BITS_FOR
    // A coordinate clamped into [0, coord_max]: the nearest real row or column (never negative,
    // so it reads the same signed or unsigned).
    function [31:0] clamp;
        input signed [31:0] coord;
        input signed [31:0] coord_max;
        begin
            clamp = coord < 0 ? 0 : (coord > coord_max ? coord_max : coord);
        end
    endfunction
    localparam integer ADDR_W = bits_for(LIMIT);
    localparam integer DEPTH = 1 << ADDR_W;
    localparam integer WC_W = bits_for(FRAME);
    localparam integer B_W = bits_for(BEATS);
    localparam integer REP_W = bits_for(REP);
    localparam integer BLK_W = bits_for(BLOCKS);
    localparam integer GB_W = bits_for(G);
    localparam integer OY_W = bits_for(OH);
    localparam integer OX_W = bits_for(OW);
    localparam integer FRAME_LAST = FRAME - 1;
    localparam integer B_LAST = BEATS - 1;
    localparam integer REP_LAST = REP - 1;
    localparam integer BLK_LAST = BLOCKS - 1;
    localparam integer OY_LAST = OH - 1;
    localparam integer OX_LAST = OW - 1;
    // A word's three digits, fastest first (group in the block, tap column, tap row): their
    // ranges, and WORDS in those digits (the step of every copy's counter per beat).
    localparam integer R0 = BLOCK;
    localparam integer R1 = KW;
    localparam integer R2 = KH;
    localparam integer S0 = WORDS % R0;
    localparam integer S1 = (WORDS / R0) % R1;
    localparam integer S2 = WORDS / (R0 * R1);
    localparam integer D_W = bits_for(R0 > R1 ? (R0 > R2 ? R0 : R2) : (R1 > R2 ? R1 : R2));

    reg [ADDR_W-1:0] wptr;          // address of the next input beat
    reg [ADDR_W-1:0] rbase;         // address of the read frame's first beat
    reg [WC_W-1:0] wcount;          // beats written of the write frame
    reg signed [2:0] ahead;         // write frame - read frame: -1 to 2

    // ---- read side: counters oy, ox, then the block, its repetition and its beat ----------
    reg out_valid;
    wire en = !out_valid | m_tready;
    reg [OY_W-1:0] oy;
    reg [OX_W-1:0] ox;
    reg [B_W-1:0] b;
    reg [REP_W-1:0] rep;
    reg [BLK_W-1:0] blk;
    reg [GB_W-1:0] gbase;           // the block's first group: blk * BLOCK
    wire ox_last = ox == OX_LAST[OX_W-1:0];
    wire oy_last = oy == OY_LAST[OY_W-1:0];
    wire block_last = b == B_LAST[B_W-1:0];  // last beat of a block
    wire rep_last = rep == REP_LAST[REP_W-1:0];
    wire pos_last = block_last & rep_last & (blk == BLK_LAST[BLK_W-1:0]);  // last beat of an output position
    wire frame_last = pos_last & ox_last & oy_last;

    // Coordinate arithmetic in 32 bits: every address and coordinate of a design fits.
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [31:0] iy0 = $signed({{(32 - OY_W){1'b0}}, oy}) * SH - PT;  // window origin
    wire signed [31:0] ix0 = $signed({{(32 - OX_W){1'b0}}, ox}) * SW - PL;
    wire [31:0] base = {{(32 - ADDR_W){1'b0}}, rbase} + (iy0 * W + ix0) * G  // tap (0, 0), the block's first group
        + {{(32 - GB_W){1'b0}}, gbase};
    // This window's first and last real pixels (in beats), the next output row's first row.
    wire signed [31:0] first = (clamp(iy0, H - 1) * W + clamp(ix0, W - 1)) * G;
    wire signed [31:0] thr = (clamp(iy0 + KH - 1, H - 1) * W + clamp(ix0 + KW - 1, W - 1) + 1) * G;
    wire signed [31:0] next_row = clamp(iy0 + SH, H - 1) * W * G;
    wire next_lower = !oy_last && iy0 + SH <= H - 1 && next_row < first;
    wire signed [31:0] free = next_lower ? next_row : first;
    wire signed [31:0] live = $signed({{29{ahead[2]}}, ahead}) * FRAME
        + $signed({{(32 - WC_W){1'b0}}, wcount}) - free;
    /* verilator lint_on UNUSEDSIGNAL */
    wire avail = ahead > 3'sd0 || (ahead == 3'sd0 && $signed({{(32 - WC_W){1'b0}}, wcount}) >= thr);
    wire issue = en & avail;

    // ---- write side ---------------------------------------------------------------------
    assign s_tready = live < LIMIT;
    wire wr = s_tvalid & s_tready;
    wire wr_last = wcount == FRAME_LAST[WC_W-1:0];

    // ---- one RAM copy and word counter per word of a beat ---------------------------------
    reg [WORDS*ELEMS*EW-1:0] q;
    reg [WORDS-1:0] q_pad;
    genvar r;
    generate
        for (r = 0; r < WORDS; r = r + 1) begin : g_word
            localparam integer I0 = r % R0;  // word r of a position, in digits
            localparam integer I1 = (r / R0) % R1;
            localparam integer I2 = r / (R0 * R1);
            reg [ELEMS*EW-1:0] mem [0:DEPTH-1];
            always @(posedge clk) begin
                if (wr) mem[wptr] <= s_tdata;
            end
            reg [D_W-1:0] d0, d1, d2;
            // the next beat's word: + WORDS with carries (d2 never wraps within a block)
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] s0 = {{(32 - D_W){1'b0}}, d0} + S0;
            wire c0 = s0 >= R0;
            wire [31:0] n0 = c0 ? s0 - R0 : s0;
            wire [31:0] s1 = {{(32 - D_W){1'b0}}, d1} + S1 + {31'd0, c0};
            wire c1 = s1 >= R1;
            wire [31:0] n1 = c1 ? s1 - R1 : s1;
            wire [31:0] n2 = {{(32 - D_W){1'b0}}, d2} + S2 + {31'd0, c1};
            /* verilator lint_on UNUSEDSIGNAL */
            wire [D_W-1:0] g = d0;
            wire [D_W-1:0] kx = d1;
            wire [D_W-1:0] ky = d2;
            wire signed [31:0] iy = iy0 + $signed({{(32 - D_W){1'b0}}, ky});
            wire signed [31:0] ix = ix0 + $signed({{(32 - D_W){1'b0}}, kx});
            wire pad = iy < 0 || iy >= H || ix < 0 || ix >= W;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] raddr = base + ({{(32 - D_W){1'b0}}, ky} * W + {{(32 - D_W){1'b0}}, kx}) * G
                + {{(32 - D_W){1'b0}}, g};
            /* verilator lint_on UNUSEDSIGNAL */
            always @(posedge clk) begin
                if (en) begin
                    q[r*ELEMS*EW +: ELEMS*EW] <= mem[raddr[ADDR_W-1:0]];
                    q_pad[r] <= pad;
                end
            end
            always @(posedge clk) begin
                if (!rst_n || (issue && block_last)) begin
                    d0 <= I0[D_W-1:0];
                    d1 <= I1[D_W-1:0];
                    d2 <= I2[D_W-1:0];
                end else if (issue) begin
                    d0 <= n0[D_W-1:0];
                    d1 <= n1[D_W-1:0];
                    d2 <= n2[D_W-1:0];
                end
            end
        end
    endgenerate

    wire wrote_frame = wr & wr_last;
    wire read_frame = issue & frame_last;
    always @(posedge clk) begin
        if (!rst_n) begin
            wptr <= {ADDR_W{1'b0}};
            rbase <= {ADDR_W{1'b0}};
            wcount <= {WC_W{1'b0}};
            ahead <= 3'sd0;
            out_valid <= 1'b0;
            oy <= {OY_W{1'b0}};
            ox <= {OX_W{1'b0}};
            b <= {B_W{1'b0}};
            rep <= {REP_W{1'b0}};
            blk <= {BLK_W{1'b0}};
            gbase <= {GB_W{1'b0}};
        end else begin
            if (wr) begin
                wptr <= wptr + 1'b1;  // wraps at DEPTH, a power of two
                wcount <= wr_last ? {WC_W{1'b0}} : wcount + 1'b1;
            end
            if (wrote_frame & !read_frame) ahead <= ahead + 3'sd1;
            if (read_frame & !wrote_frame) ahead <= ahead - 3'sd1;
            if (en) out_valid <= issue;
            if (issue) begin
                b <= block_last ? {B_W{1'b0}} : b + 1'b1;
                if (block_last) rep <= rep_last ? {REP_W{1'b0}} : rep + 1'b1;
                if (block_last & rep_last) begin
                    blk <= pos_last ? {BLK_W{1'b0}} : blk + 1'b1;
                    gbase <= pos_last ? {GB_W{1'b0}} : gbase + BLOCK[GB_W-1:0];
                end
                if (pos_last) begin
                    ox <= ox_last ? {OX_W{1'b0}} : ox + 1'b1;
                    if (ox_last) oy <= oy_last ? {OY_W{1'b0}} : oy + 1'b1;
                end
                if (frame_last) rbase <= rbase + FRAME[ADDR_W-1:0];
            end
        end
    end
    genvar e;
    generate
        for (e = 0; e < WORDS; e = e + 1) begin : g_zero
            assign m_tdata[e*ELEMS*EW +: ELEMS*EW] = q_pad[e] ? {ELEMS*EW{1'b0}} : q[e*ELEMS*EW +: ELEMS*EW];
        end
    endgenerate
    assign m_tpad = q_pad;
    assign m_tvalid = out_valid;
endmodule
