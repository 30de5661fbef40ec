"""Board configurations: ``boards/<name>.yaml`` -> frozen, validated ``Board``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fpga_gen.errors import BoardError
from fpga_gen.toolpaths import package_dir

# Multiplier operand widths of each DSP primitive (signed A x B), from UG479 / UG579.
DSP_OPERAND_BITS = {"DSP48E1": (25, 18), "DSP48E2": (27, 18)}


class Board(BaseModel):
    """One FPGA board or card: the part, its resources and how designs are deployed on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    part: str = Field(min_length=4)
    family: Literal["zynq7", "zynqmp", "alveo", "versal"]
    dsp_kind: Literal["DSP48E1", "DSP48E2"]
    dsp: int = Field(gt=0)
    lut: int = Field(gt=0)
    ff: int = Field(gt=0)
    bram36: int = Field(ge=0)
    uram: int = Field(ge=0)
    clock_mhz: float = Field(gt=0, le=1000)
    flow: Literal["zynq", "alveo"]
    platform: str | None = None

    @property
    def clock_period_ns(self) -> float:
        return 1000.0 / self.clock_mhz


def known() -> list[str]:
    """Names of the boards that ship with fpga_gen."""
    return sorted(p.stem for p in package_dir("boards").glob("*.yaml"))


def load(board: str | Path) -> Board:
    """A shipped board by name (``"pynq-z2"``) or a path to the user's own YAML."""
    path = Path(board)
    if path.suffix not in (".yaml", ".yml"):
        path = package_dir("boards") / f"{board}.yaml"
        if not path.is_file():
            raise BoardError(f"unknown board {board!r}; known boards: {', '.join(known())} (or pass a path to a .yaml)")
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise BoardError(f"cannot read board file {path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise BoardError(f"board file {path}: expected a mapping of fields, got {type(doc).__name__}")
    try:
        return Board(**doc)
    except ValidationError as exc:
        problems = "; ".join(f"field {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BoardError(f"board file {path}: {problems}") from exc


__all__ = ["DSP_OPERAND_BITS", "Board", "known", "load"]
