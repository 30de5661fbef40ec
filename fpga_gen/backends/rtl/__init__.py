"""RTL backend: Verilog DSP-chain engines (``write_rtl``), their cycle model and Verilator cosim."""

from fpga_gen.backends.rtl.cosim import CosimResult, run_cosim
from fpga_gen.backends.rtl.plan import DspOperandError
from fpga_gen.backends.rtl.timing import interval_cycles, latency_cycles
from fpga_gen.backends.rtl.writer import write_rtl

__all__ = ["CosimResult", "DspOperandError", "interval_cycles", "latency_cycles", "run_cosim", "write_rtl"]
