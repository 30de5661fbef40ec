"""The one walk over a tf_keras model that both Keras front-ends read: layers in topological
order, each with the layers it reads inside that model.

tf_keras has no public API for a layer's sources: a layer keeps every call in
``_inbound_nodes`` (a layer reused by another model has more), and the model lists the
keys of its own nodes, so only the node of this model is followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fpga_gen.errors import UnsupportedLayerError


@dataclass(frozen=True)
class KerasGraph:
    """``layers``: the model's InputLayer, then its layers in topological order (the model's own);
    ``sources``: Keras layer name -> the names of the layers it reads, in call order."""

    model: Any
    layers: tuple[Any, ...]
    sources: dict[str, tuple[str, ...]]

    @property
    def input_layer(self) -> Any:
        return self.layers[0]

    def readers(self, name: str) -> list[Any]:
        """The layers that read layer ``name``'s output."""
        return [layer for layer in self.layers if name in self.sources[layer.name]]


def keras_graph(model: Any) -> KerasGraph:
    """Walk a built, one-input, one-output Sequential or functional tf_keras model."""
    if not getattr(model, "inputs", None):
        raise UnsupportedLayerError(f"model {model.name} is not built; start it with a keras Input layer")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise UnsupportedLayerError(
            f"model {model.name} has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
            "one of each is supported"
        )
    from tf_keras.src.engine.functional import _make_node_key

    layers = (*model._input_layers, *model.layers)
    sources: dict[str, tuple[str, ...]] = {}
    for klayer in layers:
        nodes = [
            n for i, n in enumerate(klayer._inbound_nodes) if _make_node_key(klayer.name, i) in model._network_nodes
        ]
        if len(nodes) != 1:
            raise UnsupportedLayerError(
                f"layer {klayer.name} is called {len(nodes)} times in model {model.name}; "
                "a layer shared between several calls is not supported: give each call its own layer"
            )
        sources[klayer.name] = tuple(src.name for src, _, _, _ in nodes[0].iterate_inbound())
    # model.layers of a functional model holds its InputLayer too: keep it once, first
    unique = tuple(dict.fromkeys(layers))
    return KerasGraph(model, unique, sources)
