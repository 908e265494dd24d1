"""The parts of one training run's logging: params, tags, training metrics, dataset, plots, model.

Each part runs under its own guard (:func:`guarded`): a failure is reported by the engine's safety
rules and the other parts still run. Params, tags and metrics go through the client's batching
pipeline (no store round trip on the caller's thread); artifact files (dataset description, curves as
JSON, PNG plots) are computed and written by one background thread, so a slow disk or a remote
artifact store costs the caller nothing (:func:`autotrack.sklearn.wait_for_artifacts` waits for
them; they are drained at exit); the model is saved synchronously, so it loads as soon as fit returns.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from autotrack.entities import tags as tag_names
from autotrack.core import safety
from autotrack.core.integration import AutologConfig

NAME = "sklearn"
DATASETS_TAG = tag_names.DATASETS
MODEL_PATH = "model"
SIGNATURE_ROWS = 5  # rows of X used to infer the signature (and as the input example)

_log = logging.getLogger("autotrack.sklearn")


def guarded(what: str, config: AutologConfig, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, or None after reporting its exception as a failure of ``what``."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - autotrack's own logging; the user's fit already returned
        safety.report(NAME, what, exc, silent=config.silent)
        return None


def param_text(value: Any) -> str:
    """A param value as the store keeps it: ``str(value)``, cut to the store's limit."""
    from autotrack.entities.validation import MAX_PARAM_VALUE_LENGTH

    text = str(value)
    return text if len(text) <= MAX_PARAM_VALUE_LENGTH else text[: MAX_PARAM_VALUE_LENGTH - 3] + "..."


def estimator_params(estimator: Any) -> dict[str, str]:
    """``get_params(deep=True)`` as strings (nested ``step__param`` keys), cut to the store's limit."""
    return {key: param_text(value) for key, value in estimator.get_params(deep=True).items()}


def log_params(client: Any, run_id: str, estimator: Any) -> None:
    """Log the estimator's params; keys the run already has with another value keep their value
    (params are write-once: e.g. two different fits inside one user run)."""
    client.log_params(run_id, estimator_params(estimator), keep_existing=True)


