"""Post-training metrics: evaluations of an autologged model, logged to the run of its training.

After an autologged ``fit``, two kinds of calls are attributed to the model's run:

- ``model.score(X, y)`` -> metric ``<EstimatorClass>_score_<dataset>``;
- a ``sklearn.metrics`` function called on what the model predicted (``predict``, ``predict_proba``,
  ``predict_log_proba``, ``decision_function``, ``transform``) -> metric ``<function>_<dataset>``,
  e.g. ``accuracy_score(y_test, model.predict(X_test))`` -> ``accuracy_score_X_test``.

``<dataset>`` is the name of the variable that held ``X`` in the calling code (its locals, then its
globals), else ``eval_dataset``. Within one run, a different object under an already used dataset
name is told apart as ``X_test-2``, ``X_test-3``...; a metric computed again on the same dataset gets
a call index the same way: ``accuracy_score-2_X_test`` (MLflow's ``<metric>[-<call>]_<dataset>``).

Predictions are remembered by object identity (a numpy view of one, such as
``predict_proba(X)[:, 1]``, counts as that prediction), through weak references and at most
:data:`MAX_TRACKED_PREDICTIONS` of them (oldest forgotten first), so nothing is kept alive for
autotrack's sake. Only scalar numeric results are logged (``confusion_matrix`` is not).

The model's run has usually ended by the time it is evaluated. The tracking client refuses logging to
a finished run at call time (a user's late ``log_metric`` is a mistake worth an error); these records
are different -- they belong to the run by construction -- so they are queued with
``TrackingClient.log_late_metric``, which accepts finished runs (the store refuses deleted runs only).
The run's status and end time are left as they were, which resuming the run would not do.
"""

from __future__ import annotations

import collections
import itertools
import numbers
import sys
import threading
import weakref
from types import ModuleType
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Generator

    from autotrack.core import AutologConfig, Call, Patcher

#: methods whose output is remembered as a prediction of the model
PREDICTION_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform")
#: how many predictions are remembered at most
MAX_TRACKED_PREDICTIONS = 1024
#: the dataset name used when the caller's variable for ``X`` cannot be found
FALLBACK_DATASET_NAME = "eval_dataset"
# sklearn.metrics functions whose name does not say they return a score/loss/error.
_EXTRA_METRICS = frozenset({"matthews_corrcoef", "auc"})
_METRIC_SUFFIXES = ("_score", "_error", "_loss", "_deviance")


# ---------------------------------------------------------------------------------------- registry
class _Tracked:
    """A weakly referenced object with what autotrack knows about it."""

    __slots__ = ("ref", "info")

    def __init__(self, ref: weakref.ref, info: Any) -> None:
        self.ref = ref
        self.info = info


