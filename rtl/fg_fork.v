// fg_fork: one stream to K readers, each behind its own FIFO of DEPTH beats (a whole frame,
// so a branch that waits for a whole frame never starves the other: see plan.ForkStage).
// A beat is taken when every FIFO has room (ready does not depend on the readers' ready)
// and is readable from the cycle after; a FIFO's head is its output (first-word
// fall-through from a LUT-RAM array).
`include "fg_params.vh"
module fg_fork #(
    parameter integer K = 2,           // readers
    parameter integer W = 8,           // beat bits
    parameter integer DEPTH = 4        // beats per FIFO
) (
    input  wire           clk,
    input  wire           rst_n,
    input  wire [W-1:0]   s_tdata,
    input  wire           s_tvalid,
    output wire           s_tready,
    output wire [K*W-1:0] m_tdata,
    output wire [K-1:0]   m_tvalid,
    input  wire [K-1:0]   m_tready
);
    `FG_BITS_FOR
    localparam integer A_W = bits_for(DEPTH);
    localparam integer C_W = bits_for(DEPTH + 1);
    localparam integer LAST = DEPTH - 1;

    wire [K-1:0] room;
    assign s_tready = &room;
    wire push = s_tvalid & s_tready;

    genvar k;
    generate
        for (k = 0; k < K; k = k + 1) begin : g_fifo
            reg [W-1:0] mem [0:DEPTH-1];
            reg [A_W-1:0] wr, rd;
            reg [C_W-1:0] count;
            wire pop = m_tvalid[k] & m_tready[k];
            assign room[k] = count != DEPTH[C_W-1:0];
            assign m_tvalid[k] = count != {C_W{1'b0}};
            assign m_tdata[k*W +: W] = mem[rd];
            always @(posedge clk) begin
                if (!rst_n) begin
                    wr <= {A_W{1'b0}};
                    rd <= {A_W{1'b0}};
                    count <= {C_W{1'b0}};
                end else begin
                    if (push) wr <= (wr == LAST[A_W-1:0]) ? {A_W{1'b0}} : wr + 1'b1;
                    if (pop) rd <= (rd == LAST[A_W-1:0]) ? {A_W{1'b0}} : rd + 1'b1;
                    if (push & !pop) count <= count + 1'b1;
                    else if (pop & !push) count <= count - 1'b1;
                end
                if (push) mem[wr] <= s_tdata;
            end
        end
    endgenerate
endmodule
