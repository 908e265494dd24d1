"""Checkpoints of an autologged ``fit``, and resuming from them.

Layout in the run's artifacts::

    checkpoints/epoch_0003/model.keras            autotrack's checkpoints (checkpoint=True)
    checkpoints/epoch_0003/checkpoint.json        {"epoch", "step", "metrics", "monitor", "model_file"}
    checkpoints/epoch_0003_step_000120/...        the same, for checkpoint_save_freq=<n batches>
    checkpoints/model_checkpoint/<file name>      files written by the user's own ModelCheckpoint

A checkpoint is saved on the training thread (it must hold the weights of its epoch) into a local
staging folder, then uploaded in the background (:mod:`.uploads`). Epochs are 0-based, as in
``History.epoch``; resume with ``fit(..., initial_epoch=checkpoint epoch + 1)``.
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from typing import Any

from autotrack.integrations.keras import uploads

FOLDER = "checkpoints"
USER_FOLDER = f"{FOLDER}/model_checkpoint"
INFO_FILE = "checkpoint.json"
_NAME = re.compile(r"^epoch_(\d+)(?:_step_(\d+))?$")


def checkpoint_name(epoch: int, step: int | None) -> str:
    return f"epoch_{epoch:04d}" if step is None else f"epoch_{epoch:04d}_step_{step:06d}"


class CheckpointSaver:
    """Decides when to checkpoint (``save_freq``, ``save_best_only`` on ``monitor``/``mode``) and saves."""

    def __init__(self, repository: Any, *, monitor: str, mode: str, save_best_only: bool,
                 save_freq: str | int, weights_only: bool) -> None:
        self._repository = repository
        self.monitor = monitor
        self._better = (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)
        self.save_best_only = save_best_only
        self.save_freq = save_freq
        self.weights_only = weights_only
        self.best: float | None = None
        self._batches = 0
        self._warned = False
        self.saved: list[str] = []

    def on_epoch_end(self, model: Any, epoch: int, logs: dict) -> None:
        if self.save_freq == "epoch":
            self._maybe_save(model, epoch, None, logs)

    def on_batch_end(self, model: Any, epoch: int, batch: int, logs: dict) -> None:
        self._batches += 1
        if self._batches % int(self.save_freq) == 0:
            from autotrack.integrations.keras.callback import scalar

            step = int(scalar(model.optimizer.iterations))  # saving the model synchronises anyway
            self._maybe_save(model, epoch, step, logs)

    def _improved(self, logs: dict) -> bool:
        if not self.save_best_only:
            return True
        current = logs.get(self.monitor)
        if not isinstance(current, (int, float)) or math.isnan(current):
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"autotrack: checkpoint_monitor={self.monitor!r} is not among the metrics Keras logs "
                    f"({', '.join(sorted(logs)) or 'none'}); saving every checkpoint instead of the best only. "
                    "Pass validation data or set checkpoint_monitor to one of those names.",
                    UserWarning, stacklevel=2)
            return True
        if self.best is not None and not self._better(current, self.best):
            return False
        self.best = float(current)
        return True

    def _maybe_save(self, model: Any, epoch: int, step: int | None, logs: dict) -> None:
        if not self._improved(logs):
            return
        name = checkpoint_name(epoch, step)
        staging = tempfile.mkdtemp(prefix="autotrack-checkpoint-")
        try:
            model_file = "model.weights.h5" if self.weights_only else "model.keras"
            if self.weights_only:
                model.save_weights(os.path.join(staging, model_file))
            else:
                model.save(os.path.join(staging, model_file))
            info = {"epoch": epoch, "step": step, "metrics": {k: _number(v) for k, v in logs.items()},
                    "monitor": self.monitor, "model_file": model_file, "weights_only": self.weights_only}
            with open(os.path.join(staging, INFO_FILE), "w", encoding="utf-8") as handle:
                json.dump(info, handle)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        repository = self._repository
        uploads.submit(lambda: repository.log_artifacts(staging, f"{FOLDER}/{name}"), cleanup=staging)
        self.saved.append(name)


def _number(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


class UserCheckpointFiles:
    """Uploads the files the user's ``keras.callbacks.ModelCheckpoint`` callbacks write, each time one
    is new or rewritten (a copy is taken at once: the callback may overwrite it next epoch)."""

    def __init__(self, repository: Any, callbacks: list) -> None:
        self._repository = repository
        # '{epoch:02d}' and other placeholders of the file path match anything
        self._patterns = [re.sub(r"\{[^}]*\}", "*", str(cb.filepath)) for cb in callbacks]
        self._seen: dict[str, tuple[int, int]] = {}
        self.uploaded: list[str] = []

    def scan(self) -> None:
        for pattern in self._patterns:
            for path in glob.glob(pattern):
                if not os.path.isfile(path):
                    continue
                stat = os.stat(path)
                key = (stat.st_mtime_ns, stat.st_size)
                if self._seen.get(path) == key:
                    continue
                self._seen[path] = key
                staging = tempfile.mkdtemp(prefix="autotrack-user-checkpoint-")
                copy = os.path.join(staging, os.path.basename(path))
                shutil.copy2(path, copy)
                repository = self._repository
                uploads.submit(lambda copy=copy: repository.log_artifact(copy, USER_FOLDER), cleanup=staging)
                self.uploaded.append(os.path.basename(path))


def user_model_checkpoints(callbacks: Any) -> list:
    """The user's ``keras.callbacks.ModelCheckpoint`` instances."""
    import keras

    if not isinstance(callbacks, (list, tuple)):
        return []
    return [cb for cb in callbacks if isinstance(cb, keras.callbacks.ModelCheckpoint)]


