"""Per-iteration evaluation metrics of one XGBoost training, recorded by a ``TrainingCallback``.

XGBoost evaluates every eval set with every eval metric after each boosting round and hands the
whole history (``evals_log``: ``{eval name: {metric: [score per round]}}``) to each callback's
``after_iteration``. :class:`EvalRecorder` takes the last score of each pair and logs it as
``<eval name>-<metric>`` at step = iteration (``@`` in a metric name, as in ``ndcg@3``, is written
``_at_``: metric keys are the tracking store's names, and MLflow users know them that way). Under
``xgboost.cv`` each score is a ``(mean, std)`` pair, logged as ``<eval>-<metric>-mean`` and
``-std``, the column names of the frame ``cv`` returns.

The values go to ``log(values, step)`` (the client's batching pipeline: no store round trip inside the
training loop). :func:`callback_class` builds the ``TrainingCallback`` subclass lazily, so this module
imports no xgboost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

LogFunction = Callable[[dict[str, float], int], None]
ReportFunction = Callable[[Exception], None]


def metric_key(eval_name: str, metric: str) -> str:
    """``<eval name>-<metric>`` with ``@`` written ``_at_`` (``val-ndcg@3`` -> ``val-ndcg_at_3``)."""
    return f"{eval_name}-{metric}".replace("@", "_at_")


class EvalRecorder:
    """Logs the newest score of every (eval set, metric) pair of each round, and keeps them by round.

    ``by_iteration[i]`` is what round ``i`` logged (for the best iteration's metrics after early
    stopping); ``last_iteration`` the last round seen (None before the first); ``best_iteration`` the
    model's best round when training ended, if early stopping set one.
    """

    __slots__ = ("_log", "cv", "by_iteration", "last_iteration", "best_iteration", "_keys")

    def __init__(self, log: LogFunction, *, cv: bool = False) -> None:
        self._log = log
        self.cv = cv
        self.by_iteration: dict[int, dict[str, float]] = {}
        self.last_iteration: int | None = None
        self.best_iteration: int | None = None
        self._keys: dict[tuple[str, str], Any] = {}  # (eval name, metric) -> key, or (mean key, std key)

    def _key(self, eval_name: str, metric: str) -> Any:
        base = metric_key(eval_name, metric)
        key = (f"{base}-mean", f"{base}-std") if self.cv else base
        self._keys[(eval_name, metric)] = key
        return key

    def record(self, iteration: int, evals_log: Mapping[str, Mapping[str, list]]) -> None:
        """Log round ``iteration``'s scores from XGBoost's ``evals_log``."""
        values: dict[str, float] = {}
        keys = self._keys
        for eval_name, metrics in evals_log.items():
            for metric, scores in metrics.items():
                if not scores:
                    continue
                key = keys.get((eval_name, metric)) or self._key(eval_name, metric)
                score = scores[-1]
                if self.cv:
                    values[key[0]] = float(score[0])
                    values[key[1]] = float(score[1])
                else:
                    values[key] = float(score)
        self.last_iteration = iteration
        self.by_iteration[iteration] = values
        if values:
            self._log(values, iteration)


_callback_class: type | None = None


def callback_class() -> type:
    """The ``xgboost.callback.TrainingCallback`` subclass that feeds an :class:`EvalRecorder`.

    Its methods never raise into training and never ask training to stop: an error is handed to
    ``report`` once, and the callback stays quiet for the rest of that training.
    """
    global _callback_class
    if _callback_class is None:
        from xgboost.callback import TrainingCallback

        class AutotrackCallback(TrainingCallback):
            """autotrack's per-iteration metric recorder (see :mod:`autotrack.integrations.xgboost.callback`)."""

            def __init__(self, recorder: EvalRecorder, report: ReportFunction) -> None:
                super().__init__()
                self.recorder = recorder
                self.report = report
                self.failed = False

            def _failed(self, exc: Exception) -> None:
                self.failed = True
                try:
                    self.report(exc)
                except Exception:  # noqa: BLE001 - even a failing report must not reach training
                    pass

            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                if not self.failed:
                    try:
                        self.recorder.record(epoch, evals_log)
                    except Exception as exc:  # noqa: BLE001 - autotrack's own code: never stop training
                        self._failed(exc)
                return False

            def after_training(self, model: Any) -> Any:
                # The best round as early stopping left it on the model (a Booster, or cv's packed
                # boosters); read here because cv's model never reaches the caller.
                if not self.failed:
                    try:
                        if model.attr("best_iteration") is not None:
                            self.recorder.best_iteration = int(model.attr("best_iteration"))
                    except Exception as exc:  # noqa: BLE001
                        self._failed(exc)
                return model

        _callback_class = AutotrackCallback
    return _callback_class


def with_callback(user_callbacks: Any, callback: Any) -> list:
    """A new list: ``callback`` first, then the user's callbacks in their order (the user's list or
    tuple object itself is never modified).

    First, because XGBoost asks callbacks in order with ``any(...)``: a user callback that stops
    training short-circuits the ones after it, and the round it stopped on must still be recorded.
    """
    return [callback, *(user_callbacks or ())]
