"""The Keras callback autotrack adds to an autologged ``fit`` (a copy of the user's list plus this one).

It only reads what Keras already hands every callback: the epoch ``logs`` (the very dict ``History``
records, already turned into Python floats by Keras's ``CallbackList``) and the per-batch ``logs``.
Per-batch values are kept in a list and queued once per epoch; nothing here writes to a store, and
nothing reads a tensor on the training path except what Keras reads anyway. Every public method is
guarded by the engine (:meth:`autotrack.core.Patcher.guard_methods`): an error here becomes one
warning and training goes on.

This module imports Keras; it is imported only from a ``fit`` hook, once Keras is loaded.
"""

from __future__ import annotations

import time
from typing import Any

import keras

LEARNING_RATE = "learning_rate"
#: per-batch values are logged as ``batch_<name>`` (Keras's TensorBoard callback names them so too):
#: the plain names hold the epoch values, equal to ``History.history``
BATCH_PREFIX = "batch_"


def _now_ms() -> int:
    return int(time.time() * 1000)


def scalar(value: Any) -> float:
    """A backend variable or tensor as a Python float (``Variable.numpy()`` where it has one: numpy's
    ``__array__`` path for variables is deprecated)."""
    if isinstance(value, keras.Variable):
        return float(value.numpy())
    return float(keras.ops.convert_to_numpy(value))


class AutotrackCallback(keras.callbacks.Callback):
    """Epoch metrics at step = epoch, the learning rate when it changes, checkpoints.

    ``sink(metrics, step, timestamp)`` queues a dict of metrics; ``checkpoints`` and ``user_files``
    (optional) are called at the end of every epoch and of training.
    """

    # Keras runs batch-end callbacks on a thread pool unless a callback overrides them and is not
    # declared thread-safe. This one only appends to a list, so it never turns that off.
    async_safe = True

    def __init__(self, sink: Any, *, log_every_epoch: bool = True, checkpoints: Any = None,
                 user_files: Any = None) -> None:
        super().__init__()
        self._sink = sink
        self._log_every_epoch = log_every_epoch
        self._checkpoints = checkpoints
        self._user_files = user_files
        self._last_lr: float | None = None
        self.epochs_logged: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        timestamp = _now_ms()
        logs = logs or {}
        if self._log_every_epoch and logs:
            self._sink(logs, epoch, timestamp)
            self.epochs_logged.append(epoch)
        if self._log_every_epoch and LEARNING_RATE not in logs:
            self._log_learning_rate(epoch, timestamp)
        if self._checkpoints is not None:
            self._checkpoints.on_epoch_end(self.model, epoch, logs)
        if self._user_files is not None:
            self._user_files.scan()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._user_files is not None:
            self._user_files.scan()

    def _log_learning_rate(self, epoch: int, timestamp: int) -> None:
        # Read once per epoch, after Keras has already synchronised to hand out the epoch's logs.
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "learning_rate"):
            return
        value = scalar(optimizer.learning_rate)
        if value != self._last_lr:
            self._last_lr = value
            self._sink({LEARNING_RATE: value}, epoch, timestamp)


class BatchCallback(AutotrackCallback):
    """Also works per batch: keeps the batch ``logs`` every ``log_every_n_steps`` optimizer steps, as
    ``batch_<name>`` at step = the optimizer's iteration count after the batch, queued at the end of
    each epoch (Keras's batch values are the running means of the epoch so far, as its progress bar
    shows); and/or hands every batch to ``batch_checkpoints`` (``checkpoint_save_freq=<n>``)."""

    def __init__(self, sink: Any, log_every_n_steps: int | None = None, *, batch_checkpoints: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(sink, **kwargs)
        self._every = log_every_n_steps
        self._batch_checkpoints = batch_checkpoints
        # A checkpoint must hold the weights of the batch it is taken after: then Keras has to call
        # this callback on the training thread, as it does for its own ModelCheckpoint.
        self.async_safe = batch_checkpoints is None
        self._pending: list[tuple[int, int, dict]] = []
        self._epoch = 0
        self._epoch_base = 0  # optimizer iterations before the current epoch's first batch
        self._last = 0
        self._per_call = 1  # steps one train_function call covers (steps_per_execution)

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self._every:
            # One read of the step counter before the first batch; from there steps are counted.
            self._epoch_base = self._last = int(scalar(self.model.optimizer.iterations))
            self._per_call = max(1, int(getattr(self.model, "steps_per_execution", 1) or 1))

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        self._epoch_base = self._last

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._every:
            # ``batch`` is the index of the last step this call covers (steps_per_execution may be
            # > 1); with Keras's thread-pool dispatch, calls can come out of order, hence max().
            iteration = self._epoch_base + batch + 1
            previous = max(iteration - self._per_call, self._epoch_base)
            if self._last < iteration:
                self._last = iteration
            if logs and iteration // self._every != previous // self._every:
                self._pending.append((iteration, _now_ms(), dict(logs)))
        if self._batch_checkpoints is not None:
            self._batch_checkpoints.on_batch_end(self.model, self._epoch, batch, logs or {})

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._queue_pending()
        super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._queue_pending()
        super().on_train_end(logs)

    def _queue_pending(self) -> None:
        pending, self._pending = self._pending, []
        for iteration, timestamp, values in sorted(pending, key=lambda item: item[0]):
            self._sink({BATCH_PREFIX + k: v for k, v in values.items()}, iteration, timestamp)


def make_classes(guard_methods: Any) -> dict[str, type]:
    """The callback classes with every public method guarded by the engine's ``guard_methods``.

    Subclasses are made per configuration, so the guard reports under the integration's settings
    (``silent``) in force when autolog() was called."""
    made: dict[str, type] = {}
    for cls in (AutotrackCallback, BatchCallback):
        guarded = type(cls.__name__, (cls,), {name: value for name, value in vars(cls).items()
                                              if callable(value) and name.startswith("on_")})
        guarded.__autotrack_guarded__ = True  # the kit's callbacks.is_safe(): guarded already
        made[cls.__name__] = guard_methods(guarded)
    return made
