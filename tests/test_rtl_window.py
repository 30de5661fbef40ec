"""fg_window alone, many geometries in one Verilator build: every output beat against the
golden windows (``fpga_gen.golden.windows``, bit-exact, padded taps zero and flagged) and
its cycle against the cycle model (``handshake.WindowGenerator``), under random input and output
pauses. 1-D and 2-D, kernels up to 5, strides 1-3, pads up to k-1 on both sides, several
channels and beats of several elements, every tap order (blocks of channel groups, repeated
for a depthwise engine), several frames back to back.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest

from fpga_gen.backends.rtl import plan, verilator
from fpga_gen.backends.rtl.handshake import WindowGenerator
from fpga_gen.backends.rtl.stages import WindowStage
from fpga_gen.backends.rtl.writer import HEADERS
from fpga_gen.golden import windows
from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.templating import render
from fpga_gen.toolpaths import package_dir

FRAMES = 3
BITS = 8  # element width: ufixed<8,8> mantissas 0..255

# (input shape, elements per input beat, window, strides, (before, after) pads, pooling (its padded-tap
# flag, blocks of one channel group), words per output beat, (channel groups per block, repetitions):
# (0, 1) is the stage's own choice)
Geometry = tuple[
    tuple[int, ...], int, tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...], bool, int, tuple[int, int]
]
GEOMETRIES: list[Geometry] = [
    ((5, 6, 2), 1, (3, 3), (1, 1), ((1, 1), (1, 1)), False, 1, (0, 1)),  # 'same'
    ((6, 5, 4), 2, (3, 3), (2, 2), ((0, 1), (1, 1)), True, 1, (0, 1)),  # asymmetric 'same', stride 2
    ((7, 7, 1), 1, (5, 5), (1, 1), ((4, 4), (4, 4)), False, 1, (0, 1)),  # full padding k-1 both sides
    ((7, 8, 3), 3, (5, 3), (3, 2), ((0, 2), (2, 0)), True, 1, (0, 1)),  # mixed, one beat per pixel
    ((6, 6, 2), 1, (2, 2), (2, 2), ((0, 0), (0, 0)), True, 1, (0, 1)),  # 'valid', strides = window
    ((4, 9, 4), 2, (1, 1), (1, 3), ((0, 0), (0, 0)), False, 1, (0, 1)),  # pointwise, stride beyond the kernel
    ((5, 5, 2), 2, (5, 5), (1, 1), ((0, 0), (0, 0)), False, 1, (0, 1)),  # window = the whole input
    ((12, 3), 1, (3,), (2,), ((0, 0),), False, 1, (0, 1)),  # 1-D 'valid' stride 2, unused last pixel
    ((10, 4), 2, (5,), (1,), ((2, 2),), True, 1, (0, 1)),  # 1-D 'same'
    ((9, 2), 2, (4,), (3,), ((3, 1),), False, 1, (0, 1)),  # 1-D, pads k-1 and 1
    # several words per beat: a convolution's fold step
    ((8, 8, 1), 1, (3, 3), (1, 1), ((1, 1), (1, 1)), False, 9, (0, 1)),  # the whole 'same' window per beat
    ((6, 7, 4), 2, (3, 3), (2, 2), ((1, 1), (1, 1)), False, 6, (0, 1)),  # three taps per beat, stride 2
    ((7, 6, 4), 1, (3, 3), (1, 2), ((0, 2), (2, 0)), False, 2, (0, 1)),  # half a pixel per beat
    ((6, 5, 3), 1, (3, 3), (2, 1), ((1, 0), (0, 1)), False, 9, (0, 1)),  # three taps, across a tap row
    ((6, 6, 4), 2, (2, 2), (2, 2), ((0, 0), (0, 0)), True, 2, (0, 1)),  # pooling order, two taps
    ((11, 2), 2, (3,), (2,), ((1, 1),), False, 3, (0, 1)),  # 1-D, the whole window per beat
    # depthwise: blocks of channel groups, each repeated for the neuron folds that read it
    ((6, 6, 8), 2, (3, 3), (1, 1), ((1, 1), (1, 1)), False, 6, (2, 1)),  # three taps of two groups per beat
    ((5, 7, 4), 2, (3, 3), (2, 1), ((1, 1), (0, 2)), False, 3, (1, 2)),  # three taps, each block twice
    ((9, 6), 3, (3,), (1,), ((1, 1),), False, 3, (2, 3)),  # 1-D, a whole block per beat, three times
]


def _stage(k: int) -> WindowStage:
    shape, elems, window, strides, padding, pool, words, (block, rep) = GEOMETRIES[k]
    b = GraphBuilder(f"win{k}", shape, f"ufixed<{BITS},{BITS}>")
    b.pool("max", window, strides=strides, padding=padding)
    stage = plan(b.build()).stages[0]
    assert isinstance(stage, WindowStage)
    groups = shape[-1] // elems
    return dataclasses.replace(
        stage,
        src=dataclasses.replace(stage.src, elems=elems),
        dst=dataclasses.replace(stage.dst, n=stage.dst.n * rep, elems=elems * words),
        pool=pool,
        words=words,
        block=block or (1 if pool else groups),
        rep=rep,
    )


def _expected(k: int, x: np.ndarray) -> tuple[list[int], list[int]]:
    """Golden beats (data, pad flags) of every frame, in fg_window's tap order."""
    stage = _stage(k)
    _, elems, window, strides, padding, _, words, _ = GEOMETRIES[k]
    win, mask = windows(x, window, strides, padding)
    if len(window) == 1:  # as a 2-D input of one row
        win, mask = win[:, None, :, None], mask[None, :, None]
    n, oh, ow, kh, kw, c = win.shape
    block, blocks = stage.block, c // elems // stage.block
    win = win.reshape(n, oh, ow, kh, kw, blocks, block, elems)
    pads = np.broadcast_to(~mask[None, :, :, :, :, None, None], (n, oh, ow, kh, kw, blocks, block))
    # (block, repetition, tap row, tap col, group in the block)
    win = np.repeat(win.transpose(0, 1, 2, 5, 3, 4, 6, 7)[:, :, :, :, None], stage.rep, axis=4)
    pads = np.repeat(pads.transpose(0, 1, 2, 5, 3, 4, 6)[:, :, :, :, None], stage.rep, axis=4)
    lanes = elems * words
    data = (win.reshape(-1, lanes).astype(object) << (BITS * np.arange(lanes))).sum(axis=1)
    flags = (pads.reshape(-1, words).astype(np.int64) << np.arange(words)).sum(axis=1)
    return [int(w) for w in data], [int(p) for p in flags]