def estimator_tags(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    return {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__qualname__}"}


def log_metrics(client: Any, run_id: str, metrics: dict[str, float], step: int | None) -> None:
    timestamp = int(time.time() * 1000)
    for key, value in metrics.items():
        client.log_metric(run_id, key, value, timestamp, step or 0)


def _report_background(config: AutologConfig) -> Any:
    return lambda exc: safety.report(NAME, "writing training artifacts", exc, silent=config.silent, allow_raise=False)


def log_dataset(client: Any, run_id: str, X: Any, y: Any, name: str, config: AutologConfig,
                context: str = "train") -> dict[str, Any]:
    """Add the dataset's summary to the run's ``mlflow.datasets`` tag now, and write
    ``datasets/<context>.json`` from the background thread."""
    from autotrack.integrations.sklearn import artifacts, datasets

    description = datasets.describe(X, y, name, context)
    summaries = _dataset_summaries.setdefault(run_id, [])
    summary = datasets.summary(description)
    if summary not in summaries:
        summaries.append(summary)
        if len(_dataset_summaries) > 1024:  # only runs being logged to matter
            _dataset_summaries.pop(next(iter(_dataset_summaries)))
    client.set_tags(run_id, {DATASETS_TAG: json.dumps(summaries)})
    repo = artifacts.repository(client, run_id)
    payload = {f"datasets/{context}.json": description}
    artifacts.submit(lambda: artifacts.write_bytes(repo, {k: json.dumps(v, default=str).encode() for k, v in payload.items()}),
                     _report_background(config))
    return description


_dataset_summaries: dict[str, list[dict[str, str]]] = {}


def log_curves(client: Any, run_id: str, result: Any, sample_weight: Any, config: AutologConfig) -> None:
    """Confusion matrix and curves: computed, written (and drawn) by the background thread."""
    from autotrack.integrations.sklearn import artifacts, plots

    if result.kind != "classifier" or result.y_pred is None:
        return
    import numpy as np

    result.y_true = np.array(result.y_true, copy=True)  # the caller may reuse its array after fit returns
    weights = None if sample_weight is None else np.array(sample_weight, dtype=np.float64, copy=True)
    repo = artifacts.repository(client, run_id)
    pos_label, images = config.pos_label, config.log_plot_images

    def job() -> None:
        data = plots.curves(result, weights, pos_label)
        if not data:
            return
        artifacts.write_bytes(repo, plots.to_json_files(data))
        if images:
            artifacts.write_bytes(repo, {f"{name}.png": plots.render_png(name, value) for name, value in data.items()})

    held = sum(getattr(a, "nbytes", 0) for a in (result.y_true, result.y_pred, result.y_proba, weights))
    artifacts.submit(job, _report_background(config), held)


def head_rows(X: Any, rows: int) -> Any:
    """The first ``rows`` rows of ``X`` (DataFrame, sparse matrix, array or list), or None if it cannot be sliced."""
    if hasattr(X, "iloc"):
        return X.iloc[:rows]
    if hasattr(X, "tocsr"):
        return X.tocsr()[:rows]
    try:
        return X[:rows]
    except Exception:  # noqa: BLE001 - e.g. a generator: no example to take
        return None


def model_to_log(estimator: Any) -> Any:
    """The model a training run stores: a search's ``best_estimator_`` when it has one."""
    best = getattr(estimator, "best_estimator_", None)
    return best if best is not None else estimator


def log_model_artifact(client: Any, run_id: str, estimator: Any, X: Any, config: AutologConfig) -> None:
    """Save the model (signature from a few rows of ``X`` if ``log_model_signatures``; those rows as the
    input example if ``log_input_examples``)
    into the run's ``model`` artifact folder."""
    import tempfile
    from pathlib import Path

    from autotrack.integrations.sklearn import artifacts, flavor
    from autotrack.models.saving import save_model_folder

    model = model_to_log(estimator)
    method = "predict" if hasattr(model, "predict") else "transform" if hasattr(model, "transform") else "predict"
    sample = head_rows(X, SIGNATURE_ROWS) if X is not None else None
    signature = None
    if sample is not None and config.log_model_signatures:
        signature = _infer_signature(model, method, sample)
    example = sample if config.log_input_examples else None
    writer = flavor.model_writer(model, "cloudpickle", method)
    repo = artifacts.repository(client, run_id)
    folder = artifacts.local_folder(repo, MODEL_PATH)
    if folder is not None:
        save_model_folder(folder, writer, signature, example, overwrite=True, run_id=run_id, artifact_path=MODEL_PATH,
                          infer_signature_from_example=config.log_model_signatures)
        return
    with tempfile.TemporaryDirectory(prefix="autotrack-model-") as tmp:
        local = Path(tmp) / MODEL_PATH
        save_model_folder(local, writer, signature, example, run_id=run_id, artifact_path=MODEL_PATH,
                          infer_signature_from_example=config.log_model_signatures)
        client.log_artifacts(run_id, str(local), MODEL_PATH)


def _infer_signature(model: Any, method: str, sample: Any) -> Any:
    """Signature from ``sample`` and the model's output on it; None (with a debug line) when the data
    has no schema autotrack can describe (e.g. sparse input or text documents)."""
    import warnings

    from autotrack.models.signature import infer_signature

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            output = getattr(model, method)(sample)
        return infer_signature(sample, output)
    except Exception as exc:  # noqa: BLE001 - a model without a describable schema is still logged
        _log.debug("no signature for %s: %s", type(model).__name__, exc)
        return None


def log_training(estimator: Any, X: Any, y: Any, run_id: str, config: AutologConfig, *, log_model: bool = True,
                 sample_weight: Any = None, dataset_name: str | None = None, step: int | None = None,
                 log_plots: bool = True, log_params_and_dataset: bool = True) -> Any:
    """Everything one training records (see :func:`autotrack.integrations.sklearn.autolog.log_estimator_fit`).
    Returns the :class:`~autotrack.integrations.sklearn.training_metrics.TrainingResult` (or None)."""
    from autotrack.integrations.sklearn import training_metrics
    from autotrack.tracking.client import TrackingClient

    client = TrackingClient()
    if log_params_and_dataset:
        guarded("logging params", config, log_params, client, run_id, estimator)
    guarded("logging tags", config, client.set_tags, run_id, estimator_tags(estimator))
    result = guarded("computing training metrics", config, training_metrics.compute,
                      estimator, X, y, sample_weight, config.pos_label)
    if result is not None and result.metrics:
        guarded("logging training metrics", config, log_metrics, client, run_id, result.metrics, step)
    if log_params_and_dataset and config.log_datasets and X is not None:
        guarded("logging the training dataset", config, log_dataset, client, run_id, X, y,
                 dataset_name or "dataset", config)
    if log_plots and result is not None:
        guarded("logging training plots", config, log_curves, client, run_id, result, sample_weight, config)
    if log_model and config.log_models:
        guarded("logging the model", config, log_model_artifact, client, run_id, estimator, X, config)
    return result
