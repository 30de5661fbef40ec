// fg_act: element-wise activation stage (linear or relu, then one fg_convert into the
// output format) on a stream of ELEMS elements per beat; m_tlast marks the last beat of
// each N-element vector. Elements are fixed-point mantissas or minifloat codes, in and
// out. An input element is first made exact on its own grid (fg_exact) in X_W bits, then
// converted.
// One register stage: an input beat accepted in cycle t leaves in cycle t+1 when the
// output is ready; it holds (and stalls the input) otherwise.
`include "fg_params.vh"
module fg_act #(
    parameter integer N = 4,
    parameter integer ELEMS = 1,       // elements per beat; divides N
    // input elements (fg_exact): IN_W .. IN_E_W, X_W
    `FG_EXACT_PARAMS,
    // output conversion (fg_convert)
    parameter integer IN_FRAC = 4,
    parameter integer RELU = 0,
    parameter integer OUT_W = 8,
    `FG_CONVERT_PARAMS
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
    wire en;
    assign s_tready = en;
    wire take = s_tvalid & en;

    wire [ELEMS*OUT_W-1:0] y;
    genvar e;
    generate
        for (e = 0; e < ELEMS; e = e + 1) begin : g_lane
            wire [X_W-1:0] x;
            fg_exact #(`FG_EXACT_PASS)
                u_exact (.c(s_tdata[e*IN_W +: IN_W]), .x(x));
            fg_convert #(.IN_W(X_W), .IN_FRAC(IN_FRAC), .RELU(RELU), .OUT_W(OUT_W), `FG_CONVERT_PASS)
                u_convert (.x(x), .y(y[e*OUT_W +: OUT_W]));
        end
    endgenerate

    fg_out_reg #(.W(ELEMS*OUT_W), .BEATS(N / ELEMS)) u_out (
        .clk(clk), .rst_n(rst_n), .push(take), .d(y), .en(en),
        .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tready(m_tready), .m_tlast(m_tlast)
    );
endmodule
