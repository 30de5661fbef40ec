"""Choose PE x SIMD per matmul layer (dense or convolution): the fastest balanced schedule in a DSP budget.

A convolution whose formats fit four products in a slice (``DspPrimitive.quad_shift``, AMD WP521:
4-bit-class inputs and weights, PE even) may also be folded with two vectors per step
(``Fold.vectors = 2``): two output positions share each step's weights, so the layer takes
ceil(positions / 2) x SF x NF cycles on ceil(PE / 2) x SIMD slices, four MACs a slice a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from fpga_gen.boards.dsp import cascades, fabric_product, primitive
from fpga_gen.errors import ResourceError
from fpga_gen.formats import Binary, Format, Ternary
from fpga_gen.ir import Conv, Fold, Graph, Layer, MatMul


@dataclass(frozen=True)
class FoldConfig:
    """``max_dsp``: DSP slices the matmul engines may use (one per MAC lane).

    ``target_cycles``: cycles each layer may take per inference; None asks for the
    smallest target that fits ``max_dsp`` (the slowest layer sets the throughput, so
    every layer is folded to the same target rather than made as fast as possible).

    ``max_simd``: longest DSP cascade. A cascade runs up one DSP column; 16 keeps it
    inside the 20 DSP48E1 slices a 7-series clock region has per column (UG479), so
    placement and timing stay local.

    ``max_lanes``: PE x SIMD lanes over all layers. Multiplier-free (ternary/binary)
    layers cost no DSP, so this bounds their adder trees and every layer's input fabric.

    ``dsp_kind``: the board's DSP primitive. A fixed-point layer whose formats allow it in
    that primitive's pre-adder (27 bits on DSP48E2, 25 on DSP48E1) runs two PE rows per
    slice (``DspPrimitive.pack_shift``), so it is budgeted at ceil(pe / 2) * simd slices;
    otherwise every lane is a slice. A convolution whose formats allow four products per slice
    (``DspPrimitive.quad_shift``) may also run two output positions per step (``Fold.vectors``)
    on those ceil(pe / 2) * simd slices, in half the cycles.
    """

    max_dsp: int
    target_cycles: int | None = None
    max_simd: int = 16
    max_lanes: int = 512
    dsp_kind: str = "DSP48E1"

    def __post_init__(self) -> None:
        if min(self.max_dsp, self.max_simd, self.max_lanes, self.target_cycles or 1) < 1:
            raise ResourceError(
                f"fold config max_dsp={self.max_dsp} target_cycles={self.target_cycles} "
                f"max_simd={self.max_simd} max_lanes={self.max_lanes}: all must be >= 1"
            )
        primitive(self.dsp_kind)  # raises BoardError naming the primitives there are


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def fold_candidates(
    layer: MatMul, max_simd: int, x_fmt: Format | None = None, dsp_kind: str | None = None
) -> list[Fold]:
    """Every fold with PE dividing n_out and SIMD dividing n_in, SIMD at most ``max_simd``; given the
    layer's input format and the DSP primitive, also each of them with two vectors per step where
    ``quad_shift`` allows it (four products per slice)."""
    folds = [Fold(pe, simd) for pe in _divisors(layer.n_out) for simd in _divisors(layer.n_in) if simd <= max_simd]
    if x_fmt is None or dsp_kind is None:
        return folds
    return folds + [replace(f, vectors=2) for f in folds if quad_shift(layer, f, x_fmt, dsp_kind) is not None]


def engine_cycles(layer: MatMul, f: Fold) -> int:
    """Engine cycles per sample: every output position repeats the folded matrix-vector product, two
    positions at once with ``f.vectors = 2`` (an odd last one with an idle partner)."""
    return -(-layer.positions // f.vectors) * (layer.n_in // f.simd) * (layer.n_out // f.pe)


def quad_shift(layer: MatMul, f: Fold, x_fmt: Format, dsp_kind: str) -> int | None:
    """The field width K of ``f`` run with two vectors per step on ``dsp_kind`` slices (four products
    per slice, ``DspPrimitive.quad_shift``): only a convolution's positions share their weights, so
    a Dense or depthwise layer, or a single position, never; nor a fold of one step per vector (a
    pair's two windows arrive at most a step's SIMD elements per cycle, so they take two steps at
    least); None where it does not pack."""
    if not isinstance(layer, Conv) or layer.depthwise or layer.positions < 2:
        return None
    if (layer.n_in // f.simd) * (layer.n_out // f.pe) < 2:
        return None
    return primitive(dsp_kind).quad_shift(x_fmt, layer.weight.format, f.pe, f.simd)


def dsp_count(layer: MatMul, fold: Fold, x_fmt: Format, dsp_kind: str = "DSP48E1") -> int:
    """DSP slices of a folded layer reading inputs of ``x_fmt`` on ``dsp_kind`` slices: one per
    lane, one per two lanes when two PE rows share the slices (an odd last row has its own), none
    when the weights need no multiplier or the significands are multiplied in fabric (the RTL
    plan's ``DenseStage.dsp``); a depthwise layer's lanes read other channels, so pack none
    (``VvauStage.dsp``). A fold of two vectors takes the slices of two rows per cascade (each slice
    computing four products)."""
    if isinstance(layer.weight.format, Ternary | Binary) or fabric_product(x_fmt, layer.weight.format):
        return 0
    if isinstance(layer, Conv) and layer.depthwise:
        return fold.pe * fold.simd
    pair = primitive(dsp_kind).pack_shift(x_fmt, layer.weight.format, fold.pe, fold.simd)
    packed = fold.vectors > 1 or pair is not None
    return cascades(fold.pe, packed) * fold.simd


def _cheapest(layer: MatMul, x_fmt: Format, target: int, config: FoldConfig) -> Fold | None:
    """Fewest DSPs, then lanes, meeting ``target`` cycles; ties go to the faster fold, then longer chains."""
    candidates = fold_candidates(layer, config.max_simd, x_fmt, config.dsp_kind)
    ok = [f for f in candidates if engine_cycles(layer, f) <= target]

    def cost(f: Fold) -> tuple[int, int, int, int]:
        return dsp_count(layer, f, x_fmt, config.dsp_kind), f.pe * f.simd, engine_cycles(layer, f), f.pe

    return min(ok, key=cost, default=None)


def fold(graph: Graph, config: FoldConfig) -> Graph:
    matmuls = [l for l in graph.layers if isinstance(l, MatMul)]
    if not matmuls:
        return graph
    x_fmts = {l.name: graph.input_spec(l).format for l in matmuls}
    if config.target_cycles is not None:
        targets = [config.target_cycles]
    else:
        targets = sorted(
            {
                engine_cycles(l, f)
                for l in matmuls
                for f in fold_candidates(l, config.max_simd, x_fmts[l.name], config.dsp_kind)
            }
        )
    for target in targets:
        choice = {l.name: _cheapest(l, x_fmts[l.name], target, config) for l in matmuls}
        folds = {name: f for name, f in choice.items() if f is not None}
        if (
            len(folds) == len(matmuls)
            and sum(dsp_count(l, folds[l.name], x_fmts[l.name], config.dsp_kind) for l in matmuls) <= config.max_dsp
            and sum(f.pe * f.simd for f in folds.values()) <= config.max_lanes
        ):
            return graph.with_layers(tuple(_with_fold(l, folds) for l in graph.layers))
    raise ResourceError(
        f"graph {graph.name}: no folding fits {config.max_dsp} DSPs and {config.max_lanes} lanes"
        + (f" at {config.target_cycles} cycles per layer" if config.target_cycles else "")
        + f"; the slowest schedule (PE=SIMD=1 everywhere) needs {len(matmuls)} DSPs and "
        f"{max(l.positions * l.n_in * l.n_out for l in matmuls)} cycles per layer: raise the cycle target "
        "or use a board with more DSPs"
    )


def _with_fold(layer: Layer, folds: dict[str, Fold]) -> Layer:
    return replace(layer, fold=folds[layer.name]) if isinstance(layer, MatMul) else layer
