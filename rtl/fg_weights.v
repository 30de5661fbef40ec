// fg_weights: the weight ROMs of a folded matmul engine, SIMD lane ROMs (fg_rom; block RAM when
// BLOCK). Word s of ROM j (image <PREFIX>_wNNNN.mem, NNNN = j) holds lane j's weight codes of
// step s for every PE row, row p at bits p*W. Lane j is read at the step address delayed SKEW*j
// cycles: with SKEW = 1 (the systolic skew of the DSP chains, slice j j cycles after slice 0)
// ONE address chain of SIMD-1 registers of ADDR_W bits serves every row, so no weight is ever
// delayed. q has the codes by row (row p's SIMD codes at bits p*SIMD*W, lane 0 low); lane j of
// the step presented in cycle t is there in cycle t + SKEW*j + 1. Everything holds while en is low.
`include "fg_params.vh"
module fg_weights #(
    parameter integer SIMD = 1,
    parameter integer PE = 1,
    parameter integer W = 8,
    parameter integer STEPS = 2,
    parameter integer ADDR_W = 1,
    parameter integer SKEW = 0,
    parameter integer BLOCK = 0,
    parameter PREFIX = "dense"
) (
    input  wire                   clk,
    input  wire                   en,
    input  wire [ADDR_W-1:0]      step,
    output wire [PE*SIMD*W-1:0]   q
);
    `FG_DEC4
    wire [SIMD*ADDR_W-1:0] addr;     // lane j's read address
    wire [SIMD*PE*W-1:0] lanes;      // lane j's ROM word
    assign addr[0 +: ADDR_W] = step;
    genvar j, p;
    generate
        for (j = 0; j < SIMD; j = j + 1) begin : g_lane
            if (j > 0 && SKEW != 0) begin : g_skewed
                reg [ADDR_W-1:0] a;
                always @(posedge clk) begin
                    if (en) a <= addr[(j-1)*ADDR_W +: ADDR_W];
                end
                assign addr[j*ADDR_W +: ADDR_W] = a;
            end else if (j > 0) begin : g_direct
                assign addr[j*ADDR_W +: ADDR_W] = step;
            end
            fg_rom #(.WIDTH(PE*W), .DEPTH(STEPS), .ADDR_W(ADDR_W), .BLOCK(BLOCK), .FILE({PREFIX, "_w", dec4(j), ".mem"}))
                u_rom (.clk(clk), .en(en), .addr(addr[j*ADDR_W +: ADDR_W]), .q(lanes[j*PE*W +: PE*W]));
            for (p = 0; p < PE; p = p + 1) begin : g_row
                assign q[(p*SIMD+j)*W +: W] = lanes[(j*PE+p)*W +: W];
            end
        end
    endgenerate
endmodule
