"""Names of the run tags autotrack sets or reads. MLflow's names where MLflow has one, so MLflow tools read them."""

from __future__ import annotations

#: the run's display name (kept equal to the run's name column)
RUN_NAME = "mlflow.runName"
#: the user who started the run
USER = "mlflow.user"
#: the script or notebook that started the run, and its kind (``LOCAL``)
SOURCE_NAME = "mlflow.source.name"
SOURCE_TYPE = "mlflow.source.type"
#: the run's description (markdown)
NOTE = "mlflow.note.content"
#: the parent of a child run, under MLflow's name and autotrack's
PARENT_RUN_ID = "mlflow.parentRunId"
AUTOTRACK_PARENT_RUN_ID = "autotrack.parentRunId"
#: JSON summaries of the datasets a run used
DATASETS = "mlflow.datasets"
#: the integration that created the run (``sklearn``, ``xgboost``...)
AUTOLOGGING = "autotrack.autologging"
