// fg_extend: widen a value to OUT_W bits, sign- or zero-extending. Explicit, so the
// datapath has no implicit width changes (Verilator WIDTH-clean).
module fg_extend #(
    parameter integer IN_W = 8,
    parameter integer OUT_W = 16,
    parameter integer SIGNED = 1
) (
    input  wire [IN_W-1:0]  x,
    output wire [OUT_W-1:0] y
);
    generate
        if (OUT_W > IN_W) begin : g_extend
            wire fill = (SIGNED != 0) & x[IN_W-1];
            assign y = {{(OUT_W - IN_W){fill}}, x};
        end else if (OUT_W == IN_W) begin : g_same
            assign y = x;
        end else begin : g_bad
            // A narrowing "extension" is a generator bug: refuse to elaborate silently.
            initial begin
                $display("fg_extend %m: OUT_W=%0d < IN_W=%0d", OUT_W, IN_W);
                $finish;
            end
            assign y = x[OUT_W-1:0];
        end
    endgenerate
endmodule
