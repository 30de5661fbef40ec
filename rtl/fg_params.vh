// fg_params.vh: what the fg_* modules share, `included by each (before its module).
//
//   `FG_BITS_FOR        in a module body: function bits_for(n), the counter width for n
//                       distinct values, ceil(log2(n)) and at least 1 (Verilog-2001 has no
//                       $clog2); fpga_gen's cost model counts with the same rule.
//   `FG_DEC4            in a module body: function dec4(n), n in four ASCII decimal digits
//                       (ROM image names: <prefix>_wNNNN.mem)
//   `FG_EXACT_PARAMS    in a parameter list: an input element as fg_exact reads it (IN_W-bit
//                       code or mantissa, its fg_mf_decode fields, X_W the exact value's width)
//   `FG_EXACT_PASS      in an fg_exact instance: those parameters, passed on
//   `FG_CONVERT_PARAMS  in a parameter list: the output format of fg_convert's one rounding
//                       (fixed point: OUT_FRAC .. OVF_MODE; minifloat: OUT_E .. OUT_MAX); the
//                       module declares OUT_W, IN_FRAC and RELU itself
//   `FG_CONVERT_PASS    in an fg_convert instance: those parameters, passed on
//
// The macros hold no comments: a `//` would end a macro's line continuation.
`ifndef FG_PARAMS_VH
`define FG_PARAMS_VH

`define FG_BITS_FOR \
    function [31:0] bits_for; \
        input [31:0] n; \
        reg [31:0] v; \
        begin \
            bits_for = 1; \
            for (v = 2; v < n; v = v * 2) bits_for = bits_for + 1; \
        end \
    endfunction

`define FG_DEC4 \
    function [31:0] dec4; \
        input [31:0] n; \
        begin \
            dec4 = ((48 + (n / 1000) % 10) << 24) | ((48 + (n / 100) % 10) << 16) \
                 | ((48 + (n / 10) % 10) << 8) | (48 + n % 10); \
        end \
    endfunction

`define FG_EXACT_PARAMS \
    parameter integer IN_W = 8, \
    parameter integer IN_SIGNED = 1, \
    parameter integer IN_MF = 0, \
    parameter integer IN_E = 4, \
    parameter integer IN_M = 3, \
    parameter integer IN_SUB = 1, \
    parameter integer IN_V_W = 9, \
    parameter integer IN_E_W = 1, \
    parameter integer X_W = 9

`define FG_EXACT_PASS \
    .IN_W(IN_W), .IN_SIGNED(IN_SIGNED), .IN_MF(IN_MF), .IN_E(IN_E), .IN_M(IN_M), .IN_SUB(IN_SUB), \
    .IN_V_W(IN_V_W), .IN_E_W(IN_E_W), .X_W(X_W)

`define FG_CONVERT_PARAMS \
    parameter integer OUT_MF = 0, \
    parameter integer OUT_FRAC = 4, \
    parameter integer OUT_SIGNED = 1, \
    parameter integer RND_MODE = 0, \
    parameter integer OVF_MODE = 0, \
    parameter integer OUT_E = 4, \
    parameter integer OUT_M = 3, \
    parameter integer OUT_BIAS = 7, \
    parameter integer OUT_SUB = 1, \
    parameter integer OUT_MAX = 126

`define FG_CONVERT_PASS \
    .OUT_MF(OUT_MF), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED), .RND_MODE(RND_MODE), .OVF_MODE(OVF_MODE), \
    .OUT_E(OUT_E), .OUT_M(OUT_M), .OUT_BIAS(OUT_BIAS), .OUT_SUB(OUT_SUB), .OUT_MAX(OUT_MAX)

`endif
