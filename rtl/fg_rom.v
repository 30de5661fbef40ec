// fg_rom: read-only memory initialised from a $readmemh file, one registered read port
// (BRAM/LUTRAM friendly); the read register holds while en is low.
module fg_rom #(
    parameter integer WIDTH = 8,
    parameter integer DEPTH = 2,
    parameter integer ADDR_W = 1,
    parameter FILE = "rom.mem"
) (
    input  wire              clk,
    input  wire              en,
    input  wire [ADDR_W-1:0] addr,
    output reg  [WIDTH-1:0]  q
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    initial $readmemh(FILE, mem);
    always @(posedge clk) begin
        if (en) q <= mem[addr];
    end
endmodule
