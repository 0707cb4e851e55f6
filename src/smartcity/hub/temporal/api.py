"""The NGSI-LD temporal API (``/ngsi-ld/v1/temporal``, clause 6.18-6.22): history reads and writes over HTTP."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from smartcity.hub.api import paths as _paths  # noqa: F401 - registers {entityId:uri}, {attrId:term}
from smartcity.hub.api.negotiation import NgsiRequest, read_request
from smartcity.hub.api.params import build_query, check_id, expand_attr_list, split_list
from smartcity.hub.api.responses import ngsi_response, no_content
from smartcity.hub.errors import BadRequestData, ResourceNotFound
from smartcity.hub.jsonld import ResolvedContext
from smartcity.hub.model import ENTITY_KEYS, Entity, Instance, is_uri, valid_name
from smartcity.hub.payload import expand_instance, expand_types
from smartcity.hub.temporal.query import (
    Aggregation,
    TemporalQuery,
    parse_last_n,
    parse_methods,
    parse_period,
    parse_window,
)
from smartcity.hub.temporal.render import View, render
from smartcity.hub.temporal.rows import instance_row_id
from smartcity.hub.temporal.service import TemporalResult, TemporalService

PREFIX = "/ngsi-ld/v1/temporal"
router = APIRouter(prefix=PREFIX, tags=["NGSI-LD temporal"])

OPTIONS = frozenset({"temporalValues", "aggregatedValues", "sysAttrs", "keyValues", "simplified", "normalized"})
FORMATS = {"temporalValues": "temporalValues", "simplified": "temporalValues", "keyValues": "temporalValues",
           "aggregatedValues": "aggregatedValues", "normalized": "normalized"}  # fmt: skip
BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/ld+json": {"schema": {"type": "object"}},
        },
    }
}
Text = Annotated[str | None, Query()]


def service_of(request: Request) -> TemporalService:
    service: TemporalService = request.app.state.temporal
    return service


# -- reads -------------------------------------------------------------------------------------------


def _temporal_query(
    ctx: ResolvedContext,
    *,
    attrs: str | None,
    timerel: str | None,
    timeAt: str | None,
    endTimeAt: str | None,
    timeproperty: str | None,
    lastN: str | None,
    options: str | None,
    format: str | None,
    aggrMethods: str | None,
    aggrPeriodDuration: str | None,
) -> tuple[TemporalQuery, View]:
    opts = set(split_list(options, "options") or [])
    unknown = opts - OPTIONS
    if unknown:
        raise BadRequestData(f"unknown option(s): {', '.join(sorted(unknown))}")
    if format is not None:
        if format not in FORMATS:
            raise BadRequestData(f"unknown format {format!r}: use normalized, temporalValues or aggregatedValues")
        opts.add(FORMATS[format])
    simplified = bool(opts & {"temporalValues", "keyValues", "simplified"})
    aggregated = "aggregatedValues" in opts
    if simplified and aggregated:
        raise BadRequestData("temporalValues and aggregatedValues cannot be combined")
    aggregation = None
    if aggregated:
        aggregation = Aggregation(parse_methods(aggrMethods), parse_period(aggrPeriodDuration))
    picked = expand_attr_list(attrs, ctx)
    tq = TemporalQuery(
        window=parse_window(timerel, timeAt, endTimeAt, timeproperty),
        last_n=parse_last_n(lastN),
        aggregation=aggregation,
        attrs=tuple(picked) if picked is not None else None,
    )
    view = View(
        temporal_values=simplified, sys_attrs="sysAttrs" in opts, pick=frozenset(tq.attrs) if tq.attrs else None
    )
    return tq, view


def _answer(req: NgsiRequest, result: TemporalResult, view: View, *, single: bool) -> Response:
    data: Any = render(result, req.ctx, view)
    headers: dict[str, str] = {}
    if result.total is not None:
        headers["NGSILD-Results-Count"] = str(result.total)
    status = 200
    if result.range is not None:
        status = 206
        headers["Content-Range"] = result.range.header()
    return ngsi_response(req, data[0] if single else data, status=status, headers=headers)


@router.get("/entities", summary="Query the temporal evolution of entities")
async def query_temporal(
    request: Request,
    type: Text = None,
    id: Text = None,
    idPattern: Text = None,
    attrs: Text = None,
    q: Text = None,
    georel: Text = None,
    geometry: Text = None,
    coordinates: Text = None,
    geoproperty: Text = None,
    timerel: Text = None,
    timeAt: Text = None,
    endTimeAt: Text = None,
    timeproperty: Text = None,
    lastN: Text = None,
    options: Text = None,
    format: Text = None,
    aggrMethods: Text = None,
    aggrPeriodDuration: Text = None,
    limit: Text = None,
    offset: Text = None,
    count: Text = None,
) -> Response:
    req = await read_request(request, body=False)
    selection = build_query(
        req.ctx,
        type_=type,
        ids=id,
        id_pattern=idPattern,
        attrs=attrs,
        q=q,
        georel=georel,
        geometry=geometry,
        coordinates=coordinates,
        geoproperty=geoproperty,
        limit=limit,
        offset=offset,
        count=count,
    )
    if selection.is_unfiltered:
        raise BadRequestData("give at least one of type, id, idPattern, attrs, q or a geo-query")
    tq, view = _temporal_query(
        req.ctx,
        attrs=attrs,
        timerel=timerel,
        timeAt=timeAt,
        endTimeAt=endTimeAt,
        timeproperty=timeproperty,
        lastN=lastN,
        options=options,
        format=format,
        aggrMethods=aggrMethods,
        aggrPeriodDuration=aggrPeriodDuration,
    )
    result = await run_in_threadpool(service_of(request).query, req.tenant, selection, tq)
    return _answer(req, result, view, single=False)


@router.get("/entities/{entityId:uri}", summary="Retrieve the temporal evolution of an entity")
async def retrieve_temporal(
    request: Request,
    entityId: str,
    attrs: Text = None,
    timerel: Text = None,
    timeAt: Text = None,
    endTimeAt: Text = None,
    timeproperty: Text = None,
    lastN: Text = None,
    options: Text = None,
    format: Text = None,
    aggrMethods: Text = None,
    aggrPeriodDuration: Text = None,
) -> Response:
    req = await read_request(request, body=False)
    check_id(entityId)
    tq, view = _temporal_query(
        req.ctx,
        attrs=attrs,
        timerel=timerel,
        timeAt=timeAt,
        endTimeAt=endTimeAt,
        timeproperty=timeproperty,
        lastN=lastN,
        options=options,
        format=format,
        aggrMethods=aggrMethods,
        aggrPeriodDuration=aggrPeriodDuration,
    )
    result = await run_in_threadpool(service_of(request).retrieve, req.tenant, entityId, tq)
    return _answer(req, result, view, single=True)


# -- writes ------------------------------------------------------------------------------------------


def _looks_like_instance(item: object) -> bool:
    return isinstance(item, dict) and any(k in item for k in ("type", "value", "object", "languageMap"))


def _temporal_attrs(body: object, ctx: ResolvedContext) -> dict[str, list[Instance]]:
    """Attributes of a temporal fragment: each one an instance or an array of instances (any datasetIds)."""
    if not isinstance(body, dict):
        raise BadRequestData("the body must be a JSON object")
    out: dict[str, list[Instance]] = {}
    for name, raw in body.items():
        if name in ENTITY_KEYS:
            continue
        if not valid_name(name):
            raise BadRequestData(f"attribute name {name!r} is not valid")
        iri = ctx.expand_term(name)
        items = raw if isinstance(raw, list) and raw and all(_looks_like_instance(x) for x in raw) else [raw]
        out[iri] = [expand_instance(name, iri, item, ctx, depth=0) for item in items]
    return out


@router.post("/entities", status_code=201, openapi_extra=BODY, summary="Create or add to a temporal entity")
async def create_temporal(request: Request) -> Response:
    req = await read_request(request)
    body = req.body
    if not isinstance(body, dict):
        raise BadRequestData("a temporal entity must be a JSON object")
    entity_id = body.get("id")
    if not is_uri(entity_id):
        raise BadRequestData("the temporal entity needs an 'id' that is a URI")
    raw_type = body.get("type")
    if raw_type is None:
        raise BadRequestData("the temporal entity has no 'type'")
    entity = Entity(str(entity_id), expand_types(raw_type, req.ctx), _temporal_attrs(body, req.ctx))
    created = await run_in_threadpool(service_of(request).upsert, req.tenant, entity)
    if created:
        return no_content(req, status=201, headers={"Location": f"{PREFIX}/entities/{quote(entity.id, safe=':')}"})
    return no_content(req)


@router.delete("/entities/{entityId:uri}", status_code=204, summary="Delete the temporal evolution of an entity")
async def delete_temporal(request: Request, entityId: str) -> Response:
    req = await read_request(request, body=False)
    check_id(entityId)
    await run_in_threadpool(service_of(request).delete_entity, req.tenant, entityId)
    return no_content(req)


@router.post("/entities/{entityId:uri}/attrs", status_code=204, openapi_extra=BODY, summary="Add instances")
async def add_temporal_attrs(request: Request, entityId: str) -> Response:
    req = await read_request(request)
    check_id(entityId)
    attrs = _temporal_attrs(req.body, req.ctx)
    await run_in_threadpool(service_of(request).add_attrs, req.tenant, entityId, attrs)
    return no_content(req)


def _split(path: str) -> tuple[str, str | None]:
    """``attrId`` or ``attrId/instanceId`` (an attribute IRI may itself contain ``/``)."""
    head, sep, tail = path.rpartition("/")
    if sep and head and is_uri(tail):
        return head, tail
    return path, None


def _row_id(instance_id: str) -> int:
    row_id = instance_row_id(instance_id)
    if row_id is None:
        raise ResourceNotFound(f"no temporal instance {instance_id}")
    return row_id


@router.delete(
    "/entities/{entityId:uri}/attrs/{attrId:term}",
    status_code=204,
    summary="Delete an attribute's history, or one instance (…/attrs/{attrId}/{instanceId})",
)
async def delete_temporal_attr(
    request: Request, entityId: str, attrId: str, datasetId: Text = None, deleteAll: Text = None
) -> Response:
    req = await read_request(request, body=False)
    check_id(entityId)
    if deleteAll not in (None, "true", "false"):
        raise BadRequestData("'deleteAll' must be true or false")
    attr, instance = _split(attrId)
    if not valid_name(attr):
        raise BadRequestData(f"attribute name {attr!r} is not valid")
    iri = req.ctx.expand_term(attr)
    service = service_of(request)
    if instance is not None:
        await run_in_threadpool(service.delete_instance, req.tenant, entityId, iri, _row_id(instance))
    else:
        await run_in_threadpool(
            service.delete_attr, req.tenant, entityId, iri, dataset_id=datasetId, delete_all=deleteAll == "true"
        )
    return no_content(req)


@router.patch(
    "/entities/{entityId:uri}/attrs/{attrId:term}",
    status_code=204,
    openapi_extra=BODY,
    summary="Modify one instance (…/attrs/{attrId}/{instanceId})",
)
async def patch_temporal_instance(request: Request, entityId: str, attrId: str) -> Response:
    req = await read_request(request)
    check_id(entityId)
    attr, instance = _split(attrId)
    if instance is None:
        raise ResourceNotFound("PATCH needs …/attrs/{attrId}/{instanceId}")
    if not valid_name(attr):
        raise BadRequestData(f"attribute name {attr!r} is not valid")
    iri = req.ctx.expand_term(attr)
    body = req.body
    if not isinstance(body, dict):
        raise BadRequestData("the instance fragment must be a JSON object")
    body = {k: v for k, v in body.items() if k != "@context"}
    inner = body.get(attr, body.get(iri)) if len(body) == 1 else None
    if inner is not None:  # {"attrId": {...}} or {"attrId": [{...}]}
        body = inner[0] if isinstance(inner, list) and len(inner) == 1 else inner
    patch = expand_instance(attr, iri, body, req.ctx, depth=0)
    if "type" not in body:
        patch.pop("type", None)
    await run_in_threadpool(service_of(request).patch_instance, req.tenant, entityId, iri, _row_id(instance), patch)
    return no_content(req)
