// fg_scale: y = (x * s) << SHIFT for a small unsigned factor s, as shift-and-add in
// fabric: one partial product x << (i + SHIFT) per bit i of s, summed by fg_add_tree.
// It applies the scale of ternary / binary weights once per output neuron, so those
// layers need no DSP: with a constant s (one scale for the layer) synthesis keeps only
// the adders of its one bits -- a power of two is a plain shift -- and with a per-channel
// s (read from a ROM) it is an S_W-term adder tree. The caller sizes Y_W for the
// product, so nothing wraps. Combinational.
module fg_scale #(
    parameter integer X_W = 16,     // x: two's complement
    parameter integer S_W = 4,      // s: unsigned
    parameter integer SHIFT = 0,
    parameter integer Y_W = 24
) (
    input  wire [X_W-1:0] x,
    input  wire [S_W-1:0] s,
    output wire [Y_W-1:0] y
);
    wire [Y_W-1:0] xe;
    fg_extend #(.IN_W(X_W), .OUT_W(Y_W), .SIGNED(1)) u_x (.x(x), .y(xe));
    wire [S_W*Y_W-1:0] partial;
    genvar i;
    generate
        for (i = 0; i < S_W; i = i + 1) begin : g_bit
            assign partial[i*Y_W +: Y_W] = s[i] ? xe << (i + SHIFT) : {Y_W{1'b0}};
        end
    endgenerate
    fg_add_tree #(.N(S_W), .W(Y_W), .OUT_W(Y_W)) u_sum (.x(partial), .y(y));
endmodule
