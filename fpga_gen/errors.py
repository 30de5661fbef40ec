"""The one exception hierarchy of fpga_gen.

Every error a user can trigger is an ``FpgaGenError``; its message names the layer (or
file, or field), the offending value and the fix.
"""

from __future__ import annotations


class FpgaGenError(Exception):
    """Base class of every error fpga_gen raises on purpose."""


class FormatError(FpgaGenError, ValueError):
    """A number format is malformed, or a value does not fit a format."""


class UnsupportedLayerError(FpgaGenError):
    """A model contains a layer kind or layer option fpga_gen cannot lower."""


class QuantizerError(FpgaGenError):
    """A quantizer (or its options) has no exact hardware equivalent."""


class GraphError(FpgaGenError):
    """A Graph is inconsistent (shapes, formats, connectivity) or cannot be loaded."""


class ModelLoadError(FpgaGenError):
    """A model file cannot be read."""


class BoardError(FpgaGenError):
    """A board name or board YAML is unknown or invalid."""


class ResourceError(FpgaGenError):
    """A design does not fit the hardware it is built for."""


class ToolError(FpgaGenError):
    """An external tool (g++, Verilator, Yosys) failed; the message carries its log."""
