"""Reading an NGSI-LD request: tenant, media types, the @context (Link header or body) and the JSON body."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from smartcity.hub.errors import (
    BadRequestData,
    InvalidRequest,
    LdContextNotAvailable,
    NonexistentTenant,
    NotAcceptable,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from smartcity.hub.jsonld import (
    CORE_CONTEXT_URL,
    ContextNotAvailable,
    ContextRegistry,
    InvalidContext,
    ResolvedContext,
)
from smartcity.hub.service import Hub

JSON = "application/json"
JSONLD = "application/ld+json"
GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
TENANT_HEADER = "NGSILD-Tenant"

T = TypeVar("T")

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_TENANT = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


@dataclass
class NgsiRequest:
    tenant: str | None
    ctx: ResolvedContext
    body: Any
    accept: str


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


async def call_hub(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a one-entity hub write, grouped with the other writes waiting at the same moment.

    SQLite: inline on the event loop (such a call takes a fraction of a millisecond and writes are serialised
    anyway), one commit per loop turn. PostgreSQL: the store's writer thread, one transaction per group.
    Either way the caller is answered only after its commit. Queries and batches use ``run_in_threadpool``.
    """
    store = request.app.state.store
    if request.app.state.inline_hub:
        with store.grouped():
            result = fn(*args, **kwargs)
        await store.settle()
        return result
    written: T = await store.run_write(fn, *args, **kwargs)
    return written


async def call_hub_read(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a one-entity hub read: inline on SQLite, in a worker thread on PostgreSQL."""
    if request.app.state.inline_hub:
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)


def registry_of(request: Request) -> ContextRegistry:
    registry: ContextRegistry = request.app.state.contexts
    return registry


def _tenant_header(request: Request) -> str | None:
    tenant = request.headers.get(TENANT_HEADER)
    if tenant is None or tenant == "":
        return None
    if not _TENANT.match(tenant):
        raise BadRequestData(f"tenant name {tenant!r} is not valid (letters, digits, _ . : - only)")
    return tenant


def tenant_of(request: Request) -> str | None:
    """The request's tenant, if its caller may see it: a foreign tenant looks exactly like a missing one."""
    tenant = _tenant_header(request)
    principal = getattr(request.state, "principal", None)
    if principal is not None and not principal.may_use_tenant(tenant):
        on_foreign = getattr(request.app.state, "on_foreign_tenant", None)
        if on_foreign is not None:
            on_foreign(principal, tenant)
        raise NonexistentTenant(f"tenant {tenant or ''!r} does not exist")
    return tenant


def media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def link_context(request: Request) -> str | None:
    """The @context URL of the request's JSON-LD ``Link`` header, if any."""
    header = request.headers.get("link")
    if not header:
        return None
    for match in _LINK.finditer(header):
        url, params = match.group(1), match.group(2)
        if 'rel="' + CONTEXT_REL + '"' in params.replace(" ", "") or "rel=" + CONTEXT_REL in params:
            return url.strip()
    return None


def negotiate(request: Request, *, geojson: bool = False) -> str:
    """The response media type the client accepts (406 when none)."""
    header = request.headers.get("accept")
    if not header:
        return JSON
    offered = [JSON, JSONLD] + ([GEOJSON] if geojson else [])
    best: tuple[float, int, str] | None = None
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        kind = pieces[0].lower()
        quality = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if kind in ("*/*", "application/*"):
            choice = JSON
        elif kind in offered:
            choice = kind
        else:
            continue
        rank = (quality, -offered.index(choice), choice)
        if best is None or rank[:2] > best[:2]:
            best = rank
    if best is None:
        raise NotAcceptable(f"none of the media types in Accept ({header}) is offered; use one of {', '.join(offered)}")
    return best[2]


async def resolve_context(request: Request, context: Any) -> ResolvedContext:
    registry = registry_of(request)
    try:
        cached = registry.peek(context)
        if cached is not None:
            return cached
        return await run_in_threadpool(registry.resolve, context)
    except ContextNotAvailable as exc:
        raise LdContextNotAvailable(exc.detail) from exc
    except InvalidContext as exc:
        raise BadRequestData(f"invalid @context: {exc.detail}") from exc


async def read_request(
    request: Request, *, body: bool = True, geojson: bool = False, merge_patch: bool = False
) -> NgsiRequest:
    """Everything NGSI-LD needs from a request, checked in the order the spec gives the errors."""
    tenant = tenant_of(request)
    if any("\x00" in k or "\x00" in v for k, v in request.query_params.multi_items()):
        raise BadRequestData("NUL characters are not allowed in query parameters")
    accept = negotiate(request, geojson=geojson)
    link = link_context(request)
    payload: Any = None
    context: Any = link
    if body:
        ctype = media_type(request.headers.get("content-type"))
        allowed = (JSON, JSONLD, MERGE_PATCH) if merge_patch else (JSON, JSONLD)
        if ctype not in allowed:
            raise UnsupportedMediaType(f"Content-Type {ctype or '(none)'} is not supported; use {' or '.join(allowed)}")
        payload = await read_json(request)
        if ctype == JSONLD:
            if link is not None:
                raise BadRequestData("with application/ld+json the @context goes in the body, not in a Link header")
            context = _body_context(payload, required=True)
        elif _has_body_context(payload):
            raise BadRequestData("a body with @context must be sent as application/ld+json")
    ctx = await resolve_context(request, context)
    return NgsiRequest(tenant=tenant, ctx=ctx, body=payload, accept=accept)


def _has_body_context(payload: Any) -> bool:
    if isinstance(payload, dict):
        return "@context" in payload
    if isinstance(payload, list):
        return any(isinstance(item, dict) and "@context" in item for item in payload)
    return False


def _body_context(payload: Any, *, required: bool) -> Any:
    if isinstance(payload, dict):
        if "@context" not in payload:
            raise BadRequestData("an application/ld+json body needs an @context member")
        return payload["@context"]
    if isinstance(payload, list):
        contexts = [item.get("@context") for item in payload if isinstance(item, dict)]
        if not contexts or any(c is None for c in contexts):
            raise BadRequestData("every entity of an application/ld+json array needs an @context member")
        if any(c != contexts[0] for c in contexts):
            raise BadRequestData("the entities of one request must share one @context")
        return contexts[0]
    if required:
        raise BadRequestData("an application/ld+json body must be a JSON object or array")
    return None


async def read_json(request: Request) -> Any:
    limit: int = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    raw = await request.body()
    if len(raw) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    if not raw:
        raise InvalidRequest("the request has no body")
    if b"\\u0000" in raw:
        raise BadRequestData("NUL characters (\\u0000) are not allowed in NGSI-LD data")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the request body is not valid JSON: {exc}") from exc


def context_link(ctx: ResolvedContext) -> str:
    user = ctx.user_context
    url = user if isinstance(user, str) else CORE_CONTEXT_URL
    return f'<{url}>; rel="{CONTEXT_REL}"; type="{JSONLD}"'


def body_context(ctx: ResolvedContext) -> Any:
    return ctx.user_context if ctx.user_context is not None else CORE_CONTEXT_URL
