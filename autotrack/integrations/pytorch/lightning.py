"""Lightning (``lightning.pytorch`` and ``pytorch_lightning``): ``Trainer.fit`` is one run.

``Trainer.fit`` is patched; its hook adds a callback to ``trainer.callbacks`` for the duration of
the call (and takes it out again). What one fit records, from global rank 0 only:

- params: ``epochs`` (``max_epochs``), ``optimizer_name`` and the first optimizer's ``defaults``
  (``lr``, ``betas``, ...), ``total_params`` / ``trainable_params``; the ``EarlyStopping``
  callback's ``monitor``, ``mode``, ``patience``, ``min_delta``;
- metrics, with the names the user logged through ``self.log`` (as in ``trainer.logged_metrics``:
  ``train_loss``, ``val_loss``, ``x_step`` / ``x_epoch`` for ``on_step=True, on_epoch=True``):
  a metric that first appears at the end of a training or validation epoch is epoch-level and is
  logged at step = epoch (every ``log_every_n_epoch`` epochs); one that first appears at the end of
  a training batch is step-level and is logged at step = ``trainer.global_step`` every
  ``log_every_n_step`` global steps (default: the Trainer's own ``log_every_n_steps``);
- early stopping results: ``stopped_epoch``, ``restored_epoch`` (the epoch at which the monitored
  score was best, i.e. the weights a restore would go back to), ``best_score``, ``wait_count``;
- ``model_summary.txt``; the files of the user's ``ModelCheckpoint`` callbacks under
  ``checkpoints/`` (copied in the background); the model (``model/``) when ``log_models``, with an
  input example from the first training batch;
- ``Trainer.test``: the test metrics, into the active run, else into the run of that trainer's
  last fit.

The plain-loop hooks stand aside while ``fit`` runs (the engine's session is open).
"""

from __future__ import annotations

import os
import weakref
from types import ModuleType
from typing import Any

from autotrack.core import safety
from autotrack.integrations.pytorch.distributed import is_rank_zero

NAME = "pytorch"
# trainer -> run id of its last autologged fit (for Trainer.test afterwards)
_fit_runs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def apply(patcher: Any, pl: ModuleType, integration: Any) -> None:
    """Patch ``Trainer.fit`` / ``Trainer.test`` of the just-imported Lightning package ``pl``."""
    import importlib

    trainer_cls = importlib.import_module(f"{pl.__name__}.trainer.trainer").Trainer
    callback_cls = _callback_class(patcher, pl)
    patcher.patch(trainer_cls, "fit", _fit_hook(pl, callback_cls), creates_run=False)
    patcher.patch(trainer_cls, "test", _test_hook(), creates_run=False)


def _client():
    from autotrack.tracking import fluent
    from autotrack.tracking.client import TrackingClient

    return TrackingClient(fluent.get_tracking_uri())


def _fit_hook(pl: ModuleType, callback_cls: type):
    def hook(call: Any):
        trainer = call.instance
        config = call.config
        from autotrack.tracking import fluent

        if not is_rank_zero() or getattr(trainer, "global_rank", 0) != 0:
            yield
            return  # other ranks record nothing
        run = fluent.active_run()
        created = False
        if run is None:
            tags = {"autotrack.autologging": NAME, **(config.extra_tags or {})}
            run = fluent.start_run(tags=tags)
            created = True
        elif config.exclusive:
            yield
            return
        run_id = run.info.run_id
        _fit_runs[trainer] = run_id
        callback = callback_cls(pl, run_id, config)
        early = [cb for cb in trainer.callbacks if isinstance(cb, pl.callbacks.EarlyStopping)]
        if early:
            es = early[0]
            params = {k: _plain(getattr(es, k)) for k in ("monitor", "mode", "patience", "min_delta") if hasattr(es, k)}
            if isinstance(params.get("min_delta"), float):
                params["min_delta"] = abs(params["min_delta"])  # EarlyStopping keeps it signed by mode
            _client().log_params(run_id, params, keep_existing=True)
        # A new list for the call (the Trainer may hold the user's own list object): theirs, then ours.
        trainer.callbacks = [*trainer.callbacks, callback]
        try:
            result = yield
        except GeneratorExit as stop:
            # the user's fit raised (the engine closes the hook): take our callback out, end our run
            _take_out(trainer, callback)
            if created:
                user_error = stop.__context__
                status = "KILLED" if isinstance(user_error, (KeyboardInterrupt, SystemExit)) else "FAILED"
                _end(run_id, status)
            raise
        _take_out(trainer, callback)
        try:
            callback.after_fit(trainer, early[0] if early else None)
        finally:
            if created:
                _end(run_id, "FINISHED")
        del result

    return hook


