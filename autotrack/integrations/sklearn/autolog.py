"""scikit-learn autologging: which calls are patched, and what one training run records.

Patched entry points: ``fit``, ``fit_transform``, ``fit_predict`` and ``partial_fit`` of the public
estimator classes (estimators, transformers, pipelines, meta-estimators, searches), patched lazily:
``import sklearn`` only subscribes to the public submodules, and each submodule's classes are patched
when the user imports it. Data-manipulation routines (``sklearn.preprocessing``, ``sklearn.impute``,
``sklearn.feature_extraction``, ``sklearn.feature_selection`` and a stand-alone ``ColumnTransformer``)
get no run of their own; inside a ``Pipeline`` they are part of the pipeline's run.

Only the outermost call logs (the engine's session stack): ``Pipeline.fit`` is one run, the fits of a
search's candidates or of a cross-validation are nested calls, or run in worker processes or threads
where the engine's worker policy forbids new runs.

Interface for the other scikit-learn modules (``tuning``, ``post_training``, ``crossval``)
---------------------------------------------------------------------------------------------
- :func:`register_after_fit` ``(handler)``: ``handler(estimator, X, y, run_id, config)`` is called
  after the standard logging of every outermost autologged fit (``partial_fit`` included), in
  registration order; registering the same handler again is a no-op. ``run_id`` is the run the fit
  logged into; ``config`` the integration's effective options (:class:`~autotrack.core.AutologConfig`).
  An exception in a handler is reported by the engine's safety rules (one warning, or re-raised under
  ``AUTOTRACK_STRICT=1``) and does not stop the other handlers. Handlers are forgotten when the
  integration is removed (``autolog(disable=True)`` or reconfigured); ``apply`` registers them again.
- ``SklearnIntegration.apply`` installs this module's patches, then imports each of
  ``autotrack.integrations.sklearn.tuning``, ``.post_training`` and ``.crossval`` that exists and calls
  its ``apply(patcher, config)``. Their patches go through the same patcher, so the engine reverts them.
- :func:`training_run_for` ``(estimator) -> str | None``: the run id the estimator's last autologged
  fit logged into.
- :func:`log_estimator_fit` ``(estimator, X, y, run_id, config, *, log_model=True)``: log params, tags,
  training metrics, the training dataset and (when ``log_model`` and ``config.log_models``) the model
  of an already-fitted estimator into ``run_id``. For a search estimator the logged model is its
  ``best_estimator_`` when it has one.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable
from types import ModuleType
from typing import Any

from autotrack.core import safety
from autotrack.core.integration import AutologConfig, Integration
from autotrack.integrations.kit import calls
from autotrack.integrations.sklearn.options import SETTINGS, validate_settings

NAME = "sklearn"

#: public submodules whose estimator classes are patched when the user imports them
PATCHED_MODULES: tuple[str, ...] = (
    "sklearn.calibration", "sklearn.cluster", "sklearn.compose", "sklearn.covariance",
    "sklearn.cross_decomposition", "sklearn.decomposition", "sklearn.discriminant_analysis", "sklearn.dummy",
    "sklearn.ensemble", "sklearn.frozen", "sklearn.gaussian_process", "sklearn.isotonic",
    "sklearn.kernel_approximation", "sklearn.kernel_ridge", "sklearn.linear_model", "sklearn.manifold",
    "sklearn.mixture", "sklearn.model_selection", "sklearn.multiclass", "sklearn.multioutput",
    "sklearn.naive_bayes", "sklearn.neighbors", "sklearn.neural_network", "sklearn.pipeline",
    "sklearn.random_projection", "sklearn.semi_supervised", "sklearn.svm", "sklearn.tree",
    # the halving searches live here; `sklearn.experimental.enable_halving_search_cv` imports it
    "sklearn.model_selection._search_successive_halving",
)
#: classes defined under these modules are data-manipulation routines: no run of their own
EXCLUDED_MODULE_PREFIXES: tuple[str, ...] = (
    "sklearn.preprocessing", "sklearn.impute", "sklearn.feature_extraction", "sklearn.feature_selection",
)
EXCLUDED_CLASSES: frozenset[str] = frozenset({"sklearn.compose._column_transformer.ColumnTransformer"})
FIT_METHODS: tuple[str, ...] = ("fit", "fit_transform", "fit_predict")
#: the scikit-learn modules owned by the tuning / post-training / cross-validation work
EXTENSION_MODULES: tuple[str, ...] = (
    "autotrack.integrations.sklearn.tuning",
    "autotrack.integrations.sklearn.post_training",
    "autotrack.integrations.sklearn.crossval",
)

AfterFitHandler = Callable[[Any, Any, Any, str, AutologConfig], None]

_after_fit_handlers: list[AfterFitHandler] = []
_handlers_lock = threading.Lock()
# estimator -> run id of its last autologged fit (weak: a run id must not keep a model alive)
_training_runs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_training_runs_by_id: dict[int, str] = {}  # fallback for estimators that cannot be weakly referenced


# ---------------------------------------------------------------------- public interface
def register_after_fit(handler: AfterFitHandler) -> None:
    """Call ``handler(estimator, X, y, run_id, config)`` after the standard logging of every outermost
    autologged fit, after the handlers registered before it. Registering it again is a no-op."""
    if not callable(handler):
        raise TypeError(f"register_after_fit(handler={handler!r}): handler must be callable")
    with _handlers_lock:
        if handler not in _after_fit_handlers:
            _after_fit_handlers.append(handler)


def after_fit_handlers() -> list[AfterFitHandler]:
    """The registered after-fit handlers, in call order."""
    with _handlers_lock:
        return list(_after_fit_handlers)


def training_run_for(estimator: Any) -> str | None:
    """The run id the last autologged fit of ``estimator`` logged into, or None."""
    try:
        return _training_runs.get(estimator)
    except TypeError:
        return _training_runs_by_id.get(id(estimator))


def _remember_training_run(estimator: Any, run_id: str) -> None:
    try:
        _training_runs[estimator] = run_id
    except TypeError:
        _training_runs_by_id[id(estimator)] = run_id


def log_estimator_fit(estimator: Any, X: Any, y: Any, run_id: str, config: AutologConfig, *,
                      log_model: bool = True, sample_weight: Any = None, dataset_name: str | None = None,
                      step: int | None = None, log_plots: bool = True) -> None:
    """Log what one training of the already-fitted ``estimator`` on ``(X, y)`` records into ``run_id``.

    Params (``get_params(deep=True)``; one already logged in the run with another value is kept), tags
    ``estimator_name`` / ``estimator_class``, training metrics (at ``step``), the training dataset
    (when ``config.log_datasets``), confusion matrix / ROC / precision-recall curves as JSON (and PNG
    with ``log_plot_images``) when ``log_plots``, and the model (``best_estimator_`` of a search) when
    ``log_model`` and ``config.log_models``. Each part is guarded on its own: a failing part is
    reported (warning, or raised under ``AUTOTRACK_STRICT=1``) and the others still run.
    """
    from autotrack.integrations.sklearn import logging_parts

    logging_parts.log_training(estimator, X, y, run_id, config, log_model=log_model, sample_weight=sample_weight,
                               dataset_name=dataset_name, step=step, log_plots=log_plots)


def _report(where: str, exc: Exception, config: AutologConfig) -> None:
    safety.report(NAME, where, exc, silent=config.silent)


def _run_after_fit_handlers(estimator: Any, X: Any, y: Any, run_id: str, config: AutologConfig) -> None:
    for handler in after_fit_handlers():
        try:
            handler(estimator, X, y, run_id, config)
        except Exception as exc:  # noqa: BLE001 - one broken handler must not stop the others
            _report(f"after-fit handler {getattr(handler, '__qualname__', handler)!r}", exc, config)


# ---------------------------------------------------------------------- call arguments
def fit_arguments(call: Any) -> tuple[Any, Any, Any]:
    """``(X, y, sample_weight)`` of a patched ``fit``-like call (missing ones are None), looked up by
    name or position against the original method's signature."""
    X = calls.argument(call, "X", 0)
    if X is None:
        X = call.kwargs.get("raw_documents")
    y = calls.argument(call, "y", 1)
    if y is None:
        y = call.kwargs.get("Y")
    return X, y, calls.argument(call, "sample_weight")


