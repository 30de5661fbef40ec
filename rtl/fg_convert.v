// fg_convert: the ONE rounding of a layer -- optional ReLU, then an exact signed
// fixed-point value (two's complement x on the grid 2^-IN_FRAC) into the output format:
// a fixed-point mantissa through fg_cast (every ap_fixed rounding / overflow mode), or a
// minifloat code through fg_mf_round (RNE, saturating). Combinational.
`include "fg_params.vh"
module fg_convert #(
    parameter integer IN_W = 16,
    parameter integer IN_FRAC = 8,
    parameter integer RELU = 0,
    parameter integer OUT_W = 8,       // element width: mantissa, or code = 1 + OUT_E + OUT_M
    // OUT_MF (0 fixed point, 1 minifloat), then the fixed-point group (OUT_FRAC .. OVF_MODE,
    // fg_cast) and the minifloat group (OUT_E .. OUT_MAX, fg_mf_round): each output kind reads
    // only its own group, and the other group's module is not part of the design (the writer
    // copies only what is used).
    /* verilator lint_off UNUSEDPARAM */
    `FG_CONVERT_PARAMS
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire [IN_W-1:0]  x,
    output wire [OUT_W-1:0] y
);
    generate
        if (OUT_MF != 0) begin : g_minifloat
            fg_mf_round #(.IN_W(IN_W), .IN_FRAC(IN_FRAC), .RELU(RELU), .E(OUT_E), .M(OUT_M), .BIAS(OUT_BIAS),
                          .SUB(OUT_SUB), .MAX_CODE(OUT_MAX))
                u_round (.x(x), .y(y));
        end else begin : g_fixed
            fg_cast #(.IN_W(IN_W), .IN_FRAC(IN_FRAC), .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
                      .RELU(RELU), .RND_MODE(RND_MODE), .OVF_MODE(OVF_MODE))
                u_cast (.x(x), .y(y));
        end
    endgenerate
endmodule