def _end(run_id: str, status: str) -> None:
    from autotrack.tracking import fluent

    run = fluent.active_run()
    if run is not None and run.info.run_id == run_id:
        fluent.end_run(status)
    else:
        _client().set_terminated(run_id, status)


def _take_out(trainer: Any, callback: Any) -> None:
    trainer.callbacks = [cb for cb in trainer.callbacks if cb is not callback]


def _test_hook():
    def hook(call: Any):
        trainer = call.instance
        result = yield
        if not is_rank_zero() or getattr(trainer, "global_rank", 0) != 0:
            return
        from autotrack.tracking import fluent

        run = fluent.active_run()
        metrics: dict[str, float] = {}
        for name, value in dict(trainer.callback_metrics).items():
            number = _number(value)
            if number is not None:
                metrics[name] = number
        if not metrics and isinstance(result, list):
            for entry in result:
                for name, value in (entry or {}).items():
                    number = _number(value)
                    if number is not None:
                        metrics[name] = number
        client = _client()
        if run is not None:
            for name, value in metrics.items():
                client.log_metric(run.info.run_id, name, value, step=0)
            return
        run_id = _fit_runs.get(trainer)
        if run_id is not None:
            for name, value in metrics.items():
                client.log_late_metric(run_id, name, value)

    return hook


def _number(value: Any) -> float | None:
    try:
        if hasattr(value, "numel"):
            if value.numel() != 1:
                return None
            return float(value.item())
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    except Exception:  # noqa: BLE001
        return None
    return None


def _plain(value: Any) -> Any:
    number = _number(value) if hasattr(value, "numel") else None
    return number if number is not None else value


