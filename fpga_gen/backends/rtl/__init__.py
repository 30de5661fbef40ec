"""RTL backend: the hardware plan of a scheduled graph (``plan``), its Verilog (``write_rtl``), its
cycle model and Verilator cosim."""

from fpga_gen.backends.rtl.cosim import CosimResult, run_cosim
from fpga_gen.backends.rtl.stages import DspOperandError, Plan
from fpga_gen.backends.rtl.timing import interval_cycles, latency_cycles
from fpga_gen.backends.rtl.walk import plan
from fpga_gen.backends.rtl.writer import write_rtl

__all__ = [
    "CosimResult",
    "DspOperandError",
    "Plan",
    "interval_cycles",
    "latency_cycles",
    "plan",
    "run_cosim",
    "write_rtl",
]
