// fg_exact: one stream element -> its exact value on its format's grid, two's complement in
// X_W bits: fg_mf_decode's v << e (for fixed point the mantissa itself, sign- or
// zero-extended). Combinational.
`include "fg_params.vh"
module fg_exact #(
    `FG_EXACT_PARAMS  // IN_W-bit element, its fg_mf_decode fields, X_W (fg_params.vh)
) (
    input  wire [IN_W-1:0] c,
    output wire [X_W-1:0]  x
);
    wire [IN_V_W-1:0] v;
    wire [IN_E_W-1:0] sh;
    fg_mf_decode #(.MF(IN_MF), .W(IN_W), .SIGNED(IN_SIGNED), .E(IN_E), .M(IN_M), .SUB(IN_SUB), .V_W(IN_V_W),
                   .E_W(IN_E_W))
        u_decode (.c(c), .v(v), .e(sh));
    wire [X_W-1:0] ve;
    fg_extend #(.IN_W(IN_V_W), .OUT_W(X_W), .SIGNED(1)) u_v (.x(v), .y(ve));
    assign x = ve << sh;
endmodule
