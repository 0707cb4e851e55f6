"""Errors under ``/open311/``, in the GeoReport v2 format: ``[{"code": 400, "description": "..."}]`` in JSON or
``<errors><error><code>400</code><description>...</description></error></errors>`` in XML.

The format follows the request, not the error: the URL's ``.xml``/``.json`` suffix, else the ``Accept`` header
(XML when it prefers ``text/xml`` or ``application/xml``), else JSON. Every error of the platform under the prefix
(404 of an unknown path, 405, 413, 415, 429 of the rate limits, 401/403 of the security gate) is rendered so:
the platform's error builders only see the error, so the response decides its body when it is sent, from the
request it answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from smartcity.hub.errors import NgsiError
from smartcity.ioc.open311 import wire

PREFIX = "/open311/"


class Open311Error(NgsiError):
    error_type = "BadRequest"
    status = 400
    title = "Bad request"


class InvalidInput(Open311Error):
    """A request the GeoReport API refuses: missing or malformed parameters, abusive text, a bad photo."""


class NotFound(Open311Error):
    error_type = "NotFound"
    status = 404
    title = "Not found"


class InvalidApiKey(Open311Error):
    error_type = "InvalidApiKey"
    status = 403
    title = "Invalid api_key"


def format_of(scope: Scope) -> str:
    """``xml`` or ``json`` for this request: the path's suffix, else its Accept header, else JSON."""
    path: str = scope.get("path", "")
    if path.endswith(".xml"):
        return "xml"
    if path.endswith(".json"):
        return "json"
    headers: Mapping[bytes, bytes] = dict(scope.get("headers") or [])
    return wire.negotiate(headers.get(b"accept", b"").decode("latin-1"))


class GeoReportErrorResponse(Response):
    """An error that renders itself as JSON or XML when sent, following the request it answers."""

    def __init__(self, status: int, description: str) -> None:
        self.code = status
        self.description = description
        super().__init__(content=_json(status, description), status_code=status, media_type=wire.JSON_TYPE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if format_of(scope) == "xml":
            body = wire.errors_xml([(self.code, self.description)])
            kept = [(k, v) for k, v in self.raw_headers if k not in (b"content-length", b"content-type")]
            self.body = body
            self.raw_headers = [
                *kept,
                (b"content-type", wire.XML_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ]
        await super().__call__(scope, receive, send)


def _json(status: int, description: str) -> bytes:
    body: list[dict[str, Any]] = [{"code": status, "description": description}]
    return orjson.dumps(body)


def georeport_error(error: NgsiError) -> Response:
    """The error builder of the ``/open311/`` family (registered in :data:`smartcity.web.errors.FAMILIES`)."""
    description = error.detail
    if error.status >= 500:
        description = "the server met an unexpected error; it has been logged"
    return GeoReportErrorResponse(error.status, description)
