"""CKAN's envelope, built in one place: ``{"help", "success", "result"}``, errors with ``__type`` and ``message``
(field errors for validation), CKAN's status codes, and the bare JSON string of a bad request.

Errors the platform raises before an action runs (unknown path, method not allowed, the security gate's 401
and 403, rate limits, crashes) are rendered in the same envelope through :func:`platform_error`, registered in
:data:`smartcity.web.errors.FAMILIES` for ``/api/``. CKAN answers a missing or refused credential with 403
("Authorization Error"), so the family does too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from smartcity.hub.errors import NgsiError
from smartcity.opendata.contracts import NotAuthorized, NotFound, OpenDataError, SearchError, ValidationFailed

PREFIX = "/api/"
MEDIA_TYPE = "application/json;charset=utf-8"
ACTION_PATHS = ("/api/3/action/", "/api/action/")


def help_url(base_url: str, name: str) -> str:
    """CKAN's ``help`` member: the URL of ``help_show`` for the action."""
    return f"{base_url}/api/3/action/help_show?name={name}"


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def success(help_link: str, result: Any) -> Response:
    return _json(200, {"help": help_link, "success": True, "result": result})


def bad_request(message: str) -> Response:
    """CKAN's 400 for requests it cannot read: a JSON string, not an envelope."""
    return _json(400, f"Bad request - {message}")


def failure(help_link: str, status: int, error: Mapping[str, Any]) -> Response:
    return _json(status, {"help": help_link, "success": False, "error": dict(error)})


def domain_error(help_link: str, exc: OpenDataError) -> Response:
    """The response CKAN gives for each of the portal's domain errors."""
    if isinstance(exc, ValidationFailed):
        errors: dict[str, Any] = {k: list(v) for k, v in exc.errors.items()} or {"message": exc.message}
        return failure(help_link, 409, {**errors, "__type": "Validation Error"})
    if isinstance(exc, NotFound):
        return failure(help_link, 404, {"__type": "Not Found Error", "message": f"Not found: {exc.message}"})
    if isinstance(exc, NotAuthorized):
        return failure(help_link, 403, {"__type": "Authorization Error", "message": f"Access denied: {exc.message}"})
    if isinstance(exc, SearchError):
        return failure(
            help_link, 400, {"__type": "Search Query Error", "message": f"Search Query is invalid: {exc.message!r}"}
        )
    return failure(help_link, 409, {"__type": "Validation Error", "message": exc.message})


def internal_error(help_link: str) -> Response:
    return failure(help_link, 500, {"__type": "Internal Server Error", "message": "Internal Server Error"})


#: the platform's errors under /api/ as CKAN's (status, __type, message prefix)
_PLATFORM = {
    401: (403, "Authorization Error", "Access denied"),
    403: (403, "Authorization Error", "Access denied"),
    404: (404, "Not Found Error", "Not found"),
    405: (405, "Bad Request Error", "Method not allowed"),
    409: (409, "Validation Error", "Conflict"),
    413: (413, "Bad Request Error", "Request too large"),
    429: (429, "Rate Limit Error", "Too many requests"),
}


class PlatformErrorResponse(Response):
    """An error in CKAN's envelope whose ``help`` link is filled in when it is sent, from the request it answers."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        self.error = error
        super().__init__(
            content=orjson.dumps({"help": "", "success": False, "error": error}),
            status_code=status,
            media_type=MEDIA_TYPE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = orjson.dumps(
            {"help": help_url(base_url_of(scope), _action_of(scope)), "success": False, "error": self.error}
        )
        self.body = body
        kept = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.raw_headers = [*kept, (b"content-length", str(len(body)).encode())]
        await super().__call__(scope, receive, send)


def _action_of(scope: Scope) -> str:
    path: str = scope.get("path", "")
    for prefix in ACTION_PATHS:
        if path.startswith(prefix):
            return path[len(prefix) :].split("/", 1)[0]
    return "help_show"


def base_url_of(scope: Scope) -> str:
    """The portal's public base URL: the ``public_url`` setting, else the request's own scheme and host."""
    app = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    public = getattr(settings, "public_url", "")
    if public:
        return str(public)
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1")
    if not host:
        server = scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def platform_error(error: NgsiError) -> Response:
    """The error builder of the ``/api/`` family (registered in :data:`smartcity.web.errors.FAMILIES`)."""
    if error.status >= 500:
        return PlatformErrorResponse(500, {"__type": "Internal Server Error", "message": "Internal Server Error"})
    status, kind, prefix = _PLATFORM.get(error.status, (error.status, "Bad Request Error", "Bad request"))
    return PlatformErrorResponse(status, {"__type": kind, "message": f"{prefix}: {error.detail}"})
