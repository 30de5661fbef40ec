"""The exact cycle model of the generated RTL (one clock, input always valid, output always ready).

The stages of the DAG (``stages.Plan``) pass beats with valid/ready handshakes, and a
windowed stage couples its neighbours (a window generator waits for each window's last pixel, then
its dense engine may hold it back), so the model replays the handshakes cycle by cycle:
each stage below is the register-level control of its Verilog module, nothing more.
Per cycle, ``ready`` is found from the sink backwards (fg_act and fg_pool pass their
output's ready through, fg_dense and fg_window answer from their own registers), a beat
moves where valid and ready meet, then every stage takes its clock edge. Every valid
comes from a register, so one pass from the sink back to the source finds every ready,
also where an Add's ready depends on the valids of its other inputs.

* Dense (fg_dense): two input banks; a full bank issues ``NF * SF`` steps back to back
  (``NF = n_out / PE`` neuron folds, ``SF = n_in / SIMD`` synapse folds), from the cycle
  after its last beat was written; a step's partial dot product is ready ``DOT`` cycles
  after its issue, then passes the fabric accumulator (1) and the output register (1).
  Unstalled, the last beat of a vector in at cycle ``t`` gives its last beat out at
  ``t + NF*SF + DOT + 2``. ``DOT`` depends on the engine (``kinds.matmul.DenseStage.dot_latency``):

  ====================  ============  ==============================================
  engine                DOT           made of
  ====================  ============  ==============================================
  ``dsp_chain``         ``SIMD + 3``  operand register 1, systolic skew SIMD - 1,
                                      DSP AREG/MREG/PREG 3
  ``minifloat``         ``6``         operand register 1, DSP AREG/MREG/PREG 3,
                                      alignment shifter register 1, adder tree register 1
  ``multiplier_free``   ``2``         operand register 1, adder tree register 1
  ====================  ============  ==============================================

  The ternary / binary scale, the minifloat RNE normaliser and the minifloat input
  decode of the multiplier-free engine are combinational: they add no cycle. A
  convolution's engine runs this per output position (one window vector each).
* Activation (fg_act), ScaleShift / Threshold (fg_chan) and Pool (fg_pool): one
  register; fg_pool emits one beat per window's last tap.
* Window (fg_window): a line buffer of ``LIMIT`` live input beats. An output position
  issues its window beats (``words`` input beats each: a convolution's fold step) one per
  cycle from the cycle after its last real pixel was written, each leaving one cycle after
  its issue; the input is ready while fewer than ``LIMIT`` beats are written and not yet
  dead (before the first beat this position or a later one reads). Issue holds while the
  output beat is not accepted.
* Fork (fg_fork): a FIFO of a frame per reader; a beat enters all of them in the cycle
  every one has room, and is readable from the next.
* Add / Concatenate (fg_merge_in per input, then fg_merge): an input register holds a
  beat and hands it on in ``elems_in / elems_out`` pieces, taking the next beat in the
  cycle its last piece leaves; fg_merge's output register takes a piece of every input
  at once (Add), or a pixel's pieces of each input in turn (Concatenate).

Each stage hands the replay its model (``Stage.timing``). For chains of Dense and
Activation stages this gives, in closed form (the first input
beat accepted in cycle 0, ``B_in`` top input beats per vector):
``latency = (B_in - 1) + sum(stage latency)`` and ``interval = max(B_in, max(stage period))``.
"""

from __future__ import annotations

from fpga_gen.backends.rtl.stages import Plan
from fpga_gen.errors import UnsupportedLayerError

# Frames replayed to find the steady-state interval: the double buffers settle within two.
STEADY_FRAMES = 5


def output_cycles(p: Plan, frames: int) -> tuple[int, ...]:
    """Cycle of each frame's last output beat, counted from the first input beat, inputs back to back.

    Per cycle: every wire's valid from the registers, readies from the sink backwards (the
    stages are in topological order; each wire has one reader), then every clock edge.
    """
    nodes = [stage.timing() for stage in p.stages]
    drives = [stage.wires for stage in p.stages]
    to_send = frames * p.input.beats
    out_beats = p.output.beats
    # No frame takes longer than every stage working on it in turn: beyond that, a deadlock.
    limit = (frames + 2) * (p.input.beats + sum(s.period + s.latency for s in p.stages) + 1)
    ends: list[int] = []
    received = 0
    cycle = 0
    while len(ends) < frames:
        if cycle > limit:
            raise UnsupportedLayerError(
                f"graph {p.graph.name}: the cycle model finds no progress after {cycle} cycles (a deadlock of its "
                "branches): this generator bug must not happen; please report the graph"
            )
        valid = {p.input_wire: to_send > 0}
        for node, out in zip(nodes, drives, strict=True):
            valid.update(zip(out, node.valids(), strict=True))
        ready = {p.output_wire: True}  # the sink is always ready
        for node, srcs, out in zip(reversed(nodes), reversed(p.sources), reversed(drives), strict=True):
            ready.update(zip(srcs, node.readies([valid[w] for w in srcs], [ready[w] for w in out]), strict=True))
        if valid[p.input_wire] and ready[p.input_wire]:
            to_send -= 1
        if valid[p.output_wire]:
            received += 1
            if received % out_beats == 0:
                ends.append(cycle)
        for node, srcs, out in zip(nodes, p.sources, drives, strict=True):
            node.edge([valid[w] for w in srcs], [ready[w] for w in out])
        cycle += 1
    return tuple(ends)


def latency_cycles(p: Plan) -> int:
    """Cycles from the first input beat accepted to the last output beat of one inference."""
    return output_cycles(p, 1)[0]


def interval_cycles(p: Plan) -> int:
    """Cycles between successive inferences in steady state, inputs presented back to back."""
    ends = output_cycles(p, STEADY_FRAMES)
    return ends[-1] - ends[-2]
