"""Accuracy vs hardware cost of one float model quantized to several weight formats.

As in Aggarwal et al. 2023 ("Post-Training Quantization with Low-precision Minifloats and
Integers on FPGAs"): the model is quantized post-training with each weight format (no
training), its accuracy measured on held-out data with the golden model, its cost
estimated analytically, and the Pareto front (highest accuracy for the cost) reported.

Format options: ``fixedN`` is N-bit fixed-point weights, ``fixed<N,1,RND_CONV,SAT>``
with the integer bits calibrated; ``ternary`` / ``binary`` are ``ternary<1.0>`` /
``binary<1.0>`` with the scale calibrated; any other name is a format spelling
(``e4m3``, ``e2m1``, ``minifloat<3,2,bias=5>``, ``fixed<6,2,RND,SAT>``), its scale
calibrated too (``fpga_gen.frontends.calibrate``).

Cost model: the design fpga_gen would build, estimated by ``fpga_gen.resources.estimate``
(the one resource model: the RTL plan's DSP slices exactly, LUTs and FFs by its documented
rules). Every option is folded to the same throughput, so the costs compare like with like:
each quantized graph is lowered with the board's DSP budget and kind
(``FoldConfig(max_dsp=board.dsp, dsp_kind=board.dsp_kind)``), the slowest of their schedules
(cycles per sample of the slowest layer) becomes the common
``target_cycles``, and each graph is folded again to the cheapest schedule meeting it. The
engines are what the RTL implements: fixed x fixed products on one DSP slice per lane, or
per two lanes where the formats let two PE rows share a slice (``DspPrimitive.pack_shift``:
narrow weights pack on both DSP kinds, INT8 mostly on DSP48E2), minifloat products on one
slice per lane, ternary / binary weights on adders with no DSP.

The scalar cost is LUTs + DSPs * (the board's LUTs / DSPs): the share of the device a
DSP stands for.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fpga_gen import boards
from fpga_gen.errors import FormatError
from fpga_gen.formats import Binary, FixedPoint, Format, Ternary, parse_format
from fpga_gen.ir import Graph, MatMul
from fpga_gen.passes import FoldConfig, engine_cycles, lower, schedule
from fpga_gen.resources import fit

DEFAULT_FORMATS = ("fixed4", "fixed6", "fixed8", "e2m1", "e3m2", "e4m3", "ternary")
DEFAULT_ACTIVATIONS = "fixed<8,3,RND_CONV,SAT>"
CSV_COLUMNS = ("option", "weights", "activations", "accuracy", "float_accuracy", "macs", "dsp", "lut", "cost", "pareto")
_FIXED_N = re.compile(r"fixed(\d+)")


@dataclass(frozen=True)
class SweepPoint:
    """One weight format: its accuracy on the held-out data and its estimated cost."""

    option: str
    weights: str
    accuracy: float
    macs: int
    dsp: int
    lut: int
    cost: float
    pareto: bool


@dataclass(frozen=True)
class SweepResult:
    points: tuple[SweepPoint, ...]
    float_accuracy: float
    activations: str
    board: str

    @property
    def front(self) -> tuple[SweepPoint, ...]:
        """The Pareto-optimal points, cheapest first."""
        return tuple(sorted((p for p in self.points if p.pareto), key=lambda p: p.cost))

    def table(self) -> str:
        row = "{:<10} {:<28} {:>8} {:>10} {:>6} {:>9} {:>11} {:>6}"
        lines = [row.format("option", "weights", "accuracy", "MACs", "DSP", "LUT", "cost", "pareto")]
        for p in self.points:
            acc = f"{p.accuracy:.4f}"
            lines.append(row.format(p.option, p.weights, acc, p.macs, p.dsp, p.lut, f"{p.cost:.0f}", "*" * p.pareto))
        lines.append(f"float model accuracy {self.float_accuracy:.4f}; activations {self.activations}")
        lines.append(f"cost = LUT + DSP x (LUTs per DSP of {self.board})")
        lines.append("Pareto front: " + ", ".join(f"{p.option} ({p.accuracy:.4f} at {p.cost:.0f})" for p in self.front))
        return "\n".join(lines)

    def write_csv(self, path: str | Path) -> Path:
        out = Path(path)
        with out.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_COLUMNS)
            for p in self.points:
                acc, float_acc = f"{p.accuracy:.6f}", f"{self.float_accuracy:.6f}"
                cost = f"{p.cost:.1f}"
                writer.writerow(
                    [p.option, p.weights, self.activations, acc, float_acc, p.macs, p.dsp, p.lut, cost, int(p.pareto)]
                )
        return out

    def plot(self, path: str | Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.scatter([p.cost for p in self.points], [p.accuracy for p in self.points], color="tab:blue")
        for p in self.points:
            ax.annotate(p.option, (p.cost, p.accuracy), textcoords="offset points", xytext=(4, 4), fontsize=8)
        front = self.front
        ax.step(
            [p.cost for p in front], [p.accuracy for p in front], where="post", color="tab:red", label="Pareto front"
        )
        ax.axhline(self.float_accuracy, color="gray", linestyle="--", label="float model")
        ax.set_xscale("log")
        ax.set_xlabel(f"estimated cost (LUT + DSP x LUT/DSP of {self.board})")
        ax.set_ylabel("accuracy (held-out data)")
        ax.set_title(f"post-training quantization sweep, activations {self.activations}", fontsize=10)
        ax.legend(loc="lower right")
        fig.tight_layout()
        out = Path(path)
        fig.savefig(out, dpi=120)
        plt.close(fig)
        return out


def sweep_format(option: str) -> Format:
    """A format option of the sweep -> the template format calibrate() scales."""
    match = _FIXED_N.fullmatch(option.strip())
    if match:
        return FixedPoint(int(match.group(1)), 1, rounding="RND_CONV", overflow="SAT")
    if option.strip() in ("ternary", "binary"):
        return Ternary(1.0) if option.strip() == "ternary" else Binary(1.0)
    try:
        return parse_format(option)
    except FormatError as err:
        raise FormatError(f"sweep format {option!r}: use fixedN, ternary, binary or a format name ({err})") from err


def sweep(
    model: Any,
    calibration: npt.ArrayLike,
    data: tuple[npt.ArrayLike, npt.ArrayLike],
    formats: Sequence[str] = DEFAULT_FORMATS,
    *,
    activations: str = DEFAULT_ACTIVATIONS,
    method: str = "mse",
    per_channel: bool = True,
    board: str = "pynq-z2",
) -> SweepResult:
    """Quantize ``model`` with each weight format, measure accuracy on ``data`` = (x, y), estimate cost.

    ``y`` holds class indices (or one-hot rows); accuracy is the argmax's.
    """
    from fpga_gen.frontends.keras_ptq import quantize

    templates = [sweep_format(f) for f in formats]  # bad names fail before any work
    target = boards.load(board)
    x, y = np.asarray(data[0], dtype=np.float64), _labels(data[1])
    float_acc = float(np.mean(np.argmax(model.predict(x.astype(np.float32), verbose=0), axis=-1) == y))
    graphs, accs = [], []
    for template in templates:
        graph = quantize(model, template, activations, calibration, per_channel=per_channel, method=method)
        accs.append(float(np.mean(np.argmax(graph.predict(x), axis=-1) == y)))
        graphs.append(graph)
    costs = [fit(g, target).need for g in fold_alike(graphs, target.dsp, target.dsp_kind)]
    lut_per_dsp = target.lut / target.dsp
    scalar = [c.lut + c.dsp * lut_per_dsp for c in costs]
    points = tuple(
        SweepPoint(option, str(template), acc, macs(g), c.dsp, c.lut, s, _pareto(i, accs, scalar))
        for i, (option, template, acc, g, c, s) in enumerate(
            zip(formats, templates, accs, graphs, costs, scalar, strict=True)
        )
    )
    return SweepResult(points, float_acc, activations, target.name)


def _pareto(i: int, accs: list[float], costs: list[float]) -> bool:
    """No other point is at least as accurate and as cheap, and better in one of the two."""
    return not any(
        a >= accs[i] and c <= costs[i] and (a > accs[i] or c < costs[i]) for a, c in zip(accs, costs, strict=True)
    )


def _labels(y: npt.ArrayLike) -> npt.NDArray[np.int64]:
    arr = np.asarray(y)
    return np.argmax(arr, axis=-1) if arr.ndim == 2 else arr.astype(np.int64)


def fold_alike(graphs: Sequence[Graph], max_dsp: int, dsp_kind: str = "DSP48E1") -> list[Graph]:
    """Each graph lowered to the same throughput: the slowest of their fastest schedules within
    ``max_dsp`` slices of ``dsp_kind`` (module docstring)."""
    lowered = [lower(g) for g in graphs]
    fastest = [schedule(g, FoldConfig(max_dsp=max_dsp, dsp_kind=dsp_kind)) for g in lowered]
    target = max(engine_cycles(l, l.fold) for g in fastest for l in g.layers if isinstance(l, MatMul) and l.fold)
    return [schedule(g, FoldConfig(max_dsp=max_dsp, target_cycles=target, dsp_kind=dsp_kind)) for g in lowered]


def macs(graph: Graph) -> int:
    """Multiply-accumulates per sample over all matmul layers."""
    return sum(l.positions * l.n_in * l.n_out for l in graph.layers if isinstance(l, MatMul))
