"""Issue 5 end to end: real models in, the same numbers out of golden, csim and cosim.

A float Keras CNN quantized with ``fpga_gen.quantize`` (to e4m3 and to fixed<8,3>) and a
functional QKeras CNN (batchnorm thresholds, a branch and an Add) are built for pynq-z2;
the generated HLS C++ and Verilog reproduce the golden model bit for bit and the RTL takes
exactly the scheduled cycles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import ptq_models
import pytest
import qkeras_models

import fpga_gen
from fpga_gen.ir import Graph

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("end_to_end")]
SAMPLES = 120


@pytest.fixture(scope="module")
def digits() -> ptq_models.Digits:
    return ptq_models.digits()


@pytest.fixture(scope="module")
def float_cnn(digits: ptq_models.Digits) -> Any:
    return ptq_models.train_cnn(digits, batchnorm=True)


def _assert_hardware_exact(graph: Graph, x: np.ndarray[Any, Any], out: Path) -> None:
    project = fpga_gen.build(graph, board="pynq-z2", out=out)
    golden = graph.predict(x)
    assert len(np.unique(golden)) > 20  # the outputs really vary
    assert np.array_equal(project.csim(x), golden)
    y_rtl, run = project.cosim(x, report=True)
    assert np.array_equal(y_rtl, golden)
    report = project.report()
    assert (run.latency_cycles, run.interval_cycles) == (report["latency_cycles"], report["interval_cycles"])
    assert report["totals"]["fits"] and report["totals"]["need"]["dsp"] <= report["totals"]["have"]["dsp"]


@pytest.mark.parametrize("weights", ["e4m3", "fixed<8,3,RND_CONV,SAT>"])
def test_quantized_float_cnn_is_bit_exact_in_hardware(
    weights: str, digits: ptq_models.Digits, float_cnn: Any, tmp_path: Path
) -> None:
    graph = fpga_gen.quantize(
        float_cnn, weights=weights, activations="fixed<8,3,RND_CONV,SAT>", calibration=digits.x_train[:400]
    )
    float_accuracy = ptq_models.accuracy(float_cnn.predict(digits.x_test, verbose=0), digits.y_test)
    assert ptq_models.accuracy(graph.predict(digits.x_test), digits.y_test) > float_accuracy - 0.03
    _assert_hardware_exact(graph, digits.x_test[:SAMPLES], tmp_path / "cnn")


def test_functional_qkeras_cnn_is_bit_exact_everywhere(tmp_path: Path) -> None:
    model = qkeras_models.functional_cnn(0)
    graph = fpga_gen.from_qkeras(model)
    x = qkeras_models.inputs_for(model, SAMPLES, seed=1)
    assert np.array_equal(graph.predict(x), model.predict(x, verbose=0).astype(np.float64))
    _assert_hardware_exact(graph, x, tmp_path / "functional")
