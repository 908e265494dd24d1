"""The hooks of the XGBoost integration (see :mod:`autotrack.integrations.xgboost.autolog`).

Each hook is a generator: its code before ``yield`` runs before the user's call, the code after it
once the call returned. Every logging part is guarded on its own (one failing part is reported, the
others still run); the engine keeps the user's call outside all of autotrack's ``try`` blocks.
"""

from __future__ import annotations

import inspect
from typing import Any

from autotrack.integrations.kit import calls
from autotrack.integrations.xgboost import data as xgb_data
from autotrack.integrations.xgboost import params as xgb_params
from autotrack.integrations.xgboost import record
from autotrack.integrations.xgboost.callback import EvalRecorder, callback_class, with_callback

NAME = record.NAME
FIT_STATE = "xgboost.fit"  # session-state key: the fit hook's data, read by the train hook that joins it
EVAL_CONTEXT = "eval"
TRAIN_CONTEXT = "train"

_signatures: dict[Any, inspect.Signature | None] = {}


# ---------------------------------------------------------------------- call arguments
def _signature(fn: Any) -> inspect.Signature | None:
    key = getattr(fn, "__func__", fn)
    if key not in _signatures:
        try:
            _signatures[key] = inspect.signature(fn)
        except (TypeError, ValueError):
            _signatures[key] = None
    return _signatures[key]


