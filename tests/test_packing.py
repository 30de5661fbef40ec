"""fpga_gen.packing: codes <-> the bytes of AXI beats, against Python big-integer arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpga_gen.errors import FormatError
from fpga_gen.packing import beat_bytes, pack, unpack


def _reference(codes: list[list[int]], elems: int, width: int) -> bytes:
    """Each beat as one Python integer (element k shifted by k*width), written little-endian."""
    size = beat_bytes(elems, width)
    out = b""
    for row in codes:
        for b in range(0, len(row), elems):
            word = sum(code << (k * width) for k, code in enumerate(row[b : b + elems]))
            out += word.to_bytes(size, "little")
    return out


@st.composite
def _batches(draw: st.DrawFn) -> tuple[list[list[int]], int, int]:
    width = draw(st.integers(1, 90))
    elems = draw(st.integers(1, 12))
    beats = draw(st.integers(1, 4))
    batch = draw(st.integers(1, 3))
    code = st.integers(0, (1 << width) - 1)
    row = st.lists(code, min_size=elems * beats, max_size=elems * beats)
    rows = draw(st.lists(row, min_size=batch, max_size=batch))
    return rows, elems, width


@settings(max_examples=200, deadline=None)
@given(_batches())
def test_pack_matches_big_integers_and_unpack_inverts(case: tuple[list[list[int]], int, int]) -> None:
    rows, elems, width = case
    codes = np.array(rows, dtype=object if width > 62 else np.int64)
    data = pack(codes, elems, width)
    assert data.dtype == np.uint8 and data.shape[1] == beat_bytes(elems, width)
    assert data.tobytes() == _reference(rows, elems, width)
    back = unpack(data, len(rows[0]), elems, width)
    assert back.tolist() == rows


@pytest.mark.parametrize(
    ("elems", "width", "size"), [(1, 8, 1), (1, 1, 1), (2, 8, 2), (3, 8, 4), (5, 21, 16), (16, 8, 16), (10, 8, 16)]
)
def test_beats_are_powers_of_two_bytes(elems: int, width: int, size: int) -> None:
    assert beat_bytes(elems, width) == size


def test_bad_input_is_refused() -> None:
    with pytest.raises(FormatError, match=r"\[0, 2\*\*4\)"):
        pack(np.array([[16]]), 1, 4)
    with pytest.raises(FormatError, match="beats of 3"):
        pack(np.zeros((2, 4), dtype=np.int64), 3, 8)
    with pytest.raises(FormatError, match="whole samples"):
        unpack(np.zeros(3, dtype=np.uint8), 4, 2, 8)
    with pytest.raises(FormatError, match="nonzero bits"):
        unpack(np.array([0, 0x80], dtype=np.uint8), 1, 1, 12)
