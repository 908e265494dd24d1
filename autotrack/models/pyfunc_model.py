"""The generic model that :func:`autotrack.models.load_model` returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from autotrack.models.metadata import ModelMetadata
from autotrack.models.signature import ModelSignature


class Predictor(Protocol):
    """What a flavor's ``load_predictor`` returns: the native model and a ``predict`` on prepared data."""

    model: Any

    def predict(self, data: Any) -> Any: ...


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

    def predict(self, data: Any) -> Any:
        """Predict on ``data`` after checking it against the signature's inputs; the result is checked too.

        Dicts and lists of dicts become a DataFrame first. Errors name the offending column with the
        expected and received types; extra columns are dropped with a warning.
        """
        from autotrack.models.data import normalize
        from autotrack.models.enforcement import enforce_output, enforce_schema

        signature = self.metadata.signature
        data = enforce_schema(data, signature.inputs) if signature else normalize(data, "model input")
        prediction = self._predictor.predict(data)
        if signature is not None and signature.outputs is not None:
            prediction = enforce_output(prediction, signature.outputs)
        return prediction

    def __repr__(self) -> str:
        flavor = self.metadata.flavors.get("python_function", {}).get("flavor", "python_function")
        where = f"runs:/{self.metadata.run_id}/{self.metadata.artifact_path}" if self.metadata.run_id else str(self._folder)
        return f"<PyFuncModel flavor={flavor!r} model={where!r}>"
