"""HLS backend: a Vitis HLS C++ project from a scheduled Graph, and its C simulation with g++."""

from fpga_gen.backends.hls.csim import build_csim, cache_root, count_iterations, run_csim
from fpga_gen.backends.hls.writer import DEFAULT_TOP, MANIFEST, write_hls

__all__ = ["DEFAULT_TOP", "MANIFEST", "build_csim", "cache_root", "count_iterations", "run_csim", "write_hls"]
