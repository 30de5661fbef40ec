"""What every flow writer shares: values a generated Tcl script can hold unquoted."""

from __future__ import annotations

import re

from fpga_gen.errors import FpgaGenError

# What a generated Tcl list may hold unquoted: plain file and module names.
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def number(value: float) -> str:
    """A clock frequency or period as Tcl / XDC want it: ``100``, ``3.333333``."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def plain_names(what: str, names: list[str]) -> list[str]:
    """``names`` unchanged, after checking that each can stand unquoted in a Tcl list."""
    for name in names:
        if not _PLAIN.fullmatch(name):
            raise FpgaGenError(
                f"{what} {name!r} is not a plain file or module name ([A-Za-z0-9_.-]): it cannot go into a "
                "generated Tcl script; rename it"
            )
    return names
