// fg_merge_in: one input of an Add / Concatenate (fg_merge). A register holds an input beat
// of IN_ELEMS elements and emits it ELEMS at a time (IN_ELEMS / ELEMS pieces, lane 0 of
// piece 0 first), each element made exact (fg_exact, X_W bits) and moved onto the merge's
// common grid: << SHIFT in ACC_W bits, two's complement. Lossless.
// A beat accepted in cycle t gives its first piece in cycle t+1; the register takes the
// next beat in the cycle its last piece leaves.
`include "fg_params.vh"
module fg_merge_in #(
    parameter integer IN_ELEMS = 2,    // elements per input beat, a multiple of ELEMS
    parameter integer ELEMS = 1,
    // input elements (fg_exact): IN_W .. IN_E_W, X_W
    `FG_EXACT_PARAMS,
    parameter integer SHIFT = 0,       // own grid -> common grid
    parameter integer ACC_W = 12       // >= X_W + SHIFT
) (
    input  wire                     clk,
    input  wire                     rst_n,
    input  wire [IN_ELEMS*IN_W-1:0] s_tdata,
    input  wire                     s_tvalid,
    output wire                     s_tready,
    output wire [ELEMS*ACC_W-1:0]   m_tdata,
    output wire                     m_tvalid,
    input  wire                     m_tready
);
    localparam integer PIECES = IN_ELEMS / ELEMS;
    `FG_BITS_FOR
    localparam integer P_W = bits_for(PIECES);
    localparam integer P_LAST = PIECES - 1;

    reg held;
    reg [IN_ELEMS*IN_W-1:0] beat;
    reg [P_W-1:0] piece;
    wire last = piece == P_LAST[P_W-1:0];
    wire pop = held & m_tready;
    assign s_tready = !held | (last & m_tready);
    assign m_tvalid = held;

    always @(posedge clk) begin
        if (!rst_n) begin
            held <= 1'b0;
            piece <= {P_W{1'b0}};
        end else begin
            if (pop) begin
                piece <= last ? {P_W{1'b0}} : piece + 1'b1;
                if (last) held <= 1'b0;
            end
            if (s_tvalid & s_tready) held <= 1'b1;
        end
        if (s_tvalid & s_tready) beat <= s_tdata;
    end

    wire [ELEMS*IN_W-1:0] now = beat[{{(32 - P_W){1'b0}}, piece}*(ELEMS*IN_W) +: ELEMS*IN_W];
    genvar e;
    generate
        for (e = 0; e < ELEMS; e = e + 1) begin : g_lane
            wire [X_W-1:0] x;
            wire [ACC_W-1:0] xa;
            fg_exact #(`FG_EXACT_PASS)
                u_exact (.c(now[e*IN_W +: IN_W]), .x(x));
            fg_extend #(.IN_W(X_W), .OUT_W(ACC_W), .SIGNED(1)) u_x (.x(x), .y(xa));
            assign m_tdata[e*ACC_W +: ACC_W] = xa << SHIFT;
        end
    endgenerate
endmodule
