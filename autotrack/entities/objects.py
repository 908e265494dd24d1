"""Plain data objects for experiments, runs, metrics, params and tags (MLflow's shapes and names)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


class RunStatus:
    """Run states, as strings (MLflow's names)."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"
    ALL = (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED)
    TERMINATED = (FINISHED, FAILED, KILLED)

    @classmethod
    def is_terminated(cls, status: str) -> bool:
        return status in cls.TERMINATED


class LifecycleStage:
    ACTIVE = "active"
    DELETED = "deleted"
    ALL = (ACTIVE, DELETED)


class ViewType:
    """Which lifecycle stages a search returns."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    @classmethod
    def stages(cls, view_type: int) -> tuple[str, ...]:
        if view_type == cls.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if view_type == cls.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        return LifecycleStage.ALL


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    timestamp: int
    step: int = 0

    def __eq__(self, other: object) -> bool:  # NaN == NaN for recorded values
        if not isinstance(other, Metric):
            return NotImplemented
        same_value = self.value == other.value or (math.isnan(self.value) and math.isnan(other.value))
        return (self.key, self.timestamp, self.step) == (other.key, other.timestamp, other.step) and same_value

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    key: str
    value: str


@dataclass
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str = LifecycleStage.ACTIVE

    @property
    def run_uuid(self) -> str:  # MLflow's older name
        return self.run_id


@dataclass
class RunData:
    """Latest metric values, params and tags of a run, each as a ``{key: value}`` dict."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    """A dataset as MLflow records it: ``name`` and ``digest`` identify it within an experiment;
    ``source`` (JSON text) says where it came from, ``schema`` and ``profile`` (JSON text) what it holds."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class InputTag:
    key: str
    value: str


@dataclass(frozen=True)
class DatasetInput:
    """A dataset a run used, with tags such as ``mlflow.data.context=training``."""

    dataset: Dataset
    tags: tuple[InputTag, ...] = ()


@dataclass
class RunInputs:
    dataset_inputs: list[DatasetInput] = field(default_factory=list)


@dataclass
class Run:
    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)

    def to_dictionary(self) -> dict[str, Any]:
        return {
            "info": dict(vars(self.info)),
            "data": {"metrics": dict(self.data.metrics), "params": dict(self.data.params), "tags": dict(self.data.tags)},
        }
