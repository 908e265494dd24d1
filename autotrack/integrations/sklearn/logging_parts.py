"""The parts of one training run's logging: params, tags, training metrics, dataset, plots, model.

Each part runs under its own guard (:func:`guarded`): a failure is reported by the engine's safety
rules and the other parts still run. Everything is logged through the integration kit: params, tags
and metrics go through the client's batching pipeline (no store round trip on the caller's thread);
artifact files (dataset description, curves as JSON, PNG plots) are computed and written by the
tracking layer's background writer, so a slow disk or a remote artifact store costs the caller
nothing (``autotrack.flush()`` / :func:`autotrack.sklearn.wait_for_artifacts` wait for them; they
are drained at exit); the model is saved and uploaded before fit returns, so it loads at once.
"""

from __future__ import annotations

from typing import Any

from autotrack.entities import tags as tag_names
from autotrack.core import safety
from autotrack.core.integration import AutologConfig
from autotrack.integrations.kit import artifacts as kit_artifacts
from autotrack.integrations.kit import datasets as kit_datasets
from autotrack.integrations.kit import metrics as kit_metrics
from autotrack.integrations.kit import models as kit_models
from autotrack.integrations.kit import params as kit_params

NAME = "sklearn"
DATASETS_TAG = tag_names.DATASETS
MODEL_PATH = "model"
SIGNATURE_ROWS = 5  # rows of X used to infer the signature (and as the input example)


def guarded(what: str, config: AutologConfig, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, or None after reporting its exception as a failure of ``what``."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - autotrack's own logging; the user's fit already returned
        safety.report(NAME, what, exc, silent=config.silent)
        return None


def estimator_params(estimator: Any) -> dict[str, Any]:
    """``get_params(deep=True)`` (nested ``step__param`` keys); the kit turns the values into text."""
    return estimator.get_params(deep=True)


def log_params(client: Any, run_id: str, estimator: Any) -> None:
    """Log the estimator's params; keys the run already has with another value keep their value
    (params are write-once: e.g. two different fits inside one user run)."""
    kit_params.log_params(run_id, estimator_params(estimator), integration=NAME, keep_existing=True,
                          flatten_nested=False, client=client)


def estimator_tags(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    return {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__qualname__}"}


def log_metrics(client: Any, run_id: str, metrics: dict[str, float], step: int | None) -> None:
    kit_metrics.log_metrics(run_id, metrics, step=step or 0, integration=NAME, client=client)


def log_dataset(client: Any, run_id: str, X: Any, y: Any, name: str, config: AutologConfig,
                context: str = "train") -> dict[str, Any]:
    """The dataset's summary in the run's ``mlflow.datasets`` tag now, ``datasets/<context>.json``
    from the background writer (:func:`autotrack.integrations.kit.datasets.log_dataset`)."""
    return kit_datasets.log_dataset(run_id, X, y, name=name, context=context, integration=NAME, config=config,
                                    client=client)


def log_curves(client: Any, run_id: str, result: Any, sample_weight: Any, config: AutologConfig) -> None:
    """Confusion matrix and curves: computed, written (and drawn) by the background writer."""
    from autotrack.integrations.sklearn import plots

    if result.kind != "classifier" or result.y_pred is None:
        return
    import numpy as np

    result.y_true = np.array(result.y_true, copy=True)  # the caller may reuse its array after fit returns
    weights = None if sample_weight is None else np.array(sample_weight, dtype=np.float64, copy=True)
    write = kit_artifacts.writer_for(run_id, client)
    pos_label, images = config.pos_label, config.log_plot_images

    def job() -> None:
        data = plots.curves(result, weights, pos_label)
        if not data:
            return
        write(plots.to_json_files(data))
        if images:
            write({f"{name}.png": plots.render_png(name, value) for name, value in data.items()})

    held = sum(getattr(a, "nbytes", 0) for a in (result.y_true, result.y_pred, result.y_proba, weights))
    kit_artifacts.submit(run_id, job, integration=NAME, config=config, what="writing training artifacts", size=held)


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
    """Log the model as the run's ``model`` artifact (signature from a few rows of ``X`` if
    ``log_model_signatures``; those rows as the input example if ``log_input_examples``), through the
    kit: saved on this thread, uploaded through the tracking client before fit returns, so it loads
    as soon as fit returns."""
    from autotrack.integrations.sklearn import flavor

    model = model_to_log(estimator)
    method = "predict" if hasattr(model, "predict") else "transform" if hasattr(model, "transform") else "predict"
    sample = head_rows(X, SIGNATURE_ROWS) if X is not None else None
    signature = None
    if sample is not None and config.log_model_signatures:
        signature = kit_models.infer_signature(getattr(model, method, None), sample)
    kit_models.log_model(run_id, flavor.model_writer(model, "cloudpickle", method), artifact_path=MODEL_PATH,
                         signature=signature, input_example=sample, integration=NAME, config=config, client=client)


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
