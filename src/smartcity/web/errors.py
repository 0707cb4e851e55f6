"""Every error response of the platform is built here, one builder per API family.

NGSI-LD routes answer with problem details (ETSI GS CIM 009 clause 5.5.2); later API families (CKAN,
Open311) add their own builder to :data:`FAMILIES`. Unexpected exceptions are logged once and answered as
an InternalError without leaking internals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from smartcity.hub.errors import (
    BadRequestData,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NgsiError,
    ResourceNotFound,
)

log = logging.getLogger(__name__)

ErrorBuilder = Callable[[NgsiError], Response]


def ngsi_problem(error: NgsiError) -> Response:
    return Response(content=orjson.dumps(error.problem()), status_code=error.status, media_type="application/json")


#: path prefix -> builder; the first match wins, the last entry is the default
FAMILIES: list[tuple[str, ErrorBuilder]] = [("/", ngsi_problem)]


def build_error(request: Request, error: NgsiError) -> Response:
    path = request.url.path
    for prefix, builder in FAMILIES:
        if path.startswith(prefix):
            return builder(error)
    return ngsi_problem(error)


def _http_error(exc: StarletteHTTPException) -> NgsiError:
    if exc.status_code == 404:
        return ResourceNotFound("no such resource")
    if exc.status_code == 405:
        return MethodNotAllowed("this method is not allowed on this resource")
    if exc.status_code == 400:
        return InvalidRequest(str(exc.detail))
    err = InvalidRequest(str(exc.detail))
    err.status = exc.status_code  # type: ignore[misc]
    return err


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into the family's error body."""

    async def on_ngsi(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NgsiError)
        response = build_error(request, exc)
        extra = getattr(exc, "response_headers", None)
        if extra is not None:
            response.headers.update(extra())
        return response

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()
        )
        return build_error(request, BadRequestData(problems or "invalid request"))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        response = build_error(request, _http_error(exc))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return build_error(request, InternalError("the server met an unexpected error; it has been logged"))

    app.add_exception_handler(NgsiError, on_ngsi)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
