"""Small float Keras models trained on sklearn's digits (8x8 images, offline), seeded and fast.

Nothing is cached on disk: every call trains afresh (a few seconds), so tests that need a
saved model write it into their own tmp_path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from fpga_gen.frontends._tf import import_qkeras

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


@dataclass(frozen=True)
class Digits:
    """sklearn digits scaled to [0, 1], as (n, 8, 8, 1) images, split into train and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def digits(seed: int = 0) -> Digits:
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images / 16.0).astype(np.float64)[..., None]
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], data.target[order]
    cut = 1200
    return Digits(x[:cut], y[:cut], x[cut:], y[cut:])


def train_cnn(data: Digits, *, batchnorm: bool = False, epochs: int = 12, seed: int = 0) -> Any:
    """8x8x1 -> Conv2D(8, 3, same) [-> BatchNorm] -> ReLU -> MaxPool(2) -> Flatten -> Dense(10) (logits)."""
    tf_keras, _ = import_qkeras()
    layers = tf_keras.layers
    tf_keras.utils.set_random_seed(seed)
    body = [layers.Conv2D(8, 3, padding="same", name="conv")]
    if batchnorm:
        body.append(layers.BatchNormalization(name="bn"))
    body += [layers.ReLU(name="relu"), layers.MaxPooling2D(2, name="pool"), layers.Flatten(name="flatten")]
    model = tf_keras.Sequential(
        [tf_keras.Input((8, 8, 1)), *body, layers.Dense(10, name="logits")], name=f"cnn{int(batchnorm)}"
    )
    return _fit(tf_keras, model, data.x_train, data.y_train, epochs)


def train_mlp(data: Digits, *, epochs: int = 20, seed: int = 0) -> Any:
    """64 -> Dense(32, relu) -> Dropout -> Dense(10) (logits), on the flattened images."""
    tf_keras, _ = import_qkeras()
    layers = tf_keras.layers
    tf_keras.utils.set_random_seed(seed)
    model = tf_keras.Sequential(
        [
            tf_keras.Input((64,)),
            layers.Dense(32, activation="relu", name="hidden"),
            layers.Dropout(0.1, name="dropout"),
            layers.Dense(10, name="logits"),
        ],
        name="mlp",
    )
    return _fit(tf_keras, model, data.x_train.reshape(-1, 64), data.y_train, epochs)


def _fit(tf_keras: Any, model: Any, x: np.ndarray, y: np.ndarray, epochs: int) -> Any:
    model.compile(
        optimizer=tf_keras.optimizers.Adam(0.01),
        loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x.astype(np.float32), y, epochs=epochs, batch_size=64, verbose=0)
    return model


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(logits, axis=-1) == y))
