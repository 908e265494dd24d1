"""Run the scoring app on uvicorn: the model is resolved once, then loaded once in every worker process.

With one worker the model is loaded in this process before the socket opens. With ``workers > 1``
uvicorn starts that many processes (spawned, so they share nothing: each loads its own copy of the
model); the settings reach them through environment variables read by :func:`worker_app`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

_ENV_FOLDER = "AUTOTRACK_SERVING_MODEL_FOLDER"
_ENV_URI = "AUTOTRACK_SERVING_MODEL_URI"
_ENV_MAX_BODY = "AUTOTRACK_SERVING_MAX_BODY_BYTES"
_ENV_LOG_LEVEL = "AUTOTRACK_SERVING_LOG_LEVEL"


def setup_logging(level: str) -> None:
    """Server messages (and the tracebacks of failed predictions) go to stderr with a timestamp."""
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s")


def resolve_model(model_uri: str) -> str:
    """The local folder of the model at ``model_uri`` (downloaded once here, not in every worker); checked readable."""
    from autotrack.models.loading import open_model

    folder, _ = open_model(model_uri)
    return str(folder.resolve())


def load(folder: str) -> Any:
    """The generic model of the folder: every flavor registered with the generic loader is served the same way."""
    from autotrack.models.loading import load_model

    return load_model(folder)


def configure_warnings() -> None:
    """Route warnings to the server log, each shown once per code location (Python's ``default`` action).

    The libraries a model needs install a dozen warning filters of their own, and scikit-learn's
    joblib wrapper re-applies every filter around each task it runs: once per tree of a forest, on
    every request. With the one ``default`` filter a 20-tree forest predicts a single row in about
    half the time. Filters the user asked for (``-W`` or ``PYTHONWARNINGS``) are kept as they are.
    """
    import sys
    import warnings

    if not sys.warnoptions:
        warnings.resetwarnings()
        warnings.simplefilter("default")
    logging.captureWarnings(True)


def worker_app() -> Any:
    """App factory for uvicorn's worker processes (``factory=True``)."""
    from autotrack.models.serving.app import create_app

    setup_logging(os.environ.get(_ENV_LOG_LEVEL, "info"))
    model = load(os.environ[_ENV_FOLDER])
    configure_warnings()  # after loading: importing the model's libraries adds their filters
    return create_app(model, os.environ.get(_ENV_URI, ""), int(os.environ[_ENV_MAX_BODY]))


def serve(model_uri: str, host: str = "127.0.0.1", port: int = 5001, workers: int = 1,
          max_body_bytes: int | None = None, log_level: str = "info") -> None:
    """Serve the model at ``model_uri`` until interrupted (SIGINT/SIGTERM shut down gracefully)."""
    import uvicorn

    from autotrack.exceptions import InvalidParameterError
    from autotrack.models.serving.app import DEFAULT_MAX_BODY_BYTES, create_app

    if workers < 1:
        raise InvalidParameterError(f"workers={workers} must be at least 1")
    limit = DEFAULT_MAX_BODY_BYTES if max_body_bytes is None else int(max_body_bytes)
    folder = resolve_model(model_uri)
    setup_logging(log_level)
    log = logging.getLogger("autotrack.models.serving")
    common: dict[str, Any] = {"host": host, "port": port, "log_level": log_level, "access_log": False,
                              "timeout_graceful_shutdown": 10}
    if workers == 1:
        model = load(folder)
        configure_warnings()  # after loading: importing the model's libraries adds their filters
        app = create_app(model, model_uri, limit)
        log.info("Serving %s on http://%s:%d (1 worker)", model_uri, host, port)
        uvicorn.run(app, **common)
        return
    load(folder)  # fail here, with one clear error, rather than in every worker; each worker loads its own copy
    os.environ[_ENV_FOLDER] = folder
    os.environ[_ENV_URI] = model_uri
    os.environ[_ENV_MAX_BODY] = str(limit)
    os.environ[_ENV_LOG_LEVEL] = log_level
    log.info("Serving %s on http://%s:%d (%d worker processes, one model each)", model_uri, host, port, workers)
    uvicorn.run("autotrack.models.serving.server:worker_app", factory=True, workers=workers, **common)
