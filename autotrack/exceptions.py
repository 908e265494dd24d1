"""Public name of autotrack's errors; they live in :mod:`autotrack.entities.errors`."""

from autotrack.entities.errors import (  # noqa: F401
    BAD_REQUEST,
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
    INVALID_STATE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    AutotrackException,
    ForeignSchemaError,
    InvalidParameterError,
    InvalidStateError,
    ResourceExistsError,
    ResourceNotFoundError,
    SchemaVersionError,
    StoreConnectionError,
)

MlflowException = AutotrackException  # MLflow's name: ``except MlflowException`` catches autotrack's errors
