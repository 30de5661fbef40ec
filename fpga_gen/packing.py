"""Codes <-> the bytes an accelerator's AXI4-Stream or AXI4 memory port moves.

A sample of ``n`` element codes (``width`` bits each: fixed-point two's complement, or a
minifloat's bit pattern) crosses the port as ``n / elems`` beats. Element ``k`` of a beat
sits at bits ``[k*width, (k+1)*width)`` of TDATA, the rest is zero, and TDATA byte ``i``
is bits ``[8i, 8i+8)`` (AXI is little-endian). A beat is a power of two bytes wide, because
the AXI DMA (PG021: 8 to 1024 bits) and HLS ``m_axi`` ports move power-of-two words.

This module needs numpy only: deployment drivers (PYNQ, XRT) ship a copy of it, together
with ``fpga_gen.formats``, on boards where fpga_gen itself is not installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen.errors import FormatError

INT64_CODE_BITS = 62  # wider codes are Python ints (object arrays), as in fpga_gen.formats
DMA_BEAT_BYTES = 128  # 1024 bits: the widest AXI DMA stream (PG021) and HLS m_axi word
_LIMB = 32  # codes are split into 32-bit limbs, so any width packs exactly


def beat_bytes(elems: int, width: int) -> int:
    """Bytes of one beat carrying ``elems`` codes of ``width`` bits: a power of two."""
    if elems < 1 or width < 1:
        raise FormatError(f"a beat of {elems} elements of {width} bits is invalid: need elems >= 1 and width >= 1")
    need = -(-elems * width // 8)
    return 1 << (need - 1).bit_length()


def pack(codes: npt.ArrayLike, elems: int, width: int) -> npt.NDArray[np.uint8]:
    """Codes ``(batch, n)`` -> the bytes of their beats, shape ``(batch * n / elems, beat_bytes)``."""
    arr = np.asarray(codes)
    size = beat_bytes(elems, width)
    if arr.ndim != 2 or arr.shape[1] % elems:
        raise FormatError(f"codes of shape {arr.shape} do not split into beats of {elems}: pass (batch, n * {elems})")
    if arr.dtype.kind not in "iuO" or (arr.size and (arr.min() < 0 or int(arr.max()) >> width)):
        raise FormatError(f"codes must be integers in [0, 2**{width}); got dtype {arr.dtype}")
    beats = arr.astype(object if width > INT64_CODE_BITS else np.int64).reshape(-1, elems)
    n_limbs = -(-width // _LIMB)
    limbs = np.stack([(beats >> (_LIMB * i)) & 0xFFFFFFFF for i in range(n_limbs)], axis=-1).astype(np.uint64)
    # Bit j of element k goes to bit k*width + j of the beat, little-endian throughout.
    bits = ((limbs[..., None] >> np.arange(_LIMB, dtype=np.uint64)) & np.uint64(1)).astype(np.uint8)
    bits = bits.reshape(beats.shape[0], elems, n_limbs * _LIMB)[:, :, :width]
    flat = np.zeros((beats.shape[0], size * 8), dtype=np.uint8)
    flat[:, : elems * width] = bits.reshape(beats.shape[0], elems * width)
    return np.packbits(flat, axis=1, bitorder="little")


def unpack(data: npt.ArrayLike, n: int, elems: int, width: int) -> npt.NDArray[Any]:
    """Bytes of whole samples (any shape, ``uint8``) -> codes ``(batch, n)``.

    int64, or Python ints (object) for codes wider than 62 bits. Raises FormatError when
    the bytes are not a whole number of samples or a beat's padding bits are not zero (a
    sign that the layout or the width is wrong).
    """
    size = beat_bytes(elems, width)
    raw = np.asarray(data, dtype=np.uint8).ravel()
    sample = n // elems * size
    if n % elems or raw.size % sample:
        raise FormatError(f"{raw.size} bytes are not whole samples of {n // elems} beats x {size} bytes")
    bits = np.unpackbits(raw.reshape(-1, size), axis=1, bitorder="little")
    if bits[:, elems * width :].any():
        raise FormatError(f"beats carry nonzero bits above their {elems} x {width}-bit elements: wrong layout")
    n_limbs = -(-width // _LIMB)
    lanes = np.zeros((bits.shape[0], elems, n_limbs * _LIMB), dtype=np.uint64)
    lanes[:, :, :width] = bits[:, : elems * width].reshape(-1, elems, width)
    weights = np.uint64(1) << np.arange(_LIMB, dtype=np.uint64)
    limbs = (lanes.reshape(-1, elems, n_limbs, _LIMB) * weights).sum(axis=3, dtype=np.uint64)
    wide = width > INT64_CODE_BITS
    codes: npt.NDArray[Any] = np.zeros(limbs.shape[:2], dtype=object if wide else np.int64)
    for i in range(n_limbs):
        codes |= limbs[:, :, i].astype(object if wide else np.int64) << (_LIMB * i)
    return codes.reshape(-1, n)


__all__ = ["DMA_BEAT_BYTES", "beat_bytes", "pack", "unpack"]
