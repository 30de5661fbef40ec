"""Number formats: how values are rounded, stored in hardware and spelled in C++."""

from fpga_gen.formats.base import Format
from fpga_gen.formats.fixed import OVERFLOW_MODES, ROUNDING_MODES, FixedPoint
from fpga_gen.formats.minifloat import PRESETS, MiniFloat
from fpga_gen.formats.parse import parse_format
from fpga_gen.formats.ternary import Binary, Ternary

__all__ = [
    "OVERFLOW_MODES",
    "PRESETS",
    "ROUNDING_MODES",
    "Binary",
    "FixedPoint",
    "Format",
    "MiniFloat",
    "Ternary",
    "parse_format",
]