def _callback_class(patcher: Any, pl: ModuleType) -> type:
    """A ``Callback`` subclass of this Lightning package; every hook is guarded (cannot raise)."""

    class AutotrackCallback(pl.Callback):
        def __init__(self, pl_module_package: ModuleType, run_id: str, config: Any) -> None:
            self.pl = pl_module_package
            self.run_id = run_id
            self.config = config
            self.client = _client()
            self.step_names: set[str] = set()
            self.epoch_names: set[str] = set()
            self.every_epoch = int(config.get("log_every_n_epoch", 1))
            self.every_step = config.get("log_every_n_step")
            self.example: Any = None
            self.best_epoch: int | None = None
            self.best_score: Any = None

        # -------------------------------------------------------------- params at the start
        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            if not trainer.is_global_zero:
                return
            params: dict[str, Any] = {"epochs": trainer.max_epochs}
            optimizers = list(getattr(trainer, "optimizers", []) or [])
            if optimizers:
                optimizer = optimizers[0]
                params["optimizer_name"] = type(optimizer).__name__
                for key, value in dict(getattr(optimizer, "defaults", {})).items():
                    params[key] = _plain(value)
            own = list(pl_module.parameters())
            params["total_params"] = sum(p.numel() for p in own)
            params["trainable_params"] = sum(p.numel() for p in own if p.requires_grad)
            self.client.log_params(self.run_id, params, keep_existing=True)

        # -------------------------------------------------------------- metrics
        def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
            if self.example is None and self.config.log_models and trainer.is_global_zero:
                self.example = _first_tensor(batch)

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            if not trainer.is_global_zero:
                return
            logged = trainer.logged_metrics
            names = [n for n in logged if n not in self.epoch_names]
            self.step_names.update(names)
            every = self.every_step or max(1, int(getattr(trainer, "log_every_n_steps", 50) or 1))
            step = trainer.global_step
            if step % every and not trainer.should_stop:
                return
            self._log(logged, names, step)

        def on_validation_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            if trainer.sanity_checking or not trainer.is_global_zero:
                return
            self.epoch_names.update(n for n in trainer.logged_metrics if n not in self.step_names)

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            if not trainer.is_global_zero:
                return
            logged = trainer.logged_metrics
            self.epoch_names.update(n for n in logged if n not in self.step_names)
            epoch = trainer.current_epoch
            self._track_best(trainer, epoch)
            if (epoch + 1) % self.every_epoch == 0:
                self._log(logged, [n for n in logged if n in self.epoch_names], epoch)

        def _log(self, logged: Any, names: list[str], step: int) -> None:
            import time

            timestamp = int(time.time() * 1000)
            for name in names:
                value = _number(logged[name])
                if value is not None:
                    self.client.log_metric(self.run_id, name, value, timestamp, step)

        def _track_best(self, trainer: Any, epoch: int) -> None:
            for cb in trainer.callbacks:
                if isinstance(cb, self.pl.callbacks.EarlyStopping):
                    score = _number(getattr(cb, "best_score", None))
                    if score is not None and score == score and score not in (float("inf"), float("-inf")) \
                            and score != self.best_score:
                        self.best_score = score
                        self.best_epoch = epoch
                    return

        # -------------------------------------------------------------- after fit (not a Lightning hook)
        def after_fit(self, trainer: Any, early: Any) -> None:
            from autotrack.integrations.pytorch import checkpoints

            if early is not None:
                metrics = {"stopped_epoch": early.stopped_epoch, "wait_count": getattr(early, "wait_count", 0)}
                best = _number(getattr(early, "best_score", None))
                if best is not None:
                    metrics["best_score"] = best
                if self.best_epoch is not None:
                    metrics["restored_epoch"] = self.best_epoch
                for name, value in metrics.items():
                    self.client.log_metric(self.run_id, name, float(value), step=0)
            module = trainer.lightning_module
            summary = self._summary(module)
            if summary:
                self.client.log_text(self.run_id, summary, "model_summary.txt")
            paths: list[str] = []
            for cb in getattr(trainer, "checkpoint_callbacks", []) or []:
                for path in [getattr(cb, "best_model_path", ""), getattr(cb, "last_model_path", ""),
                             *dict(getattr(cb, "best_k_models", {}) or {})]:
                    if path and path not in paths and os.path.isfile(path):
                        paths.append(path)
            if paths:
                from autotrack.tracking import fluent

                uri = fluent.get_tracking_uri()
                for path in paths:
                    checkpoints.uploader().submit(
                        path, self.run_id, uri,
                        lambda exc, p=path: safety.report(NAME, f"logging checkpoint {p}", exc,
                                                          silent=self.config.silent, allow_raise=False))
                last = os.path.basename(paths[0])
                self.client.set_tag(self.run_id, checkpoints.LAST_CHECKPOINT_TAG, last)
            if self.config.log_models and module is not None:
                self._log_model(module)

        def _summary(self, module: Any) -> str:
            import importlib

            try:
                summary_cls = importlib.import_module(f"{self.pl.__name__}.utilities.model_summary").ModelSummary
                return str(summary_cls(module, max_depth=-1))
            except Exception:  # noqa: BLE001 - no summary rather than no run
                return str(module)

        def _log_model(self, module: Any) -> None:
            from autotrack.integrations.pytorch import flavor

            example = self.example if self.config.log_input_examples or self.config.log_model_signatures else None
            signature = None
            if example is not None and self.config.log_model_signatures:
                from autotrack.models.signature import infer_signature

                try:
                    import torch

                    was_training = module.training
                    module.eval()
                    with torch.no_grad():
                        output = module(example)
                    module.train(was_training)
                    signature = infer_signature(flavor.to_numpy(example), flavor.to_numpy(output))
                except Exception:  # noqa: BLE001 - a model that needs more than one tensor: no signature
                    signature = None
            if not self.config.log_input_examples:
                example = None
            from autotrack.tracking import fluent

            run = fluent.active_run()
            if run is not None and run.info.run_id == self.run_id:  # it is, unless the user's code ended it
                flavor.log_model(module, "model", signature=signature, input_example=example)

    return patcher.guard_methods(AutotrackCallback)


def _first_tensor(batch: Any) -> Any:
    """The first tensor of a batch (``x`` of ``(x, y)``), cut to 5 rows, detached on the CPU."""
    candidate = batch
    if isinstance(batch, (list, tuple)) and batch:
        candidate = batch[0]
    elif isinstance(batch, dict) and batch:
        candidate = next(iter(batch.values()))
    if hasattr(candidate, "detach") and hasattr(candidate, "shape") and len(candidate.shape) >= 1:
        return candidate[:5].detach().cpu().clone()
    return None
