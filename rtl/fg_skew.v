// fg_skew: systolic input skew. Lane j of the output is lane j of the input delayed by
// j cycles (clock-enabled), so that slice j of a DSP cascade sees its operands exactly
// when the partial sum of slice j-1 arrives on PCIN.
module fg_skew #(
    parameter integer LANES = 4,
    parameter integer W = 8
) (
    /* verilator lint_off UNUSEDSIGNAL */  // a one-lane skew is a plain wire
    input  wire             clk,
    input  wire             en,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [LANES*W-1:0] d,
    output wire [LANES*W-1:0] q
);
    genvar j;
    generate
        for (j = 0; j < LANES; j = j + 1) begin : g_lane
            if (j == 0) begin : g_direct
                assign q[0 +: W] = d[0 +: W];
            end else if (j == 1) begin : g_one
                reg [W-1:0] sr;
                always @(posedge clk) begin
                    if (en) sr <= d[W +: W];
                end
                assign q[W +: W] = sr;
            end else begin : g_line
                reg [j*W-1:0] sr;  // j stages, newest in the low bits
                always @(posedge clk) begin
                    if (en) sr <= {sr[(j-1)*W-1:0], d[j*W +: W]};
                end
                assign q[j*W +: W] = sr[j*W-1 -: W];
            end
        end
    endgenerate
endmodule
