"""Golden model vs an independent exact reference built on fractions.Fraction."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from graphs import random_inputs, random_mlp

from fpga_gen.formats import Format
from fpga_gen.formats.sizing import exact_fixed
from fpga_gen.ir import Activation, Dense, Graph, Input, Output


def reference(graph: Graph, x: np.ndarray) -> np.ndarray:
    """One sample at a time in exact rationals; each layer output rounded once by ``_round``."""
    out = []
    for row in x:
        values: dict[str, list[Fraction]] = {}
        for layer in graph.layers:
            if isinstance(layer, Input):
                values[layer.name] = [Fraction(float(v)) for v in layer.output.format.quantize(row)]
                continue
            src = values[layer.inputs[0]]
            if isinstance(layer, Dense):
                w, b = layer.weight.values, layer.bias.values if layer.bias is not None else None
                acc = [
                    sum((src[i] * Fraction(float(w[i, j])) for i in range(layer.n_in)), Fraction(0))
                    for j in range(layer.n_out)
                ]
                if b is not None:
                    acc = [a + Fraction(float(bj)) for a, bj in zip(acc, b, strict=True)]
                function = layer.activation
            elif isinstance(layer, Activation):
                acc, function = src, layer.function
            else:
                assert isinstance(layer, Output)
                values[layer.name] = src
                continue
            if function == "relu":
                acc = [max(a, Fraction(0)) for a in acc]
            values[layer.name] = [_round(layer.output.format, a) for a in acc]
        out.append([float(v) for v in values[graph.output.name]])
    return np.array(out)


def _round(fmt: Format, value: Fraction) -> Fraction:
    """Round an exact dyadic rational once: through quantize when float64 holds it, else cast_int."""
    if Fraction(float(value)) == value:
        return Fraction(float(fmt.quantize(np.array([float(value)]))[0]))
    frac = value.denominator.bit_length() - 1  # dyadic: the denominator is 2**frac
    n = fmt.cast_int(np.array([value.numerator], dtype=object), frac)[0]
    grid = exact_fixed(fmt).frac
    return Fraction(int(n), 2**grid) if grid >= 0 else Fraction(int(n) * 2**-grid)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"relu": False, "act_format": "fixed<7,2,RND,SAT_SYM>"},
        {"bias_format": None, "input_format": "ufixed<6,2>", "last_format": "fixed<6,4,RND_INF,WRAP>"},
        {"weight_format": "fixed<3,3>", "act_format": "ufixed<5,1,TRN_ZERO,SAT_ZERO>", "bias_format": "fixed<12,-2>"},
    ],
)
def test_golden_matches_exact_reference(kwargs: dict[str, object]) -> None:
    graph = random_mlp(7, (9, 7, 5, 3), **kwargs)  # type: ignore[arg-type]
    x = random_inputs(1, graph, 40)
    assert np.array_equal(graph.predict(x), reference(graph, x))


def test_wide_accumulators_use_exact_integers() -> None:
    # 40-bit weights x 30-bit inputs over 64 inputs: the accumulator needs ~76 bits.
    graph = random_mlp(
        8,
        (64, 3),
        input_format="fixed<30,10>",
        weight_format="fixed<40,20>",
        bias_format="fixed<40,30>",
        last_format="fixed<24,12,RND_CONV,SAT>",
    )
    x = random_inputs(2, graph, 10)
    assert np.array_equal(graph.predict(x), reference(graph, x))


def test_report_counts_unrepresentable_inputs() -> None:
    graph = random_mlp(9, (4, 2), input_format="fixed<8,3>")
    x = np.array([[0.5, 0.25, 1.0, -2.0], [0.1, 0.5, 0.5, 0.5]])
    y, rep = graph.predict(x, report=True)
    assert rep.samples == 2 and rep.inputs_not_representable == 1
    assert np.array_equal(y, graph.predict(x))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weight_format": "e4m3", "bias_format": "fixed<8,3>", "act_format": "ufixed<8,3,RND_CONV,SAT>"},
        {
            "input_format": "e2m1",
            "weight_format": "e2m1",
            "bias_format": "e2m1",
            "act_format": "e2m1",
            "last_format": "e2m1",
        },
        {"weight_format": "ternary<0.25>", "bias_format": None, "act_format": "fixed<8,3,RND_CONV,SAT>"},
        {
            "input_format": "e5m2",
            "weight_format": "e5m2",
            "bias_format": "e5m2",
            "act_format": "e5m2",
            "last_format": "e5m2",
        },
        {"input_format": "e3m2", "weight_format": "binary<0.5>", "act_format": "e2m3", "bias_format": "fixed<6,2>"},
    ],
)
def test_golden_mixed_formats_match_exact_reference(kwargs: dict[str, object]) -> None:
    graph = random_mlp(11, (12, 8, 5), **kwargs)  # type: ignore[arg-type]
    x = random_inputs(4, graph, 60)
    assert np.array_equal(graph.predict(x), reference(graph, x))
