"""C++ spelling for the HLS backend: identifiers that are safe to generate, integer literals."""

from __future__ import annotations

import re
from collections.abc import Iterable

from fpga_gen.errors import GraphError

# ISO C++20 keywords and alternative operator tokens: none may be a generated identifier.
# fmt: off
CPP_KEYWORDS = frozenset(
    (
        "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case",
        "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "const", "consteval",
        "constexpr", "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype",
        "default", "delete", "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern",
        "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace",
        "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq", "private", "protected",
        "public", "register", "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static",
        "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local", "throw",
        "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual", "void",
        "volatile", "wchar_t", "while", "xor", "xor_eq",
    )
)
# fmt: on
# Global names the generated project (or the HLS libraries it includes) already uses.
_RESERVED_GLOBALS = frozenset({"main", "fg", "hls", "std", "ssdm"})
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def is_identifier(name: str) -> bool:
    """Whether ``name`` can be generated as a C++ identifier in any scope.

    Besides keywords this rules out names containing ``__`` (reserved to the
    implementation) and the ``ap_``/``AP_`` prefixes of the ap_types headers.
    """
    return (
        _IDENTIFIER.fullmatch(name) is not None
        and name not in CPP_KEYWORDS
        and "__" not in name
        and not name.lower().startswith("ap_")
    )


def is_top_name(name: str) -> bool:
    """Whether ``name`` can be the global top-level function."""
    return is_identifier(name) and name not in _RESERVED_GLOBALS


def check_identifiers(owners: Iterable[tuple[str, str]]) -> None:
    """Every generated identifier must be legal and unique: ``owners`` yields (identifier, layer)."""
    seen: dict[str, str] = {}
    for ident, layer in owners:
        if not is_identifier(ident):
            raise GraphError(
                f"layer {layer}: its name gives the C++ identifier {ident!r}, which is a keyword or "
                "reserved (contains '__' or starts with 'ap_'); rename the layer"
            )
        if ident in seen:
            raise GraphError(
                f"layers {seen[ident]} and {layer} both give the C++ identifier {ident!r}; rename one of them"
            )
        seen[ident] = layer


def int_literal(value: int) -> str:
    """A C++ literal of the 64-bit integer ``value`` that needs no implicit narrowing."""
    if -(1 << 31) < value < 1 << 31:
        return str(value)
    if value == -(1 << 63):
        return "(-9223372036854775807LL - 1)"  # 9223372036854775808LL itself does not exist
    return f"{value}LL" if value < 1 << 63 else f"{value}ULL"
