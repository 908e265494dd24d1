"""Model format: signatures, schema enforcement, the model folder, and the generic loader.

``import autotrack.models`` imports no numpy, pandas or ML library; they are imported when used.
"""

from __future__ import annotations

from autotrack.models.errors import MissingModelLibraryError, ModelFormatError, SchemaEnforcementError
from autotrack.models.loading import load_model
from autotrack.models.metadata import FORMAT_VERSION, ModelInfo, ModelMetadata
from autotrack.models.pyfunc_model import PyFuncModel
from autotrack.models.signature import ModelSignature, infer_signature

__all__ = [
    "FORMAT_VERSION", "ModelInfo", "ModelMetadata", "ModelSignature", "PyFuncModel", "infer_signature",
    "load_model", "MissingModelLibraryError", "ModelFormatError", "SchemaEnforcementError",
]
