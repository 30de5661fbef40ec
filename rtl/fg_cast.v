// fg_cast: optional ReLU, then ONE conversion of a signed fixed-point value into an
// output fixed-point format with ap_fixed semantics: rounding onto the output grid
// (RND_MODE) first, then overflow handling into the output range (OVF_MODE).
// Combinational; the caller registers the result.
//
// x is a signed (two's complement) mantissa on the grid 2^-IN_FRAC; y is the OUT_W-bit
// mantissa (two's complement if OUT_SIGNED, else unsigned) on the grid 2^-OUT_FRAC.
// Fraction counts may be negative (ap_fixed<W, I> with I > W).
//
// RND_MODE: 0 TRN (floor)           1 TRN_ZERO (toward 0)
//           2 RND (ties to +inf)     3 RND_ZERO (ties to 0)      4 RND_MIN_INF (ties to -inf)
//           5 RND_INF (ties away)    6 RND_CONV (ties to even)
// OVF_MODE: 0 WRAP (keep low bits)   1 SAT (clamp)   2 SAT_ZERO (out of range -> 0)
//           3 SAT_SYM (signed, W > 1: clamp to [-max, max], so -2^(W-1) also -> -max;
//                      otherwise SAT)
module fg_cast #(
    parameter integer IN_W = 16,
    parameter integer IN_FRAC = 8,
    parameter integer OUT_W = 8,
    parameter integer OUT_FRAC = 4,
    parameter integer OUT_SIGNED = 1,
    parameter integer RELU = 0,
    parameter integer RND_MODE = 0,
    parameter integer OVF_MODE = 0
) (
    input  wire [IN_W-1:0]  x,
    output wire [OUT_W-1:0] y
);
    // Bits dropped (SH > 0) or appended (SH < 0) to move onto the output grid.
    localparam integer SH = IN_FRAC - OUT_FRAC;
    // Rounding path: x extended so that at least one bit sits above the dropped ones.
    localparam integer EW = (SH > 0 && SH >= IN_W) ? SH + 1 : IN_W;
    // Width of the exact value on the output grid (floor + 1 bit for the increment).
    localparam integer RW = (SH > 0) ? EW - SH + 1 : IN_W - SH;
    // Comparison width: holds the rounded value and both output bounds, signed.
    localparam integer CW = ((RW > OUT_W) ? RW : OUT_W) + 2;
    localparam integer MAX_BITS = (OUT_SIGNED != 0) ? OUT_W - 1 : OUT_W;

    // Each mode reads only some of the flags below, and WRAP keeps only the low bits.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [IN_W-1:0] xr = (RELU != 0 && x[IN_W-1]) ? {IN_W{1'b0}} : x;
    wire [RW-1:0] r;  // x exactly rounded onto the output grid
    generate
        if (SH > 0) begin : g_round
            wire [EW-1:0] xe;
            fg_extend #(.IN_W(IN_W), .OUT_W(EW), .SIGNED(1)) u_xe (.x(xr), .y(xe));
            wire [EW-SH-1:0] q = xe[EW-1:SH];  // floor(x / 2^SH)
            wire neg = xe[EW-1];
            wire half = xe[SH-1];              // first dropped bit
            wire rest;                         // any dropped bit below it
            if (SH > 1) begin : g_rest
                assign rest = |xe[SH-2:0];
            end else begin : g_no_rest
                assign rest = 1'b0;
            end
            wire inc;
            if (RND_MODE == 0) begin : g_trn
                assign inc = 1'b0;
            end else if (RND_MODE == 1) begin : g_trn_zero
                assign inc = neg & (half | rest);
            end else if (RND_MODE == 2) begin : g_rnd
                assign inc = half;
            end else if (RND_MODE == 3) begin : g_rnd_zero
                assign inc = half & (rest | neg);
            end else if (RND_MODE == 4) begin : g_rnd_min_inf
                assign inc = half & rest;
            end else if (RND_MODE == 5) begin : g_rnd_inf
                assign inc = half & (rest | ~neg);
            end else begin : g_rnd_conv
                assign inc = half & (rest | q[0]);
            end
            assign r = {q[EW-SH-1], q} + {{(RW - 1){1'b0}}, inc};
        end else if (SH == 0) begin : g_same
            assign r = xr;
        end else begin : g_shift
            assign r = {xr, {(-SH){1'b0}}};
        end
    endgenerate

    wire [CW-1:0] rc;
    fg_extend #(.IN_W(RW), .OUT_W(CW), .SIGNED(1)) u_rc (.x(r), .y(rc));
    wire [CW-1:0] one = {{(CW - 1){1'b0}}, 1'b1};
    wire [CW-1:0] max_v = (one << MAX_BITS) - one;
    wire [CW-1:0] min_v = (OUT_SIGNED != 0) ? ~max_v : {CW{1'b0}};
    wire over = $signed(rc) > $signed(max_v);
    wire under = $signed(rc) < $signed(min_v);
    /* verilator lint_on UNUSEDSIGNAL */

    generate
        if (OVF_MODE == 0) begin : g_wrap
            assign y = rc[OUT_W-1:0];
        end else if (OVF_MODE == 1) begin : g_sat
            assign y = over ? max_v[OUT_W-1:0] : under ? min_v[OUT_W-1:0] : rc[OUT_W-1:0];
        end else if (OVF_MODE == 2) begin : g_sat_zero
            assign y = (over | under) ? {OUT_W{1'b0}} : rc[OUT_W-1:0];
        end else begin : g_sat_sym
            wire [CW-1:0] low = (OUT_SIGNED != 0 && OUT_W > 1) ? min_v + one : min_v;
            assign y = over ? max_v[OUT_W-1:0] : ($signed(rc) < $signed(low)) ? low[OUT_W-1:0] : rc[OUT_W-1:0];
        end
    endgenerate
endmodule
