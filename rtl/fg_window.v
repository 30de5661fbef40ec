// fg_window: sliding-window generator over a channels-last tensor (H, W, C) streamed in
// row-major order, ELEMS elements (one channel group) per beat. A 1-D tensor (L, C) is
// H = 1, W = L with a 1-tap, unpadded first axis.
//
// For each output position (oy, ox), row-major, it emits the window's taps (ky, kx) with
// the input pixel (oy*SH + ky - PT, ox*SW + kx - PL), one channel group per beat:
//   ORDER = 0 (convolution): (ky, kx, g), g fastest -- the window vector in the row-major
//             layout of a Keras kernel (kh, kw, c_in, ...), for fg_dense;
//   ORDER = 1 (pooling):     (g, ky, kx), kx fastest -- one channel group's taps in a
//             row, for fg_pool.
// A tap outside the input (explicit padding) is sent as zeros with m_tpad high.
//
// Micro-architecture: a line buffer. Input beats are numbered in stream order across
// frames; beat n lives at address n mod DEPTH of one inferred RAM (one write port, one
// registered read port). A position's taps lie between its first real pixel and its last
// one, at most (KH-1) rows plus KW pixels apart, so LIMIT = ((KH-1)*W + KW + SW)*G live
// beats suffice; the SW*G slack lets the next position's new pixels stream in while this
// one is emitted. LIMIT is capped at two frames (a small input is double buffered); DEPTH
// is LIMIT rounded up to a power of two, so an address is a beat number's low bits.
//   * free: the first beat this position or a later one reads (this window's first real
//     pixel, or the next output row's first row if that is lower); the beats before it
//     are dead. s_tready = fewer than LIMIT beats written and not dead (live).
//   * thr: the beat count that holds this window's last real pixel. A position's beats
//     issue one per cycle from the cycle after it was written.
// The read address is computed from the counters and read in the cycle of issue; the
// RAM's read register is the output register (m_tvalid = one issue ago), so a beat issued
// in cycle t leaves in cycle t+1. The read holds while the output is full and not accepted.
// Address arithmetic (constant multiples of W, G, SW, FRAME) stays in fabric: the DSP slices
// of a design are the matmul engines' alone, as the fold pass budgets them (UG901 USE_DSP).
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
    parameter integer ORDER = 0
) (
    input  wire                  clk,
    input  wire                  rst_n,
    input  wire [ELEMS*EW-1:0]   s_tdata,
    input  wire                  s_tvalid,
    output wire                  s_tready,
    output wire [ELEMS*EW-1:0]   m_tdata,
    output wire                  m_tpad,
    output wire                  m_tvalid,
    input  wire                  m_tready
);
    localparam integer G = C / ELEMS;
    localparam integer FRAME = H * W * G;   // beats per frame
    localparam integer SPAN = ((KH - 1) * W + KW + SW) * G;
    localparam integer LIMIT = SPAN < 2 * FRAME ? SPAN : 2 * FRAME;
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
    localparam integer G_W = bits_for(G);
    localparam integer KY_W = bits_for(KH);
    localparam integer KX_W = bits_for(KW);
    localparam integer OY_W = bits_for(OH);
    localparam integer OX_W = bits_for(OW);
    localparam integer FRAME_LAST = FRAME - 1;
    localparam integer G_LAST = G - 1;
    localparam integer KY_LAST = KH - 1;
    localparam integer KX_LAST = KW - 1;
    localparam integer OY_LAST = OH - 1;
    localparam integer OX_LAST = OW - 1;

    reg [ELEMS*EW-1:0] mem [0:DEPTH-1];
    reg [ADDR_W-1:0] wptr;          // address of the next input beat
    reg [ADDR_W-1:0] rbase;         // address of the read frame's first beat
    reg [WC_W-1:0] wcount;          // beats written of the write frame
    reg signed [2:0] ahead;         // write frame - read frame: -1 to 2

    // ---- read side: counters oy, ox, then the taps and groups in ORDER -------------------
    reg out_valid;
    wire en = !out_valid | m_tready;
    reg [OY_W-1:0] oy;
    reg [OX_W-1:0] ox;
    reg [KY_W-1:0] ky;
    reg [KX_W-1:0] kx;
    reg [G_W-1:0] g;
    wire g_last = g == G_LAST[G_W-1:0];
    wire ky_last = ky == KY_LAST[KY_W-1:0];
    wire kx_last = kx == KX_LAST[KX_W-1:0];
    wire ox_last = ox == OX_LAST[OX_W-1:0];
    wire oy_last = oy == OY_LAST[OY_W-1:0];
    wire pos_last = g_last & ky_last & kx_last;  // last beat of an output position
    wire frame_last = pos_last & ox_last & oy_last;
    // What advances with an issue, innermost first.
    wire g_step = (ORDER == 0) ? 1'b1 : (ky_last & kx_last);
    wire kx_step = (ORDER == 0) ? g_last : 1'b1;
    wire ky_step = kx_step & kx_last;

    // Coordinate arithmetic in 32 bits: every address and coordinate of a design fits.
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [31:0] iy0 = $signed({{(32 - OY_W){1'b0}}, oy}) * SH - PT;  // window origin
    wire signed [31:0] ix0 = $signed({{(32 - OX_W){1'b0}}, ox}) * SW - PL;
    wire signed [31:0] iy = iy0 + $signed({{(32 - KY_W){1'b0}}, ky});
    wire signed [31:0] ix = ix0 + $signed({{(32 - KX_W){1'b0}}, kx});
    wire pad = iy < 0 || iy >= H || ix < 0 || ix >= W;
    wire [31:0] raddr = {{(32 - ADDR_W){1'b0}}, rbase} + (iy * W + ix) * G + {{(32 - G_W){1'b0}}, g};
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
    always @(posedge clk) begin
        if (wr) mem[wptr] <= s_tdata;
    end

    reg [ELEMS*EW-1:0] q;
    reg q_pad;
    always @(posedge clk) begin
        if (en) begin
            q <= mem[raddr[ADDR_W-1:0]];
            q_pad <= pad;
        end
    end

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
            ky <= {KY_W{1'b0}};
            kx <= {KX_W{1'b0}};
            g <= {G_W{1'b0}};
        end else begin
            if (wr) begin
                wptr <= wptr + 1'b1;  // wraps at DEPTH, a power of two
                wcount <= wr_last ? {WC_W{1'b0}} : wcount + 1'b1;
            end
            if (wrote_frame & !read_frame) ahead <= ahead + 3'sd1;
            if (read_frame & !wrote_frame) ahead <= ahead - 3'sd1;
            if (en) out_valid <= issue;
            if (issue) begin
                if (g_step) g <= g_last ? {G_W{1'b0}} : g + 1'b1;
                if (kx_step) kx <= kx_last ? {KX_W{1'b0}} : kx + 1'b1;
                if (ky_step) ky <= ky_last ? {KY_W{1'b0}} : ky + 1'b1;
                if (pos_last) begin
                    ox <= ox_last ? {OX_W{1'b0}} : ox + 1'b1;
                    if (ox_last) oy <= oy_last ? {OY_W{1'b0}} : oy + 1'b1;
                end
                if (frame_last) rbase <= rbase + FRAME[ADDR_W-1:0];
            end
        end
    end
    assign m_tdata = q_pad ? {ELEMS*EW{1'b0}} : q;
    assign m_tpad = q_pad;
    assign m_tvalid = out_valid;
endmodule