class _IdentityMap:
    """``id(obj) -> info`` for live, weak-referenceable objects, bounded to ``limit`` entries.

    An entry leaves when its object is collected (so a recycled ``id`` never finds stale data) or,
    oldest first, when the map is full.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._entries: collections.OrderedDict[int, _Tracked] = collections.OrderedDict()
        self._lock = threading.Lock()

    def put(self, obj: Any, info: Any) -> bool:
        """Remember ``info`` for ``obj``; False if ``obj`` cannot be weakly referenced."""
        key = id(obj)

        def forget(_ref: weakref.ref, key: int = key) -> None:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and entry.ref is _ref:
                    del self._entries[key]

        try:
            ref = weakref.ref(obj, forget)
        except TypeError:
            return False
        with self._lock:
            self._entries[key] = _Tracked(ref, info)
            self._entries.move_to_end(key)
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)
        return True

    def get(self, obj: Any) -> Any:
        """The info remembered for this very object, or None."""
        entry = self._entries.get(id(obj))
        if entry is None or entry.ref() is not obj:
            return None
        return entry.info

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class _RunNames:
    """Per run: which objects got which dataset names, and how often each metric was computed."""

    def __init__(self) -> None:
        self.datasets: dict[str, list[weakref.ref | int]] = {}
        self.calls: collections.Counter[str] = collections.Counter()


class _Registry:
    """What post-training logging remembers: models -> their runs, predictions -> (run, dataset)."""

    def __init__(self) -> None:
        self.models = _IdentityMap(MAX_TRACKED_PREDICTIONS)
        self.predictions = _IdentityMap(MAX_TRACKED_PREDICTIONS)
        self._runs: collections.OrderedDict[str, _RunNames] = collections.OrderedDict()
        self._lock = threading.Lock()

    def _names(self, run_id: str) -> _RunNames:
        names = self._runs.get(run_id)
        if names is None:
            names = self._runs[run_id] = _RunNames()
            while len(self._runs) > MAX_TRACKED_PREDICTIONS:
                self._runs.popitem(last=False)
        return names

    def dataset_name(self, run_id: str, dataset: Any, base: str) -> str:
        """``base`` for the first object named so in this run, ``base-2`` for the second, ..."""
        with self._lock:
            seen = self._names(run_id).datasets.setdefault(base, [])
            for index, known in enumerate(seen):
                same = known() is dataset if isinstance(known, weakref.ref) else known == id(dataset)
                if same:
                    return _with_index(base, index)
            try:
                seen.append(weakref.ref(dataset))
            except TypeError:  # lists and tuples: identity by id only
                seen.append(id(dataset))
            return _with_index(base, len(seen) - 1)

    def metric_key(self, run_id: str, metric: str, dataset_name: str) -> str:
        """``<metric>_<dataset>``, then ``<metric>-2_<dataset>``... for repeated calls in one run."""
        with self._lock:
            calls = self._names(run_id).calls
            index = calls[f"{metric}\0{dataset_name}"]
            calls[f"{metric}\0{dataset_name}"] += 1
        return f"{_with_index(metric, index)}_{dataset_name}"

    def clear(self) -> None:
        self.models.clear()
        self.predictions.clear()
        with self._lock:
            self._runs.clear()


def _with_index(name: str, index: int) -> str:
    # '-' cannot occur in a Python variable name, so 'X_test-2' never collides with a real variable.
    return name if index == 0 else f"{name}-{index + 1}"


registry = _Registry()


# ---------------------------------------------------------------------------------------- helpers
def remember_model(estimator: Any, run_id: str, tracking_uri: str | None = None) -> None:
    """Attribute later evaluations of ``estimator`` to ``run_id`` (on ``tracking_uri``, default current)."""
    if tracking_uri is None:
        from autotrack.tracking import fluent

        tracking_uri = fluent.get_tracking_uri()
    registry.models.put(estimator, (run_id, tracking_uri))


def run_of(estimator: Any) -> tuple[str, str] | None:
    """``(run_id, tracking_uri)`` of the autologged training of ``estimator``, or None."""
    found = registry.models.get(estimator)
    if found is not None:
        return found
    from autotrack.integrations.sklearn.autolog import training_run_for

    run_id = training_run_for(estimator)
    if not run_id:
        return None
    from autotrack.tracking import fluent

    return run_id, fluent.get_tracking_uri()


def log_late_metric(run_id: str, tracking_uri: str, key: str, value: float, step: int = 0) -> None:
    """Queue a metric of ``run_id`` even if the run has ended (see the module docstring)."""
    from autotrack.tracking.client import TrackingClient

    TrackingClient(tracking_uri).log_late_metric(run_id, key, value, step)


def caller_variable_name(value: Any, default: str) -> str:
    """The caller's variable name for ``value`` (see the scikit-learn integration), else ``default``."""
    from autotrack.integrations.sklearn.autolog import caller_variable_name as find

    return find(value, default)


def _first_argument(call: Call, name: str) -> Any:
    from autotrack.integrations.kit import calls

    return calls.argument(call, name, 0)


def _memory_owner(array: Any) -> Any:
    """The array owning the memory of a numpy view (``proba[:, 1]`` -> the ``predict_proba`` output
    or what it is a view of), else None. numpy keeps ``.base`` pointing at the owner, not at the
    intermediate view, so both a prediction and its owner are remembered."""
    np = sys.modules.get("numpy")
    if np is None or not isinstance(array, np.ndarray):
        return None
    return array.base if isinstance(array.base, np.ndarray) else None


