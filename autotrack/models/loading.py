"""Open a model folder: find its metadata, check the flavor's library, load the model.

:func:`load_model` is the generic loader: it works for every flavor and returns a
:class:`~autotrack.models.pyfunc_model.PyFuncModel` whose ``predict`` enforces the signature.
"""

from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from autotrack.models.errors import MissingModelLibraryError, ModelFormatError
from autotrack.models.metadata import PYFUNC_FLAVOR, ModelMetadata
from autotrack.models.uri import local_model_folder

if TYPE_CHECKING:
    from autotrack.models.pyfunc_model import PyFuncModel


def open_model(model_uri: str | os.PathLike, dst_path: str | None = None) -> tuple[Path, ModelMetadata]:
    """The local folder of the model at ``model_uri`` and its metadata."""
    folder = local_model_folder(model_uri, dst_path)
    return folder, ModelMetadata.load(folder)


def flavor_conf(metadata: ModelMetadata, flavor: str, model_uri: Any) -> dict[str, Any]:
    """The settings of ``flavor`` in ``metadata``; :class:`ModelFormatError` naming the flavors it has."""
    conf = metadata.flavors.get(flavor)
    if conf is None:
        has = sorted(metadata.flavors) or ["none"]
        raise ModelFormatError(
            f"The model at {str(model_uri)!r} has no {flavor!r} flavor; it has: {', '.join(has)}. "
            "Load it with autotrack.models.load_model, or the load_model of one of its flavors")
    return conf


def require_library(conf: dict[str, Any], flavor: str) -> ModuleType:
    """Import the flavor's library, or raise an error naming what to install; warn on a version change."""
    name = conf.get("library")
    if not name:
        raise ModelFormatError(f"The {flavor!r} flavor entry names no 'library'; the model folder is damaged")
    saved = conf.get("library_version")
    try:
        module = importlib.import_module(name)
    except ImportError:
        extra = conf.get("extra")
        how = f"pip install 'autotrack[{extra}]'" if extra else f"pip install {conf.get('distribution', name)}"
        raise MissingModelLibraryError(
            f"This model was saved with the {flavor!r} flavor, which needs {name}"
            f"{'==' + saved if saved else ''}, but {name} is not installed; install it with: {how}") from None
    from autotrack.models.requirements import installed_version

    here = installed_version(conf.get("distribution", name))
    if saved and here and here != saved:
        warnings.warn(f"The model was saved with {name} {saved}; {here} is installed here. "
                      "Predictions may differ; see the model's requirements.txt", UserWarning, stacklevel=3)
    return module


def load_flavor(model_uri: str | os.PathLike, flavor: str, dst_path: str | None = None
                ) -> tuple[Path, ModelMetadata, dict[str, Any]]:
    """Folder, metadata and settings of ``flavor`` for the model at ``model_uri``, its library imported."""
    folder, metadata = open_model(model_uri, dst_path)
    conf = flavor_conf(metadata, flavor, model_uri)
    require_library(conf, flavor)
    return folder, metadata, conf


def load_model(model_uri: str | os.PathLike, dst_path: str | None = None) -> PyFuncModel:
    """Load any autotrack model as a generic model whose ``predict`` checks input and output against the signature.

    ``model_uri``: a local path, ``file://...``, ``runs:/<run_id>/<artifact_path>`` or another artifact URI.
    """
    from autotrack.models.pyfunc_model import PyFuncModel

    folder, metadata = open_model(model_uri, dst_path)
    pyfunc = flavor_conf(metadata, PYFUNC_FLAVOR, model_uri)
    native_flavor = pyfunc.get("flavor", PYFUNC_FLAVOR)
    require_library(flavor_conf(metadata, native_flavor, model_uri), native_flavor)
    loader = pyfunc.get("loader_module")
    if not isinstance(loader, str):
        raise ModelFormatError(f"The model at {str(model_uri)!r} names no loader module; the model folder is damaged")
    try:
        module = importlib.import_module(loader)
    except ImportError as exc:
        raise ModelFormatError(
            f"The model at {str(model_uri)!r} is loaded by {loader!r}, which cannot be imported ({exc}); "
            "a newer autotrack or a plugin may be needed") from None
    return PyFuncModel(metadata, module.load_predictor(folder, metadata), folder)
