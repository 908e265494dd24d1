"""``autotrack.pyfunc``: the python-function flavor and the generic loader (see :mod:`autotrack.models.pyfunc`)."""

from __future__ import annotations

from autotrack.models.pyfunc import PythonModel, PythonModelContext, load_model, log_model, save_model
from autotrack.models.pyfunc_model import PyFuncModel

__all__ = ["PythonModel", "PythonModelContext", "PyFuncModel", "save_model", "log_model", "load_model"]