def _scalar(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        np = sys.modules.get("numpy")
        if np is None or not isinstance(value, np.generic) or not np.issubdtype(type(value), np.number) \
                or np.issubdtype(type(value), np.complexfloating):
            return None
    return float(value)


# ---------------------------------------------------------------------------------------- hooks
def _on_prediction(call: Call) -> Generator[None, Any, None]:
    """After ``predict``/``predict_proba``/...: remember the output as a prediction of the model's run."""
    result = yield
    found = run_of(call.instance)
    if found is None or result is None:
        return
    run_id, uri = found
    X = _first_argument(call, "X")
    base = caller_variable_name(X, FALLBACK_DATASET_NAME)
    info = (run_id, uri, registry.dataset_name(run_id, X, base))
    registry.predictions.put(result, info)
    owner = _memory_owner(result)
    if owner is not None:
        registry.predictions.put(owner, info)


def _on_score(call: Call) -> Generator[None, Any, None]:
    """After ``model.score(X, y)``: log ``<Class>_score_<dataset>`` to the model's run."""
    result = yield
    found = run_of(call.instance)
    value = _scalar(result)
    if found is None or value is None:
        return
    run_id, uri = found
    X = _first_argument(call, "X")
    dataset = registry.dataset_name(run_id, X, caller_variable_name(X, FALLBACK_DATASET_NAME))
    log_late_metric(run_id, uri, registry.metric_key(run_id, f"{type(call.instance).__name__}_score", dataset), value)


def _make_metric_hook(metric_name: str):
    def on_metric(call: Call) -> Generator[None, Any, None]:
        """After a ``sklearn.metrics`` function: log it if one argument is a remembered prediction."""
        result = yield
        value = _scalar(result)
        if value is None:
            return
        for argument in itertools.chain(call.args, call.kwargs.values()):
            tracked = registry.predictions.get(argument)
            if tracked is None and (owner := _memory_owner(argument)) is not None:
                tracked = registry.predictions.get(owner)  # a view: predict_proba(X)[:, 1]
            if tracked is not None:
                run_id, uri, dataset = tracked
                log_late_metric(run_id, uri, registry.metric_key(run_id, metric_name, dataset), value)
                return

    on_metric.__qualname__ = f"on_metric[{metric_name}]"
    return on_metric


def is_metric_function(name: str, value: Any) -> bool:
    """Whether ``sklearn.metrics.<name>`` is a metric function that returns one number."""
    return (callable(value) and not isinstance(value, type) and not name.startswith("_")
            and (name.endswith(_METRIC_SUFFIXES) or name in _EXTRA_METRICS))


def _patch_metrics(patcher: Patcher, metrics: ModuleType) -> None:
    for name in getattr(metrics, "__all__", ()):
        value = getattr(metrics, name, None)
        if is_metric_function(name, value):
            patcher.patch(metrics, name, _make_metric_hook(name), creates_run=False)


def estimator_methods(module: ModuleType, names: tuple[str, ...]) -> list[tuple[type, str]]:
    """``(defining class, method name)`` for each method in ``names`` of the public estimator classes
    of ``module``; a method inherited from a base class or mixin is reported once, at its definer."""
    estimator_type = getattr(sys.modules.get("sklearn.base"), "BaseEstimator", None)
    found: dict[tuple[int, str], tuple[type, str]] = {}
    for export, cls in sorted(vars(module).items()):
        if export.startswith("_") or not isinstance(cls, type) or estimator_type is None \
                or not issubclass(cls, estimator_type):
            continue
        for name in names:
            for klass in cls.__mro__:
                if name in vars(klass):
                    found.setdefault((id(klass), name), (klass, name))
                    break
    return list(found.values())


def _patch_estimators(patcher: Patcher, package: ModuleType) -> None:
    for owner, name in estimator_methods(package, PREDICTION_METHODS):
        patcher.patch(owner, name, _on_prediction, creates_run=False)
    for owner, name in estimator_methods(package, ("score",)):
        patcher.patch(owner, name, _on_score, creates_run=False)


def _after_fit(estimator: Any, X: Any, y: Any, run_id: str | None, config: AutologConfig) -> None:
    """After-fit handler: the model's later evaluations belong to ``run_id``."""
    if run_id:
        remember_model(estimator, run_id)


def apply(patcher: Patcher, config: AutologConfig) -> None:
    """Install post-training metric logging (a no-op with ``log_post_training_metrics=False``).

    Patches ``sklearn.metrics`` functions and the prediction/score methods of each sklearn subpackage
    as it is imported; nothing is imported here.
    """
    if not config.log_post_training_metrics:
        return
    from autotrack.integrations.sklearn.autolog import PATCHED_MODULES, register_after_fit

    register_after_fit(_after_fit)
    patcher.on_import("sklearn.metrics", lambda module: _patch_metrics(patcher, module))
    # The modules whose estimators get training runs: only their models can be evaluated.
    for name in PATCHED_MODULES:
        patcher.on_import(name, lambda module: _patch_estimators(patcher, module))


def apply_to_models(patcher: Patcher, classes: Any) -> None:
    """Post-training metrics for the scikit-learn API models of another library (XGBoost's
    ``XGBClassifier``, ...): patch, through that integration's ``patcher``, the prediction methods and
    ``score`` of ``classes`` (each at the class that defines it) and the ``sklearn.metrics`` functions.
    Its models are attributed to their runs with :func:`remember_model`.

    With scikit-learn autologging on too, a method or function patched by both integrations logs once
    (the outer wrapper's call is the outermost one; the inner one only runs) into the same registry.
    """
    found: dict[tuple[int, str], tuple[type, str]] = {}
    for cls in classes:
        for name in (*PREDICTION_METHODS, "score"):
            for klass in cls.__mro__:
                if name in vars(klass):
                    found.setdefault((id(klass), name), (klass, name))
                    break
    for owner, name in found.values():
        patcher.patch(owner, name, _on_score if name == "score" else _on_prediction, creates_run=False)
    patcher.on_import("sklearn.metrics", lambda module: _patch_metrics(patcher, module))
