"""The scoring server's Starlette app: health, version, metadata and ``/invocations`` for one loaded model.

Answers:

- 200 ``{"predictions": [...]}``;
- 400 ``{"error_code": "BAD_REQUEST", "message": ...}`` for a malformed body (the message says what is
  wrong) or input the signature refuses (the model format's enforcement message, naming the column,
  the expected and the received type);
- 413 when the body is larger than ``max_body_bytes`` (decided from Content-Length, or while the body
  streams in, never after reading it whole); 415 for another content type;
- 500 ``{"error_code": "INTERNAL_ERROR", "message": ..., "request_id": ...}`` when the model raises; the
  traceback is logged with the same request id (also sent back in the ``X-Request-ID`` header).
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from autotrack.exceptions import InvalidParameterError
from autotrack.models.errors import SchemaEnforcementError
from autotrack.models.serving import protocol
from autotrack.models.serving.fastpath import SingleRowFastPath
from autotrack.models.serving.protocol import RequestError

logger = logging.getLogger("autotrack.models.serving")

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
INLINE_BODY_BYTES = 64 * 1024  # bodies up to this size are scored on the event loop; larger ones in a thread
_JSON = "application/json"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ScoringService:
    """One loaded model and everything a request needs that can be computed once."""

    def __init__(self, model: Any, model_uri: str):
        from autotrack import __version__

        self.model = model
        self.model_uri = model_uri
        self.version = __version__
        signature = model.signature
        self.schema = signature.inputs if signature is not None else None
        self.fast_path = SingleRowFastPath.for_schema(self.schema)
        self.metadata_body = protocol.dumps(self._metadata())

    def _metadata(self) -> dict[str, Any]:
        meta = self.model.metadata
        try:
            example = protocol.example_request(self.model.input_example)
        except Exception as exc:  # a damaged example must not keep the model from being served
            logger.warning("The model's input example could not be read: %s", exc)
            example = None
        pyfunc = meta.flavors.get("python_function", {})
        return {
            "model_uri": self.model_uri,
            "flavor": pyfunc.get("flavor", "python_function"),
            "flavors": meta.flavors,
            "signature": meta.signature.to_dict() if meta.signature is not None else None,
            "input_example": example,
            "run_id": meta.run_id,
            "artifact_path": meta.artifact_path,
            "model_uuid": meta.model_uuid,
            "utc_time_created": meta.utc_time_created,
            "saved_by": meta.autotrack_version,
            "autotrack_version": self.version,
        }

    def prepare(self, body: bytes, kind: str) -> tuple[Any, dict[str, Any] | None]:
        """``(enforced model input, params)`` for a request body; :class:`RequestError` for a bad one."""
        try:
            if kind == "csv":
                data, params = protocol.parse_csv(body, self.schema), None
            else:
                key, value, params = protocol.split_request(protocol.loads(body))
                fast = self.fast_path
                if fast is not None:
                    if key == "dataframe_records" and type(value) is list and len(value) == 1:
                        data = fast.from_record(value[0])
                    elif key == "dataframe_split":
                        data = fast.from_split(value)
                    else:
                        data = None
                    if data is not None:
                        return data, params
                data = protocol.json_input(key, value, self.schema)
            return self.model.enforce_input(data), params
        except SchemaEnforcementError as exc:
            raise RequestError(str(exc)) from None
        except InvalidParameterError as exc:  # e.g. a table that cannot be formed
            raise RequestError(exc.message) from None

    def score(self, body: bytes, kind: str) -> bytes:
        """The JSON answer for a request body (400-type problems raise :class:`RequestError`)."""
        data, params = self.prepare(body, kind)
        return protocol.predictions_body(self.model.predict_enforced(data, params))


def _error(status: int, code: str, message: str, request_id: str | None = None) -> Response:
    doc: dict[str, Any] = {"error_code": code, "message": message}
    headers = None
    if request_id is not None:
        doc["request_id"] = request_id
        headers = {"X-Request-ID": request_id}
    return Response(protocol.dumps(doc), status_code=status, media_type=_JSON, headers=headers)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 once it is known to exceed ``limit`` (never read whole first)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise RequestError(f"Content-Length {declared!r} is not a number") from None
        if size > limit:
            raise RequestError(f"The request body is {size} bytes; this server accepts at most {limit} bytes "
                               "(autotrack models serve --max-body-mb)", status=413, error_code="REQUEST_TOO_LARGE")
        return await request.body()
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise RequestError(f"The request body exceeds {limit} bytes, the most this server accepts "
                               "(autotrack models serve --max-body-mb)", status=413, error_code="REQUEST_TOO_LARGE")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(model: Any, model_uri: str = "", max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Starlette:
    """The scoring app for a loaded model (a :class:`~autotrack.models.PyFuncModel`)."""
    service = ScoringService(model, model_uri)
    ready = Response("\n", media_type="text/plain")

    async def ping(request: Request) -> Response:
        return ready  # the app exists only once the model is loaded

    async def version(request: Request) -> Response:
        return Response(service.version, media_type="text/plain")

    async def metadata(request: Request) -> Response:
        return Response(service.metadata_body, media_type=_JSON)

    async def invocations(request: Request) -> Response:
        try:
            kind = protocol.content_kind(request.headers.get("content-type"))
            body = await _read_body(request, max_body_bytes)
            if len(body) <= INLINE_BODY_BYTES:
                # small requests are scored right here: a thread hop would cost more than the prediction
                answer = service.score(body, kind)
            else:
                answer = await run_in_threadpool(service.score, body, kind)
        except RequestError as exc:
            return _error(exc.status, exc.error_code, exc.message)
        except Exception as exc:
            given = request.headers.get("x-request-id")
            request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex[:16]
            logger.exception("request %s: the model failed to predict", request_id)
            return _error(500, "INTERNAL_ERROR",
                          f"The model failed to predict ({type(exc).__name__}: {exc}); request id {request_id}, "
                          "see the server log", request_id)
        return Response(answer, media_type=_JSON)

    routes = [
        Route("/ping", ping, methods=["GET"]),
        Route("/health", ping, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
        Route("/metadata", metadata, methods=["GET"]),
        Route("/invocations", invocations, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.service = service
    return app
