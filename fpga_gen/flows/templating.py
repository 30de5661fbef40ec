"""What every flow writer shares: Jinja2 templates of ``templates/<flow>/`` and Tcl-safe values."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import jinja2

from fpga_gen.errors import FpgaGenError
from fpga_gen.toolpaths import package_dir

# What a generated Tcl list may hold unquoted: plain file and module names.
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@functools.cache
def _environment(folder: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(package_dir("templates") / folder),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(folder: str, template: str, context: Mapping[str, Any]) -> str:
    """Fill ``templates/<folder>/<template>``; a value the template names but ``context`` lacks is an error."""
    return _environment(folder).get_template(template).render(context)


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
