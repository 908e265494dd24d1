"""The XGBoost integration's own autolog options: defaults and up-front validation.

Imports no xgboost (nor numpy), so ``import autotrack.xgboost`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

#: every importance type ``Booster.get_score`` knows
IMPORTANCE_TYPES: tuple[str, ...] = ("weight", "gain", "cover", "total_gain", "total_cover")
#: the native formats a model can be saved in (the flavor's)
MODEL_FORMATS: tuple[str, ...] = ("ubj", "json")

#: integration-specific options (on top of the engine's common ones) and their defaults
SETTINGS: Mapping[str, Any] = MappingProxyType({
    "importance_types": IMPORTANCE_TYPES,
    "log_plot_images": False,
    "model_format": "ubj",
    "log_post_training_metrics": True,
})


def validate_settings(options: Mapping[str, Any]) -> dict[str, Any]:
    """Check the XGBoost-specific options in ``options`` and return them cleaned (``importance_types``
    as a tuple); raise naming the option, the value and what is accepted (the engine prefixes the
    function the user called). Other keys are passed through untouched."""
    clean = dict(options)
    for key in ("log_plot_images", "log_post_training_metrics"):
        if key in clean and not isinstance(clean[key], bool):
            raise TypeError(f"option {key}={clean[key]!r} must be True or False")
    if "importance_types" in clean:
        value = clean["importance_types"]
        items = [value] if isinstance(value, str) else value
        if value is None:
            items = []
        try:
            items = list(items)
        except TypeError:
            raise TypeError(f"option importance_types={value!r} must be a list of importance types "
                            f"(accepted: {', '.join(IMPORTANCE_TYPES)}), or None for none") from None
        for item in items:
            if item not in IMPORTANCE_TYPES:
                raise ValueError(f"option importance_types contains {item!r}; accepted importance "
                                 f"types: {', '.join(IMPORTANCE_TYPES)}")
        clean["importance_types"] = tuple(dict.fromkeys(items))
    if "model_format" in clean and clean["model_format"] not in MODEL_FORMATS:
        raise ValueError(f"option model_format={clean['model_format']!r} is not supported; "
                         f"accepted: {', '.join(MODEL_FORMATS)}")
    return clean