def arguments(call: Any) -> dict[str, Any]:
    """Every argument of the call by name, defaults included (bound against the original's signature:
    the logged params show ``num_boost_round=10`` when the user relied on the default)."""
    sig = _signature(call.wrapped)
    if sig is None:
        return dict(call.kwargs)
    bound = sig.bind_partial(*call.args, **call.kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def pass_callbacks(call: Any, user_callbacks: Any, callback: Any) -> None:
    """Give the original a new callbacks list, autotrack's callback first, then the user's (whose list
    object stays as it was), where the user passed them (keyword or position).

    Not the kit's ``add_callback``: that appends, and XGBoost asks callbacks in order with ``any()``,
    so a user callback that stops training would hide its last round from a callback after it; and
    the kit's guard returns None on an error, while ``after_training`` must return the model (the
    callback class catches its own errors instead, see :func:`callback_class`).
    """
    new = with_callback(user_callbacks, callback)
    index = calls.position_of(call, "callbacks")
    if index is not None and index < len(call.args):
        call.set_arg(index, new)
    else:  # keyword-only in xgboost.train and xgboost.cv
        call.set_kwarg("callbacks", new)


def _uses_early_stopping(arguments_: dict[str, Any]) -> bool:
    if arguments_.get("early_stopping_rounds"):
        return True
    from xgboost.callback import EarlyStopping

    return any(isinstance(cb, EarlyStopping) for cb in (arguments_.get("callbacks") or ()))


# ---------------------------------------------------------------------- shared parts
def _recorder(call: Any, tracking: Any, *, cv: bool = False) -> tuple[EvalRecorder, Any]:
    config = call.config
    recorder = EvalRecorder(record.metrics_logger(tracking, call.run_id), cv=cv)

    def report(exc: Exception) -> None:
        record.report("recording per-iteration metrics", exc, config, allow_raise=False)

    return recorder, callback_class()(recorder, report)


def _log_early_stopping(tracking: Any, run_id: str, recorder: EvalRecorder, config: Any) -> None:
    """``best_iteration`` and ``stopped_iteration``, and the best iteration's metrics under their own
    keys at step ``stopped_iteration + 1`` (so a metric's latest value is the best model's, as MLflow
    users expect)."""
    stopped, best = recorder.last_iteration, recorder.best_iteration
    if stopped is None:
        return
    values = {"stopped_iteration": stopped}
    if best is not None:
        values["best_iteration"] = best
    record.log_metrics(tracking, run_id, values, config)
    best_values = recorder.by_iteration.get(best) if best is not None else None
    if best_values:
        record.log_metrics(tracking, run_id, best_values, config, stopped + 1)


def _log_importance(tracking: Any, run_id: str, booster: Any, config: Any) -> None:
    from autotrack.integrations.xgboost import importance

    if not config.importance_types:
        return
    found = importance.scores(booster, tuple(config.importance_types))
    if not found:
        return
    images = config.log_plot_images

    def files() -> dict[str, bytes]:
        out = importance.json_files(found)
        if images:
            out.update(importance.png_files(found))
        return out

    record.write_files(tracking, run_id, files, config)


def _dataset_name(value: Any, default: str) -> str:
    return record.caller_variable_name(value, default)


# ---------------------------------------------------------------------- xgboost.train
def on_train(call: Any) -> Any:
    """``xgboost.train``: params, datasets, per-round metrics, early stopping, importance, model. Joined
    to an XGBoost ``fit`` (the scikit-learn API), only the training arguments, per-round metrics,
    early stopping and importance: the fit logs its own params, datasets and model."""
    config = call.config
    joined = call.joined
    if joined:
        fit = call.session.state.get(FIT_STATE) if call.session.integration == NAME else None
        if fit is None or fit.get("trained"):
            yield  # nested in someone else's call (a Pipeline's, a search's): part of that run only
            return
        fit["trained"] = True
    args = arguments(call)
    tracking = record.client()
    run_id = call.run_id
    logged = xgb_params.call_params(args, xgb_params.TRAIN_ARGUMENTS)
    if not joined:
        logged = {**xgb_params.booster_params(args.get("params")), **logged}
    record.guarded("logging params", config, record.log_params, tracking, run_id, logged, config)
    dtrain = args.get("dtrain")
    if not joined and config.log_datasets:
        record.guarded("logging datasets", config, _log_dmatrix_datasets, tracking, run_id, dtrain,
                       args.get("evals"), config)
    recorder, callback = _recorder(call, tracking)
    pass_callbacks(call, args.get("callbacks"), callback)
    booster = yield
    if _uses_early_stopping(args):
        record.guarded("logging early stopping", config, _log_early_stopping, tracking, run_id, recorder, config)
    record.guarded("logging feature importance", config, _log_importance, tracking, run_id, booster, config)
    if not joined and config.log_models:
        record.guarded("logging the model", config, record.log_model, tracking, run_id, booster,
                       xgb_data.example_rows(dtrain) if dtrain is not None else None, config)


def _log_dmatrix_datasets(tracking: Any, run_id: str, dtrain: Any, evals: Any, config: Any) -> None:
    if dtrain is not None:
        data, label, facts = xgb_data.dataset_source(dtrain)
        record.log_dataset(tracking, run_id, data, label, facts, _dataset_name(dtrain, "dtrain"), TRAIN_CONTEXT,
                           config)
    for matrix, eval_name in evals or ():
        if matrix is dtrain:
            continue  # the training set watched as an eval set is the same dataset
        data, label, facts = xgb_data.dataset_source(matrix)
        record.log_dataset(tracking, run_id, data, label, facts, str(eval_name), EVAL_CONTEXT, config)


# ---------------------------------------------------------------------- xgboost.cv
def on_cv(call: Any) -> Any:
    """``xgboost.cv``: params, the training dataset and the per-round mean and std of every metric."""
    config = call.config
    args = arguments(call)
    tracking = record.client()
    run_id = call.run_id
    logged = {**xgb_params.booster_params(args.get("params")), **xgb_params.call_params(args, xgb_params.CV_ARGUMENTS)}
    record.guarded("logging params", config, record.log_params, tracking, run_id, logged, config)
    dtrain = args.get("dtrain")
    if config.log_datasets and dtrain is not None:
        record.guarded("logging datasets", config, _log_dmatrix_datasets, tracking, run_id, dtrain, None, config)
    recorder, callback = _recorder(call, tracking, cv=True)
    pass_callbacks(call, args.get("callbacks"), callback)
    yield
    if _uses_early_stopping(args):
        record.guarded("logging early stopping", config, _log_early_stopping, tracking, run_id, recorder, config)


# ---------------------------------------------------------------------- DMatrix
def on_dmatrix_init(call: Any) -> Any:
    """``DMatrix(data, label)``: remember (weakly) what the matrix is built from."""
    yield
    data, label = xgb_data.init_arguments(call.args, call.kwargs)
    xgb_data.remember_source(call.instance, data, label)


# ---------------------------------------------------------------------- scikit-learn API
def fit_arguments(call: Any) -> tuple[Any, Any, Any]:
    """``(X, y, eval_set)`` of a scikit-learn API ``fit`` call."""
    args, kwargs = call.args, call.kwargs
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    return X, y, kwargs.get("eval_set")


def estimator_tags(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    return {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__qualname__}"}


def on_fit(call: Any) -> Any:
    """``fit`` of a scikit-learn API class: ``get_params()``, tags, datasets (``eval_set`` entries in
    context ``eval``, named ``validation_<i>`` as XGBoost names their metrics); joined by the inner
    ``train``: per-round metrics, early stopping and importance; after it the model, the training
    metrics of a scikit-learn estimator, and what post-training metrics need."""
    from autotrack.integrations.xgboost import post_training

    config = call.config
    estimator = call.instance
    X, y, eval_set = fit_arguments(call)
    call.session.state[FIT_STATE] = {"estimator": estimator}
    tracking = record.client()
    run_id = call.run_id
    record.guarded("logging params", config, record.log_params, tracking, run_id,
                   xgb_params.estimator_params(estimator), config)
    record.guarded("logging tags", config, tracking.set_tags, run_id, estimator_tags(estimator))
    if config.log_datasets:
        record.guarded("logging datasets", config, _log_fit_datasets, tracking, run_id, X, y, eval_set, config)
    example = xgb_data.head_rows(X) if config.log_models else None
    yield
    if config.log_models:
        record.guarded("logging the model", config, record.log_model, tracking, run_id, estimator, example, config)
    record.guarded("logging training metrics", config, post_training.log_training_metrics, tracking, run_id,
                   estimator, X, y, call.kwargs.get("sample_weight"), config)
    if config.log_post_training_metrics:
        record.guarded("preparing post-training metrics", config, post_training.remember_model, estimator, run_id)


def _log_fit_datasets(tracking: Any, run_id: str, X: Any, y: Any, eval_set: Any, config: Any) -> None:
    if X is not None:
        record.log_dataset(tracking, run_id, X, y, {}, _dataset_name(X, "dataset"), TRAIN_CONTEXT, config)
    for index, pair in enumerate(eval_set or ()):
        X_eval, y_eval = pair
        if X_eval is X and y_eval is y:
            continue  # the training set watched as an eval set
        record.log_dataset(tracking, run_id, X_eval, y_eval, {}, f"validation_{index}", EVAL_CONTEXT, config)
