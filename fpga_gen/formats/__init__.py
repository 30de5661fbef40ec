"""Number formats: how values are rounded, stored in hardware and spelled in C++."""

from fpga_gen.formats.base import Format
from fpga_gen.formats.fixed import OVERFLOW_MODES, ROUNDING_MODES, FixedPoint
from fpga_gen.formats.parse import parse_format

__all__ = ["OVERFLOW_MODES", "ROUNDING_MODES", "FixedPoint", "Format", "parse_format"]
