"""The scikit-learn integration's own autolog options: defaults and up-front validation
(``SklearnIntegration.validate_settings``, called by ``autolog()``).

Imports neither scikit-learn nor numpy, so ``import autotrack.sklearn`` stays cheap.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

#: integration-specific options (on top of the engine's common ones) and their defaults
SETTINGS: Mapping[str, Any] = MappingProxyType({
    "log_post_training_metrics": True,
    "max_tuning_runs": 5,
    "pos_label": None,
    "log_plot_images": False,
})


def validate_settings(options: Mapping[str, Any]) -> dict[str, Any]:
    """Check the integration-specific options in ``options``; raise naming the option, the value and
    what is accepted (the engine puts the function the user called in front). Other keys are passed
    through untouched."""
    clean = dict(options)
    for key in ("log_post_training_metrics", "log_plot_images"):
        if key in clean and not isinstance(clean[key], bool):
            raise TypeError(f"option {key}={clean[key]!r} must be True or False")
    if "max_tuning_runs" in clean:
        value = clean["max_tuning_runs"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0):
            raise ValueError(
                f"option max_tuning_runs={value!r} must be None (log every candidate) or an "
                "integer >= 0 (how many of the best candidates get a child run)"
            )
        clean["max_tuning_runs"] = None if value is None else int(value)
    if "pos_label" in clean:
        value = clean["pos_label"]
        if value is not None and not isinstance(value, (str, numbers.Number)):
            raise TypeError(
                f"option pos_label={value!r} must be None (weighted averages) or one class label "
                "(a str, int, float or bool) used as the positive class of binary classifiers"
            )
    return clean
