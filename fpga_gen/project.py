"""``fpga_gen.build``: a scheduled Graph -> an on-disk project with HLS C++ and Verilog.

Project directory layout::

    project.json     board, top name, what was generated (read back by ``open_project``)
    graph/           the scheduled Graph (Graph.save), the golden model's input
    hls/             Vitis HLS project (open with ``vitis_hls -f hls/build.tcl``)
    rtl/             Verilog: DSP-chain engines, weight ROMs (.mem), AXI-Stream top
    vivado/          rtl_synth.tcl (the Verilog alone: synth, place, route, reports); on a Zynq
                     board build.tcl (block design with the PS, an AXI DMA and the HLS IP)
    driver/          Zynq: the PYNQ overlay driver and its deploy README
    vitis/, host/    Alveo: the m_axi kernel, link.cfg and Makefile for v++; the XRT host
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from fpga_gen import boards, resources
from fpga_gen.backends.hls import count_iterations, run_csim, write_hls
from fpga_gen.backends.hls.csim import read_manifest
from fpga_gen.backends.rtl import CosimResult, Plan, plan, run_cosim, write_rtl
from fpga_gen.backends.rtl.timing import interval_cycles, latency_cycles
from fpga_gen.backends.rtl.yosys import synth_counts
from fpga_gen.errors import FpgaGenError, GraphError
from fpga_gen.flows.alveo import write_alveo
from fpga_gen.flows.rtl_synth import write_rtl_synth
from fpga_gen.flows.zynq import write_zynq
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import Graph, MatMul, load, quantize_inputs
from fpga_gen.passes import FoldConfig, engine_cycles, lower, schedule

PROJECT_FILE = "project.json"


@dataclass(frozen=True)
class Project:
    """A generated project: the scheduled graph, its board, its hardware plan (made with the board's
    DSP primitive) and the files written for it."""

    path: Path
    graph: Graph
    board: boards.Board
    plan: Plan = field(repr=False)

    # -- simulation -------------------------------------------------------------------
    def csim(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Run the generated HLS C++ (g++ against ap_types) on a batch of float inputs."""
        return self._decode(run_csim(self.path / "hls", self._encode(x)))

    @overload
    def cosim(self, x: npt.ArrayLike, report: Literal[False] = ...) -> npt.NDArray[np.float64]: ...
    @overload
    def cosim(self, x: npt.ArrayLike, report: Literal[True]) -> tuple[npt.NDArray[np.float64], CosimResult]: ...
    def cosim(
        self, x: npt.ArrayLike, report: bool = False
    ) -> npt.NDArray[np.float64] | tuple[npt.NDArray[np.float64], CosimResult]:
        """Simulate the generated Verilog (Verilator + cocotb); with ``report`` also the cycle counts."""
        result = run_cosim(self.path / "rtl", self._encode(x))
        y = self._decode(result.outputs)
        return (y, result) if report else y

    def _encode(self, x: npt.ArrayLike) -> npt.NDArray[Any]:
        return quantize_inputs(self.graph, x)[0]

    def _decode(self, ints: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        return exact_fixed(self.graph.output.output.format).from_int(ints)

    # -- report -----------------------------------------------------------------------
    def report(self, yosys: bool = False, measure: npt.ArrayLike | None = None) -> dict[str, Any]:
        """Per layer: formats, MACs, folding, the resource estimate (and with ``yosys`` the cells
        ``synth_xilinx`` maps it to) and its cycles per sample as each level schedules them
        (``interval``: the fold's steps, the RTL stages' work, the HLS processes' loop iterations;
        with ``measure``, a batch of float inputs, also the HLS iterations C simulation counts);
        the totals against the board.

        The Yosys run is cached in ``rtl/yosys/`` (a first run of a large design takes minutes).
        """
        kind = self.board.dsp_kind
        estimate = resources.estimate(self.plan)
        processes = read_manifest(self.path / "hls")["processes"]
        counted: dict[str, float] = {}
        if measure is not None:
            x = self._encode(measure)
            for config, n in count_iterations(self.path / "hls", x)[1].items():
                layer = processes[config]["layer"]
                counted[layer] = max(counted.get(layer, 0), n / len(x))
        counts = synth_counts(self.path / "rtl", self.board.dsp_primitive.yosys_family) if yosys else None
        measured = resources.yosys_per_layer(self.plan, counts) if counts is not None else None
        layers = []
        for layer in self.graph.layers[1:-1]:
            in_fmt = self.graph.input_spec(layer).format
            entry: dict[str, Any] = {"name": layer.name, "kind": layer.kind, "input": str(in_fmt)}
            if isinstance(layer, MatMul) and layer.fold is not None:
                entry |= {
                    "weight": str(layer.weight.format),
                    "bias": str(layer.bias_format) if layer.bias is not None else None,
                    "accumulator": str(layer.accumulator(in_fmt)),
                    "activation": layer.activation,
                    "macs": layer.positions * layer.n_in * layer.n_out,
                    "pe": layer.fold.pe,
                    "simd": layer.fold.simd,
                    "vectors": layer.fold.vectors,
                }
            entry["output"] = str(layer.output.format)
            entry["interval"] = {
                "fold": engine_cycles(layer, layer.fold) if isinstance(layer, MatMul) and layer.fold else None,
                "rtl": max((s.period for s in self.plan.stages if s.layer.name == layer.name), default=None),
                "hls": max((p["iterations"] for p in processes.values() if p["layer"] == layer.name), default=None),
            }
            if measure is not None:
                entry["interval"]["hls_counted"] = counted.get(layer.name)
            entry["estimate"] = estimate[layer.name].as_dict() if layer.name in estimate else None
            if measured is not None:
                entry["yosys"] = measured[layer.name].as_dict() if layer.name in measured else None
            layers.append(entry)
        fit = resources.fit_of(estimate, self.board)
        totals = fit.report()
        if counts is not None:
            totals["yosys"] = counts.total.summary()
        return {
            "board": self.board.name,
            "part": self.board.part,
            "dsp_kind": kind,
            "clock_mhz": self.board.clock_mhz,
            "layers": layers,
            "totals": totals,
            "latency_cycles": latency_cycles(self.plan),
            "interval_cycles": interval_cycles(self.plan),
        }


def build(
    graph: Graph,
    board: str | Path | boards.Board = "pynq-z2",
    out: str | Path = "build/fpga_gen",
    fold: FoldConfig | None = None,
    allow_overfit: bool = False,
) -> Project:
    """Lower ``graph``, schedule it for ``board``, and write the HLS, RTL and deployment projects into ``out``.

    Without ``fold``, each matmul gets the most lanes the board's DSPs allow, fewer when the
    estimate says the fabric cannot hold them. Raises ResourceError, naming the numbers and
    a folding that fits, when the estimate of the scheduled design exceeds the board,
    unless ``allow_overfit``. The hardware plan is made once, with the board's DSP primitive,
    and serves the RTL writer, the cycle counts and the report. Everything is
    generated in a temporary sibling directory first and moved into place only when all of
    it succeeded, so a failed build leaves ``out`` as it was. An existing ``out`` is
    replaced only when it is an earlier fpga_gen project.
    """
    board = board if isinstance(board, boards.Board) else boards.load(board)
    target = Path(out)
    if target.exists() and not (target / PROJECT_FILE).is_file() and any(target.iterdir()):
        raise FpgaGenError(
            f"output directory {target} exists and is not an fpga_gen project; "
            "choose an empty or new directory (nothing was written)"
        )
    config = fold or FoldConfig(max_dsp=board.dsp, dsp_kind=board.dsp_kind)
    estimator = resources.Estimator(board)
    # The default fold budgets DSPs only; LUT-hungry engines (minifloat alignment, wide
    # Kulisch accumulators) may need fewer lanes to fit the fabric: the search is the default's.
    scheduled = schedule(lower(graph), config, estimator.fits if fold is None and not allow_overfit else None)
    if not allow_overfit and not estimator.fits(scheduled):
        resources.check_fit(scheduled, board, config)  # raises, with the numbers and the fix
    hardware = estimator.plan(scheduled)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        scheduled.save(staging / "graph")
        write_hls(scheduled, part=board.part, clock_mhz=board.clock_mhz, out=staging / "hls")
        write_rtl(hardware, out=staging / "rtl")
        write_rtl_synth(staging, board)
        (write_zynq if board.flow == "zynq" else write_alveo)(staging, board)
        meta = {"board": board.model_dump(), "graph": scheduled.name}
        (staging / PROJECT_FILE).write_text(json.dumps(meta, indent=1) + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Project(target, scheduled, board, hardware)


def open_project(path: str | Path) -> Project:
    """Re-open a project directory written by ``build``."""
    root = Path(path)
    try:
        meta = json.loads((root / PROJECT_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise GraphError(
            f"{root} is not an fpga_gen project ({PROJECT_FILE} unreadable: {exc}); run fpga-gen build first"
        ) from exc
    try:
        board = boards.Board(**meta["board"])
    except (KeyError, TypeError, ValidationError) as exc:
        raise GraphError(
            f"{root / PROJECT_FILE}: its board record is not valid for this fpga_gen ({exc}); "
            "the project was probably written by another version: run fpga-gen build again"
        ) from exc
    graph = load(root / "graph")
    return Project(root, graph, board, plan(graph, board.dsp_kind))
