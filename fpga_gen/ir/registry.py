"""Handler tables keyed by layer kind: how a level reaches the code of every kind.

Each level that treats kinds differently -- the golden model (``ir.evaluate``), the HLS
writer, the RTL walk -- declares one ``Table`` and dispatches through it. The tables are
filled by ``fpga_gen.kinds``, where each kind names all of its handlers in one record, when
``fpga_gen`` is imported: the levels stay below the kinds in the import order, and adding a
kind touches none of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from fpga_gen.errors import FpgaGenError, UnsupportedLayerError
from fpga_gen.ir.layers import Layer

H = TypeVar("H")


class Table(Generic[H]):
    """The ``what`` of the ``level`` for each layer kind (its IR class)."""

    def __init__(self, level: str, what: str) -> None:
        self.level = level
        self.what = what
        self._handlers: dict[type[Layer], H] = {}

    def register(self, kinds: Iterable[type[Layer]], handler: H) -> None:
        """``handler`` for each of ``kinds``; a kind has one handler per level."""
        for kind in kinds:
            if kind in self._handlers:
                raise FpgaGenError(f"the {self.level} already has a {self.what} for {kind.kind} layers")
            self._handlers[kind] = handler

    def __contains__(self, kind: type[Layer]) -> bool:
        return kind in self._handlers

    def __getitem__(self, layer: Layer) -> H:
        handler = self._handlers.get(type(layer))
        if handler is None:
            raise UnsupportedLayerError(
                f"layer {layer.name}: the {self.level} has no {self.what} for {layer.kind} layers; "
                "every kind registers one in fpga_gen.kinds (see CONTRIBUTING.md)"
            )
        return handler
