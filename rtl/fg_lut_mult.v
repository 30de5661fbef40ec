// fg_lut_mult: a short two's complement product in fabric, p = a * b, for significands of a
// few bits where a DSP slice would sit mostly idle: the sum of b's partial products (a << i for
// each set bit i of b, bit B_W-1 weighing -2^(B_W-1)), which synthesis maps to LUTs and carry
// chains -- no multiplier cell for a tool to move onto a slice. Registered as one lane of
// fg_dsp_chain (AREG, MREG, PREG), so it drops in for it: operands presented in cycle t give p
// in cycle t + 3. Registers hold while en is low.
(* use_dsp = "no" *)
module fg_lut_mult #(
    parameter integer A_W = 5,
    parameter integer B_W = 5
) (
    input  wire                 clk,
    input  wire                 en,
    input  wire [A_W-1:0]       a,
    input  wire [B_W-1:0]       b,
    output reg  [A_W+B_W-1:0]   p
);
    localparam integer P_W = A_W + B_W;
    reg [A_W-1:0] a_r;
    reg [B_W-1:0] b_r;
    reg [P_W-1:0] m_r;

    function [P_W-1:0] product;
        input [A_W-1:0] x;
        input [B_W-1:0] y;
        reg [P_W-1:0] ax;
        integer i;
        begin
            ax = {{B_W{x[A_W-1]}}, x};
            product = {P_W{1'b0}};
            for (i = 0; i < B_W; i = i + 1) begin
                if (y[i]) product = (i == B_W - 1) ? product - (ax << i) : product + (ax << i);
            end
        end
    endfunction

    always @(posedge clk) begin
        if (en) begin
            a_r <= a;
            b_r <= b;
            m_r <= product(a_r, b_r);
            p <= m_r;
        end
    end
endmodule
