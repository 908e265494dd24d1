"""Feature importance of a trained booster, per importance type: ``feature_importance_<type>.json``
(``{feature: score}``, the shape ``Booster.get_score`` returns) and, on request, a bar chart
``feature_importance_<type>.png``.

The scores are read on the caller's thread (``get_score`` is a fast C call, and the booster may be
trained further once ``train`` returns); serializing and drawing happen wherever the caller's
artifact job runs.
"""

from __future__ import annotations

import json
import logging
from typing import Any

_log = logging.getLogger("autotrack.xgboost")

#: bars drawn at most in a PNG (the JSON always has every feature)
MAX_PLOTTED_FEATURES = 30


def scores(booster: Any, importance_types: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``{importance type: {feature: score}}``; a type the booster cannot give (``gain`` of a linear
    booster) is left out with a debug line, never an error."""
    found: dict[str, dict[str, Any]] = {}
    for importance_type in importance_types:
        try:
            found[importance_type] = booster.get_score(importance_type=importance_type)
        except Exception as exc:  # noqa: BLE001 - e.g. gblinear only has "weight"
            _log.debug("no %s feature importance for this booster: %s", importance_type, exc)
    return found


def json_files(all_scores: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    """``{artifact file: JSON bytes}`` for :func:`scores`' result."""
    return {f"feature_importance_{kind}.json": json.dumps(values).encode() for kind, values in all_scores.items()}


def png_files(all_scores: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    """``{artifact file: PNG bytes}``: one horizontal bar chart per importance type (matplotlib, Agg)."""
    if not any(all_scores.values()):
        return {}
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    files: dict[str, bytes] = {}
    for kind, values in all_scores.items():
        if not values:
            continue
        # multi-class linear boosters give a list per feature: plot the total magnitude
        totals = {f: (sum(abs(x) for x in v) if isinstance(v, (list, tuple)) else float(v)) for f, v in values.items()}
        ranked = sorted(totals.items(), key=lambda item: item[1])[-MAX_PLOTTED_FEATURES:]
        figure = Figure(figsize=(6.4, max(3.0, 0.25 * len(ranked) + 1.5)))
        axes = figure.add_subplot()
        axes.barh([name for name, _ in ranked], [value for _, value in ranked])
        axes.set_xlabel(kind)
        axes.set_title(f"Feature importance ({kind})")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        files[f"feature_importance_{kind}.png"] = buffer.getvalue()
    return files