def _model_cycles(stage: WindowStage, beats: int, valid: list[bool], ready: list[bool]) -> list[int]:
    """The cycle model's output-beat cycles under the same input and output patterns."""
    model, sent, cycles = WindowGenerator(stage.geometry, stage.groups, stage.words, stage.rep), 0, []
    for cycle, (v, r) in enumerate(zip(valid, ready, strict=True)):
        s_valid = v and sent < beats
        if s_valid and model.ready(r):
            sent += 1
        if model.out_valid and r:
            cycles.append(cycle)
        model.clock(s_valid, r)
    return cycles


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Per unit: the stage, inputs, patterns, and what the bench emitted. Units come in pairs
    per geometry: one with input and output always ready, one with random pauses."""
    work = tmp_path_factory.mktemp("window")
    rng = np.random.default_rng(11)
    units: dict[str, dict[str, Any]] = {}
    for k, (shape, elems, *_) in enumerate(GEOMETRIES):
        stage = _stage(k)
        x = rng.integers(0, 2**BITS, size=(FRAMES, *shape))
        beats = (x.reshape(-1, elems).astype(np.int64) << (BITS * np.arange(elems))).sum(axis=1)
        for paused in (False, True):
            units[f"u{k}{'p' if paused else 'f'}"] = {
                "stage": stage,
                "x": x,
                "beats": [int(b) for b in beats],
                "paused": paused,
            }
    cycles = max(len(u["beats"]) + FRAMES * u["stage"].dst.beats for u in units.values()) * 3
    for u in units.values():
        p = 0.3 if u["paused"] else 0.0
        u["valid"] = [bool(v) for v in rng.random(cycles) >= p]
        u["ready"] = [bool(v) for v in rng.random(cycles) >= p]
    benches = [
        {
            "port": p,
            "bits": u["stage"].src.data_bits,
            "out_bits": u["stage"].dst.data_bits,
            "words": u["stage"].words,
            "params": u["stage"].params(),
        }
        for p, u in units.items()
    ]
    rendered = render("rtl", "window_bench.v.j2", {"units": benches})
    source = work / "fg_window_bench.v"
    source.write_text(rendered)
    sources = [source, *(package_dir("rtl") / name for name in ("fg_window.v", *HEADERS))]
    lint = verilator.lint(sources, "fg_window_bench")
    build = verilator.build(sources, "fg_window_bench")
    config = {
        "cycles": cycles,
        "units": {port: {key: u[key] for key in ("beats", "valid", "ready")} for port, u in units.items()},
        "results": str(work / "window.json"),
    }
    (work / "window_cfg.json").write_text(json.dumps(config))
    verilator.run(build, "fg_window_bench", "fg_window_tb", {"FG_WINDOW_CONFIG": str(work / "window_cfg.json")}, work)
    out = json.loads((work / "window.json").read_text())
    return {"units": units, "out": out, "lint": lint}


@pytest.mark.slow
@pytest.mark.xdist_group("rtl_window")
def test_bench_is_lint_clean(bench: dict[str, Any]) -> None:
    assert bench["lint"] == ""


@pytest.mark.slow
@pytest.mark.xdist_group("rtl_window")
@pytest.mark.parametrize("port", [f"u{k}{m}" for k in range(len(GEOMETRIES)) for m in "fp"])
def test_windows_and_cycles(port: str, bench: dict[str, Any]) -> None:
    u, out = bench["units"][port], bench["out"][port]
    k = int(port[1:-1])
    data, pads = _expected(k, u["x"])
    assert len(out) == len(data)  # every frame's windows, and nothing more
    assert [row[1] for row in out] == data
    assert [row[2] for row in out] == pads
    assert [row[0] for row in out] == _model_cycles(u["stage"], len(u["beats"]), u["valid"], u["ready"])


def test_line_buffer_is_smaller_than_a_frame() -> None:
    """A 28x28x8 input, 3x3 'same', one element per beat: 2 lines + 4 pixels, not 2 frames."""
    b = GraphBuilder("mnist", (28, 28, 8), f"ufixed<{BITS},{BITS}>")
    b.pool("max", 3, strides=1, padding="same")
    stage = plan(b.build()).stages[0]
    assert isinstance(stage, WindowStage)
    stage = dataclasses.replace(stage, src=dataclasses.replace(stage.src, elems=1))
    assert stage.limit == WindowGenerator(stage.geometry, stage.groups, 1).limit == (2 * 28 + 3 + 1) * 8 < 28 * 28 * 8
