"""Errors raised by autotrack. Each carries an MLflow-compatible ``error_code`` for the REST layer."""

from __future__ import annotations

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
INVALID_STATE = "INVALID_STATE"
INTERNAL_ERROR = "INTERNAL_ERROR"
BAD_REQUEST = "BAD_REQUEST"
# error code -> HTTP status, as MLflow's server maps them
HTTP_STATUS = {
    INVALID_PARAMETER_VALUE: 400, BAD_REQUEST: 400, INVALID_STATE: 500, RESOURCE_DOES_NOT_EXIST: 404,
    RESOURCE_ALREADY_EXISTS: 400, INTERNAL_ERROR: 500,
}


class AutotrackException(Exception):
    """Base class of every error autotrack raises on purpose."""

    error_code = INTERNAL_ERROR

    def __init__(self, message: str, error_code: str | None = None):
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code

    def get_http_status_code(self) -> int:
        """The HTTP status MLflow's server answers this error code with (500 for codes it does not map)."""
        return HTTP_STATUS.get(self.error_code, 500)


class InvalidParameterError(AutotrackException, ValueError):
    """A field has a value autotrack does not accept; the message names field, value and what is accepted."""

    error_code = INVALID_PARAMETER_VALUE


class ResourceNotFoundError(AutotrackException, LookupError):
    """An experiment, run or artifact does not exist."""

    error_code = RESOURCE_DOES_NOT_EXIST


class ResourceExistsError(AutotrackException):
    """An experiment name (or another unique thing) is already taken."""

    error_code = RESOURCE_ALREADY_EXISTS


class InvalidStateError(AutotrackException):
    """The operation does not fit the object's state, e.g. logging to a finished or deleted run."""

    error_code = INVALID_STATE


class StoreConnectionError(AutotrackException, ConnectionError):
    """The tracking store could not be reached within the connect timeout."""


class SchemaVersionError(AutotrackException):
    """The database was made by a newer autotrack than this one."""


class ForeignSchemaError(SchemaVersionError):
    """The database holds another program's schema (MLflow's); autotrack does not write into it."""


class AutotrackWarning(UserWarning):
    """Warning category for autotrack's own failures (autologging, background writes); training was not affected."""
