// fg_mf_round: optional ReLU, then ONE conversion of an exact signed fixed-point value
// (an accumulator: two's complement x on the grid 2^-IN_FRAC) into a minifloat code
// sign | field (E bits) | mant (M bits), exactly as MiniFloat.cast_int:
//   round to nearest, ties to even, at the value's own binade (the subnormal step below
//   2^emin, emin = 1 - BIAS); saturate to +-max (MAX_CODE is the largest finite
//   magnitude code, so inf / NaN codes are never produced); SUB = 0 flushes: a value
//   below the smallest normal becomes that normal if above half of it, else zero (a tie
//   goes to zero); a zero result is +0 (code 0), whatever the sign of the input.
// Combinational; the caller registers the result.
//
// Data path, all widths fixed at elaboration:
//   1. |x|, padded with PAD zero lsbs so that the rounding position (at least one bit
//      below the M+1 significand bits of the smallest binade) lies inside the vector.
//   2. Normalise: shift left by sh = min(leading zeros, SHMAX), a logarithmic shifter
//      whose stage k shifts by 2^k when the top 2^k bits are zero and the cap allows;
//      the cap SHMAX puts 2^emin at the top, which is where subnormals stop shifting.
//   3. The top M+1 bits are the significand, then the guard bit and a sticky OR.
//   4. The unrounded code is {field, mant} with field = E0 - sh for a normal (top bit
//      set), 0 for a subnormal; adding the RNE increment to the whole code carries a
//      mantissa overflow into the field (and a subnormal into the smallest normal).
//   5. Codes grow with magnitudes, so saturation is one comparison with MAX_CODE.
`include "fg_params.vh"
module fg_mf_round #(
    parameter integer IN_W = 16,
    parameter integer IN_FRAC = 8,
    parameter integer RELU = 0,
    parameter integer E = 4,
    parameter integer M = 3,
    parameter integer BIAS = 7,
    parameter integer SUB = 1,
    parameter integer MAX_CODE = 126
) (
    input  wire [IN_W-1:0] x,
    output wire [E+M:0]    y
);
    `FG_BITS_FOR
    localparam integer EMIN = 1 - BIAS;
    localparam integer PAD_NEED = M + 1 - (EMIN + IN_FRAC);
    localparam integer PAD = (PAD_NEED > 0) ? PAD_NEED : 0;
    localparam integer XW = IN_W + PAD;                  // |x| with PAD zero lsbs
    localparam integer FR = IN_FRAC + PAD;               // ... on the grid 2^-FR
    localparam integer LSUB = EMIN + FR;                 // bit position of 2^emin (>= M + 1)
    localparam integer T = (XW > LSUB + 1) ? XW : LSUB + 1;
    localparam integer SHMAX = T - 1 - LSUB;
    localparam integer E0 = T - 1 - FR + BIAS;           // field of a leading one in bit T-1
    localparam integer SH_W = bits_for(SHMAX + 1);
    localparam integer STAGES = SH_W;                    // 2^STAGES > SHMAX
    localparam integer FW_NEED = bits_for(E0 + 2);       // holds E0 + 1 (a rounding carry)
    localparam integer FW = (FW_NEED > E) ? FW_NEED : E;
    localparam integer CW = FW + M;                      // code width while rounding

    // ---- 1. magnitude ---------------------------------------------------------------------
    wire [IN_W-1:0] xr = (RELU != 0 && x[IN_W-1]) ? {IN_W{1'b0}} : x;
    wire neg = xr[IN_W-1];
    wire [IN_W-1:0] mag = neg ? -xr : xr;  // |-2^(IN_W-1)| = 2^(IN_W-1) still fits unsigned
    wire [T-1:0] xt;
    generate
        if (PAD > 0) begin : g_pad
            fg_extend #(.IN_W(XW), .OUT_W(T), .SIGNED(0)) u_xt (.x({mag, {PAD{1'b0}}}), .y(xt));
        end else begin : g_nopad
            fg_extend #(.IN_W(XW), .OUT_W(T), .SIGNED(0)) u_xt (.x(mag), .y(xt));
        end
    endgenerate

    // ---- 2. normalise: stage K = STAGES-1 .. 0 reads level K+1 and writes level K ------------
    wire [T*(STAGES+1)-1:0] lvl;
    wire [SH_W*(STAGES+1)-1:0] acc_sh;
    assign lvl[STAGES*T +: T] = xt;
    assign acc_sh[STAGES*SH_W +: SH_W] = {SH_W{1'b0}};
    genvar g;
    generate
        for (g = 0; g < STAGES; g = g + 1) begin : g_norm
            localparam integer K = STAGES - 1 - g;
            localparam integer D = 1 << K;
            wire [T-1:0] vi = lvl[(K+1)*T +: T];
            wire [SH_W-1:0] si = acc_sh[(K+1)*SH_W +: SH_W];
            wire [SH_W:0] next = {1'b0, si} + D[SH_W:0];
            wire go;
            if (D <= SHMAX) begin : g_may
                assign go = ~|vi[T-1 -: D] && next <= SHMAX[SH_W:0];
            end else begin : g_never
                assign go = 1'b0;
            end
            assign lvl[K*T +: T] = go ? vi << D : vi;
            assign acc_sh[K*SH_W +: SH_W] = go ? next[SH_W-1:0] : si;
        end
    endgenerate
    wire [T-1:0] nrm = lvl[T-1:0];
    wire [SH_W-1:0] sh = acc_sh[SH_W-1:0];

    // ---- 3. significand, guard, sticky ---------------------------------------------------
    wire [M:0] sig = nrm[T-1 -: M+1];
    wire guard = nrm[T-2-M];
    wire sticky;
    generate
        if (T - 2 - M > 0) begin : g_sticky
            assign sticky = |nrm[T-3-M:0];
        end else begin : g_no_sticky
            assign sticky = 1'b0;
        end
    endgenerate

    // ---- 4. code and RNE increment --------------------------------------------------------
    wire normal = sig[M];
    wire [FW-1:0] sh_ext;
    fg_extend #(.IN_W(SH_W), .OUT_W(FW), .SIGNED(0)) u_sh (.x(sh), .y(sh_ext));
    wire [FW-1:0] field = normal ? E0[FW-1:0] - sh_ext : {FW{1'b0}};
    wire [CW-1:0] code_t;  // truncated: {field, mantissa bits}
    generate
        if (M > 0) begin : g_mant
            assign code_t = {field, sig[M-1:0]};
        end else begin : g_no_mant
            assign code_t = field;
        end
    endgenerate
    wire inc = guard & (sticky | sig[0]);
    wire [CW-1:0] code_r = code_t + {{(CW - 1){1'b0}}, inc};

    // ---- 5. saturate, flush ---------------------------------------------------------------
    wire [CW-1:0] max_code;
    fg_extend #(.IN_W(E+M), .OUT_W(CW), .SIGNED(0)) u_max (.x(MAX_CODE[E+M-1:0]), .y(max_code));
    wire [CW-1:0] code_s = (code_r > max_code) ? max_code : code_r;
    wire [CW-1:0] code_m;
    generate
        if (SUB == 0 && M > 0) begin : g_flush
            // Below 2^emin (not normal, so sh = SHMAX): the window holds the value's bits
            // from 2^(emin-1) down; above half the smallest normal means bit M-1 set and
            // anything below it.
            wire rest;
            if (M > 1) begin : g_rest
                assign rest = |sig[M-2:0] | guard | sticky;
            end else begin : g_guard
                assign rest = guard | sticky;
            end
            wire [CW-1:0] min_normal = {{(CW - M - 1){1'b0}}, 1'b1, {M{1'b0}}};
            assign code_m = normal ? code_s : (sig[M-1] & rest) ? min_normal : {CW{1'b0}};
        end else begin : g_keep
            // With M = 0 there are no subnormals to flush: rounding on the 2^emin step
            // already sends at most half of it to zero (ties to even).
            assign code_m = code_s;
        end
    endgenerate
    // Only magnitudes up to MAX_CODE (E+M bits) reach the output.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [CW-1:0] code = code_m;
    /* verilator lint_on UNUSEDSIGNAL */
    assign y = {neg & (|code), code[E+M-1:0]};
endmodule
