"""``autotrack.sklearn``: autologging, and save, log and load scikit-learn models.

``import autotrack.sklearn`` imports no scikit-learn (nor numpy). Model functions come from
:mod:`autotrack.integrations.sklearn.flavor`; autologging from
:mod:`autotrack.integrations.sklearn.autolog`, loaded only once scikit-learn is imported.
"""

from __future__ import annotations

from typing import Any

from autotrack.core.autolog import make_library_autolog
from autotrack.integrations.sklearn.flavor import FLAVOR_NAME, load_model, log_model, save_model
from autotrack.integrations.sklearn.options import validate_settings

_engine_autolog = make_library_autolog("sklearn")


def autolog(
    *,
    log_post_training_metrics: bool = True,
    max_tuning_runs: int | None = 5,
    pos_label: Any = None,
    log_plot_images: bool = False,
    **options: Any,
) -> None:
    """Record every scikit-learn training (``fit``, ``fit_transform``, ``fit_predict``, ``partial_fit``)
    with no logging code; these options override ``autotrack.autolog()``'s for scikit-learn.

    - ``log_post_training_metrics``: log ``model.score(...)`` and ``sklearn.metrics`` calls made on a
      trained model's predictions to that model's run.
    - ``max_tuning_runs``: child runs for the best N candidates of a hyperparameter search (None: all).
    - ``pos_label``: positive class of binary classifiers; with it, precision/recall/F1 are binary
      scores of that class instead of support-weighted averages.
    - ``log_plot_images``: also render confusion matrix, ROC and precision-recall plots as PNG (off
      the caller's thread); the curves themselves are always logged as JSON data.

    ``options`` are the engine's common ones (``disable``, ``exclusive``, ``silent``, ``log_models``,
    ``log_datasets``, ``log_input_examples``, ``log_model_signatures``, ``extra_tags``,
    ``disable_for_unsupported_versions``; see ``autotrack.autolog``); only those given override the
    global call's. Calling it again reconfigures; ``disable=True`` turns scikit-learn autologging off.
    """
    settings = validate_settings("autotrack.sklearn.autolog", {
        "log_post_training_metrics": log_post_training_metrics, "max_tuning_runs": max_tuning_runs,
        "pos_label": pos_label, "log_plot_images": log_plot_images,
    })
    _engine_autolog(**options, **settings)


def wait_for_artifacts(timeout: float | None = None) -> bool:
    """Block until the artifact files of autologged trainings (dataset descriptions, curves,
    confusion matrices, plot images), which are written in the background, are all written.

    Returns False if ``timeout`` seconds passed first. Metrics, params, tags and models need no wait:
    they are readable as soon as ``fit`` returns.
    """
    from autotrack.integrations.sklearn import artifacts

    return artifacts.wait(timeout)


__all__ = ["FLAVOR_NAME", "autolog", "save_model", "log_model", "load_model", "wait_for_artifacts"]
