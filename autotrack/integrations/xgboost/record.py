"""What one XGBoost training writes into its run: params, metrics, datasets, files and the model.

Thin and XGBoost-specific; the generic work (text and limits of params, batching of metrics, dataset
descriptions, background artifact writes, model folders) is the tracking client's and the kit's.
"""

from __future__ import annotations

import time
from typing import Any

from autotrack.core import safety

NAME = "xgboost"
MODEL_PATH = "model"


def report(what: str, exc: Exception, config: Any, *, allow_raise: bool = True) -> None:
    safety.report(NAME, what, exc, silent=config.silent, allow_raise=allow_raise)


def guarded(what: str, config: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, or None after reporting its exception as a failure of ``what``."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - autotrack's own logging; the user's training is not affected
        report(what, exc, config)
        return None


def client() -> Any:
    from autotrack.tracking.client import TrackingClient

    return TrackingClient()


def log_params(tracking: Any, run_id: str, params: dict[str, Any]) -> None:
    """Params as text, cut to the store's limit; a key the run already has keeps its value."""
    from autotrack.tracking.validation import MAX_PARAM_VALUE_LENGTH

    texts = {}
    for key, value in params.items():
        text = str(value)
        texts[key] = text if len(text) <= MAX_PARAM_VALUE_LENGTH else text[: MAX_PARAM_VALUE_LENGTH - 3] + "..."
    tracking.log_params(run_id, texts, keep_existing=True)


def metrics_logger(tracking: Any, run_id: str):
    """``log(values, step)`` for :class:`~autotrack.integrations.xgboost.callback.EvalRecorder`."""
    log_metric = tracking.log_metric

    def log(values: dict[str, float], step: int) -> None:
        timestamp = int(time.time() * 1000)
        for key, value in values.items():
            log_metric(run_id, key, value, timestamp, step)

    return log


def log_metrics(tracking: Any, run_id: str, values: dict[str, float], step: int = 0) -> None:
    metrics_logger(tracking, run_id)(values, step)


def caller_variable_name(value: Any, default: str) -> str:
    return default  # provisional: the kit's calls.caller_variable_name once it lands


def log_dataset(tracking: Any, run_id: str, data: Any, label: Any, facts: dict[str, Any], name: str,
                context: str) -> None:
    return None  # provisional: the kit's datasets once it lands


def write_files(tracking: Any, run_id: str, files: Any, config: Any) -> None:
    """Write ``files()`` (``{artifact file: bytes}``) into the run's artifacts."""
    for artifact_file, content in files().items():
        tracking._log_bytes(run_id, content, artifact_file)


def log_model(tracking: Any, run_id: str, model: Any, example: Any, config: Any) -> None:
    """The model in XGBoost's native format, with a signature and input example from ``example``."""
    import tempfile
    from pathlib import Path

    from autotrack.integrations.xgboost import flavor
    from autotrack.models.saving import save_model_folder

    signature = None
    if example is not None and config.log_model_signatures:
        signature = _infer_signature(model, example)
    writer = flavor._writer(model, config.model_format)
    with tempfile.TemporaryDirectory(prefix="autotrack-model-") as tmp:
        local = Path(tmp) / MODEL_PATH
        save_model_folder(local, writer, signature, example if config.log_input_examples else None,
                          run_id=run_id, artifact_path=MODEL_PATH)
        tracking.log_artifacts(run_id, str(local), MODEL_PATH)


def _infer_signature(model: Any, example: Any) -> Any:
    from autotrack.integrations.xgboost.flavor import _Predictor
    from autotrack.models.signature import infer_signature

    return infer_signature(example, _Predictor(model).predict(example))


def remember_model(estimator: Any, run_id: str) -> None:
    return None  # provisional


def apply_post_training(patcher: Any, module: Any) -> None:
    return None  # provisional
