"""The generic model that :func:`autotrack.models.load_model` returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from autotrack.models.metadata import ModelMetadata
from autotrack.models.signature import ModelSignature


class Predictor(Protocol):
    """What a flavor's ``load_predictor`` returns: the native model and a ``predict`` on prepared data."""

    model: Any

    def predict(self, data: Any) -> Any: ...  # also ``params=`` when ``accepts_params`` is true


class PyFuncModel:
    """A loaded model of any flavor; ``predict`` enforces the signature on its input and output."""

    def __init__(self, metadata: ModelMetadata, predictor: Predictor, folder: Path):
        self.metadata = metadata
        self._predictor = predictor
        self._folder = folder

    @property
    def signature(self) -> ModelSignature | None:
        """The model's signature, or None when it was saved without one."""
        return self.metadata.signature

    @property
    def input_example(self) -> Any:
        """The input example saved with the model, with its original types (None if none was saved)."""
        from autotrack.models.input_example import load_input_example

        return load_input_example(self._folder, self.metadata.saved_input_example_info)

    def unwrap_python_model(self) -> Any:
        """The native model object (the scikit-learn estimator, XGBoost model or python object)."""
        return self._predictor.model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on ``data`` after checking it against the signature's inputs; the result is checked too.

        Dicts and lists of dicts become a DataFrame first. Errors name the offending column with the
        expected and received types; extra columns are dropped with a warning. ``params`` go to models
        whose predict takes them (a :class:`~autotrack.pyfunc.PythonModel` with a ``params`` argument);
        other models ignore them with a warning.
        """
        return self.predict_enforced(self.enforce_input(data), params)

    def enforce_input(self, data: Any) -> Any:
        """``data`` checked and converted against the signature's inputs (normalized when there is none)."""
        from autotrack.models.data import normalize
        from autotrack.models.enforcement import enforce_schema

        signature = self.metadata.signature
        return enforce_schema(data, signature.inputs) if signature else normalize(data, "model input")

    def predict_enforced(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on ``data`` that already matches the signature's inputs (what :meth:`enforce_input` returns).

        The scoring server enforces the input itself (faster for single rows) and calls this; the
        prediction is still checked against the signature's outputs.
        """
        if params:
            if getattr(self._predictor, "accepts_params", False):
                prediction = self._predictor.predict(data, params=params)  # type: ignore[call-arg]
            else:
                import warnings

                warnings.warn(f"This model takes no params; ignored: {sorted(params)}", UserWarning, stacklevel=2)
                prediction = self._predictor.predict(data)
        else:
            prediction = self._predictor.predict(data)
        signature = self.metadata.signature
        if signature is not None and signature.outputs is not None:
            from autotrack.models.enforcement import enforce_output

            prediction = enforce_output(prediction, signature.outputs)
        return prediction

    def __repr__(self) -> str:
        flavor = self.metadata.flavors.get("python_function", {}).get("flavor", "python_function")
        where = f"runs:/{self.metadata.run_id}/{self.metadata.artifact_path}" if self.metadata.run_id else str(self._folder)
        return f"<PyFuncModel flavor={flavor!r} model={where!r}>"
