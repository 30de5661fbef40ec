"""AXI4-Stream side of the fpga_gen testbenches: beat layout, driver, receiver, handshake monitor.

The driver and the receiver wrap cocotbext-axi's AxiStreamSource / AxiStreamSink with one
"byte" per beat (``byte_lanes=1``): a frame is a list of whole-beat integers, which works for
any TDATA width (cocotbext-axi splits a bus into byte lanes otherwise). One frame is one
vector; the sink delimits frames by TLAST.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import cocotb
from cocotb.handle import LogicObject
from cocotb.triggers import FallingEdge
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource


@dataclass(frozen=True)
class Layout:
    """``elems`` elements of ``width`` bits per beat, element 0 in the low bits; ``beats`` per vector."""

    elems: int
    width: int
    signed: bool
    beats: int

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Layout:
        return cls(int(doc["elems"]), int(doc["width"]), bool(doc["signed"]), int(doc["beats"]))

    def pack(self, vector: Sequence[int]) -> list[int]:
        mask = (1 << self.width) - 1
        beats = []
        for b in range(self.beats):
            word = 0
            for lane, value in enumerate(vector[b * self.elems : (b + 1) * self.elems]):
                word |= (int(value) & mask) << (lane * self.width)
            beats.append(word)
        return beats

    def unpack(self, beats: Sequence[int]) -> tuple[list[int], int]:
        """Element values of one vector, and the OR of every padding bit above the data."""
        mask = (1 << self.width) - 1
        values, padding = [], 0
        for word in beats:
            for lane in range(self.elems):
                v = (word >> (lane * self.width)) & mask
                values.append(v - (1 << self.width) if self.signed and v >> (self.width - 1) else v)
            padding |= word >> (self.elems * self.width)
        return values, padding


def random_pauses(probability: float, rng: random.Random) -> Iterator[bool]:
    """An endless pause pattern: True (pause this cycle) with the given probability."""
    while True:
        yield rng.random() < probability


class StreamDriver:
    """Drives vectors into an AXI4-Stream slave port, back to back unless ``idle`` > 0."""

    def __init__(
        self, dut: Any, prefix: str, clock: LogicObject, reset: LogicObject, reset_level: int, layout: Layout
    ) -> None:
        bus = AxiStreamBus.from_prefix(dut, prefix)
        self.layout = layout
        self.source = AxiStreamSource(bus, clock, reset, reset_active_level=bool(reset_level), byte_lanes=1)

    def idle_randomly(self, probability: float, rng: random.Random) -> None:
        if probability > 0:
            self.source.set_pause_generator(random_pauses(probability, rng))

    def send(self, vectors: Sequence[Sequence[int]]) -> None:
        for vector in vectors:
            self.source.send_nowait(AxiStreamFrame(self.layout.pack(vector)))


class StreamReceiver:
    """Accepts vectors from an AXI4-Stream master port; ``backpressure`` > 0 drops TREADY randomly."""

    def __init__(
        self, dut: Any, prefix: str, clock: LogicObject, reset: LogicObject, reset_level: int, layout: Layout
    ) -> None:
        bus = AxiStreamBus.from_prefix(dut, prefix)
        self.layout = layout
        self.sink = AxiStreamSink(bus, clock, reset, reset_active_level=bool(reset_level), byte_lanes=1)

    def backpressure_randomly(self, probability: float, rng: random.Random) -> None:
        if probability > 0:
            self.sink.set_pause_generator(random_pauses(probability, rng))

    async def receive(self, count: int) -> list[list[int]]:
        """The next ``count`` frames, each as its list of beats."""
        return [list((await self.sink.recv()).tdata) for _ in range(count)]


class HandshakeMonitor:
    """Records the clock cycle of every TVALID & TREADY handshake on the watched streams.

    Sampled on the falling edge, where the values of a cycle are settled whichever side
    drives them; cycle numbers count from ``start()``.
    """

    def __init__(self, clock: LogicObject, streams: dict[str, tuple[LogicObject, LogicObject]]) -> None:
        self.clock = clock
        self.streams = streams
        self.cycles: dict[str, list[int]] = {name: [] for name in streams}

    def start(self) -> None:
        cocotb.start_soon(self._run())

    async def _run(self) -> None:
        cycle = 0
        watched = [(self.cycles[name], valid, ready) for name, (valid, ready) in self.streams.items()]
        while True:
            await FallingEdge(self.clock)
            for stamps, valid, ready in watched:
                if valid.value == 1 and ready.value == 1:
                    stamps.append(cycle)
            cycle += 1
