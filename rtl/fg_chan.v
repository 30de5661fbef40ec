// fg_chan: a per-channel element-wise stage on a channels-last stream of ELEMS elements per
// beat (ELEMS divides C, so lane e of the beat b holds channel (b mod C/ELEMS)*ELEMS + e).
// Each element is first made exact on its own grid (fg_exact) in X_W bits.
//   MODE 0, ScaleShift: x * scale[c] << P_SHIFT + shift[c], exact in FIN_W bits (the
//           shift already on that grid), then relu and the one rounding (fg_convert).
//   MODE 1, Threshold (FINN MultiThreshold): k = #{l : x << X_SHIFT >= thr[c][l]} on a
//           common grid (thresholds pre-shifted onto it, T_W bits), y = values[c][k]
//           (OUT_W-bit codes of the output format).
// The constants are packed parameters, channel c at bits [c*width +: width].
// One register stage: an input beat accepted in cycle t leaves in cycle t+1 when the
// output is ready; it holds (and stalls the input) otherwise. m_tlast marks the last beat
// of each N-element frame.
// The per-channel products (scale x element, channel index) stay in fabric: the DSP slices
// of a design are the matmul engines' alone, as the fold pass budgets them (UG901 USE_DSP).
(* use_dsp = "no" *)
`include "fg_params.vh"
module fg_chan #(
    parameter integer MODE = 0,
    parameter integer N = 4,
    parameter integer ELEMS = 1,
    parameter integer C = 4,
    // input elements (fg_exact): IN_W .. IN_E_W, X_W
    `FG_EXACT_PARAMS,
    parameter integer OUT_W = 8,       // output element: mantissa or minifloat code
    // Each mode reads only its own group.
    /* verilator lint_off UNUSEDPARAM */
    // MODE 0
    parameter integer S_W = 8,         // signed scale
    parameter integer P_SHIFT = 0,     // product grid -> accumulator grid
    parameter integer FIN_W = 18,      // the exact result, two's complement
    parameter [C*S_W-1:0] SCALES = 0,
    parameter [C*FIN_W-1:0] SHIFTS = 0,
    // MODE 1
    parameter integer L = 1,           // thresholds per channel
    parameter integer T_W = 10,        // common comparison width, two's complement
    parameter integer X_SHIFT = 0,     // input grid -> common grid
    parameter [C*L*T_W-1:0] THRESHOLDS = 0,
    parameter [C*(L+1)*OUT_W-1:0] VALUES = 0,
    // output conversion (fg_convert, MODE 0)
    parameter integer IN_FRAC = 4,
    parameter integer RELU = 0,
    `FG_CONVERT_PARAMS
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire                   clk,
    input  wire                   rst_n,
    input  wire [ELEMS*IN_W-1:0]  s_tdata,
    input  wire                   s_tvalid,
    output wire                   s_tready,
    output wire [ELEMS*OUT_W-1:0] m_tdata,
    output wire                   m_tvalid,
    input  wire                   m_tready,
    output wire                   m_tlast
);
    localparam integer G = C / ELEMS;
    `FG_BITS_FOR
    localparam integer G_W = bits_for(G);
    localparam integer K_W = bits_for(L + 2);
    localparam integer G_LAST = G - 1;

    reg [G_W-1:0] g;  // channel group of the beat
    wire en;
    assign s_tready = en;
    wire take = s_tvalid & en;

    wire [ELEMS*OUT_W-1:0] y;
    genvar e;
    generate
        for (e = 0; e < ELEMS; e = e + 1) begin : g_lane
            wire [31:0] c = {{(32 - G_W){1'b0}}, g} * ELEMS + e;  // this lane's channel
            wire [X_W-1:0] x;
            fg_exact #(`FG_EXACT_PASS)
                u_exact (.c(s_tdata[e*IN_W +: IN_W]), .x(x));
            if (MODE == 0) begin : g_scale_shift
                // An X_W x S_W signed multiplier (in fabric, a sixth of the LUTs of a FIN_W x FIN_W one) into
                // P_W bits; exact: the true product and sum fit FIN_W bits, so the low bits are the value.
                localparam integer P_W = (X_W + S_W < FIN_W) ? X_W + S_W : FIN_W;
                wire signed [X_W-1:0] xs = x;
                wire signed [S_W-1:0] ss = SCALES[c*S_W +: S_W];
                /* verilator lint_off WIDTHEXPAND */
                wire signed [P_W-1:0] prod_p = xs * ss;  // both operands sign-extended to P_W
                /* verilator lint_on WIDTHEXPAND */
                wire [FIN_W-1:0] prod;
                fg_extend #(.IN_W(P_W), .OUT_W(FIN_W), .SIGNED(1)) u_p (.x(prod_p), .y(prod));
                wire [FIN_W-1:0] fin = (prod << P_SHIFT) + SHIFTS[c*FIN_W +: FIN_W];
                fg_convert #(.IN_W(FIN_W), .IN_FRAC(IN_FRAC), .RELU(RELU), .OUT_W(OUT_W), `FG_CONVERT_PASS)
                    u_convert (.x(fin), .y(y[e*OUT_W +: OUT_W]));
            end else begin : g_threshold
                wire [T_W-1:0] xt;
                fg_extend #(.IN_W(X_W), .OUT_W(T_W), .SIGNED(1)) u_x (.x(x), .y(xt));
                wire [T_W-1:0] xs = xt << X_SHIFT;
                reg [K_W-1:0] k;
                integer l;
                always @(*) begin
                    k = {K_W{1'b0}};
                    for (l = 0; l < L; l = l + 1)
                        if ($signed(xs) >= $signed(THRESHOLDS[(c*L + l)*T_W +: T_W])) k = k + 1'b1;
                end
                assign y[e*OUT_W +: OUT_W] = VALUES[(c*(L + 1) + {{(32 - K_W){1'b0}}, k})*OUT_W +: OUT_W];
            end
        end
    endgenerate

    always @(posedge clk) begin
        if (!rst_n) g <= {G_W{1'b0}};
        else if (take) g <= (g == G_LAST[G_W-1:0]) ? {G_W{1'b0}} : g + 1'b1;
    end
    fg_out_reg #(.W(ELEMS*OUT_W), .BEATS(N / ELEMS)) u_out (
        .clk(clk), .rst_n(rst_n), .push(take), .d(y), .en(en),
        .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tready(m_tready), .m_tlast(m_tlast)
    );
endmodule
