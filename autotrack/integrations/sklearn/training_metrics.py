"""Training metrics under MLflow's names, computed with numpy from one ``predict`` / ``predict_proba``.

scikit-learn's metric functions validate their inputs on every call, which costs about a
millisecond each; a fit of a small model costs about as much. So the common cases (1-D labels or
targets) are computed here directly from the predictions, with scikit-learn's definitions and
defaults (weighted averages over the labels present in ``y`` and the predictions, zero division
giving 0, probabilities clipped to ``[eps, 1 - eps]`` for the log loss, trapezoidal ROC AUC), and the
rest (multilabel, multi-output, mixed label types, multiclass ROC AUC) falls back to ``sklearn.metrics``.
The tests check every value against ``sklearn.metrics`` computed directly.

A metric that scikit-learn itself refuses for the data (e.g. ROC AUC when ``y`` has one class) is
skipped, as MLflow does; that is the data's limit, not an autotrack error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Errors scikit-learn raises for data a metric does not apply to (skipped, not reported).
DATA_ERRORS = (ValueError, TypeError, AttributeError, IndexError, ZeroDivisionError, NotImplementedError)

REGRESSOR_METRICS = ("mean_squared_error", "root_mean_squared_error", "mean_absolute_error", "r2_score")


@dataclass
class TrainingResult:
    """Metrics (``training_*`` names) and what curve and matrix artifacts are drawn from."""

    metrics: dict[str, float] = field(default_factory=dict)
    kind: str = "other"  # "classifier", "regressor", "clusterer", "other"
    y_true: Any = None
    y_pred: Any = None
    y_proba: Any = None
    classes: Any = None


def _weights(sample_weight: Any, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if w.shape[0] != n:
        raise ValueError(f"sample_weight has {w.shape[0]} values for {n} samples")
    return w


def _average(values: np.ndarray, w: np.ndarray | None) -> float:
    if w is None:
        return float(np.mean(values))
    return float(np.average(values, weights=w))


def _column(y: Any) -> np.ndarray | None:
    """``y`` as a 1-D array, or None when it is not one column of labels/targets."""
    if y is None:
        return None
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    return arr if arr.ndim == 1 else None


def classifier_metrics(y: Any, y_pred: Any, y_proba: Any, classes: Any, sample_weight: Any,
                       pos_label: Any) -> dict[str, float]:
    """``training_accuracy_score`` ... ``training_roc_auc`` for one classifier's predictions."""
    out: dict[str, float] = {}
    yt, yp = _column(y), _column(y_pred)
    fast = yt is not None and yp is not None and (
        (yt.dtype.kind in "biuf" and yp.dtype.kind in "biuf") or (yt.dtype.kind in "USO" and yp.dtype.kind == yt.dtype.kind))
    if fast:
        try:
            out.update(_fast_label_metrics(yt, yp, sample_weight, pos_label))
        except DATA_ERRORS:
            fast = False
    if not fast:
        out.update(_sklearn_label_metrics(y, y_pred, sample_weight, pos_label))
    if y_proba is not None:
        out.update(_probability_metrics(y, yt, y_proba, classes, sample_weight))
    return out


