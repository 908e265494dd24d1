"""Keras 3 / TensorFlow integration: spec (``autolog``), hooks, callback, extraction, checkpoints and the
model flavor (``flavor``). Only ``hooks``, ``callback`` and what they call import Keras, and only once
the user has imported it."""
