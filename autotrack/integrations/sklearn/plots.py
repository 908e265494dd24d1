"""Confusion matrix, ROC and precision-recall curves of a classifier's training predictions.

Logged as JSON data a UI can draw (always), and as PNG images only with ``log_plot_images=True``,
rendered by a background thread with matplotlib's Agg canvas (no pyplot, no GUI, nothing on the
caller's thread). Artifact names follow MLflow's images: ``training_confusion_matrix``,
``training_roc_curve``, ``training_precision_recall_curve`` (``.json`` / ``.png``).

JSON formats (numbers are plain floats rounded to 6 decimals; an infinite threshold is ``null``)::

    training_confusion_matrix.json  {"type": "confusion_matrix", "labels": [...], "matrix": [[...]],
                                     "rows": "true label", "columns": "predicted label", "weighted": bool}
    training_roc_curve.json         {"type": "roc_curve", "curves": [{"label", "fpr", "tpr", "thresholds", "auc"}]}
    training_precision_recall_curve.json
                                    {"type": "precision_recall_curve",
                                     "curves": [{"label", "precision", "recall", "thresholds", "average_precision"}]}

A binary classifier has one curve (its positive class: ``pos_label`` if set, else the greater
label); a multiclass one has a one-vs-rest curve per class, up to :data:`MAX_CURVE_CLASSES`.
Curves longer than :data:`MAX_POINTS` points are thinned to that many, evenly spaced (ends kept):
enough to draw them, and cheap enough to write on every fit.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

from autotrack.integrations.sklearn.training_metrics import DATA_ERRORS, TrainingResult, binary_curves

MAX_POINTS = 200
DECIMALS = 6  # rounded values halve the cost of writing the JSON
MAX_CURVE_CLASSES = 20
MAX_MATRIX_CLASSES = 100
PREFIX = "training_"


def _thin(arrays: dict[str, np.ndarray]) -> dict[str, list]:
    """At most :data:`MAX_POINTS` evenly spaced points of each array (ends kept), as JSON-able lists."""
    n = len(next(iter(arrays.values())))
    index = np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(int)) if n > MAX_POINTS else slice(None)
    out = {}
    for key, values in arrays.items():
        part = np.asarray(values, dtype=np.float64)[index].round(DECIMALS)
        items = part.tolist()
        if not np.isfinite(part).all():
            items = [v if np.isfinite(v) else None for v in items]
        out[key] = items
    return out


def _label(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def curves(result: TrainingResult, sample_weight: Any, pos_label: Any) -> dict[str, dict[str, Any]]:
    """``{artifact base name: JSON-able data}`` for a classifier's training predictions."""
    out: dict[str, dict[str, Any]] = {}
    if result.kind != "classifier" or result.y_pred is None:
        return out
    y = np.asarray(result.y_true)
    y_pred = np.asarray(result.y_pred)
    if y.ndim != 1 or y_pred.ndim != 1 or y.shape != y_pred.shape:
        return out
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    try:
        labels, inverse = np.unique(np.concatenate([y, y_pred]), return_inverse=True)
    except DATA_ERRORS:
        return out
    k = labels.shape[0]
    if k <= MAX_MATRIX_CLASSES:
        n = y.shape[0]
        cm = np.bincount(inverse[:n] * k + inverse[n:], weights=w, minlength=k * k).reshape(k, k)
        out[PREFIX + "confusion_matrix"] = {
            "type": "confusion_matrix", "labels": [_label(v) for v in labels],
            "matrix": cm.tolist(), "rows": "true label", "columns": "predicted label", "weighted": w is not None,
        }
    proba = None if result.y_proba is None else np.asarray(result.y_proba)
    classes = None if result.classes is None else np.asarray(result.classes)
    if proba is None or classes is None or proba.ndim != 2 or proba.shape[1] != classes.shape[0] \
            or proba.shape[0] != y.shape[0] or classes.shape[0] > MAX_CURVE_CLASSES:
        return out
    if classes.shape[0] == 2:
        positive = 1
        if pos_label is not None and pos_label in classes.tolist():
            positive = classes.tolist().index(pos_label)
        targets = [positive]
    else:
        targets = list(range(classes.shape[0]))
    roc, pr = [], []
    for index in targets:
        positives = (y == classes[index]).astype(np.float64)
        label = _label(classes[index])
        r, p = binary_curves(positives, proba[:, index], w)
        if r is not None:
            roc.append({"label": label, **_thin({"fpr": r["fpr"], "tpr": r["tpr"], "thresholds": r["thresholds"]}),
                        "auc": r["auc"]})
        if p is not None:
            pr.append({"label": label, **_thin({"precision": p["precision"], "recall": p["recall"],
                                                "thresholds": p["thresholds"]}),
                       "average_precision": p["average_precision"]})
    if roc:
        out[PREFIX + "roc_curve"] = {"type": "roc_curve", "curves": roc}
    if pr:
        out[PREFIX + "precision_recall_curve"] = {"type": "precision_recall_curve", "curves": pr}
    return out


def to_json_files(data: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    """``{"<name>.json": bytes}`` for :func:`curves`' output."""
    return {f"{name}.json": json.dumps(value, separators=(",", ":")).encode() for name, value in data.items()}


def render_png(name: str, value: dict[str, Any]) -> bytes:
    """Draw one :func:`curves` entry as a PNG (matplotlib Agg canvas; safe off the main thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    kind = value["type"]
    if kind == "confusion_matrix":
        matrix = np.asarray(value["matrix"], dtype=float)
        image = ax.imshow(matrix, cmap="Blues")
        fig.colorbar(image, ax=ax)
        ticks = range(len(value["labels"]))
        ax.set_xticks(list(ticks), [str(v) for v in value["labels"]])
        ax.set_yticks(list(ticks), [str(v) for v in value["labels"]])
        if len(value["labels"]) <= 20:
            for i in ticks:
                for j in ticks:
                    ax.text(j, i, f"{matrix[i, j]:g}", ha="center", va="center", fontsize=8)
        ax.set_xlabel("Predicted label")
        ax.set_ylabel("True label")
        ax.set_title("Confusion matrix (training data)")
    elif kind == "roc_curve":
        for curve in value["curves"]:
            ax.plot(curve["fpr"], curve["tpr"], label=f"{curve['label']} (AUC = {curve['auc']:.3f})")
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
        ax.set_xlabel("False positive rate")
        ax.set_ylabel("True positive rate")
        ax.set_title("ROC curve (training data)")
        ax.legend(loc="lower right", fontsize=8)
    else:
        for curve in value["curves"]:
            ax.plot(curve["recall"], curve["precision"], label=f"{curve['label']} (AP = {curve['average_precision']:.3f})")
        ax.set_xlabel("Recall")
        ax.set_ylabel("Precision")
        ax.set_title("Precision-recall curve (training data)")
        ax.legend(loc="lower left", fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