def _fast_label_metrics(yt: np.ndarray, yp: np.ndarray, sample_weight: Any, pos_label: Any) -> dict[str, float]:
    n = yt.shape[0]
    if yp.shape[0] != n:
        raise ValueError("y and predictions differ in length")
    w = _weights(sample_weight, n)
    labels, inverse = np.unique(np.concatenate([yt, yp]), return_inverse=True)
    k = labels.shape[0]
    ti, pi = inverse[:n], inverse[n:]
    cm = np.bincount(ti * k + pi, weights=w, minlength=k * k).reshape(k, k).astype(np.float64)
    tp = np.diag(cm)
    support = cm.sum(axis=1)  # true counts per label
    predicted = cm.sum(axis=0)
    total = cm.sum()
    accuracy = float(tp.sum() / total) if total else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / np.where(predicted > 0, predicted, 1), 0.0)
        recall = np.where(support > 0, tp / np.where(support > 0, support, 1), 0.0)
        denom = 2 * tp + (predicted - tp) + (support - tp)
        f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0)
    binary = pos_label is not None and k <= 2 and np.unique(yt).shape[0] <= 2
    if binary:
        hits = np.flatnonzero(labels == pos_label)
        if hits.shape[0] != 1:
            raise ValueError(f"pos_label={pos_label!r} is not a label of y ({labels.tolist()})")
        index = int(hits[0])
        p, r, f = float(precision[index]), float(recall[index]), float(f1[index])
    else:
        weight_total = support.sum()
        if weight_total == 0:
            p = r = f = 0.0
        else:
            p = float(np.dot(precision, support) / weight_total)
            r = float(np.dot(recall, support) / weight_total)
            f = float(np.dot(f1, support) / weight_total)
    return {"training_accuracy_score": accuracy, "training_precision_score": p,
            "training_recall_score": r, "training_f1_score": f}


def _sklearn_label_metrics(y: Any, y_pred: Any, sample_weight: Any, pos_label: Any) -> dict[str, float]:
    from sklearn import metrics

    average = "weighted"
    extra: dict[str, Any] = {}
    if pos_label is not None:
        try:
            from sklearn.utils.multiclass import type_of_target

            if type_of_target(y) == "binary":
                average, extra = "binary", {"pos_label": pos_label}
        except DATA_ERRORS:
            pass
    out: dict[str, float] = {}
    for name, fn, kwargs in (
        ("accuracy_score", metrics.accuracy_score, {}),
        ("precision_score", metrics.precision_score, {"average": average, **extra, "zero_division": 0}),
        ("recall_score", metrics.recall_score, {"average": average, **extra, "zero_division": 0}),
        ("f1_score", metrics.f1_score, {"average": average, **extra, "zero_division": 0}),
    ):
        try:
            out[f"training_{name}"] = float(fn(y, y_pred, sample_weight=sample_weight, **kwargs))
        except DATA_ERRORS:
            continue
    return out


