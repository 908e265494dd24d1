"""Helpers shared by the Keras tests (tiny models; Keras imported when called)."""

from __future__ import annotations

FEATURES = 8


def make_model(seed: int = 0, optimizer=None, built: bool = True):
    """A compiled two-layer classifier (90 weights) with accuracy as metric."""
    import keras

    keras.utils.set_random_seed(seed)
    layers = [keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)]
    model = keras.Sequential(([keras.Input((FEATURES,))] if built else []) + layers)
    model.compile(optimizer=optimizer or keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model
