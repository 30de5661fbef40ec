// fg_mf_decode: one multiplier operand -> signed significand v and exponent shift e, so
// that the operand's exact value, as an integer on its format's grid, is v << e.
//
//   MF = 0: a fixed-point mantissa (two's complement if SIGNED, else unsigned) is its own
//           significand: v = the mantissa, e = 0 (the grid is the format's lsb).
//   MF = 1: a minifloat code  sign | field (E bits) | mant (M bits). The grid is the
//           smallest subnormal step 2^(emin - M), emin = 1 - bias; on it, field 0 holds
//           the subnormals mant << 0 and field f > 0 the normals (2^M + mant) << (f - 1).
//           The bias only moves the grid (the caller's fraction bits), never the logic.
//           SUB = 0 (a flushing format): field 0 reads as zero whatever the mantissa, as
//           MiniFloat.from_codes does.
// v is +-significand in V_W = M + 2 bits (MF = 1) or the mantissa sign- or zero-extended
// to V_W bits (MF = 0); e has E_W = E bits (MF = 1) or one constant-0 bit (MF = 0).
// Codes of inf and NaN decode like finite codes of their field: they never reach a
// multiplier (the RNE normaliser saturates, and the host sends finite values only).
// Combinational.
module fg_mf_decode #(
    parameter integer MF = 1,
    parameter integer W = 8,        // code (MF = 1) or mantissa (MF = 0) width
    parameter integer SIGNED = 1,   // MF = 0: two's complement mantissa
    parameter integer E = 4,
    parameter integer M = 3,
    parameter integer SUB = 1,
    parameter integer V_W = 5,
    parameter integer E_W = 4
) (
    input  wire [W-1:0]   c,
    output wire [V_W-1:0] v,
    output wire [E_W-1:0] e
);
    generate
        if (MF == 0) begin : g_fixed
            fg_extend #(.IN_W(W), .OUT_W(V_W), .SIGNED(SIGNED)) u_v (.x(c), .y(v));
            assign e = {E_W{1'b0}};
        end else begin : g_float
            wire sign = c[E+M];
            wire [E-1:0] field = c[E+M-1:M];
            wire normal = |field;
            wire [M:0] sig;  // significand with its hidden bit
            if (M > 0) begin : g_mant
                assign sig = {normal, (normal || SUB != 0) ? c[M-1:0] : {M{1'b0}}};
            end else begin : g_no_mant
                assign sig = normal;
            end
            wire [V_W-1:0] mag = {1'b0, sig};
            assign v = sign ? -mag : mag;
            assign e = normal ? field - 1'b1 : {E{1'b0}};
        end
    endgenerate
endmodule
