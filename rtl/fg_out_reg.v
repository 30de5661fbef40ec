// fg_out_reg: the output register of an element stage (fg_act, fg_chan, fg_pool, fg_merge).
// A beat pushed in cycle t (push may be high only while en is) leaves in cycle t+1 and is held
// until the output is ready; m_tlast marks the last of every BEATS beats. en -- the register
// is free, or empties this cycle -- is the stage's enable: its input ready and its push gate.
`include "fg_params.vh"
module fg_out_reg #(
    parameter integer W = 8,
    parameter integer BEATS = 1
) (
    input  wire         clk,
    input  wire         rst_n,
    input  wire         push,
    input  wire [W-1:0] d,
    output wire         en,
    output wire [W-1:0] m_tdata,
    output wire         m_tvalid,
    input  wire         m_tready,
    output wire         m_tlast
);
    `FG_BITS_FOR
    localparam integer BEAT_W = bits_for(BEATS);
    localparam integer BEAT_LAST = BEATS - 1;

    reg out_valid, out_last;
    reg [W-1:0] out_data;
    reg [BEAT_W-1:0] beat;
    assign en = !out_valid | m_tready;
    always @(posedge clk) begin
        if (!rst_n) begin
            out_valid <= 1'b0;
            beat <= {BEAT_W{1'b0}};
        end else if (en) begin
            out_valid <= push;
            if (push) beat <= (beat == BEAT_LAST[BEAT_W-1:0]) ? {BEAT_W{1'b0}} : beat + 1'b1;
        end
        if (push) begin
            out_data <= d;
            out_last <= beat == BEAT_LAST[BEAT_W-1:0];
        end
    end
    assign m_tdata = out_data;
    assign m_tvalid = out_valid;
    assign m_tlast = out_last;
endmodule
