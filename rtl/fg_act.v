// fg_act: element-wise activation stage (linear or relu, then one fg_convert into the
// output format) on a stream of ELEMS elements per beat; m_tlast marks the last beat of
// each N-element vector. Elements are fixed-point mantissas or minifloat codes, in and
// out. An input element is first made exact on its own grid (fg_exact) in X_W bits, then
// converted.
// One register stage: an input beat accepted in cycle t leaves in cycle t+1 when the
// output is ready; it holds (and stalls the input) otherwise.
module fg_act #(
    parameter integer N = 4,
    parameter integer ELEMS = 1,       // elements per beat; divides N
    // input elements (fg_mf_decode)
    parameter integer IN_W = 8,
    parameter integer IN_SIGNED = 1,
    parameter integer IN_MF = 0,
    parameter integer IN_E = 4,
    parameter integer IN_M = 3,
    parameter integer IN_SUB = 1,
    parameter integer IN_V_W = 9,
    parameter integer IN_E_W = 1,
    parameter integer X_W = 9,         // the exact input value, two's complement
    // output conversion (fg_convert)
    parameter integer IN_FRAC = 4,
    parameter integer RELU = 0,
    parameter integer OUT_MF = 0,
    parameter integer OUT_W = 8,
    parameter integer OUT_FRAC = 4,
    parameter integer OUT_SIGNED = 1,
    parameter integer RND_MODE = 0,
    parameter integer OVF_MODE = 0,
    parameter integer OUT_E = 4,
    parameter integer OUT_M = 3,
    parameter integer OUT_BIAS = 7,
    parameter integer OUT_SUB = 1,
    parameter integer OUT_MAX = 126
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
    localparam integer BEATS = N / ELEMS;
    // Counter width for n distinct values: ceil(log2(n)), at least 1 (Verilog-2001 has no $clog2).
    function integer bits_for;
        input integer n;
        integer v;
        begin
            bits_for = 1;
            for (v = 2; v < n; v = v * 2) bits_for = bits_for + 1;
        end
    endfunction
    localparam integer BEAT_W = bits_for(BEATS);
    localparam integer BEAT_LAST = BEATS - 1;

    reg out_valid, out_last;
    reg [ELEMS*OUT_W-1:0] out_data;
    reg [BEAT_W-1:0] beat;
    wire en = !out_valid | m_tready;
    assign s_tready = en;
    wire take = s_tvalid & en;

    wire [ELEMS*OUT_W-1:0] y;
    genvar e;
    generate
        for (e = 0; e < ELEMS; e = e + 1) begin : g_lane
            wire [X_W-1:0] x;
            fg_exact #(.IN_W(IN_W), .IN_SIGNED(IN_SIGNED), .IN_MF(IN_MF), .IN_E(IN_E), .IN_M(IN_M), .IN_SUB(IN_SUB),
                       .IN_V_W(IN_V_W), .IN_E_W(IN_E_W), .X_W(X_W))
                u_exact (.c(s_tdata[e*IN_W +: IN_W]), .x(x));
            fg_convert #(.IN_W(X_W), .IN_FRAC(IN_FRAC), .RELU(RELU), .OUT_MF(OUT_MF), .OUT_W(OUT_W),
                         .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED), .RND_MODE(RND_MODE), .OVF_MODE(OVF_MODE),
                         .OUT_E(OUT_E), .OUT_M(OUT_M), .OUT_BIAS(OUT_BIAS), .OUT_SUB(OUT_SUB), .OUT_MAX(OUT_MAX))
                u_convert (.x(x), .y(y[e*OUT_W +: OUT_W]));
        end
    endgenerate

    always @(posedge clk) begin
        if (!rst_n) begin
            out_valid <= 1'b0;
            beat <= {BEAT_W{1'b0}};
        end else if (en) begin
            out_valid <= s_tvalid;
            if (take) beat <= (beat == BEAT_LAST[BEAT_W-1:0]) ? {BEAT_W{1'b0}} : beat + 1'b1;
        end
        if (take) begin
            out_data <= y;
            out_last <= beat == BEAT_LAST[BEAT_W-1:0];
        end
    end
    assign m_tdata = out_data;
    assign m_tvalid = out_valid;
    assign m_tlast = out_last;
endmodule
