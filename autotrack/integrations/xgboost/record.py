"""What one XGBoost training writes into its run, through the integration kit: params, metrics,
datasets, artifact files and the model.

Only the XGBoost-specific choices live here (which data describes a ``DMatrix``, how a booster's
signature is inferred); text and limits of params, batching of metrics, dataset descriptions and
digests, background artifact writes and model folders are the kit's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from autotrack.core import safety
from autotrack.integrations.kit import artifacts, calls, datasets, metrics, models, params

NAME = "xgboost"
MODEL_PATH = models.MODEL_PATH
#: module prefixes skipped when looking for the user's variable name of a dataset
LIBRARY_MODULES = ("xgboost.", "sklearn.")


def report(what: str, exc: Exception, config: Any, *, allow_raise: bool = True) -> None:
    safety.report(NAME, what, exc, silent=config.silent, allow_raise=allow_raise)


def guarded(what: str, config: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, or None after reporting its exception as a failure of ``what`` (one
    warning; re-raised under ``AUTOTRACK_STRICT=1``, after the user's call has returned)."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - autotrack's own logging; the user's training is not affected
        report(what, exc, config)
        return None


def client() -> Any:
    from autotrack.tracking.client import TrackingClient

    return TrackingClient()


def log_params(tracking: Any, run_id: str, values: dict[str, Any], config: Any) -> None:
    """Params as text within the store's limits; a key the run already has keeps its value."""
    params.log_params(run_id, values, integration=NAME, config=config, flatten_nested=False, client=tracking)


def metrics_logger(tracking: Any, run_id: str) -> Callable[[dict[str, float], int], None]:
    """``log(values, step)`` for :class:`~autotrack.integrations.xgboost.callback.EvalRecorder`: one
    batch per round into the client's pipeline (XGBoost's scores are Python floats already)."""
    log = tracking.log_metrics

    def log_round(values: dict[str, float], step: int) -> None:
        log(run_id, values, step=step, timestamp=int(time.time() * 1000))

    return log_round


def log_metrics(tracking: Any, run_id: str, values: dict[str, Any], config: Any, step: int = 0) -> None:
    metrics.log_metrics(run_id, values, step=step, integration=NAME, config=config, client=tracking)


def caller_variable_name(value: Any, default: str) -> str:
    """The user's variable name for ``value`` (``dtrain``, ``X_train``), else ``default``."""
    return calls.caller_variable_name(value, default, skip=LIBRARY_MODULES)


def log_dataset(tracking: Any, run_id: str, data: Any, label: Any, facts: dict[str, Any], name: str,
                context: str, config: Any) -> None:
    """Describe a dataset (its source data when known, else what a ``DMatrix`` says of itself: shape,
    feature names and types, and a digest of those and of the labels)."""
    if data is not None:
        datasets.log_dataset(run_id, data, label, name=name, context=context, integration=NAME, config=config,
                             client=tracking)
        return
    if not facts:
        return
    desc = _dmatrix_description(facts, label, name, context)
    datasets.log_dataset(run_id, name=name, context=context, integration=NAME, config=config, desc=desc,
                         client=tracking)


def _dmatrix_description(facts: dict[str, Any], label: Any, name: str, context: str) -> dict[str, Any]:
    import hashlib

    h = hashlib.blake2b(digest_size=8)
    h.update(repr(sorted(facts.items())).encode())
    targets = None
    if label is not None:
        import numpy as np

        values = np.ascontiguousarray(label)
        h.update(values.tobytes())
        targets = {"name": None, "shape": list(values.shape), "dtype": str(values.dtype)}
    names = facts.get("feature_names")
    types = facts.get("feature_types") or [None] * len(names or ())
    columns = [{"name": str(n), "dtype": str(t)} for n, t in zip(names, types)] if names else None
    return datasets.description(name, h.hexdigest(), context, shape=[facts["num_rows"], facts["num_cols"]],
                                columns=columns, source={"type": "in-memory", "python_type": "xgboost.core.DMatrix"},
                                targets=targets)


def write_files(tracking: Any, run_id: str, files: Callable[[], dict[str, bytes]], config: Any) -> None:
    """Compute ``files()`` (``{artifact file: bytes}``) and write them on the background artifact
    writer: the caller's thread pays for neither (``files`` must only use data it owns)."""
    write = artifacts.writer_for(run_id, tracking)
    artifacts.submit(run_id, lambda: write(files()), integration=NAME, config=config,
                     what="writing feature importance")


def log_model(tracking: Any, run_id: str, model: Any, example: Any, config: Any) -> None:
    """The model in XGBoost's native format (``model_format``), signature and input example from
    ``example`` (the first rows of the training data), uploaded in the background."""
    from autotrack.integrations.xgboost import flavor

    writer = flavor.model_writer(model, config.model_format)
    signature = None
    if example is not None and config.log_model_signatures:
        signature = models.infer_signature(_example_predictor(model, writer), example)
    models.log_model(run_id, writer, signature=signature, input_example=example, infer_signature_from_example=False,
                     background=True, integration=NAME, config=config, client=tracking)


def _example_predictor(model: Any, writer: Any) -> Callable[[Any], Any]:
    """What infers the output schema from the example rows: a ``Booster``'s ``inplace_predict`` (same
    output as ``predict(DMatrix(rows))``, without building a matrix: ~0.5 ms instead of ~6 ms, most
    of it XGBoost starting its threads for a 5-row ``DMatrix``), else the flavor's predictor."""
    inplace = getattr(model, "inplace_predict", None)
    if inplace is None:
        return writer.predict

    def predict(rows: Any) -> Any:
        try:
            return inplace(rows)
        except Exception:  # noqa: BLE001 - data inplace_predict does not take (e.g. some sparse formats)
            return writer.predict(rows)

    return predict
