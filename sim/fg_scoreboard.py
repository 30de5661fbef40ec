"""Scoreboard of the fpga_gen cosim testbench.

It owns everything that is checked inside the simulation: every output frame has the
layout's number of beats (so TLAST sits on the last beat of each vector and nowhere
else), padding bits are zero, every input beat and output beat was handshaken exactly
once. It turns beats back into element values and derives the cycle counts from the
handshake monitor. The values themselves are compared with the golden model by the
caller, which owns the reference (``np.array_equal`` in pytest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fg_axis import Layout


class ProtocolError(AssertionError):
    """The design broke the stream protocol or the vector layout."""


@dataclass(frozen=True)
class BatchResult:
    outputs: list[list[int]]
    in_first: list[int]  # cycle of the first input beat of each vector
    out_last: list[int]  # cycle of the last output beat of each vector


class Scoreboard:
    def __init__(self, inputs: Layout, outputs: Layout, count: int) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self.count = count

    def check(
        self, frames: Sequence[Sequence[int]], in_cycles: Sequence[int], out_cycles: Sequence[int]
    ) -> BatchResult:
        if len(frames) != self.count:
            raise ProtocolError(f"received {len(frames)} vectors, sent {self.count}")
        values = []
        for k, frame in enumerate(frames):
            if len(frame) != self.outputs.beats:
                raise ProtocolError(
                    f"output vector {k} has {len(frame)} beats between TLASTs, expected {self.outputs.beats}"
                )
            vector, padding = self.outputs.unpack(frame)
            if padding:
                raise ProtocolError(f"output vector {k}: TDATA padding bits are {padding:#x}, expected 0")
            values.append(vector)
        n_in, n_out = self.count * self.inputs.beats, self.count * self.outputs.beats
        if len(in_cycles) != n_in or len(out_cycles) != n_out:
            raise ProtocolError(
                f"saw {len(in_cycles)} input and {len(out_cycles)} output handshakes, expected {n_in} and {n_out}"
            )
        return BatchResult(
            outputs=values,
            in_first=[in_cycles[k * self.inputs.beats] for k in range(self.count)],
            out_last=[out_cycles[(k + 1) * self.outputs.beats - 1] for k in range(self.count)],
        )
