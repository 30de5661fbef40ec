"""``parse_format``: the text spelling of every number format, e.g. ``fixed<8,3,RND_CONV,SAT>``.

Each format family registers the names it answers to in ``FORMAT_SYNTAX``; a new family (say
``minifloat<e,m>``) adds its entries there and ``parse_format`` needs no other change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from fpga_gen.errors import FormatError
from fpga_gen.formats.base import Format
from fpga_gen.formats.fixed import parse_fixed
from fpga_gen.formats.minifloat import PRESETS, parse_minifloat
from fpga_gen.formats.ternary import parse_signed


class Syntax(NamedTuple):
    """How one format name is read: ``parse(name, args)`` builds the format; ``usage`` shows the form."""

    parse: Callable[[str, Sequence[str]], Format]
    usage: str


FORMAT_SYNTAX: dict[str, Syntax] = {
    "fixed": Syntax(parse_fixed, "fixed<W,I[,Q[,O]]>"),
    "ufixed": Syntax(parse_fixed, "ufixed<W,I[,Q[,O]]>"),
    "ap_fixed": Syntax(parse_fixed, "ap_fixed<W,I[,AP_Q[,AP_O[,0]]]>"),
    "ap_ufixed": Syntax(parse_fixed, "ap_ufixed<W,I[,AP_Q[,AP_O[,0]]]>"),
    "minifloat": Syntax(parse_minifloat, "minifloat<E,M[,bias=B,subnormals=..,inf=..,nan=..,saturating=..,fnuz=..]>"),
    "ternary": Syntax(parse_signed, "ternary<scale> or ternary<s0, s1, ...> (per output channel)"),
    "binary": Syntax(parse_signed, "binary<scale> or binary<s0, s1, ...>"),
}

_FORM_RE = re.compile(r"\s*([A-Za-z_]\w*)\s*<(.*)>\s*", re.DOTALL)


def parse_format(text: str) -> Format:
    """Read a format from its text form; ``parse_format(str(f)) == f`` for every format ``f``.

    Whitespace is ignored around names and parameters; C++ spellings such as
    ``ap_fixed<8,3,AP_RND,AP_SAT>`` are accepted too.
    """
    if not isinstance(text, str):
        raise FormatError(f"a number format must be given as text such as 'fixed<8,3>', got {text!r}")
    if text.strip() in PRESETS:
        return PRESETS[text.strip()]
    match = _FORM_RE.fullmatch(text)
    syntax = FORMAT_SYNTAX.get(match.group(1)) if match else None
    if match is None or syntax is None:
        raise FormatError(f"unknown number format {text!r}: accepted forms are {_accepted()}")
    name, args = match.group(1), match.group(2).split(",")
    try:
        return syntax.parse(name, args)
    except FormatError as err:
        raise FormatError(f"cannot read number format {text!r}: {err}") from err


def _accepted() -> str:
    return ", ".join([*(syntax.usage for syntax in FORMAT_SYNTAX.values()), *PRESETS])