# ---------------------------------------------------------------- reading back
def list_checkpoints(run_id: str) -> list[dict[str, Any]]:
    """autotrack's checkpoints of ``run_id``, oldest first: each ``checkpoint.json`` plus its
    ``artifact_path``. Waits for this process's checkpoint uploads first."""
    from autotrack.tracking.client import TrackingClient

    uploads.wait()
    client = TrackingClient()
    found = []
    for entry in client.list_artifacts(run_id, FOLDER):
        name = entry.path.rstrip("/").rsplit("/", 1)[-1]
        match = _NAME.match(name)
        if match and entry.is_dir:
            found.append((int(match[1]), int(match[2]) if match[2] else -1, entry.path))
    result = []
    with tempfile.TemporaryDirectory(prefix="autotrack-checkpoints-") as tmp:
        for _epoch, _step, path in sorted(found):
            local = client.download_artifacts(run_id, f"{path}/{INFO_FILE}", tmp)
            with open(local, encoding="utf-8") as handle:
                info = json.load(handle)
            info["artifact_path"] = path
            result.append(info)
    return result


def load_checkpoint(run_id: str, epoch: int | None = None, *, model: Any = None,
                    dst_path: str | None = None, compile: bool = True, custom_objects: Any = None) -> Any:
    """The Keras model of a checkpoint of ``run_id``: the latest one, or the last one of ``epoch``.

    A full checkpoint (the default) comes back as a compiled model with its optimizer state, ready to
    ``fit(..., initial_epoch=epoch + 1)``; a weights-only one is loaded into ``model``.
    """
    import keras

    from autotrack.exceptions import InvalidParameterError, ResourceNotFoundError
    from autotrack.tracking.client import TrackingClient

    checkpoints = list_checkpoints(run_id)
    if epoch is not None:
        checkpoints = [c for c in checkpoints if c["epoch"] == epoch]
    if not checkpoints:
        which = f" for epoch {epoch}" if epoch is not None else ""
        raise ResourceNotFoundError(
            f"run {run_id} has no autotrack checkpoint{which}; checkpoints are saved by "
            "autotrack.keras.autolog(checkpoint=True)")
    info = checkpoints[-1]
    dst = dst_path or tempfile.mkdtemp(prefix="autotrack-checkpoint-")
    local = TrackingClient().download_artifacts(run_id, f"{info['artifact_path']}/{info['model_file']}", dst)
    if info.get("weights_only"):
        if model is None:
            raise InvalidParameterError(
                f"checkpoint {info['artifact_path']} of run {run_id} holds weights only; pass model=<a model "
                "of the same architecture> to load them into")
        model.load_weights(local)
        return model
    return keras.saving.load_model(local, custom_objects=custom_objects, compile=compile)
