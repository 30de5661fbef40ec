"""The intermediate representation: one Graph that every front-end produces and every backend reads."""

from fpga_gen.ir.builder import GraphBuilder
from fpga_gen.ir.graph import Graph, load
from fpga_gen.ir.layers import ACTIVATIONS, LAYER_KINDS, Activation, Dense, Fold, Input, Layer, Output
from fpga_gen.ir.tensor import Tensor, TensorSpec

__all__ = [
    "ACTIVATIONS",
    "LAYER_KINDS",
    "Activation",
    "Dense",
    "Fold",
    "Graph",
    "GraphBuilder",
    "Input",
    "Layer",
    "Output",
    "Tensor",
    "TensorSpec",
    "load",
]
