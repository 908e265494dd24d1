"""The ``fit`` and ``evaluate`` hooks (see :mod:`autotrack.core.patching` for the hook contract).

``fit``: params before training; a copy of the user's callback list with autotrack's callback
appended (the user's list object is never touched); after training, early-stopping metrics, the
model summary and the model. ``evaluate`` on a model trained by an autologged ``fit``: its metrics
as ``eval_<name>`` in that fit's run, at step 0, 1, ... for successive evaluations.
"""

from __future__ import annotations

import inspect
import tempfile
import types
import weakref
from pathlib import Path
from typing import Any

from autotrack.integrations.keras import extract

MODEL_PATH = "model"
SUMMARY_FILE = "model_summary.txt"
FIT_CALLBACKS_INDEX = 5  # fit(x, y, batch_size, epochs, verbose, callbacks, ...), self excluded
EVALUATE_CALLBACKS_INDEX = 6  # evaluate(x, y, batch_size, verbose, sample_weight, steps, callbacks, ...)

# model -> run id of the autologged fit that trained it last (for evaluate); evaluations counted per run
_trained_in: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_evaluations: dict[str, int] = {}


def install(patcher: Any, keras: Any) -> None:
    """Patch ``keras.Model.fit`` and ``keras.Model.evaluate``."""
    from autotrack.integrations.keras import callback

    fit_signature = inspect.signature(keras.Model.fit)
    evaluate_signature = inspect.signature(keras.Model.evaluate)
    classes = callback.make_classes(patcher.guard_methods)

    def on_fit(call: Any):
        return _on_fit(call, fit_signature, classes)

    def on_evaluate(call: Any):
        return _on_evaluate(call, evaluate_signature)

    patcher.patch(keras.Model, "fit", on_fit)
    patcher.patch(keras.Model, "evaluate", on_evaluate, creates_run=False)


def _chain(first: Any, rest: Any, error: BaseException | None):
    """The user's generator as it was before autotrack looked at its first batch."""
    if error is not None:
        raise error
    yield first
    yield from rest


def _peek_generator(call: Any, arguments: dict) -> Any:
    """For a Python generator ``x``: take its first batch (for the batch size and the input example)
    and hand ``fit`` a generator that yields it again, then the rest. Anything the user's generator
    raises is raised again, from the same place, when Keras asks for the first batch."""
    x = arguments.get("x")
    if not isinstance(x, types.GeneratorType):
        return None
    first, error = None, None
    try:
        first = next(x)
    except StopIteration:
        return None  # empty: Keras sees the same empty generator
    except BaseException as exc:  # noqa: BLE001 - the user's own error, re-raised inside fit
        error = exc
    replacement = _chain(first, x, error)
    if call.args:
        call.set_arg(0, replacement)
    else:
        call.set_kwarg("x", replacement)
    return first if error is None else None


def _with_callback(call: Any, arguments: dict, index: int, extra: list) -> bool:
    """Pass the user's callbacks plus ``extra`` as a new list; False (nothing changed) when the user
    gave a ``CallbackList``, which Keras would use as is."""
    import keras

    user = arguments.get("callbacks")
    if isinstance(user, keras.callbacks.CallbackList):
        return False
    if user is None:
        combined = list(extra)
    elif isinstance(user, (list, tuple)):
        combined = [*user, *extra]
    else:
        combined = [user, *extra]
    if len(call.args) > index:
        call.set_arg(index, combined)
    else:
        call.set_kwarg("callbacks", combined)
    return True


def _metric_sink(client: Any, run_id: str):
    log_metric = client.log_metric

    def sink(metrics: dict, step: int, timestamp: int) -> None:
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                log_metric(run_id, key, value, timestamp, step)

    return sink


def _on_fit(call: Any, signature: inspect.Signature, classes: dict):
    from autotrack.tracking.client import TrackingClient

    client = TrackingClient()
    arguments = extract.bind_arguments(signature, call.args, call.kwargs)
    # Once the generator's first batch is taken, the replacement must reach fit whatever happens
    # next: an error of the remaining "before" work is kept and reported after the call instead.
    peeked = _peek_generator(call, arguments)
    before_error = None
    try:
        state = _before_fit(call, client, arguments, peeked, classes)
    except Exception as exc:  # noqa: BLE001 - autotrack's own code; surfaced after the call
        before_error, state = exc, None

    history = yield

    if before_error is not None:
        raise before_error
    _after_fit(call, client, arguments, peeked, state, history)


