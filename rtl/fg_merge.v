// fg_merge: Add or Concatenate of K streams that fg_merge_in already brought to ELEMS
// elements per beat and to exact values on one grid (2^-IN_FRAC, ACC_W bits each).
//   MODE 0, Add: one beat of every input -> the exact lane sums (ACC_W holds any sum of K),
//           then the one rounding (fg_convert).
//   MODE 1, Concatenate (channels-last, per pixel): LAST_BEATS[k] + 1 beats of input k, for
//           k = 0 .. K-1 in turn, each element rounded (fg_convert; the input values are exact,
//           so this is the rounding of each input into the output format).
// One register stage: a beat taken in cycle t leaves in cycle t+1 when the output is ready.
// m_tlast marks the last beat of each N-element frame.
`include "fg_params.vh"
module fg_merge #(
    parameter integer MODE = 0,
    parameter integer K = 2,
    parameter integer N = 4,
    parameter integer ELEMS = 1,
    parameter integer ACC_W = 12,
    parameter integer CNT_W = 1,
    /* verilator lint_off UNUSEDPARAM */
    parameter [K*CNT_W-1:0] LAST_BEATS = 0,  // MODE 1: beats per pixel - 1 of input k at [k*CNT_W +: CNT_W]
    /* verilator lint_on UNUSEDPARAM */
    // output conversion (fg_convert)
    parameter integer IN_FRAC = 4,
    parameter integer OUT_W = 8,
    `FG_CONVERT_PARAMS
) (
    input  wire                     clk,
    input  wire                     rst_n,
    input  wire [K*ELEMS*ACC_W-1:0] s_tdata,
    input  wire [K-1:0]             s_tvalid,
    output wire [K-1:0]             s_tready,
    output wire [ELEMS*OUT_W-1:0]   m_tdata,
    output wire                     m_tvalid,
    input  wire                     m_tready,
    output wire                     m_tlast
);
    wire en;
    wire take;
    wire [ELEMS*ACC_W-1:0] x;  // the exact values of this beat

    generate
        if (MODE == 0) begin : g_add
            assign take = en & (&s_tvalid);
            assign s_tready = {K{take}};
            // ELEMS independent ACC_W-bit sums: no carry crosses a lane.
            reg [ELEMS*ACC_W-1:0] sum;
            reg [ACC_W-1:0] lane;
            integer k, l;
            always @(*) begin
                for (l = 0; l < ELEMS; l = l + 1) begin
                    lane = {ACC_W{1'b0}};
                    for (k = 0; k < K; k = k + 1) lane = lane + s_tdata[(k*ELEMS + l)*ACC_W +: ACC_W];
                    sum[l*ACC_W +: ACC_W] = lane;
                end
            end
            assign x = sum;
        end else begin : g_concat
            reg [K-1:0] sel;  // one-hot: the input whose beats are due
            reg [CNT_W-1:0] cnt;
            wire [K-1:0] at_last;
            reg [ELEMS*ACC_W-1:0] pick;
            genvar j;
            for (j = 0; j < K; j = j + 1) begin : g_last
                assign at_last[j] = cnt == LAST_BEATS[j*CNT_W +: CNT_W];
            end
            assign take = en & |(s_tvalid & sel);
            assign s_tready = sel & {K{en}};
            integer k;
            always @(*) begin
                pick = {ELEMS*ACC_W{1'b0}};
                for (k = 0; k < K; k = k + 1)
                    if (sel[k]) pick = s_tdata[k*ELEMS*ACC_W +: ELEMS*ACC_W];
            end
            assign x = pick;
            always @(posedge clk) begin
                if (!rst_n) begin
                    sel <= {{(K - 1){1'b0}}, 1'b1};
                    cnt <= {CNT_W{1'b0}};
                end else if (take) begin
                    if (|(at_last & sel)) begin
                        sel <= {sel[K-2:0], sel[K-1]};
                        cnt <= {CNT_W{1'b0}};
                    end else begin
                        cnt <= cnt + 1'b1;
                    end
                end
            end
        end
    endgenerate

    wire [ELEMS*OUT_W-1:0] y;
    genvar e;
    generate
        for (e = 0; e < ELEMS; e = e + 1) begin : g_lane
            fg_convert #(.IN_W(ACC_W), .IN_FRAC(IN_FRAC), .RELU(0), .OUT_W(OUT_W), `FG_CONVERT_PASS)
                u_convert (.x(x[e*ACC_W +: ACC_W]), .y(y[e*OUT_W +: OUT_W]));
        end
    endgenerate

    fg_out_reg #(.W(ELEMS*OUT_W), .BEATS(N / ELEMS)) u_out (
        .clk(clk), .rst_n(rst_n), .push(take), .d(y), .en(en),
        .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tready(m_tready), .m_tlast(m_tlast)
    );
endmodule
