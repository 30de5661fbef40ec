// fg_add_tree: y = sum of N two's complement terms of W bits, as a balanced binary adder
// tree in fabric (ceil(log2 N) adder levels). Combinational; the caller registers y.
//
// Every adder is OUT_W bits wide. The caller sizes OUT_W for the sum of all N terms
// (sizing.accumulator_format); each partial sum covers fewer terms of the same ranges,
// so it fits too and nothing ever wraps.
// Layout (heap): node k, 1 <= k < L, is node 2k + node 2k+1; leaves are nodes L..2L-1
// (L = N rounded up to a power of two, missing leaves are 0); the root is node 1.
`include "fg_params.vh"
module fg_add_tree #(
    parameter integer N = 4,
    parameter integer W = 8,
    parameter integer OUT_W = 10
) (
    input  wire [N*W-1:0]  x,
    output wire [OUT_W-1:0] y
);
    `FG_BITS_FOR
    localparam integer L = N > 1 ? 1 << bits_for(N) : 1;  // N rounded up to a power of two

    // node[0] is never used (the heap starts at 1)
    /* verilator lint_off UNUSEDSIGNAL */
    wire [2*L*OUT_W-1:0] node;
    /* verilator lint_on UNUSEDSIGNAL */
    assign node[OUT_W-1:0] = {OUT_W{1'b0}};
    genvar k;
    generate
        for (k = 0; k < L; k = k + 1) begin : g_leaf
            if (k < N) begin : g_term
                fg_extend #(.IN_W(W), .OUT_W(OUT_W), .SIGNED(1))
                    u_x (.x(x[k*W +: W]), .y(node[(L+k)*OUT_W +: OUT_W]));
            end else begin : g_pad
                assign node[(L+k)*OUT_W +: OUT_W] = {OUT_W{1'b0}};
            end
        end
        for (k = 1; k < L; k = k + 1) begin : g_add
            assign node[k*OUT_W +: OUT_W] = node[2*k*OUT_W +: OUT_W] + node[(2*k+1)*OUT_W +: OUT_W];
        end
    endgenerate
    assign y = node[OUT_W +: OUT_W];
endmodule