def _before_fit(call: Any, client: Any, arguments: dict, peeked: Any, classes: dict) -> dict:
    from autotrack.integrations.keras import checkpoints

    config, model, run_id = call.config, call.instance, call.run_id
    x = arguments.get("x")
    params = extract.fit_params(arguments, extract.batch_size(x, arguments.get("batch_size"), peeked))
    params.update(extract.model_params(model))
    user_callbacks = arguments.get("callbacks")
    early_stopping = extract.early_stopping_callback(user_callbacks)
    if early_stopping is not None:
        params.update(extract.early_stopping_params(early_stopping))
    client.log_params(run_id, params, keep_existing=True)
    summary_logged = False
    if config.log_model_summary and model.built:
        _log_summary(client, run_id, model)
        summary_logged = True

    sink = _metric_sink(client, run_id)
    repository = saver = user_files = None
    if config.checkpoint or config.log_checkpoints:
        repository = client.artifact_repository(run_id)
    if config.checkpoint:
        saver = checkpoints.CheckpointSaver(
            repository, monitor=config.checkpoint_monitor, mode=config.checkpoint_mode,
            save_best_only=config.checkpoint_save_best_only, save_freq=config.checkpoint_save_freq,
            weights_only=config.checkpoint_save_weights_only)
    if config.log_checkpoints:
        found = checkpoints.user_model_checkpoints(user_callbacks)
        user_files = checkpoints.UserCheckpointFiles(repository, found) if found else None
    options = dict(log_every_epoch=config.log_every_epoch, user_files=user_files,
                   checkpoints=saver if saver is not None and saver.save_freq == "epoch" else None)
    batch_saver = saver if saver is not None and saver.save_freq != "epoch" else None
    if config.log_every_n_steps or batch_saver is not None:
        ours = [classes["BatchCallback"](sink, config.log_every_n_steps, batch_checkpoints=batch_saver, **options)]
    else:
        ours = [classes["AutotrackCallback"](sink, **options)]
    injected = _with_callback(call, arguments, FIT_CALLBACKS_INDEX, ours)
    return {"sink": sink, "injected": injected, "sized": "total_params" in params,
            "summary_logged": summary_logged, "early_stopping": early_stopping}


def _after_fit(call: Any, client: Any, arguments: dict, peeked: Any, state: dict, history: Any) -> None:
    config, model, run_id = call.config, call.instance, call.run_id
    if not state["injected"] and config.log_every_epoch and history is not None:
        _log_history(state["sink"], history)  # the user's own CallbackList: epochs read from History
    if not state["sized"]:
        client.log_params(run_id, extract.model_size(model), keep_existing=True)
    if state["early_stopping"] is not None:
        for key, value in extract.early_stopping_metrics(state["early_stopping"]).items():
            client.log_metric(run_id, key, value, step=0)
    if config.log_model_summary and not state["summary_logged"]:
        _log_summary(client, run_id, model)
    _trained_in[model] = run_id
    if config.log_models:
        features = extract.first_batch_features(arguments.get("x"), peeked)
        log_trained_model(client, run_id, model, features, config)


def _log_summary(client: Any, run_id: str, model: Any) -> None:
    """``model_summary.txt``, written on the upload thread: the text only reads the layer structure of
    a built model, and Keras's summary (rich tables) costs milliseconds the training thread need not pay."""
    import os

    from autotrack.integrations.keras import uploads

    repository = client.artifact_repository(run_id)
    staging = tempfile.mkdtemp(prefix="autotrack-keras-summary-")

    def job() -> None:
        path = os.path.join(staging, SUMMARY_FILE)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(extract.model_summary(model))
        repository.log_artifact(path)

    uploads.submit(job, cleanup=staging)


def _log_history(sink: Any, history: Any) -> None:
    import time

    timestamp = int(time.time() * 1000)
    for position, epoch in enumerate(getattr(history, "epoch", [])):
        sink({k: v[position] for k, v in history.history.items() if position < len(v)}, epoch, timestamp)


def log_trained_model(client: Any, run_id: str, model: Any, features: Any, config: Any) -> None:
    """Save the model (``.keras``) with a signature from the first batch and a few example rows,
    then copy it into the run's artifacts under ``model``."""
    from autotrack.integrations.keras import flavor
    from autotrack.models.saving import save_model_folder
    from autotrack.models.schema_inference import infer_schema
    from autotrack.models.signature import ModelSignature

    example = extract.input_example(model, features) if features is not None else None
    signature = None
    if example is not None and config.log_model_signatures:
        # a functional / Sequential model states its outputs; only a subclassed one is called
        outputs = extract.symbolic_output_schema(model)
        if outputs is None:
            outputs = infer_schema(extract.predict_eager(model, example), "model output")
        signature = ModelSignature(infer_schema(example, "input_example"), outputs)
    with tempfile.TemporaryDirectory(prefix="autotrack-keras-model-") as tmp:
        local = Path(tmp) / MODEL_PATH
        save_model_folder(local, flavor.model_writer(model), signature,
                          example if config.log_input_examples else None, run_id=run_id,
                          artifact_path=MODEL_PATH, infer_signature_from_example=False)
        client.artifact_repository(run_id).log_artifacts(str(local), MODEL_PATH)


class _LastLogs:
    """Keeps the logs ``evaluate`` hands its callbacks at the end (the very values it returns)."""

    def __init__(self) -> None:
        self.logs: dict | None = None


def _on_evaluate(call: Any, signature: inspect.Signature):
    run_id = _trained_in.get(call.instance)
    if run_id is None:
        yield
        return
    import keras

    keeper = _LastLogs()

    class _Capture(keras.callbacks.Callback):
        async_safe = True

        def on_test_end(self, logs: dict | None = None) -> None:
            keeper.logs = dict(logs or {})

    arguments = extract.bind_arguments(signature, call.args, call.kwargs)
    captured = _with_callback(call, arguments, EVALUATE_CALLBACKS_INDEX, [_Capture()])

    yield

    logs = keeper.logs
    if not captured or logs is None:
        from autotrack.integrations.keras.callback import scalar

        logs = {k: scalar(v) for k, v in call.instance.get_metrics_result().items()}
    from autotrack.tracking.client import TrackingClient

    client = TrackingClient()
    step = _evaluations.get(run_id, 0)
    _evaluations[run_id] = step + 1
    for key, value in logs.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            client.log_late_metric(run_id, f"eval_{key}", value, step=step)
