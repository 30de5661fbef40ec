"""ScaleShift and Threshold: per-channel constants applied element by element.

ScaleShift (a batchnorm with no quantizer after it): ``x * scale[c] + shift[c]``, exact, then
the activation and one rounding; HLS hls/fg_scale_shift.h. Threshold (FINN's MultiThreshold):
the value indexed by how many of the channel's ascending thresholds ``x`` reaches; HLS
hls/fg_threshold.h. Both are rtl/fg_chan.v (MODE 0 and 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from fpga_gen.backends.hls.planner import Field, Planner, element_format, int_rows
from fpga_gen.backends.rtl import cost
from fpga_gen.backends.rtl.cost import Resources, signed_bits
from fpga_gen.backends.rtl.stages import (
    CONVERT_FILES,
    EXACT_FILES,
    ElementStage,
    Stage,
    Stream,
    check_beats,
    convert_to,
    exact_input_params,
    packed,
    stream_format,
)
from fpga_gen.boards.dsp import DspPrimitive
from fpga_gen.errors import UnsupportedLayerError
from fpga_gen.formats import Format
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.golden import finish, widen
from fpga_gen.ir import Graph, IntArray, ScaleShift, Threshold
from fpga_gen.kinds.kind import Kind

# -- golden ---------------------------------------------------------------------------------


def golden_scale_shift(layer: ScaleShift, srcs: list[IntArray], fmts: list[Format]) -> IntArray:
    x, fmt = srcs[0], fmts[0]
    acc_fmt = layer.accumulator(fmt)
    prod_frac = exact_fixed(fmt).frac + exact_fixed(layer.scale.format).frac
    shift_frac = exact_fixed(layer.shift.format).frac
    acc = widen(x, acc_fmt.width) * widen(layer.scale.ints, acc_fmt.width)
    acc = (acc << (acc_fmt.frac - prod_frac)) + (widen(layer.shift.ints, acc_fmt.width) << (acc_fmt.frac - shift_frac))
    return finish(layer.activation, layer, acc, acc_fmt.frac)


def golden_threshold(layer: Threshold, srcs: list[IntArray], fmts: list[Format]) -> IntArray:
    x, fmt = srcs[0], fmts[0]
    x_frac, t_frac = exact_fixed(fmt).frac, exact_fixed(layer.thresholds.format).frac
    top = max(x_frac, t_frac)
    bits = max(exact_fixed(fmt).width - x_frac, exact_fixed(layer.thresholds.format).width - t_frac) + top + 1
    xs = widen(x, bits) << (top - x_frac)
    ts = widen(layer.thresholds.ints, bits) << (top - t_frac)
    count = (xs[..., None] >= ts).sum(axis=-1)
    channel = np.arange(layer.output.shape[-1])
    values: IntArray = layer.values.ints[channel, count]
    return values


# -- HLS ------------------------------------------------------------------------------------


def emit_scale_shift(layer: ScaleShift, hls: Planner) -> None:
    hls.declare(layer)
    edge = hls.channels_edge(layer)
    acc = layer.accumulator(hls.formats[edge.tensor])
    channels = layer.output.shape[-1]
    fields: list[Field] = [("typedef", "accum_t", acc.cpp_type())]
    constants = []
    for what, title, tensor in (("scale", "scale factors", layer.scale), ("shift", "shifts", layer.shift)):
        fmt = element_format(layer, tensor.format, what)
        fields += [
            ("typedef", f"{what}_t", fmt.cpp_type()),
            ("typedef", f"{what}_store_t", f"fg::bits<{what}_t>::type"),
        ]
        rows = int_rows(layer, what, fmt, tensor.codes)
        constants.append(hls.constant(layer, title, what, fmt, f"{what}_store_t", [channels], rows))
    hls.elementwise(
        layer,
        edge,
        "scale_shift",
        f"{layer.name}: x * scale[c] + shift[c] over {channels} channels, exact in {acc}",
        [
            *fields,
            ("unsigned", "n", layer.output.size),
            ("unsigned", "channels", channels),
            ("unsigned", "pack", edge.pack),
            ("bool", "relu", layer.activation == "relu"),
        ],
        constants,
    )


def emit_threshold(layer: Threshold, hls: Planner) -> None:
    hls.declare(layer)
    if layer.levels == 0:
        raise UnsupportedLayerError(
            f"layer {layer.name}: a Threshold with no thresholds is a constant per channel; "
            "give at least one threshold per channel"
        )
    edge = hls.channels_edge(layer)
    t_fmt = element_format(layer, layer.thresholds.format, "threshold")
    channels, levels = layer.output.shape[-1], layer.levels
    t_rows = int_rows(layer, "threshold", t_fmt, layer.thresholds.codes)
    v_rows = int_rows(layer, "value", layer.values.format, layer.values.codes)
    thresholds = hls.constant(
        layer, "thresholds", "thresholds", t_fmt, "threshold_store_t", [channels, levels], t_rows
    )
    values = hls.constant(
        layer, "values", "values", layer.values.format, "value_store_t", [channels, levels + 1], v_rows
    )
    hls.elementwise(
        layer,
        edge,
        "threshold",
        f"{layer.name}: {levels} thresholds per channel over {channels} channels",
        [
            ("typedef", "threshold_t", t_fmt.cpp_type()),
            ("typedef", "threshold_store_t", "fg::bits<threshold_t>::type"),
            ("typedef", "value_store_t", "fg::bits<result_t>::type"),
            ("unsigned", "n", layer.output.size),
            ("unsigned", "channels", channels),
            ("unsigned", "pack", edge.pack),
            ("unsigned", "levels", levels),
        ],
        [thresholds, values],
    )


# -- RTL ------------------------------------------------------------------------------------


def rtl_stages(
    layer: ScaleShift | Threshold, srcs: tuple[Stream, ...], graph: Graph, dsp: DspPrimitive
) -> list[Stage]:
    (src,) = srcs
    check_beats(layer, src, layer.output.shape[-1], "channels")
    return [ChanStage(layer, src, Stream(stream_format(layer), src.n, src.elems))]


@dataclass(frozen=True)
class ChanStage(ElementStage):
    """fg_chan: a per-channel ScaleShift (exact, then one rounding) or Threshold (a table look-up)."""

    layer: ScaleShift | Threshold
    src: Stream
    dst: Stream
    module: ClassVar[str] = "fg_chan"

    @property
    def channels(self) -> int:
        return self.layer.output.shape[-1]

    def params(self) -> dict[str, Any]:
        common: dict[str, int | str] = {
            "N": self.src.n,
            "ELEMS": self.src.elems,
            "C": self.channels,
            **exact_input_params(self.src),
            "OUT_W": self.dst.width,
        }
        layer = self.layer
        x_frac = exact_fixed(self.src.fmt).frac
        if isinstance(layer, ScaleShift):
            acc = layer.accumulator(self.src.fmt)
            s_frac, shift_frac = exact_fixed(layer.scale.format).frac, exact_fixed(layer.shift.format).frac
            scales = [int(v) for v in layer.scale.ints.tolist()]
            s_bits = max(max(v.bit_length() for v in scales) + 1, 2)
            fin_bits = signed_bits(acc)
            shifts = [int(v) << (acc.frac - shift_frac) for v in layer.shift.ints.tolist()]
            convert = convert_to(layer, acc.frac, layer.activation).params()
            return (
                common
                | {
                    "MODE": 0,
                    "S_W": s_bits,
                    "P_SHIFT": acc.frac - x_frac - s_frac,
                    "FIN_W": fin_bits,
                    "SCALES": packed(scales, s_bits),
                    "SHIFTS": packed(shifts, fin_bits),
                }
                | {k: v for k, v in convert.items() if k != "OUT_W"}
            )
        t_frac = exact_fixed(layer.thresholds.format).frac
        top = max(x_frac, t_frac)
        thresholds = [int(v) << (top - t_frac) for v in layer.thresholds.ints.reshape(-1).tolist()]
        x_bits = signed_bits(exact_fixed(self.src.fmt)) + top - x_frac
        t_bits = max(x_bits, *(v.bit_length() + 1 for v in thresholds))
        return common | {
            "MODE": 1,
            "L": layer.levels,
            "T_W": t_bits,
            "X_SHIFT": top - x_frac,
            "THRESHOLDS": packed(thresholds, t_bits),
            "VALUES": packed([int(v) for v in layer.values.codes.reshape(-1).tolist()], self.dst.width),
        }

    def files(self) -> tuple[str, ...]:
        return (*CONVERT_FILES[self.dst.codes], *EXACT_FILES, "fg_out_reg.v", "fg_chan.v")

    def cost(self) -> Resources:
        """Per lane: the channel's constants selected from C/ELEMS groups, then a ScaleShift's
        X_W x S_W product in fabric and the shift's adder, or a Threshold's L comparisons and the
        value look-up."""
        params = self.params()
        lanes = self.src.elems
        groups = self.channels // lanes
        if params["MODE"] == 0:
            fin = int(params["FIN_W"])
            constants = int(params["S_W"]) + fin
            lane = Resources(
                lut=constants * cost.mux(groups) + cost.fabric_mult(int(params["X_W"]), int(params["S_W"])) + fin
            )
            lane += cost.convert(self.dst.fmt, fin)
        else:
            levels, t_w = int(params["L"]), int(params["T_W"])
            lane = Resources(lut=levels * t_w * (1 + cost.mux(groups)) + self.dst.width * cost.mux(levels + 1))
        lane += Resources(ff=self.dst.width)
        return lane.scaled(lanes) + cost.decode(self.src.fmt, lanes) + cost.control(self.src.beats, groups)


SCALE_SHIFT = Kind((ScaleShift,), golden_scale_shift, emit_scale_shift, ("fg_scale_shift.h",), rtl_stages, (ChanStage,))
THRESHOLD = Kind((Threshold,), golden_threshold, emit_threshold, ("fg_threshold.h",), rtl_stages, (ChanStage,))
