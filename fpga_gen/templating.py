"""The one Jinja2 environment factory: every generated file (HLS C++, Verilog, Tcl, drivers) is a
template of ``templates/<folder>/`` filled by this environment.

Strict: a name the template uses but the context lacks is an error, never an empty string.
Blocks are trimmed (``trim_blocks``, ``lstrip_blocks``), so a ``{% ... %}`` line leaves no
blank line behind, and every file keeps its trailing newline.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jinja2

from fpga_gen.toolpaths import package_dir


@functools.cache
def environment(folder: str) -> jinja2.Environment:
    """The environment of ``templates/<folder>``."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(package_dir("templates") / folder),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(folder: str, template: str, context: Mapping[str, Any]) -> str:
    """Fill ``templates/<folder>/<template>`` with ``context``."""
    return environment(folder).get_template(template).render(context)
