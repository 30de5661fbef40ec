// fg_pool: max or average over the taps of a window, per channel, fed by fg_window in
// ORDER 1: TAPS consecutive beats (one tap each, ELEMS channels) make one output beat;
// s_tpad marks a padded tap, which is left out (of the maximum, of the sum and of the
// count). Every window has at least one real tap.
//
// Each lane makes its element exact on the input grid (fg_exact) in X_W bits, then
//   MAX = 1: keeps the largest; the output is fg_convert of that value (grid 2^-IN_FRAC);
//   MAX = 0: sums into ACC_W bits and divides exactly by the count n of real taps, as
//            golden.cast_ratio does: q = floor(sum * 2^EXTRA / n), sticky = remainder != 0,
//            and 2q + sticky (grid 2^-(IN_FRAC)) goes through fg_convert, whose rounding of
//            that stand-in equals the rounding of the exact quotient. The divider is
//            combinational before the output register (n <= TAPS is small).
// One register stage: the last tap accepted in cycle t leaves in cycle t+1; the input
// stalls while the output is full and not accepted. m_tlast marks beat OUT_BEATS - 1.
`include "fg_params.vh"
module fg_pool #(
    parameter integer TAPS = 4,
    parameter integer ELEMS = 1,
    parameter integer OUT_BEATS = 1,   // output beats per frame
    parameter integer MAX = 1,
    // input elements (fg_exact): IN_W .. IN_E_W, X_W
    `FG_EXACT_PARAMS,
    parameter integer ACC_W = 9,       // the running maximum (X_W) or sum
    parameter integer EXTRA = 1,       // average: quotient bits below the sum's grid
    parameter integer CNT_W = 3,       // holds TAPS
    // output conversion (fg_convert)
    parameter integer IN_FRAC = 4,
    parameter integer OUT_W = 8,
    `FG_CONVERT_PARAMS
) (
    input  wire                   clk,
    input  wire                   rst_n,
    input  wire [ELEMS*IN_W-1:0]  s_tdata,
    input  wire                   s_tpad,
    input  wire                   s_tvalid,
    output wire                   s_tready,
    output wire [ELEMS*OUT_W-1:0] m_tdata,
    output wire                   m_tvalid,
    input  wire                   m_tready,
    output wire                   m_tlast
);
    `FG_BITS_FOR
    localparam integer TAP_W = bits_for(TAPS);
    localparam integer TAP_LAST = TAPS - 1;
    localparam integer D_W = ACC_W + EXTRA;  // the sum on the quotient's grid
    localparam integer FIN_W = (MAX != 0) ? ACC_W : D_W + 1;

    reg [TAP_W-1:0] tap;
    reg [CNT_W-1:0] cnt;
    wire en;
    assign s_tready = en;
    wire take = s_tvalid & en;
    wire first = tap == {TAP_W{1'b0}};
    wire tap_last = tap == TAP_LAST[TAP_W-1:0];
    wire [CNT_W-1:0] cnt_prev = first ? {CNT_W{1'b0}} : cnt;
    wire [CNT_W-1:0] cnt_next = cnt_prev + {{(CNT_W - 1){1'b0}}, !s_tpad};

    wire [ELEMS*OUT_W-1:0] y;
    genvar e;
    generate
        for (e = 0; e < ELEMS; e = e + 1) begin : g_lane
            wire [X_W-1:0] xe;
            fg_exact #(`FG_EXACT_PASS)
                u_exact (.c(s_tdata[e*IN_W +: IN_W]), .x(xe));
            wire [ACC_W-1:0] x;
            fg_extend #(.IN_W(X_W), .OUT_W(ACC_W), .SIGNED(1)) u_x (.x(xe), .y(x));
            reg [ACC_W-1:0] acc;
            wire [ACC_W-1:0] acc_next;
            wire [FIN_W-1:0] fin;
            if (MAX != 0) begin : g_max
                assign acc_next = (!s_tpad && (cnt_prev == {CNT_W{1'b0}} || $signed(x) > $signed(acc))) ? x : acc;
                assign fin = acc_next;
            end else begin : g_avg
                assign acc_next = (first ? {ACC_W{1'b0}} : acc) + (s_tpad ? {ACC_W{1'b0}} : x);
                wire [D_W-1:0] scaled = {acc_next, {EXTRA{1'b0}}};
                wire neg = scaled[D_W-1];
                wire [D_W-1:0] mag = neg ? -scaled : scaled;
                wire [D_W-1:0] n = {{(D_W - CNT_W){1'b0}}, cnt_next};
                wire [D_W-1:0] qm = mag / n;
                wire sticky = (mag % n) != {D_W{1'b0}};
                // floor of a negative quotient: one below the truncated one when inexact
                wire [D_W-1:0] q = neg ? -(qm + {{(D_W - 1){1'b0}}, sticky}) : qm;
                assign fin = {q, sticky};
            end
            always @(posedge clk) begin
                if (take) acc <= acc_next;
            end
            fg_convert #(.IN_W(FIN_W), .IN_FRAC(IN_FRAC), .RELU(0), .OUT_W(OUT_W), `FG_CONVERT_PASS)
                u_convert (.x(fin), .y(y[e*OUT_W +: OUT_W]));
        end
    endgenerate

    always @(posedge clk) begin
        if (!rst_n) tap <= {TAP_W{1'b0}};
        else if (take) tap <= tap_last ? {TAP_W{1'b0}} : tap + 1'b1;
        if (take) cnt <= cnt_next;
    end
    // one output beat per window: its last tap's
    fg_out_reg #(.W(ELEMS*OUT_W), .BEATS(OUT_BEATS)) u_out (
        .clk(clk), .rst_n(rst_n), .push(take & tap_last), .d(y), .en(en),
        .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tready(m_tready), .m_tlast(m_tlast)
    );
endmodule
