"""Set-ups the test modules share: the environment TensorFlow needs, TensorFlow itself, one built
project per board for the flow scripts, and the Verilator lint of a generated RTL directory."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from graphs import random_cnn

import fpga_gen
from fpga_gen.backends.rtl import verilator
from fpga_gen.backends.rtl.cosim import read_manifest, simulation_sources

# Before any test module imports TensorFlow / QKeras (the Makefile exports the same).
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# One board of each flow and DSP kind: Zynq-7000 (DSP48E1), Zynq UltraScale+ MPSoC (two), Alveo.
FLOW_BOARDS = ("pynq-z2", "kv260", "zcu104", "alveo-u55c")


@pytest.fixture(scope="session")
def tf() -> ModuleType:
    """TensorFlow, imported once (seconds) for the tests that use it as an oracle."""
    return importlib.import_module("tensorflow")


@pytest.fixture(scope="session", params=FLOW_BOARDS)
def board_project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> fpga_gen.Project:
    """A small CNN built for each board of ``FLOW_BOARDS``: every script of its flows written."""
    name: str = request.param
    return fpga_gen.build(random_cnn(7), name, out=tmp_path_factory.mktemp("projects") / name)


@pytest.fixture(scope="session")
def rtl_lint() -> Callable[[Path], str]:
    """Verilator -Wall of a directory written by write_rtl (its design and primitive models): '' when clean."""

    def lint(rtl: Path) -> str:
        manifest = read_manifest(rtl)
        return verilator.lint(simulation_sources(rtl, manifest), manifest["top"])

    return lint
