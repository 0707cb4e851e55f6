"""Batch entity operations (clause 6.14-6.19, 6.23-6.24): create, upsert, update, delete, merge, query."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from smartcity.hub.api.entities import render
from smartcity.hub.api.negotiation import NgsiRequest, hub_of, read_request
from smartcity.hub.api.params import (
    build_query,
    check_pattern,
    expand_types,
    parse_options,
    rendering,
)
from smartcity.hub.api.responses import json_response, ngsi_response, no_content
from smartcity.hub.errors import BadRequestData, NgsiError
from smartcity.hub.model import is_uri
from smartcity.hub.payload import expand_entity
from smartcity.hub.query import EntityQuery, Selector
from smartcity.hub.service import MAX_BATCH, BatchItem, BatchResult

router = APIRouter(prefix="/entityOperations", tags=["NGSI-LD batch operations"])

ARRAY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array"}},
            "application/ld+json": {"schema": {"type": "array"}},
        },
    }
}


async def _entities(req: NgsiRequest, *, need_type: bool = True, allow_null: bool = False) -> list[BatchItem]:
    """The entities of a batch body, expanded in a worker thread (a large batch must not hold up the event loop)."""
    return await run_in_threadpool(_expand_all, req, need_type, allow_null)


def _expand_all(req: NgsiRequest, need_type: bool, allow_null: bool) -> list[BatchItem]:
    if not isinstance(req.body, list):
        raise BadRequestData("a batch operation takes a JSON array of entities")
    if len(req.body) > MAX_BATCH:
        raise BadRequestData(f"a batch holds at most {MAX_BATCH} entities")
    items: list[BatchItem] = []
    for raw in req.body:
        try:
            items.append(expand_entity(raw, req.ctx, need_type=need_type, allow_null=allow_null))
        except NgsiError as exc:
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            exc.extra["entityId"] = raw_id if isinstance(raw_id, str) else ""
            items.append(exc)
    return items


def _outcome(req: NgsiRequest, result: BatchResult, *, created_status: bool) -> Response:
    if result.errors:
        body = {
            "success": result.success,
            "errors": [{"entityId": entity_id, "error": err.problem()} for entity_id, err in result.errors],
        }
        return ngsi_response(req, body, status=207, with_context=False)
    if created_status and result.created:
        return json_response(result.created, status=201)
    return no_content(req)


@router.post("/create", openapi_extra=ARRAY_BODY, summary="Batch create")
async def batch_create(request: Request) -> Response:
    req = await read_request(request)
    items = await _entities(req)
    result = await run_in_threadpool(hub_of(request).batch_create, req.tenant, items)
    return _outcome(req, result, created_status=True)


@router.post("/upsert", openapi_extra=ARRAY_BODY, summary="Batch upsert (options=update|replace)")
async def batch_upsert(request: Request, options: str | None = None) -> Response:
    req = await read_request(request)
    opts = parse_options(options)
    items = await _entities(req)
    result = await run_in_threadpool(hub_of(request).batch_upsert, req.tenant, items, update="update" in opts)
    return _outcome(req, result, created_status=True)


@router.post("/update", openapi_extra=ARRAY_BODY, summary="Batch update (options=noOverwrite)")
async def batch_update(request: Request, options: str | None = None) -> Response:
    req = await read_request(request)
    opts = parse_options(options)
    items = await _entities(req, need_type=False)
    result = await run_in_threadpool(
        hub_of(request).batch_update, req.tenant, items, no_overwrite="noOverwrite" in opts
    )
    return _outcome(req, result, created_status=False)


@router.post("/merge", openapi_extra=ARRAY_BODY, summary="Batch merge")
async def batch_merge(request: Request) -> Response:
    req = await read_request(request)
    items = await _entities(req, need_type=False, allow_null=True)
    result = await run_in_threadpool(hub_of(request).batch_merge, req.tenant, items)
    return _outcome(req, result, created_status=False)


@router.post("/delete", openapi_extra=ARRAY_BODY, summary="Batch delete")
async def batch_delete(request: Request) -> Response:
    req = await read_request(request)
    if not isinstance(req.body, list):
        raise BadRequestData("batch delete takes a JSON array of entity ids")
    if len(req.body) > MAX_BATCH:
        raise BadRequestData(f"a batch holds at most {MAX_BATCH} entities")
    ids: list[str | NgsiError] = []
    for item in req.body:
        if is_uri(item):
            ids.append(str(item))
        else:
            ids.append(BadRequestData(f"{item!r} is not an entity id (a URI)"))
    result = await run_in_threadpool(hub_of(request).batch_delete, req.tenant, ids)
    return _outcome(req, result, created_status=False)


@router.post(
    "/query",
    summary="Query entities (POST)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def batch_query(
    request: Request,
    limit: Annotated[str | None, Query()] = None,
    offset: str | None = None,
    count: str | None = None,
    options: str | None = None,
    format: str | None = None,
    lang: str | None = None,
) -> Response:
    req = await read_request(request)
    body = req.body
    if not isinstance(body, dict) or body.get("type") != "Query":
        raise BadRequestData('the body must be a Query object with "type": "Query"')
    query = _post_query(req, body, limit=limit, offset=offset, count=count)
    attrs = body.get("attrs")
    view = rendering(req.ctx, options=options, fmt=format, attrs=",".join(attrs) if attrs else None, lang=lang)
    entities, total = await run_in_threadpool(hub_of(request).query_entities, req.tenant, query)
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else {}
    return ngsi_response(req, render(req, entities, view, None), headers=headers)


def _post_query(
    req: NgsiRequest, body: dict[str, Any], *, limit: str | None, offset: str | None, count: str | None
) -> EntityQuery:
    attrs = body.get("attrs")
    if attrs is not None and (not isinstance(attrs, list) or not all(isinstance(a, str) for a in attrs)):
        raise BadRequestData("'attrs' must be an array of attribute names")
    q = body.get("q")
    if q is not None and not isinstance(q, str):
        raise BadRequestData("'q' must be a string")
    geo_q = body.get("geoQ")
    georel = geometry = coordinates = geoproperty = None
    if geo_q is not None:
        if not isinstance(geo_q, dict):
            raise BadRequestData("'geoQ' must be an object")
        georel, geometry, geoproperty = geo_q.get("georel"), geo_q.get("geometry"), geo_q.get("geoproperty")
        coords = geo_q.get("coordinates")
        coordinates = coords if isinstance(coords, str) else (None if coords is None else _json(coords))
        if not all(isinstance(v, str) or v is None for v in (georel, geometry, geoproperty)):
            raise BadRequestData("'geoQ' members georel, geometry and geoproperty must be strings")
    base = build_query(
        req.ctx,
        attrs=",".join(attrs) if attrs else None,
        q=q,
        georel=georel,
        geometry=geometry,
        coordinates=coordinates,
        geoproperty=geoproperty,
        limit=limit,
        offset=offset,
        count=count,
    )
    selectors = _selectors(req, body.get("entities"))
    if selectors is None and base.is_unfiltered:
        raise BadRequestData("a query needs entities, attrs, q or geoQ")
    return EntityQuery(
        attrs=base.attrs,
        q=base.q,
        geo=base.geo,
        selectors=selectors,
        limit=base.limit,
        offset=base.offset,
        count=base.count,
    )


def _json(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


def _selectors(req: NgsiRequest, raw: Any) -> tuple[Selector, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise BadRequestData("'entities' must be a non-empty array of entity selectors")
    out: list[Selector] = []
    for item in raw:
        if not isinstance(item, dict):
            raise BadRequestData("each entity selector must be an object")
        entity_id, pattern, type_ = item.get("id"), item.get("idPattern"), item.get("type")
        if entity_id is not None and not is_uri(entity_id):
            raise BadRequestData(f"selector id {entity_id!r} is not a URI")
        if pattern is not None and not isinstance(pattern, str):
            raise BadRequestData("selector idPattern must be a string")
        if type_ is not None and not isinstance(type_, str):
            raise BadRequestData("selector type must be a string")
        if entity_id is None and pattern is None and type_ is None:
            raise BadRequestData("an entity selector needs id, idPattern or type")
        out.append(
            Selector(
                id=entity_id,
                id_pattern=check_pattern(pattern) if pattern is not None else None,
                types=expand_types(type_, req.ctx) if type_ is not None else None,
            )
        )
    return tuple(out)