def _probability_metrics(y: Any, yt: np.ndarray | None, y_proba: Any, classes: Any,
                         sample_weight: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    proba = np.asarray(y_proba)
    classes = None if classes is None else np.asarray(classes)
    fast = yt is not None and classes is not None and proba.ndim == 2 and proba.shape[1] == classes.shape[0] \
        and proba.shape[0] == yt.shape[0] and classes.shape[0] >= 2 and proba.dtype.kind == "f"
    if fast:
        try:
            present = np.unique(yt)
            fast = present.shape[0] == classes.shape[0] and bool(np.all(present == classes))
        except DATA_ERRORS:
            fast = False
    w = None
    if fast:
        try:
            w = _weights(sample_weight, yt.shape[0])
            index = np.searchsorted(classes, yt)
            eps = np.finfo(proba.dtype).eps
            p = np.clip(proba[np.arange(yt.shape[0]), index], eps, 1 - eps)
            out["training_log_loss"] = _average(-np.log(p), w)
        except DATA_ERRORS:
            fast = False
    if not fast:
        from sklearn import metrics

        try:
            out["training_log_loss"] = float(metrics.log_loss(y, proba, sample_weight=sample_weight))
        except DATA_ERRORS:
            pass
    if fast and classes.shape[0] == 2:
        positives = (yt == classes[1]).astype(np.float64)
        curve = binary_roc(positives, proba[:, 1], w)
        if curve is not None:
            out["training_roc_auc"] = curve["auc"]
    else:
        from sklearn import metrics

        try:
            score = proba[:, 1] if proba.ndim == 2 and proba.shape[1] == 2 else proba
            out["training_roc_auc"] = float(metrics.roc_auc_score(
                y, score, average="weighted", multi_class="ovo", sample_weight=sample_weight))
        except DATA_ERRORS:
            pass
    return out


def _curve_points(positives: np.ndarray, scores: np.ndarray, w: np.ndarray | None):
    """Cumulative weighted true/false positives at each distinct score, highest score first."""
    order = np.argsort(scores, kind="mergesort")[::-1]
    s = scores[order]
    t = positives[order]
    weight = np.ones_like(t) if w is None else w[order]
    distinct = np.flatnonzero(np.diff(s))
    ends = np.append(distinct, t.shape[0] - 1)
    tps = np.cumsum(t * weight)[ends]
    fps = np.cumsum((1 - t) * weight)[ends]
    return tps, fps, s[ends]


def _prepend(value: float, array: np.ndarray) -> np.ndarray:
    out = np.empty(array.shape[0] + 1, dtype=np.float64)
    out[0] = value
    out[1:] = array
    return out


def binary_curves(positives: np.ndarray, scores: np.ndarray, w: np.ndarray | None, *, precision_recall: bool = True):
    """``(roc, precision_recall)`` for one positive class, from one sort of the scores.

    ``roc`` has ``fpr``, ``tpr``, ``thresholds`` (decreasing, the first one infinite) and ``auc``
    (trapezoidal, as ``sklearn.metrics.roc_auc_score``); None when ``positives`` is all 0 or all 1.
    ``precision_recall`` has ``precision``, ``recall`` (increasing from 0), ``thresholds`` and
    ``average_precision`` (as ``sklearn.metrics.average_precision_score``); None without positives
    or when not asked for.
    """
    tps, fps, thresholds = _curve_points(positives, np.asarray(scores, dtype=np.float64), w)
    roc = pr = None
    if tps[-1] > 0 and fps[-1] > 0:
        tpr = _prepend(0.0, tps / tps[-1])
        fpr = _prepend(0.0, fps / fps[-1])
        trapezoid = getattr(np, "trapezoid", None) or np.trapz
        roc = {"fpr": fpr, "tpr": tpr, "thresholds": _prepend(np.inf, thresholds), "auc": float(trapezoid(tpr, fpr))}
    if precision_recall and tps[-1] > 0:
        precision = tps / (tps + fps)
        recall = tps / tps[-1]
        average_precision = float(np.sum(np.diff(_prepend(0.0, recall)) * precision))
        pr = {"precision": _prepend(1.0, precision), "recall": _prepend(0.0, recall),
              "thresholds": _prepend(np.inf, thresholds), "average_precision": average_precision}
    return roc, pr


def binary_roc(positives: np.ndarray, scores: np.ndarray, w: np.ndarray | None) -> dict[str, Any] | None:
    """The ROC half of :func:`binary_curves`."""
    return binary_curves(positives, scores, w, precision_recall=False)[0]


def regressor_metrics(y: Any, y_pred: Any, sample_weight: Any) -> dict[str, float]:
    """``training_mean_squared_error`` ... ``training_r2_score`` (multi-output: uniform average)."""
    yt, yp = np.asarray(y), np.asarray(y_pred)
    if yt.ndim == 1:
        yt = yt.reshape(-1, 1)
    if yp.ndim == 1:
        yp = yp.reshape(-1, 1)
    if yt.shape != yp.shape or yt.dtype.kind not in "biuf" or yp.dtype.kind not in "biuf":
        return _sklearn_regressor_metrics(y, y_pred, sample_weight)
    yt = yt.astype(np.float64, copy=False)
    yp = yp.astype(np.float64, copy=False)
    w = _weights(sample_weight, yt.shape[0])
    err = yt - yp
    mse = np.average(err ** 2, axis=0, weights=w)
    mae = np.average(np.abs(err), axis=0, weights=w)
    mean = np.average(yt, axis=0, weights=w)
    ww = np.ones(yt.shape[0]) if w is None else w
    ss_res = (ww[:, None] * err ** 2).sum(axis=0)
    ss_tot = (ww[:, None] * (yt - mean) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot != 0, 1 - ss_res / np.where(ss_tot != 0, ss_tot, 1), np.where(ss_res == 0, 1.0, 0.0))
    return {
        "training_mean_squared_error": float(np.mean(mse)),
        "training_root_mean_squared_error": float(np.mean(np.sqrt(mse))),
        "training_mean_absolute_error": float(np.mean(mae)),
        "training_r2_score": float(np.mean(r2)),
    }


def _sklearn_regressor_metrics(y: Any, y_pred: Any, sample_weight: Any) -> dict[str, float]:
    from sklearn import metrics

    out: dict[str, float] = {}
    for name in REGRESSOR_METRICS:
        fn = getattr(metrics, name, None)
        if fn is None:
            continue
        try:
            out[f"training_{name}"] = float(fn(y, y_pred, sample_weight=sample_weight))
        except DATA_ERRORS:
            continue
    return out


def _kind(estimator: Any) -> str:
    from sklearn.base import is_classifier, is_regressor

    try:
        if is_classifier(estimator):
            return "classifier"
        if is_regressor(estimator):
            return "regressor"
        if getattr(estimator, "_estimator_type", None) == "clusterer" or hasattr(estimator, "fit_predict") \
                and hasattr(estimator, "labels_"):
            return "clusterer"
    except DATA_ERRORS:
        pass
    return "other"


def _unwrapped(fn: Any) -> Any:
    """``fn`` without wrappers (autotrack's own patches included)."""
    for _ in range(16):
        inner = getattr(fn, "__wrapped__", None)
        if inner is None:
            break
        fn = inner
    return fn


def _default_score_is(estimator: Any, kind: str) -> bool:
    """Whether ``estimator.score`` is the mixin's (accuracy / R^2), so it can reuse our values."""
    from sklearn.base import ClassifierMixin, RegressorMixin

    method = _unwrapped(getattr(type(estimator), "score", None))
    if kind == "classifier":
        return method is _unwrapped(ClassifierMixin.score)
    if kind == "regressor":
        return method is _unwrapped(RegressorMixin.score)
    return False


def _search_cannot_score(estimator: Any) -> bool:
    """A search with several scorers and a callable ``refit`` has no scorer for ``score`` (sklearn
    raises KeyError); it has no training score to log."""
    return bool(getattr(estimator, "multimetric_", False)) and callable(getattr(estimator, "refit", None))


def compute(estimator: Any, X: Any, y: Any, sample_weight: Any = None, pos_label: Any = None) -> TrainingResult:
    """All training metrics MLflow logs for ``estimator`` fitted on ``(X, y)``."""
    result = TrainingResult(kind=_kind(estimator))
    if X is None:
        return result
    if y is not None and result.kind in ("classifier", "regressor") and hasattr(estimator, "predict"):
        try:
            y_pred = estimator.predict(X)
        except DATA_ERRORS:
            y_pred = None
        except Exception as exc:  # NotFittedError is a ValueError/AttributeError; anything else: skip
            if type(exc).__name__ != "NotFittedError":
                raise
            y_pred = None
        if y_pred is not None:
            result.y_true, result.y_pred = y, y_pred
            if result.kind == "classifier":
                proba = None
                if hasattr(estimator, "predict_proba"):
                    try:
                        proba = estimator.predict_proba(X)
                    except DATA_ERRORS:
                        proba = None
                result.y_proba = proba
                result.classes = getattr(estimator, "classes_", None)
                result.metrics.update(classifier_metrics(
                    y, y_pred, proba, result.classes, sample_weight, pos_label))
            else:
                result.metrics.update(regressor_metrics(y, y_pred, sample_weight))
    if hasattr(estimator, "score") and not _search_cannot_score(estimator):
        reuse = {"classifier": "training_accuracy_score", "regressor": "training_r2_score"}.get(result.kind)
        if reuse in result.metrics and _default_score_is(estimator, result.kind):
            result.metrics["training_score"] = result.metrics[reuse]
        else:
            try:
                score = estimator.score(X, y, sample_weight=sample_weight) if sample_weight is not None \
                    else estimator.score(X, y)
                result.metrics["training_score"] = float(score)
            except DATA_ERRORS:
                pass
            except Exception as exc:
                if type(exc).__name__ != "NotFittedError":
                    raise
    return result
