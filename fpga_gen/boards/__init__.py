"""Board configurations: ``boards/<name>.yaml`` -> frozen, validated ``Board``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
)

from fpga_gen.boards.dsp import PRIMITIVES, DspPrimitive, primitive
from fpga_gen.errors import BoardError
from fpga_gen.toolpaths import package_dir

Family = Literal["zynq7", "zynqmp", "alveo", "versal"]
Flow = Literal["zynq", "alveo"]
MemoryKind = Literal["DDR3", "DDR4", "LPDDR4", "HBM2"]

# The DSP primitive and the deployment flow each family implies (versal is left open).
_FAMILY_DSP: dict[str, str] = {"zynq7": "DSP48E1", "zynqmp": "DSP48E2", "alveo": "DSP48E2"}
_FAMILY_FLOW: dict[str, str] = {"zynq7": "zynq", "zynqmp": "zynq", "alveo": "alveo"}

# A v++ --connectivity.sp bank prefix ("DDR", "HBM", "PLRAM") and a Vitis platform name.
SpTag = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]*$")]
PlatformName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
# A Vivado board part without its file version (vendor:board:component), e.g.
# "xilinx.com:zcu104:part0"; the Vivado script picks the newest installed version.
BoardPartName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$")]


class MemoryBank(BaseModel):
    """``count`` identical off-chip memory banks of ``size_mib`` MiB each.

    ``sp_tag`` is the prefix the v++ linker uses for these banks (``--connectivity.sp
    krnl.port:HBM[3]``); it is set on Alveo cards and left out for the PS DDR of a Zynq,
    which kernels reach through the PS ports rather than through a v++ memory bank.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: MemoryKind
    count: int = Field(ge=1, le=64)
    size_mib: int = Field(gt=0)
    sp_tag: SpTag | None = None

    @property
    def total_mib(self) -> int:
        return self.count * self.size_mib

    @property
    def sp_names(self) -> tuple[str, ...]:
        """The v++ bank names, ``("HBM[0]", ..., "HBM[31]")``; empty without an sp tag."""
        if self.sp_tag is None:
            return ()
        return tuple(f"{self.sp_tag}[{i}]" for i in range(self.count))


class Board(BaseModel):
    """One FPGA board or card: the part, its resources and how designs are deployed on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    part: str = Field(min_length=4)
    family: Family
    dsp_kind: str
    dsp: int = Field(gt=0)
    lut: int = Field(gt=0)
    ff: int = Field(gt=0)
    bram36: int = Field(ge=0)
    uram: int = Field(ge=0)
    clock_mhz: float = Field(gt=0, le=1000)
    flow: Flow
    platform: PlatformName | None = Field(default=None, validate_default=True)
    memory: tuple[MemoryBank, ...] = Field(min_length=1)
    # Zynq boards: the Vivado board parts whose PS preset (DDR, MIO, clocks) the block
    # design applies, tried in order (a board's files were renamed across Vivado releases).
    board_parts: tuple[BoardPartName, ...] = Field(default=(), validate_default=True)

    # Each check runs after the fields it compares against (pydantic validates in field
    # order), so a failure is reported on the field that contradicts the ones above it.
    @field_validator("dsp_kind")
    @classmethod
    def _dsp_kind_of_family(cls, dsp_kind: str, info: ValidationInfo) -> str:
        if dsp_kind not in PRIMITIVES:
            raise ValueError(f"{dsp_kind!r} is no DSP primitive fpga_gen instantiates: use one of {sorted(PRIMITIVES)}")
        family = info.data.get("family")
        want = _FAMILY_DSP.get(str(family))
        if want is not None and dsp_kind != want:
            raise ValueError(f"{family} parts have {want} slices, not {dsp_kind}")
        return dsp_kind

    @field_validator("uram")
    @classmethod
    def _no_uram_on_7series(cls, uram: int, info: ValidationInfo) -> int:
        if info.data.get("family") == "zynq7" and uram != 0:
            raise ValueError(f"Zynq-7000 parts have no UltraRAM, got {uram}")
        return uram

    @field_validator("flow")
    @classmethod
    def _flow_of_family(cls, flow: str, info: ValidationInfo) -> str:
        family = info.data.get("family")
        want = _FAMILY_FLOW.get(str(family))
        if want is not None and flow != want:
            raise ValueError(f"{family} boards use the {want!r} flow, not {flow!r}")
        return flow

    @field_validator("platform")
    @classmethod
    def _platform_of_flow(cls, platform: str | None, info: ValidationInfo) -> str | None:
        flow = info.data.get("flow")
        if flow == "alveo" and platform is None:
            raise ValueError("an Alveo board needs its Vitis platform (e.g. xilinx_u50_gen3x16_xdma_5_202210_1)")
        if flow == "zynq" and platform is not None:
            raise ValueError(f"the zynq flow takes no Vitis platform, got {platform!r}")
        return platform

    @field_validator("memory")
    @classmethod
    def _memory_of_flow(cls, memory: tuple[MemoryBank, ...], info: ValidationInfo) -> tuple[MemoryBank, ...]:
        flow = info.data.get("flow")
        for bank in memory:
            if flow == "alveo" and bank.sp_tag is None:
                raise ValueError(f"every {bank.kind} bank of an Alveo board needs its v++ sp_tag (DDR, HBM, ...)")
            if flow == "zynq" and bank.sp_tag is not None:
                raise ValueError(f"the zynq flow links no v++ memory banks; drop sp_tag {bank.sp_tag!r}")
        tags = [bank.sp_tag for bank in memory if bank.sp_tag is not None]
        if len(tags) != len(set(tags)):
            raise ValueError(f"sp_tag names must be unique, got {tags}")
        return memory

    @field_validator("board_parts")
    @classmethod
    def _board_parts_of_flow(cls, parts: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        flow = info.data.get("flow")
        if flow == "zynq" and not parts:
            raise ValueError(
                "a Zynq board needs its Vivado board part (e.g. [xilinx.com:zcu104:part0]): the block design "
                "takes the PS DDR and clock settings from the board files"
            )
        if flow == "alveo" and parts:
            raise ValueError("an Alveo card is described by its Vitis platform, not by board_parts")
        return parts

    @field_serializer("memory")
    def _dump_memory(self, memory: tuple[MemoryBank, ...]) -> list[dict[str, Any]]:
        # Plain lists of the set fields only: what a board YAML (or project.json) holds.
        return [bank.model_dump(exclude_none=True) for bank in memory]

    @field_serializer("board_parts")
    def _dump_board_parts(self, parts: tuple[str, ...]) -> list[str]:
        return list(parts)

    @property
    def dsp_primitive(self) -> DspPrimitive:
        """The facts of the board's DSP slice (operand widths, packing, simulation model, Yosys family)."""
        return primitive(self.dsp_kind)

    @property
    def clock_period_ns(self) -> float:
        return 1000.0 / self.clock_mhz

    @property
    def memory_mib(self) -> int:
        """Total off-chip memory of the board, MiB."""
        return sum(bank.total_mib for bank in self.memory)

    @property
    def sp_names(self) -> tuple[str, ...]:
        """Every v++ memory bank name of the board, in declaration order (empty on a Zynq)."""
        return tuple(name for bank in self.memory for name in bank.sp_names)


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
        problems = "; ".join(f"field {'.'.join(map(str, e['loc'])) or '(board)'}: {e['msg']}" for e in exc.errors())
        raise BoardError(f"board file {path}: {problems}") from exc


__all__ = ["PRIMITIVES", "Board", "DspPrimitive", "MemoryBank", "known", "load", "primitive"]
