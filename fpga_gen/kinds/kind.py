"""``Kind``: everything a layer kind does, named in one record.

The levels dispatch through their own tables -- the golden model (``ir.RULES``), the HLS
writer (``EMITTERS``, ``HEADERS``), the RTL walk (``BUILDERS``) -- and the resource estimate
and the cycle model through the stages the RTL builder returns (``Stage.cost``,
``Stage.timing``). ``register`` puts a record's handlers into the tables; ``violations`` is
the contract: every kind has a handler at every level, and every stage class it builds
implements every method of a stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fpga_gen.backends.hls.planner import EMITTERS, HEADERS, Emitter
from fpga_gen.backends.rtl.stages import Stage
from fpga_gen.backends.rtl.walk import BUILDERS, StageBuilder
from fpga_gen.ir import RULES, GoldenRule, Layer
from fpga_gen.ir.registry import Table

# What a level is called in a contract violation, by table; and the level of each method a
# stage must implement.
LEVELS: tuple[tuple[str, Table[Any]], ...] = (
    ("golden model", RULES),
    ("HLS backend", EMITTERS),
    ("HLS kernel headers", HEADERS),
    ("RTL backend", BUILDERS),
)
STAGE_LEVELS = {
    "cost": "resource cost",
    "timing": "timing model",
    "params": "Verilog parameters",
    "files": "Verilog library files",
    "srcs": "input streams",
    "period": "cycles per frame",
    "latency": "latency",
}


@dataclass(frozen=True)
class Kind:
    """One layer kind (or a family sharing all of its code, such as the convolutions): its IR
    classes, golden rule, HLS emitter and the kernel headers its processes need (hls/), RTL
    stage builder and the stage classes it builds (each owning its Verilog module, parameters,
    resource cost and cycle model)."""

    layers: tuple[type[Layer], ...]
    golden: GoldenRule
    hls: Emitter
    headers: tuple[str, ...]
    rtl: StageBuilder
    stages: tuple[type[Stage], ...]

    def register(self, levels: Sequence[tuple[str, Table[Any]]] = LEVELS) -> None:
        """Put the handlers into the levels' tables (in ``LEVELS`` order)."""
        handlers = (self.golden, self.hls, self.headers, self.rtl)
        for (_, table), handler in zip(levels, handlers, strict=True):
            table.register(self.layers, handler)


def violations(
    layers: Iterable[type[Layer]],
    kinds: Iterable[Kind],
    levels: Sequence[tuple[str, Table[Any]]] = LEVELS,
) -> list[str]:
    """Every way ``kinds`` (registered into ``levels``) fail to cover the IR classes ``layers``:
    'Threshold: no rule in the golden model', 'ScaleShift: ChanStage has no resource cost'."""
    problems = []
    stages = {layer: kind.stages for kind in kinds for layer in kind.layers}
    for layer in layers:
        problems += [f"{layer.kind}: no {table.what} in the {level}" for level, table in levels if layer not in table]
        if layer not in stages:
            problems.append(f"{layer.kind}: no Kind record in fpga_gen.kinds")
        for cls in stages.get(layer, ()):
            missing = sorted(getattr(cls, "__abstractmethods__", ()))
            problems += [f"{layer.kind}: {cls.__name__} has no {STAGE_LEVELS.get(m, m)} ({m})" for m in missing]
    return problems
