"""Errors raised by the model format: bad schemas at predict time, unreadable model folders, missing libraries."""

from __future__ import annotations

from autotrack.exceptions import AutotrackException, InvalidParameterError, RESOURCE_DOES_NOT_EXIST


class SchemaEnforcementError(InvalidParameterError):
    """Data given to (or returned by) a model does not match its signature; the message names the column."""


class ModelFormatError(AutotrackException):
    """A folder is not an autotrack model, or was written by a newer autotrack, or lacks the asked-for flavor."""

    error_code = RESOURCE_DOES_NOT_EXIST


class MissingModelLibraryError(AutotrackException, ImportError):
    """The library a flavor needs (scikit-learn, xgboost, ...) is not installed; the message names the extra."""
