"""The layer kinds: one module each, naming everything the kind does (``Kind``).

Importing this package registers every kind's handlers in the levels' tables (the golden
model, the HLS writer, the RTL walk); ``fpga_gen`` imports it, so every level finds them.
``violations(LAYER_KINDS.values(), KINDS)`` is the contract the tests hold: a kind without
a handler at some level, or a stage class without a cost or timing model, is named there.
"""

from __future__ import annotations

from fpga_gen.kinds import activation, channel, depthwise, io, matmul, merge, pool, reshape
from fpga_gen.kinds.kind import LEVELS, Kind, violations

KINDS: tuple[Kind, ...] = (
    io.INPUT,
    io.OUTPUT,
    matmul.KIND,
    depthwise.KIND,
    pool.POOL,
    pool.GLOBAL_POOL,
    channel.SCALE_SHIFT,
    channel.THRESHOLD,
    activation.KIND,
    merge.ADD,
    merge.CONCATENATE,
    reshape.KIND,
)
for _kind in KINDS:
    _kind.register()

__all__ = ["KINDS", "LEVELS", "Kind", "violations"]
