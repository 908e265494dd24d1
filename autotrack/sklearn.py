"""``autotrack.sklearn``: autologging, and save, log and load scikit-learn models.

``import autotrack.sklearn`` imports no scikit-learn (nor numpy). Model functions come from
:mod:`autotrack.integrations.sklearn.flavor`; autologging from
:mod:`autotrack.integrations.sklearn.autolog`, loaded only once scikit-learn is imported.
"""

from __future__ import annotations

from typing import Any

from autotrack.core.autolog import make_library_autolog
from autotrack.integrations.sklearn.flavor import FLAVOR_NAME, load_model, log_model, save_model

_engine_autolog = make_library_autolog("sklearn")


def autolog(**options: Any) -> None:
    """Record every scikit-learn training (``fit``, ``fit_transform``, ``fit_predict``, ``partial_fit``)
    with no logging code; these options override ``autotrack.autolog()``'s for scikit-learn.

    scikit-learn's own options (defaults in :data:`autotrack.integrations.sklearn.options.SETTINGS`,
    checked by ``SklearnIntegration.validate_settings``):

    - ``log_post_training_metrics`` (True): log ``model.score(...)`` and ``sklearn.metrics`` calls
      made on a trained model's predictions to that model's run.
    - ``max_tuning_runs`` (5): child runs for the best N candidates of a hyperparameter search
      (None: all, 0: none).
    - ``pos_label`` (None): positive class of binary classifiers; with it, precision/recall/F1 are
      binary scores of that class instead of support-weighted averages.
    - ``log_plot_images`` (False): also render confusion matrix, ROC and precision-recall plots as
      PNG (off the caller's thread); the curves themselves are always logged as JSON data.

    The engine's common options (``disable``, ``exclusive``, ``silent``, ``log_models``,
    ``log_datasets``, ``log_input_examples``, ``log_model_signatures``, ``extra_tags``,
    ``disable_for_unsupported_versions``; see ``autotrack.autolog``) are accepted too; only the
    options given override the global call's. Calling it again reconfigures; ``disable=True`` turns
    scikit-learn autologging off.
    """
    _engine_autolog(**options)


def wait_for_artifacts(timeout: float | None = None) -> bool:
    """Block until the artifact files of autologged trainings (dataset descriptions, curves,
    confusion matrices, plot images), which are written in the background, are all written.

    Returns False if ``timeout`` seconds passed first. Metrics, params, tags and models need no wait:
    they are readable as soon as ``fit`` returns. (``autotrack.flush()`` waits for these files too,
    and so do reads of a run's artifacts through the tracking client.)
    """
    from autotrack.integrations.kit import artifacts

    return artifacts.wait(timeout)


__all__ = ["FLAVOR_NAME", "autolog", "save_model", "log_model", "load_model", "wait_for_artifacts"]
