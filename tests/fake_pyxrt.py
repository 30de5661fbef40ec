"""A stand-in for XRT's ``pyxrt`` (tests only): a card whose kernel moves real bytes.

It mirrors the pybind11 API of XRT's ``src/python/pybind11/src/pyxrt.cpp`` as far as a host
uses it: ``device(index)``, ``device.load_xclbin(path)`` -> uuid, ``kernel(device, uuid, name)``,
``kernel.group_id(arg)``, ``bo(device, size, bo.normal, group)`` with ``write``/``read``/``sync``,
``kernel(*args)`` -> run, ``run.wait()`` -> ``ert_cmd_state``. A buffer has a host copy and a
device copy, moved only by ``sync`` (as over PCIe), and ``read`` returns an int8 array as pyxrt's
does. The kernel runs the compiled test harness (tests/alveo_kernel_harness.cpp) on the device
copy of its input buffer and fills the device copy of its output buffer.
"""

from __future__ import annotations

import enum
import subprocess
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


class xclBOSyncDirection(enum.Enum):  # pyxrt's names, spelled as pyxrt spells them
    XCL_BO_SYNC_BO_TO_DEVICE = 0
    XCL_BO_SYNC_BO_FROM_DEVICE = 1


class ert_cmd_state(enum.Enum):
    ERT_CMD_STATE_COMPLETED = 4
    ERT_CMD_STATE_ERROR = 5


@dataclass
class FakeCard:
    """One card with ``xclbin`` holding ``kernel``, implemented by the harness ``binary``."""

    binary: Path
    kernel: str
    xclbin: Path
    runs: list[int] = field(default_factory=list)  # samples of each kernel run

    def module(self) -> types.ModuleType:
        """A module object to install as ``sys.modules["pyxrt"]``."""
        card = self

        class uuid:
            def __init__(self, path: str) -> None:
                self.path = path

        class device:
            def __init__(self, index: int = 0) -> None:
                assert index == 0, f"the fake system has one card, not index {index}"
                self.loaded: uuid | None = None

            def load_xclbin(self, path: str) -> uuid:
                assert Path(path).resolve() == card.xclbin.resolve(), f"loaded {path}, not {card.xclbin}"
                self.loaded = uuid(path)
                return self.loaded

        class bo:
            normal = "normal"  # xrt::bo::flags

            def __init__(self, dev: device, size: int, flags: str, group: int) -> None:
                assert isinstance(dev, device) and flags == bo.normal and size > 0
                self.group = group
                self.host = bytearray(size)
                self.device = bytearray(size)

            def size(self) -> int:
                return len(self.host)

            def write(self, data: Any, seek: int) -> None:
                raw = memoryview(data).cast("B")
                assert seek + len(raw) <= len(self.host), "write past the end of the buffer"
                self.host[seek : seek + len(raw)] = raw

            def read(self, size: int, skip: int) -> np.ndarray:
                return np.frombuffer(bytes(self.host[skip : skip + size]), dtype=np.int8)

            def sync(self, direction: xclBOSyncDirection, size: int, offset: int) -> None:
                src, dst = (
                    (self.host, self.device)
                    if direction is xclBOSyncDirection.XCL_BO_SYNC_BO_TO_DEVICE
                    else (self.device, self.host)
                )
                dst[offset : offset + size] = src[offset : offset + size]

        class run:
            def wait(self) -> ert_cmd_state:
                return ert_cmd_state.ERT_CMD_STATE_COMPLETED

        class kernel:
            def __init__(self, dev: device, xclbin_uuid: uuid, name: str) -> None:
                assert dev.loaded is xclbin_uuid, "kernel of an xclbin that is not loaded"
                assert name == card.kernel, f"no kernel {name!r} in the xclbin (it holds {card.kernel!r})"

            def group_id(self, arg: int) -> int:
                return {0: 0, 1: 1}[arg]  # link.cfg puts the two buffers in two banks

            def __call__(self, bo_in: bo, bo_out: bo, samples: int) -> run:
                assert (bo_in.group, bo_out.group) == (0, 1), "buffers allocated in the wrong banks"
                card.runs.append(samples)
                with tempfile.TemporaryDirectory(prefix="fake_xrt_") as tmp:
                    src, dst = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
                    src.write_bytes(bytes(bo_in.device))
                    cmd = [str(card.binary), str(src), str(dst), str(samples), str(len(bo_out.device))]
                    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
                    assert done.returncode == 0, f"kernel harness failed: {done.stderr}"
                    bo_out.device[:] = dst.read_bytes()
                return run()

        module = types.ModuleType("pyxrt")
        for value in (uuid, device, bo, run, kernel, xclBOSyncDirection, ert_cmd_state):
            setattr(module, value.__name__, value)
        return module
