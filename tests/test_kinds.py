"""The layer-kind contract: every IR kind has a handler at every level, and what they build works.

``fpga_gen.kinds`` names each kind's golden rule, HLS emitter (and kernel headers), RTL stage
builder and stage classes (each with its cost and cycle model); the levels dispatch through
the tables it fills. A kind missing anywhere is named here, with the level.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from graphs import every_kind, random_inputs

from fpga_gen.backends.hls import write_hls
from fpga_gen.backends.hls.planner import Planner
from fpga_gen.backends.rtl import interval_cycles, latency_cycles, plan, write_rtl
from fpga_gen.backends.rtl.stages import ElementStage, Stream
from fpga_gen.errors import FpgaGenError, UnsupportedLayerError
from fpga_gen.ir import LAYER_KINDS, RULES, Graph, Input, Layer, Output, TensorSpec, evaluate_ints, quantize_inputs
from fpga_gen.ir.registry import Table
from fpga_gen.kinds import KINDS, LEVELS, violations
from fpga_gen.kinds.channel import THRESHOLD
from fpga_gen.resources import estimate

KIND_OF = {layer: kind for kind in KINDS for layer in kind.layers}


@pytest.mark.parametrize("layer", sorted(LAYER_KINDS.values(), key=lambda cls: cls.kind), ids=lambda cls: cls.kind)
def test_every_kind_has_a_handler_at_every_level(layer: type[Layer]) -> None:
    assert violations([layer], KINDS) == []
    assert all(layer in table for _, table in LEVELS)


def _fresh_levels() -> tuple[tuple[str, Table[Any]], ...]:
    return tuple((level, Table(table.level, table.what)) for level, table in LEVELS)


def test_a_missing_handler_is_named_with_its_kind_and_level() -> None:
    """A registry where Threshold registered no HLS emitter, and ScaleShift's stage has no cost model."""
    levels = _fresh_levels()
    for kind in KINDS:
        if kind is not THRESHOLD:
            kind.register(levels)
    rules, _, headers, builders = (table for _, table in levels)
    for table, handler in ((rules, THRESHOLD.golden), (headers, THRESHOLD.headers), (builders, THRESHOLD.rtl)):
        table.register(THRESHOLD.layers, handler)

    @dataclass(frozen=True)
    class CostlessStage(ElementStage):  # params, files and timing, but no cost
        layer: Layer
        src: Stream
        dst: Stream
        module: ClassVar[str] = "fg_chan"

        def params(self) -> dict[str, int]:
            return {}

        def files(self) -> tuple[str, ...]:
            return ()

    kinds = [replace(k, stages=(CostlessStage,)) if k.layers[0].kind == "ScaleShift" else k for k in KINDS]
    assert violations(LAYER_KINDS.values(), kinds, levels) == [
        "ScaleShift: CostlessStage has no resource cost (cost)",
        "Threshold: no emitter in the HLS backend",
    ]
    # and a kind with no record at all, at every level
    assert violations([LAYER_KINDS["Threshold"]], [], _fresh_levels()) == [
        "Threshold: no rule in the golden model",
        "Threshold: no emitter in the HLS backend",
        "Threshold: no kernel header list in the HLS kernel headers",
        "Threshold: no stage builder in the RTL backend",
        "Threshold: no Kind record in fpga_gen.kinds",
    ]


def test_a_level_without_a_handler_names_the_layer_and_level() -> None:
    layer = Input(name="x", output=TensorSpec((2,), every_kind().input.output.format))
    with pytest.raises(UnsupportedLayerError, match=r"layer x: the HLS backend has no emitter for Input layers"):
        Table[Any]("HLS backend", "emitter")[layer]
    with pytest.raises(FpgaGenError, match=r"the golden model already has a rule for Input layers"):
        RULES.register([Input], KIND_OF[Input].golden)


def test_what_every_kind_builds_works(tmp_path: Path) -> None:
    """One graph of every kind through every level: golden, HLS, RTL plan, Verilog, cost, cycles;
    each stage is of a class its kind declares."""
    graph = every_kind()
    x, _ = quantize_inputs(graph, random_inputs(0, graph, 3))
    assert evaluate_ints(graph, x).shape == (3, *graph.output.output.shape)
    hls = write_hls(graph, part="xc7z020clg400-1", clock_mhz=100.0, out=tmp_path / "hls")
    headers = (hls / "firmware" / "parameters.h").read_text()
    assert all(f'#include "fg/{h}"' in headers for kind in KINDS for h in kind.headers)
    hardware = plan(graph)
    for stage in hardware.stages:
        if stage.kind != "Fork":
            assert type(stage) in KIND_OF[type(stage.layer)].stages, stage.name
    assert set(estimate(hardware)) == {layer.name for layer in graph.layers[1:-1]}
    assert latency_cycles(hardware) > interval_cycles(hardware) > 0
    write_rtl(hardware, out=tmp_path / "rtl")
    assert (tmp_path / "rtl" / "manifest.json").is_file()


def test_input_and_output_pass_values_on(tmp_path: Path) -> None:
    spec = TensorSpec((3,), every_kind().input.output.format)
    graph = Graph((Input(name="i", output=spec), Output(name="o", inputs=("i",), output=spec)), name="wire")
    x = np.arange(6).reshape(2, 3)
    assert np.array_equal(evaluate_ints(graph, x), x)
    planner = Planner(graph, "wire_fg", 1)
    planner.run()
    assert [p["name"] for p in planner.procs] == []  # the top's adapters carry the stream
