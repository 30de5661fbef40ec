"""Backends: turn a scheduled Graph into hardware sources (HLS C++ in ``hls``, Verilog in ``rtl``)."""
