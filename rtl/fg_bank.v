// fg_bank: fg_dense's input vector banks, both in one RAM of WORDS words of LANES elements
// (W bits each). A write stores GROUP consecutive lanes (lane group wgroup; GROUP divides
// LANES) of word waddr; a read returns SIMD consecutive lanes (lane group rgroup; SIMD divides
// LANES) of word raddr in the next cycle, and holds while en is low. The writer and the
// reader never touch the same word in one cycle (fg_dense reads only a full bank and writes
// only a free one), so the read-during-write behaviour does not matter.
// BLOCK (chosen by the generator, see fpga_gen/backends/rtl/cost.py) puts the RAM in block
// RAM (UG901 RAM_STYLE "block"): the BRAM's read register holds the whole word and a
// LANES/SIMD:1 multiplexer picks the lanes after it. Otherwise it is LUTRAM ("distributed"):
// an asynchronous read, the multiplexer, then a register of SIMD lanes only.
module fg_bank #(
    parameter integer W = 8,
    parameter integer LANES = 4,
    parameter integer GROUP = 1,
    parameter integer SIMD = 4,
    parameter integer WORDS = 2,
    parameter integer BLOCK = 0,
    parameter integer ADDR_W = 1,      // bits_for(WORDS)
    parameter integer WG_W = 1,        // bits_for(LANES / GROUP)
    parameter integer RG_W = 1         // bits_for(LANES / SIMD)
) (
    input  wire                clk,
    input  wire                we,
    input  wire [ADDR_W-1:0]   waddr,
    input  wire [WG_W-1:0]     wgroup,
    input  wire [GROUP*W-1:0]  wdata,
    input  wire                en,
    input  wire [ADDR_W-1:0]   raddr,
    input  wire [RG_W-1:0]     rgroup,
    output wire [SIMD*W-1:0]   q
);
    /* verilator lint_off UNUSEDPARAM */  // read by the synthesis tools only, in the attribute
    localparam STYLE = BLOCK != 0 ? "block" : "distributed";
    /* verilator lint_on UNUSEDPARAM */
    (* ram_style = STYLE *) reg [LANES*W-1:0] mem [0:WORDS-1];
    integer g;
    always @(posedge clk) begin
        for (g = 0; g < LANES / GROUP; g = g + 1) begin
            if (we && wgroup == g[WG_W-1:0]) mem[waddr][g*GROUP*W +: GROUP*W] <= wdata;
        end
    end
    generate
        if (BLOCK != 0) begin : g_block
            reg [LANES*W-1:0] word;
            reg [RG_W-1:0] group;
            always @(posedge clk) begin
                if (en) begin
                    word <= mem[raddr];
                    group <= rgroup;
                end
            end
            assign q = word[group*SIMD*W +: SIMD*W];
        end else begin : g_lutram
            wire [LANES*W-1:0] word = mem[raddr];
            reg [SIMD*W-1:0] lanes;
            always @(posedge clk) begin
                if (en) lanes <= word[rgroup*SIMD*W +: SIMD*W];
            end
            assign q = lanes;
        end
    endgenerate
endmodule
