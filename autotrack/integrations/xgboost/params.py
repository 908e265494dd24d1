"""Which params an XGBoost training records, as plain ``{name: value}`` (the kit turns them into text).

- ``xgboost.train``: the booster params (the ``params`` dict, or XGBoost's list-of-pairs form where a
  key such as ``eval_metric`` may repeat) plus the training arguments ``num_boost_round``,
  ``early_stopping_rounds``, ``maximize``, ``verbose_eval`` (with their defaults when not passed),
  and the names of a custom objective (``obj``) and metric (``custom_metric``);
- ``xgboost.cv``: the same plus ``nfold``, ``stratified``, ``metrics``, ``seed``, ``shuffle``...;
- the scikit-learn API: ``get_params()`` (the inner ``train`` adds its training arguments).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: arguments of ``xgboost.train`` logged as params (the data, callbacks and result holders are not)
TRAIN_ARGUMENTS: tuple[str, ...] = ("num_boost_round", "early_stopping_rounds", "maximize", "verbose_eval")
#: arguments of ``xgboost.cv`` logged as params
CV_ARGUMENTS: tuple[str, ...] = (
    "num_boost_round", "nfold", "stratified", "metrics", "maximize", "early_stopping_rounds", "verbose_eval",
    "show_stdv", "seed", "shuffle", "as_pandas",
)
#: arguments holding user functions: logged by name, only when given
FUNCTION_ARGUMENTS: tuple[str, ...] = ("obj", "custom_metric")


def function_name(fn: Any) -> str:
    """A user function as a param value: its qualified name (not a repr with a memory address)."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name is None:  # a callable object, functools.partial...
        inner = getattr(fn, "func", None)
        name = function_name(inner) if inner is not None else type(fn).__qualname__
    return str(name)


def plain(value: Any) -> Any:
    """``value`` with callables replaced by their names (custom objectives passed as params)."""
    if callable(value) and not isinstance(value, type):
        return function_name(value)
    return value


def booster_params(params: Any) -> dict[str, Any]:
    """The booster params of a ``train``/``cv`` call: a dict, or pairs whose repeated keys become a list."""
    if params is None:
        return {}
    if isinstance(params, Mapping):
        return {str(k): plain(v) for k, v in params.items()}
    merged: dict[str, Any] = {}
    for pair in params:
        key, value = pair
        key = str(key)
        if key in merged:
            previous = merged[key]
            merged[key] = [*previous, plain(value)] if isinstance(previous, list) else [previous, plain(value)]
        else:
            merged[key] = plain(value)
    return merged


def call_params(arguments: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The named training arguments (defaults included) and the names of the user functions given."""
    found = {name: arguments[name] for name in names if name in arguments}
    for name in FUNCTION_ARGUMENTS:
        fn = arguments.get(name)
        if fn is not None:
            found[name] = function_name(fn)
    return found


def estimator_params(estimator: Any) -> dict[str, Any]:
    """``get_params()`` of a scikit-learn API model, callables (custom objectives, metrics) by name."""
    return {key: plain(value) for key, value in estimator.get_params(deep=False).items()}
