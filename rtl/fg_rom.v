// fg_rom: read-only memory initialised from a $readmemh file, one registered read port;
// the read register holds while en is low. BLOCK (chosen by the generator, see
// fpga_gen/backends/rtl/cost.py) puts it in block RAM, whose read register is the BRAM's
// own; otherwise it is LUT logic and a register. The synthesis tools are told
// (UG901 ROM_STYLE): Vivado's LUT ROM is "distributed", Yosys' is "logic" (its
// "distributed" means LUTRAM, which holds no ROM).
module fg_rom #(
    parameter integer WIDTH = 8,
    parameter integer DEPTH = 2,
    parameter integer ADDR_W = 1,
    parameter integer BLOCK = 0,
    parameter FILE = "rom.mem"
) (
    input  wire              clk,
    input  wire              en,
    input  wire [ADDR_W-1:0] addr,
    output reg  [WIDTH-1:0]  q
);
    /* verilator lint_off UNUSEDPARAM */  // read by the synthesis tools only, in the attribute
`ifdef YOSYS
    localparam STYLE = BLOCK != 0 ? "block" : "logic";
`else
    localparam STYLE = BLOCK != 0 ? "block" : "distributed";
`endif
    /* verilator lint_on UNUSEDPARAM */
    (* rom_style = STYLE *) reg [WIDTH-1:0] mem [0:DEPTH-1];
    initial $readmemh(FILE, mem);
    always @(posedge clk) begin
        if (en) q <= mem[addr];
    end
endmodule
