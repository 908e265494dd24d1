"""The model folder's metadata file: what a model is, how to load it, and what it accepts.

The file is called ``MLmodel`` (the name tools look for to recognise a model folder) and holds JSON,
which YAML readers also accept. ``docs/model-format.md`` documents every field.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from autotrack.models.errors import ModelFormatError
from autotrack.models.signature import ModelSignature

METADATA_FILE = "MLmodel"
FORMAT_VERSION = 1  # bump when a reader of the previous version could misread the folder
PYFUNC_FLAVOR = "python_function"


@dataclass
class ModelMetadata:
    """The contents of a model folder's ``MLmodel`` file."""

    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    run_id: str | None = None
    artifact_path: str | None = None
    model_size_bytes: int | None = None
    requirements_file: str | None = None
    format_version: int = FORMAT_VERSION
    autotrack_version: str = ""
    model_uuid: str = field(default_factory=lambda: uuid.uuid4().hex)
    utc_time_created: str = field(
        default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f"))

    def add_flavor(self, name: str, **conf: Any) -> None:
        """Record a flavor (a way to load the model) and its settings."""
        self.flavors[name] = conf

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, as written to the ``MLmodel`` file."""
        out: dict[str, Any] = {
            "format_version": self.format_version,
            "autotrack_version": self.autotrack_version,
            "model_uuid": self.model_uuid,
            "utc_time_created": self.utc_time_created,
            "flavors": self.flavors,
        }
        if self.run_id is not None:
            out["run_id"] = self.run_id
            out["artifact_path"] = self.artifact_path
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
        if self.saved_input_example_info is not None:
            out["saved_input_example_info"] = self.saved_input_example_info
        if self.requirements_file is not None:
            out["requirements_file"] = self.requirements_file
        if self.model_size_bytes is not None:
            out["model_size_bytes"] = self.model_size_bytes
        return out

    def save(self, folder: str | os.PathLike) -> None:
        """Write the ``MLmodel`` file into ``folder``."""
        with open(Path(folder) / METADATA_FILE, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2)
            f.write("\n")

    @classmethod
    def load(cls, folder: str | os.PathLike) -> ModelMetadata:
        """Read the ``MLmodel`` file of ``folder``; :class:`ModelFormatError` when it is absent or too new."""
        path = Path(folder) / METADATA_FILE
        if not path.is_file():
            what = "does not exist" if not Path(folder).exists() else "has no MLmodel file"
            raise ModelFormatError(
                f"{str(folder)!r} is not a model folder: it {what}. Expected a folder written by "
                "autotrack.<flavor>.save_model or log_model")
        text = path.read_text(encoding="utf-8")
        try:
            d = json.loads(text)
        except ValueError as exc:
            if text.lstrip().startswith("{"):
                raise ModelFormatError(f"{str(path)!r} is not valid JSON ({exc}); the model folder is damaged") from None
            from autotrack.models import mlflow_format  # MLflow writes YAML

            d = mlflow_format.parse_yaml(text, path)
            if not mlflow_format.is_mlflow_metadata(d):
                raise ModelFormatError(f"{str(path)!r} is neither autotrack's JSON nor an MLflow model's YAML; "
                                       "the model folder is damaged") from None
        if isinstance(d, dict) and "mlflow_version" in d and "format_version" not in d:
            from autotrack.models import mlflow_format

            d = mlflow_format.translate(d, Path(folder))
        version = d.get("format_version")
        if not isinstance(version, int):
            raise ModelFormatError(f"{str(path)!r} has no integer 'format_version'; it was not written by autotrack")
        if version > FORMAT_VERSION:
            raise ModelFormatError(
                f"The model at {str(folder)!r} uses model format version {version}, written by autotrack "
                f"{d.get('autotrack_version') or '(unknown)'}; this autotrack reads versions up to {FORMAT_VERSION}. "
                "Upgrade autotrack: pip install -U autotrack")
        signature = d.get("signature")
        return cls(
            flavors=d.get("flavors") or {},
            signature=ModelSignature.from_dict(signature) if signature else None,
            saved_input_example_info=d.get("saved_input_example_info"),
            run_id=d.get("run_id"),
            artifact_path=d.get("artifact_path"),
            model_size_bytes=d.get("model_size_bytes"),
            requirements_file=d.get("requirements_file"),
            format_version=version,
            autotrack_version=d.get("autotrack_version", ""),
            model_uuid=d.get("model_uuid", ""),
            utc_time_created=d.get("utc_time_created", ""),
        )


@dataclass(frozen=True)
class ModelInfo:
    """What ``save_model``/``log_model`` return: where the model is and what it declares."""

    model_uri: str
    artifact_path: str | None
    run_id: str | None
    flavors: dict[str, dict[str, Any]]
    signature: ModelSignature | None
    saved_input_example_info: dict[str, Any] | None
    model_uuid: str
    utc_time_created: str
    metadata: ModelMetadata

    @classmethod
    def from_metadata(cls, model_uri: str, metadata: ModelMetadata) -> ModelInfo:
        """Build the info for the model at ``model_uri`` described by ``metadata``."""
        return cls(model_uri, metadata.artifact_path, metadata.run_id, metadata.flavors, metadata.signature,
                   metadata.saved_input_example_info, metadata.model_uuid, metadata.utc_time_created, metadata)
