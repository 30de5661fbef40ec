"""A fake ``pynq`` for the PYNQ driver tests, whose AXI DMA moves real bytes through the generated HLS top.

Only what the generated driver touches, with PYNQ's behaviour (pynq/lib/dma.py, pynq.allocate):
``Overlay(bitfile)`` needs the .bit and the .hwh of the same name and exposes its IP by
block-design name; ``allocate(shape, dtype)`` gives a numpy array with ``physical_address``,
``flush``, ``invalidate`` and a context manager; a DMA channel's ``transfer(array, start=0,
nbytes=0)`` refuses more than ``buffer_max_size`` bytes and ``wait()`` completes it. The
"hardware" is ``AxisDevice``: tests/axis_device.cpp compiled with g++ against the project's
``hls/firmware/<top>.cpp``, fed the bytes the MM2S channel reads.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from cxx_harness import compile_harness

HARNESS = Path(__file__).parent / "axis_device.cpp"


class AxisDevice:
    """The HLS top of ``project/hls`` between DMA channels: input bytes -> output bytes."""

    def __init__(self, project: Path) -> None:
        hls = Path(project) / "hls"
        self.spec = json.loads((Path(project) / "driver" / "fpga_gen_overlay.json").read_text())
        top = self.spec["top"]
        firmware = hls / "firmware"
        self.binary = compile_harness(
            hls, "axis_device", [HARNESS, firmware / f"{top}.cpp"], firmware / f"{top}.h", {"FG_TOP": top}
        )

    def __call__(self, data: bytes) -> bytes:
        args = []
        for port in ("input", "output"):
            spec = self.spec[port]
            args += [str(int(np.prod(spec["shape"])) // spec["pack"]), str(spec["beat_bits"] // 8)]
        with tempfile.TemporaryDirectory(prefix="fg_axis_") as tmp:
            src, dst = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
            src.write_bytes(data)
            done = subprocess.run([str(self.binary), str(src), str(dst), *args], capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"the accelerator stand-in failed: {done.stderr}")
            return dst.read_bytes()


class Buffer(np.ndarray):  # type: ignore[type-arg]
    """What ``pynq.allocate`` returns: a contiguous array the DMA can reach."""

    physical_address = 0x1000_0000
    flushed = 0
    invalidated = 0

    def flush(self) -> None:
        self.flushed += 1

    def invalidate(self) -> None:
        self.invalidated += 1

    def __enter__(self) -> Buffer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def allocate(shape: Any, dtype: Any = "u4", **kwargs: Any) -> Buffer:
    return np.zeros(shape, dtype=dtype).view(Buffer)


@dataclass
class Channel:
    dma: Dma
    send: bool
    active: tuple[Buffer, int, int] | None = None
    done: bool = False

    def transfer(self, array: Buffer, start: int = 0, nbytes: int = 0) -> None:
        if not isinstance(array, Buffer):
            raise TypeError("DMA buffers come from pynq.allocate")
        nbytes = nbytes or array.nbytes - start
        if nbytes > self.dma.buffer_max_size:
            raise ValueError(f"Transfer size is {nbytes} bytes, which exceeds the maximum DMA buffer size")
        if self.send:
            array.flush()  # as PYNQ's send channel does
        self.active = (array, start, nbytes)
        self.dma.transfers.append(("send" if self.send else "recv", nbytes))

    def wait(self) -> None:
        if self.active is None:
            raise RuntimeError("DMA channel not started")
        self.dma.run()
        if not self.done:
            raise RuntimeError("DMA wait would hang: the other channel was never started")
        if not self.send:
            self.active[0].invalidate()  # as PYNQ's receive channel does
        self.active, self.done = None, False


@dataclass
class Dma:
    """An AXI DMA in simple mode: when both channels are armed, MM2S bytes go through the device."""

    device: AxisDevice
    buffer_max_size: int
    transfers: list[tuple[str, int]] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sendchannel = Channel(self, send=True)
        self.recvchannel = Channel(self, send=False)

    def run(self) -> None:
        send, recv = self.sendchannel.active, self.recvchannel.active
        if send is None or recv is None or self.sendchannel.done:
            return  # not armed yet, or already moved when the other channel's wait ran
        array, start, nbytes = send
        data = array.view(np.uint8).ravel()[start : start + nbytes].tobytes()
        self.sent.append(data)
        result = self.device(data)
        out, out_start, out_bytes = recv
        if len(result) != out_bytes:
            raise RuntimeError(f"S2MM got {len(result)} bytes before TLAST into a {out_bytes}-byte transfer")
        out.view(np.uint8).ravel()[out_start : out_start + out_bytes] = np.frombuffer(result, dtype=np.uint8)
        self.sendchannel.done = self.recvchannel.done = True


class Overlay:
    """``pynq.Overlay``: a bitstream with its hardware handoff; IP by block-design name."""

    ip: ClassVar[dict[str, dict[str, Any]]] = {}  # bitfile -> {IP name: driver}, set by the test

    def __init__(self, bitfile_name: str, **kwargs: Any) -> None:
        bit = Path(bitfile_name)
        if not bit.is_file() or not bit.with_suffix(".hwh").is_file():
            raise OSError(f"{bit} and {bit.with_suffix('.hwh').name} must both exist (PYNQ parses the .hwh)")
        self.ip_dict = Overlay.ip[str(bit)]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["ip_dict"][name]
        except KeyError:
            raise AttributeError(name) from None


def module() -> types.ModuleType:
    """The fake ``pynq`` module, to put in ``sys.modules`` while the driver is imported and used."""
    fake = types.ModuleType("pynq")
    fake.Overlay = Overlay  # type: ignore[attr-defined]
    fake.allocate = allocate  # type: ignore[attr-defined]
    return fake
