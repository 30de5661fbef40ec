"""The one place TensorFlow / QKeras are imported: lazily, with the environment they need."""

from __future__ import annotations

import os
from types import ModuleType


def import_qkeras() -> tuple[ModuleType, ModuleType]:
    """Return (tf_keras, qkeras). QKeras 0.9 needs the legacy Keras 2 API (tf-keras)."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import qkeras
    import tf_keras

    return tf_keras, qkeras
