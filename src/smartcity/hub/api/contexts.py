"""The @context server (clause 5.13, 6.30-6.31): contexts the broker hosts and the ones it has cached."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from smartcity.hub.api.negotiation import (
    JSON,
    JSONLD,
    media_type,
    negotiate,
    read_json,
    registry_of,
    resolve_context,
)
from smartcity.hub.api.responses import json_response, no_content
from smartcity.hub.errors import BadRequestData, ResourceNotFound, UnsupportedMediaType
from smartcity.hub.store import Store

router = APIRouter(prefix="/jsonldContexts", tags=["NGSI-LD @context server"])

KINDS = ("Hosted", "Cached", "ImplicitlyCreated")


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def hosted_url(request: Request, context_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/ngsi-ld/v1/jsonldContexts/{context_id}"


def cached_id(url: str) -> str:
    return "cached-" + hashlib.sha256(url.encode()).hexdigest()[:24]


@router.post(
    "",
    status_code=201,
    summary="Add a user @context",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "required": ["@context"]}}},
        }
    },
)
async def add_context(request: Request) -> Response:
    if media_type(request.headers.get("content-type")) not in (JSON, JSONLD):
        raise UnsupportedMediaType("send the @context as application/json or application/ld+json")
    body = await read_json(request)
    if not isinstance(body, dict) or "@context" not in body:
        raise BadRequestData("the body must be a JSON object with an @context member")
    context = body["@context"]
    if not isinstance(context, dict | list):
        raise BadRequestData("@context must be an object or an array")
    await resolve_context(request, context)  # 400 when it is not a valid JSON-LD context
    context_id = str(uuid.uuid4())
    await run_in_threadpool(store_of(request).put_context, context_id, orjson.dumps({"@context": context}).decode())
    return no_content(status=201, headers={"Location": f"/ngsi-ld/v1/jsonldContexts/{context_id}"})


@router.get("", summary="List @contexts")
async def list_contexts(request: Request, details: str | None = None, kind: str | None = None) -> Response:
    negotiate(request)
    if kind is not None and kind not in KINDS:
        raise BadRequestData(f"'kind' must be one of {', '.join(KINDS)}")
    entries = await run_in_threadpool(_entries, request)
    if kind is not None:
        entries = [e for e in entries if e["kind"] == kind]
    if details == "true":
        return json_response(entries)
    return json_response([e["URL"] for e in entries])


def _entries(request: Request) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"URL": hosted_url(request, c.id), "localId": c.id, "kind": "Hosted", "createdAt": c.created_at}
        for c in store_of(request).list_contexts()
    ]
    for cached in registry_of(request).cached():
        out.append(
            {
                "URL": cached.url,
                "localId": cached_id(cached.url),
                "kind": "Cached",
                "createdAt": cached.fetched_at.isoformat().replace("+00:00", "Z"),
                "lastUsage": cached.last_used.isoformat().replace("+00:00", "Z"),
                "numberOfHits": cached.hits,
            }
        )
    return out


@router.get("/{contextId}", summary="Serve an @context")
async def get_context(request: Request, contextId: str, details: str | None = None) -> Response:
    negotiate(request)
    hosted = await run_in_threadpool(store_of(request).get_context, contextId)
    if hosted is not None:
        if details == "true":
            return json_response(
                {
                    "URL": hosted_url(request, hosted.id),
                    "localId": hosted.id,
                    "kind": "Hosted",
                    "createdAt": hosted.created_at,
                }
            )
        return Response(
            content=hosted.body,
            media_type=JSONLD if "ld+json" in request.headers.get("accept", "") else "application/json",
        )
    for cached in registry_of(request).cached():
        if cached_id(cached.url) == contextId:
            if details == "true":
                return json_response(
                    {"URL": cached.url, "localId": contextId, "kind": "Cached", "numberOfHits": cached.hits}
                )
            return json_response(cached.document)
    raise ResourceNotFound(f"no @context {contextId}")


@router.delete("/{contextId}", status_code=204, summary="Delete (or reload) an @context")
async def delete_context(request: Request, contextId: str, reload: str | None = None) -> Response:
    if await run_in_threadpool(store_of(request).delete_context, contextId):
        registry_of(request).forget_hosted(hosted_url(request, contextId))
        return no_content()
    registry = registry_of(request)
    for cached in registry.cached():
        if cached_id(cached.url) == contextId:
            if reload == "true":
                await run_in_threadpool(registry.reload, cached.url)
            else:
                registry.evict(cached.url)
            return no_content()
    raise ResourceNotFound(f"no @context {contextId}")
