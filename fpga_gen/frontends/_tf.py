"""The one place TensorFlow / QKeras are imported: lazily, with the environment they need."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """TensorFlow's C++ start-up lines (absl logs written before absl is initialised) ignore
    TF_CPP_MIN_LOG_LEVEL; send file descriptor 2 to /dev/null while it loads. Python-level
    errors are raised after the descriptor is restored, so they still show."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_qkeras() -> tuple[ModuleType, ModuleType]:
    """Return (tf_keras, qkeras). QKeras 0.9 needs the legacy Keras 2 API (tf-keras)."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "qkeras" not in sys.modules:
        with _quiet_native_stderr():
            import tensorflow  # noqa: F401  (loaded here so its native start-up is silenced)
    import qkeras
    import tf_keras

    return tf_keras, qkeras
