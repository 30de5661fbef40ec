"""Boards: shipped YAMLs load into frozen, validated objects; bad input names the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
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
        b.dsp = 1  # type: ignore[misc, unused-ignore]


def test_unknown_board_lists_known_ones() -> None:
    with pytest.raises(BoardError, match="pynq-z2"):
        boards.load("zynq-9000-imaginary")


def test_own_yaml_and_bad_field(tmp_path: Path) -> None:
    good = boards.load("pynq-z2").model_dump()
    p = tmp_path / "mine.yaml"
    p.write_text(yaml.safe_dump({**good, "name": "mine", "dsp": 10}))
    assert boards.load(p).dsp == 10
    p.write_text(yaml.safe_dump({**good, "dsp": -3}))
    with pytest.raises(BoardError, match="field dsp"):
        boards.load(p)


# -- every shipped board ------------------------------------------------------------------

SHIPPED = {
    "pynq-z2",
    "zedboard",
    "ultra96-v2",
    "kv260",
    "zcu104",
    "zcu102",
    "alveo-u50",
    "alveo-u55c",
    "alveo-u250",
    "alveo-u280",
}

# (board, part, DSP primitive, DSP count): pinned to the product owner's table.
PARTS = [
    ("pynq-z2", "xc7z020clg400-1", "DSP48E1", 220),
    ("zedboard", "xc7z020clg484-1", "DSP48E1", 220),
    ("ultra96-v2", "xczu3eg-sbva484-1-i", "DSP48E2", 360),
    ("kv260", "xck26-sfvc784-2LV-c", "DSP48E2", 1248),
    ("zcu104", "xczu7ev-ffvc1156-2-e", "DSP48E2", 1728),
    ("zcu102", "xczu9eg-ffvb1156-2-e", "DSP48E2", 2520),
    ("alveo-u50", "xcu50-fsvh2104-2L-e", "DSP48E2", 5952),
    ("alveo-u55c", "xcu55c-fsvh2892-2L-e", "DSP48E2", 9024),
    ("alveo-u250", "xcu250-figd2104-2L-e", "DSP48E2", 12288),
    ("alveo-u280", "xcu280-fsvh2892-2L-e", "DSP48E2", 9024),
]

PLATFORMS = {
    "alveo-u50": "xilinx_u50_gen3x16_xdma_5_202210_1",
    "alveo-u55c": "xilinx_u55c_gen3x16_xdma_3_202210_1",
    "alveo-u250": "xilinx_u250_gen3x16_xdma_2_1_202010_1",
    "alveo-u280": "xilinx_u280_gen3x16_xdma_1_202211_1",
}


def test_every_shipped_board_loads() -> None:
    assert set(boards.known()) == SHIPPED
    for name in boards.known():
        b = boards.load(name)
        assert b.name == name
        assert b.memory, name


@pytest.mark.parametrize(("name", "part", "dsp_kind", "dsp"), PARTS)
def test_part_and_dsp_match_the_table(name: str, part: str, dsp_kind: str, dsp: int) -> None:
    b = boards.load(name)
    assert (b.part, b.dsp_kind, b.dsp) == (part, dsp_kind, dsp)
    assert b.dsp_kind in boards.PRIMITIVES


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_family_flow_platform_and_memory_agree(name: str) -> None:
    b = boards.load(name)
    if b.family == "alveo":
        assert b.flow == "alveo"
        assert b.platform == PLATFORMS[name]
        assert b.memory and all(bank.sp_tag in ("HBM", "DDR") for bank in b.memory)
        assert all(bank.kind in ("HBM2", "DDR4") for bank in b.memory)
        assert b.clock_mhz == 300
    else:
        assert b.family in ("zynq7", "zynqmp")
        assert b.flow == "zynq"
        assert b.platform is None
        assert b.sp_names == ()
        assert len(b.memory) == 1 and b.memory[0].kind in ("DDR3", "DDR4", "LPDDR4")
        assert b.clock_mhz == (100 if b.family == "zynq7" else 200)
    # 7-series and UltraScale+ CLBs both hold two flip-flops per LUT: a typo guard.
    assert b.ff == 2 * b.lut
    if b.family == "zynq7":
        assert b.uram == 0


def test_alveo_memory_banks() -> None:
    u50, u55c, u250, u280 = (boards.load(f"alveo-{n}") for n in ("u50", "u55c", "u250", "u280"))
    hbm = tuple(f"HBM[{i}]" for i in range(32))
    # U50 and U280: 8 GB HBM2 as 32 x 256 MiB pseudo channels; U55C: 16 GB as 32 x 512 MiB.
    assert (u50.memory[0].kind, u50.memory[0].count, u50.memory[0].size_mib) == ("HBM2", 32, 256)
    assert u50.memory_mib == 8 * 1024 and u50.sp_names == hbm
    assert (u55c.memory[0].count, u55c.memory[0].size_mib) == (32, 512)
    assert u55c.memory_mib == 16 * 1024 and u55c.sp_names == hbm
    # U250: four 16 GB DDR4 banks, DDR[0..3].
    assert u250.memory_mib == 64 * 1024
    assert u250.sp_names == ("DDR[0]", "DDR[1]", "DDR[2]", "DDR[3]")
    # U280: the HBM plus two 16 GB DDR4 banks.
    assert u280.sp_names == (*hbm, "DDR[0]", "DDR[1]")
    assert u280.memory_mib == 8 * 1024 + 2 * 16 * 1024


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_board_round_trips_through_json_and_yaml(name: str) -> None:
    # project.json stores model_dump() and open_project rebuilds the Board from it.
    b = boards.load(name)
    assert boards.Board(**json.loads(json.dumps(b.model_dump()))) == b
    assert boards.Board(**yaml.safe_load(yaml.safe_dump(b.model_dump()))) == b
    with pytest.raises(ValidationError):
        b.memory[0].count = 1  # type: ignore[misc, unused-ignore]


# -- user YAMLs that contradict themselves name the field -------------------------------


def _write(tmp_path: Path, **changes: object) -> Path:
    doc = {**boards.load("alveo-u280").model_dump(), **changes}
    path = tmp_path / "card.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in doc.items() if v is not None}))
    return path


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"platform": None}, "field platform"),
        ({"dsp_kind": "DSP48E1"}, "field dsp_kind"),
        ({"flow": "zynq"}, "field flow"),
        ({"memory": []}, "field memory"),
        ({"memory": [{"kind": "HBM2", "count": 32, "size_mib": 256}]}, "field memory"),
        ({"memory": [{"kind": "HBM2", "count": 32, "size_mib": 256, "sp_tag": "hbm"}]}, "field memory.0.sp_tag"),
        ({"memory": [{"kind": "GDDR6", "count": 1, "size_mib": 256, "sp_tag": "G"}]}, "field memory.0.kind"),
        ({"memory": [{"kind": "DDR4", "count": 2, "size_mib": 1, "sp_tag": "DDR", "bus": 64}]}, "field memory.0.bus"),
        ({"hbm_gb": 8}, "field hbm_gb"),
        ({"board_parts": ["xilinx.com:au280:part0"]}, "field board_parts"),
    ],
)
def test_inconsistent_alveo_yaml_names_the_field(tmp_path: Path, changes: dict[str, object], field: str) -> None:
    with pytest.raises(BoardError, match=field.replace(".", r"\.")):
        boards.load(_write(tmp_path, **changes))


def test_zynq_board_takes_no_platform_nor_sp_tag(tmp_path: Path) -> None:
    doc = boards.load("pynq-z2").model_dump()
    path = tmp_path / "z.yaml"
    path.write_text(yaml.safe_dump({**doc, "platform": "xilinx_zcu104_base_202010_1"}))
    with pytest.raises(BoardError, match="field platform"):
        boards.load(path)
    path.write_text(yaml.safe_dump({**doc, "memory": [{"kind": "DDR3", "count": 1, "size_mib": 512, "sp_tag": "DDR"}]}))
    with pytest.raises(BoardError, match="field memory"):
        boards.load(path)
    path.write_text(yaml.safe_dump({**doc, "uram": 4}))
    with pytest.raises(BoardError, match="field uram"):
        boards.load(path)
    path.write_text(yaml.safe_dump({**doc, "board_parts": []}))
    with pytest.raises(BoardError, match=r"field board_parts: .*board files"):
        boards.load(path)
    path.write_text(yaml.safe_dump({**doc, "board_parts": ["tul.com.tw:pynq-z2:part0:1.0"]}))
    with pytest.raises(BoardError, match=r"field board_parts\.0"):
        boards.load(path)
