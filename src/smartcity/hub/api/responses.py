"""Building NGSI-LD responses: media type, Link header, @context, tenant echo."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

from smartcity.hub.api.negotiation import (
    GEOJSON,
    JSONLD,
    TENANT_HEADER,
    NgsiRequest,
    body_context,
    context_link,
)


def ngsi_response(
    req: NgsiRequest,
    data: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    with_context: bool = True,
) -> Response:
    """A JSON body in the negotiated media type, with the @context as the spec places it."""
    out_headers = dict(headers or {})
    if req.tenant is not None:
        out_headers[TENANT_HEADER] = req.tenant
    if with_context and req.accept == JSONLD:
        context = body_context(req.ctx)
        if isinstance(data, dict):
            data = {"@context": context, **data}
        elif isinstance(data, list):
            data = [{"@context": context, **item} if isinstance(item, dict) else item for item in data]
    elif with_context:
        out_headers["Link"] = context_link(req.ctx)
    media = req.accept if req.accept in (JSONLD, GEOJSON) else "application/json"
    return Response(content=orjson.dumps(data), status_code=status, media_type=media, headers=out_headers)


def no_content(req: NgsiRequest | None = None, *, status: int = 204, headers: dict[str, str] | None = None) -> Response:
    out_headers = dict(headers or {})
    if req is not None and req.tenant is not None:
        out_headers[TENANT_HEADER] = req.tenant
    return Response(status_code=status, headers=out_headers)


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(content=orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)
