"""The line buffer rule both window generators follow (hls/fg_window.h, rtl/fg_window.v).

Input beats are numbered in stream order; output position p needs the beats up to ``thr[p]``
(its last real pixel) and nothing before ``free[p]`` (its first real pixel, or the next output
row's first row if lower), so a buffer of ``line_buffer_beats`` live beats lets the input run
ahead of the window without overwriting a pixel still to be read.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpga_gen.ir import WindowGeometry


def line_buffer_beats(g: WindowGeometry, groups: int, frames: int) -> int:
    """Live beats of the line buffer: (KH - 1) rows plus KW + SW pixels, SH more rows at a row
    stride >= 2 (they stream in while a row is emitted), at most ``frames`` whole frames."""
    extra = g.sh if g.sh > 1 else 0
    return min(((g.kh - 1 + extra) * g.w + g.kw + g.sw) * groups, frames * g.h * g.w * groups)


@dataclass(frozen=True)
class Marks:
    """Per output position (raster order): the beat count holding its last real pixel (``thr``),
    and the first beat it or a later position reads (``free``)."""

    thr: tuple[int, ...]
    free: tuple[int, ...]


def marks(g: WindowGeometry, groups: int) -> Marks:
    """The marks of every output position of ``g`` with ``groups`` beats per pixel."""

    def beat(y: int, x: int) -> int:  # the first beat of the nearest real pixel
        return (min(max(y, 0), g.h - 1) * g.w + min(max(x, 0), g.w - 1)) * groups

    thr: list[int] = []
    free: list[int] = []
    for oy in range(g.oh):
        y0 = oy * g.sh - g.pt
        for ox in range(g.ow):
            x0 = ox * g.sw - g.pl
            first, next_row = beat(y0, x0), beat(y0 + g.sh, 0)
            lower = oy < g.oh - 1 and y0 + g.sh <= g.h - 1 and next_row < first
            free.append(next_row if lower else first)
            thr.append(beat(y0 + g.kh - 1, x0 + g.kw - 1) + groups)
    return Marks(tuple(thr), tuple(free))


def loop_iterations(g: WindowGeometry, groups: int, words: int, rep: int = 1) -> int:
    """Iterations of hls/fg_window.h's loop for one sample (each window's words ``rep`` times over),
    the input always there and the output always taken: each iteration reads a beat while fewer than
    the limit are live and emits one of the position's beats once its last real pixel is in (read in
    the same iteration or before)."""
    m = marks(g, groups)
    frame = g.h * g.w * groups
    limit = line_buffer_beats(g, groups, 1)
    beats = g.taps * groups * rep // words
    read = pos = beat = iterations = 0
    while pos < len(m.thr) or read < frame:
        iterations += 1
        free = m.free[pos] if pos < len(m.thr) else read
        if read < frame and read - free < limit:
            read += 1
        if pos < len(m.thr) and read >= m.thr[pos]:
            beat += 1
            if beat == beats:
                beat, pos = 0, pos + 1
    return iterations
