"""The exact cycle model of the generated RTL (one clock, input always valid, output always ready).

Every stage of the chain (see ``plan``) hands a vector on when its last beat is accepted:

* a Dense stage (fg_dense) starts computing the cycle after the last beat of a vector has
  filled one of its two input banks, issues ``NF * SF`` steps back to back
  (``NF = n_out / PE`` neuron folds, ``SF = n_in / SIMD`` synapse folds), and the last
  step's partial dot product is ready ``DOT`` cycles after it issued, then passes the
  fabric accumulator (1) and the output register (1):
  ``latency = NF*SF + DOT + 2`` from last beat in to last beat out; ``period = NF*SF``.
  ``DOT`` depends on the engine (``plan.DenseStage.dot_latency``):

  ====================  ============  ==============================================
  engine                DOT           made of
  ====================  ============  ==============================================
  ``dsp_chain``         ``SIMD + 3``  operand register 1, systolic skew SIMD - 1,
                                      DSP AREG/MREG/PREG 3
  ``minifloat``         ``6``         operand register 1, DSP AREG/MREG/PREG 3,
                                      alignment shifter register 1, adder tree register 1
  ``multiplier_free``   ``2``         operand register 1, adder tree register 1
  ====================  ============  ==============================================

  so ``latency`` is ``NF*SF + SIMD + 5``, ``NF*SF + 8`` and ``NF*SF + 4``. The ternary /
  binary scale and the minifloat RNE normaliser are combinational between the
  accumulator and the output register, like fg_cast: they add no cycle. Likewise a
  ``multiplier_free`` layer on minifloat inputs decodes them to exact fixed point
  (fg_mf_decode, then ``v << e``) combinationally between the operand register and the
  adder tree register: ``DOT`` stays 2, whatever the input format.
* an Activation stage (fg_act) is one register: ``latency = 1``; ``period`` = its beats.

The first input beat is accepted in cycle 0 and the top input stream needs ``B_in`` beats
(``n_in / SIMD`` of the first Dense layer), so

    latency_cycles  = (B_in - 1) + sum(stage latency)
    interval_cycles = max(B_in, max(stage period))

The interval is exact because every stage double-buffers its input vector: a bank frees
the cycle after its last step issued, which is never later than the first result beat of
the next vector from upstream, so in steady state the slowest stage runs back to back and
no other stage ever stalls it.
"""

from __future__ import annotations

from fpga_gen.backends.rtl.plan import plan
from fpga_gen.ir import Graph


def latency_cycles(graph: Graph) -> int:
    """Cycles from the first input beat accepted to the last output beat of one inference."""
    p = plan(graph)
    return p.input.beats - 1 + sum(stage.latency for stage in p.stages)


def interval_cycles(graph: Graph) -> int:
    """Cycles between successive inferences in steady state, inputs presented back to back."""
    p = plan(graph)
    return max(p.input.beats, *(stage.period for stage in p.stages))
