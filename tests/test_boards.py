"""Boards: shipped YAMLs load into frozen, validated objects; bad input names the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from fpga_gen import boards
from fpga_gen.errors import BoardError


def test_pynq_z2_facts() -> None:
    b = boards.load("pynq-z2")
    assert (b.part, b.dsp_kind, b.dsp, b.lut, b.ff, b.bram36, b.clock_mhz) == (
        "xc7z020clg400-1",
        "DSP48E1",
        220,
        53200,
        106400,
        140,
        100,
    )
    with pytest.raises(ValidationError):
        b.dsp = 1  # type: ignore[misc]


def test_unknown_board_lists_known_ones() -> None:
    with pytest.raises(BoardError, match="pynq-z2"):
        boards.load("zynq-9000-imaginary")


def test_own_yaml_and_bad_field(tmp_path: Path) -> None:
    good = boards.load("pynq-z2").model_dump()
    p = tmp_path / "mine.yaml"
    p.write_text("\n".join(f"{k}: {v}" for k, v in {**good, "name": "mine", "dsp": 10}.items() if v is not None))
    assert boards.load(p).dsp == 10
    p.write_text("\n".join(f"{k}: {v}" for k, v in {**good, "dsp": -3}.items() if v is not None))
    with pytest.raises(BoardError, match="field dsp"):
        boards.load(p)