def caller_variable_name(value: Any, default: str = "dataset") -> str:
    """The user's variable name for ``value`` (``clf.fit(X_train, y)`` gives ``"X_train"``), looking
    past autotrack's and scikit-learn's own frames; else ``default``."""
    return calls.caller_variable_name(value, default, skip=("sklearn.",))


# ---------------------------------------------------------------------- hooks
class SklearnIntegration(Integration):
    """Autologging of scikit-learn training: see the module docstring for what is patched."""

    name = NAME
    distribution = "scikit-learn"
    supports = ">=1.3"
    triggers = ("sklearn",)
    settings = SETTINGS

    @classmethod
    def validate_settings(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """``log_post_training_metrics``, ``log_plot_images`` (bool), ``max_tuning_runs`` (None or an
        int >= 0), ``pos_label`` (None or one class label); see :mod:`.options`."""
        return validate_settings(settings)

    def apply(self, patcher: Any, module: ModuleType) -> None:
        """On ``import sklearn``: patch each public submodule when it is imported, then let the tuning,
        post-training and cross-validation modules install theirs."""
        for name in PATCHED_MODULES:
            patcher.on_import(name, lambda mod, patcher=patcher: self._patch_module(patcher, mod))
        import importlib

        for ext in EXTENSION_MODULES:
            try:
                extension = importlib.import_module(ext)
            except ModuleNotFoundError as exc:
                if exc.name == ext:
                    continue  # not part of this build
                raise
            extension.apply(patcher, self.config)

    def remove(self) -> None:
        """Forget after-fit handlers and end the runs left open by incremental training."""
        with _handlers_lock:
            _after_fit_handlers.clear()
        from autotrack.integrations.sklearn import incremental

        incremental.end_open_runs(reason="autolog reconfigured")

    # -- patching
    def _patch_module(self, patcher: Any, module: ModuleType) -> None:
        from sklearn.base import BaseEstimator

        for attr, cls in sorted(vars(module).items()):
            if attr.startswith("_") or not isinstance(cls, type) or not issubclass(cls, BaseEstimator):
                continue
            qualified = f"{cls.__module__}.{cls.__qualname__}"
            if not cls.__module__.startswith("sklearn.") or qualified in EXCLUDED_CLASSES \
                    or cls.__module__.startswith(EXCLUDED_MODULE_PREFIXES) or inspect.isabstract(cls):
                continue
            for method in FIT_METHODS:
                if _defines(cls, method):
                    patcher.patch(cls, method, self._on_fit)
            if _defines(cls, "partial_fit"):
                patcher.patch(cls, "partial_fit", self._on_partial_fit, creates_run=False)

    # -- fit, fit_transform, fit_predict
    def _on_fit(self, call: Any) -> Any:
        from autotrack.integrations.sklearn import incremental

        config = call.config
        incremental.end_open_runs(reason="a new training started")
        X, y, sample_weight = fit_arguments(call)
        name = caller_variable_name(X)
        yield
        estimator = call.instance
        incremental.forget(estimator)
        log_estimator_fit(estimator, X, y, call.run_id, config, sample_weight=sample_weight, dataset_name=name)
        _remember_training_run(estimator, call.run_id)
        _run_after_fit_handlers(estimator, X, y, call.run_id, config)

    # -- partial_fit
    def _on_partial_fit(self, call: Any) -> Any:
        from autotrack.integrations.sklearn import incremental

        config = call.config
        estimator = call.instance
        if call.run_id is not None and config.exclusive:
            yield  # exclusive: never log into a run the user started
            return
        X, y, sample_weight = fit_arguments(call)
        name = caller_variable_name(X)
        chunk = incremental.begin_call(estimator, call.run_id, config)
        if chunk is None:
            yield  # worker process / thread of another autologged call: no run of our own
            return
        succeeded = False
        try:
            yield
            succeeded = True
        finally:
            if not succeeded:
                incremental.call_failed(estimator, chunk)
        incremental.log_call(estimator, X, y, sample_weight, chunk, config, dataset_name=name)
        _remember_training_run(estimator, chunk.run_id)
        _run_after_fit_handlers(estimator, X, y, chunk.run_id, config)


def _defines(cls: type, method: str) -> bool:
    return any(method in vars(klass) for klass in cls.__mro__)
