"""Entity routes: create, query, retrieve, update, merge, replace, delete, purge (clause 6.4-6.7)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from smartcity.hub.api import paths as _paths  # noqa: F401 - registers {entityId:uri}, {attrId:term}
from smartcity.hub.api.negotiation import GEOJSON, NgsiRequest, call_hub, call_hub_read, hub_of, read_request
from smartcity.hub.api.params import Rendering, build_query, check_id, parse_options, rendering
from smartcity.hub.api.responses import ngsi_response, no_content
from smartcity.hub.errors import BadRequestData
from smartcity.hub.model import Entity
from smartcity.hub.payload import (
    compact_entity,
    expand_attribute,
    expand_attributes,
    expand_entity,
    geojson_feature,
)
from smartcity.hub.service import UpdateResult

router = APIRouter(tags=["NGSI-LD entities"])


ENTITY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/ld+json": {"schema": {"type": "object"}},
        },
    }
}

Opt = Annotated[str | None, Query(description="keyValues, sysAttrs, ...")]


def render(req: NgsiRequest, entities: list[Entity], view: Rendering, geoproperty: str | None) -> Any:
    if req.accept == GEOJSON:
        prop = req.ctx.expand_term(geoproperty or "location")
        features = [
            geojson_feature(
                e,
                req.ctx,
                prop,
                key_values=view.key_values,
                sys_attrs=view.sys_attrs,
                pick=set(view.pick) if view.pick is not None else None,
                lang=view.lang,
            )
            for e in entities
        ]
        return features
    return [
        compact_entity(
            e,
            req.ctx,
            key_values=view.key_values,
            sys_attrs=view.sys_attrs,
            pick=set(view.pick) if view.pick is not None else None,
            lang=view.lang,
        )
        for e in entities
    ]


def update_body(req: NgsiRequest, result: UpdateResult) -> Any:
    return {
        "updated": sorted({req.ctx.compact_iri(n) for n in result.updated}),
        "notUpdated": [{"attributeName": req.ctx.compact_iri(n), "reason": why} for n, why in result.not_updated],
    }


@router.post("/entities", status_code=201, openapi_extra=ENTITY_BODY, summary="Create an entity")
async def create_entity(request: Request) -> Response:
    req = await read_request(request)
    entity = expand_entity(req.body, req.ctx)
    await call_hub(request, hub_of(request).create_entity, req.tenant, entity)
    return no_content(req, status=201, headers={"Location": f"/ngsi-ld/v1/entities/{quote(entity.id, safe=':')}"})


@router.get("/entities", summary="Query entities")
async def query_entities(
    request: Request,
    type: Annotated[str | None, Query(description="type selection: A,B  A;B  (A|B);C")] = None,
    id: Annotated[str | None, Query(description="comma-separated entity ids")] = None,
    idPattern: str | None = None,
    attrs: str | None = None,
    q: Annotated[str | None, Query(description="NGSI-LD query language")] = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: str | None = None,
    geoproperty: str | None = None,
    geometryProperty: Annotated[str | None, Query(description="GeoProperty of GeoJSON features")] = None,
    limit: Annotated[str | None, Query(description="page size, 0..1000 (default 20)")] = None,
    offset: str | None = None,
    count: str | None = None,
    options: Opt = None,
    format: str | None = None,
    lang: str | None = None,
    local: str | None = None,
) -> Response:
    req = await read_request(request, body=False, geojson=True)
    query = build_query(
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
    if query.is_unfiltered and local != "true":
        raise BadRequestData("give at least one of type, id, idPattern, attrs, q or a geo-query (or local=true)")
    view = rendering(req.ctx, options=options, fmt=format, attrs=attrs, lang=lang)
    entities, total = await run_in_threadpool(hub_of(request).query_entities, req.tenant, query)
    headers: dict[str, str] = {}
    if total is not None:
        headers["NGSILD-Results-Count"] = str(total)
    links = _page_links(request, query.offset, query.limit, len(entities), total)
    if links:
        headers["Link"] = links
    data = render(req, entities, view, geometryProperty)
    if req.accept == GEOJSON:
        data = {"type": "FeatureCollection", "features": data}
    response = ngsi_response(req, data, headers=headers)
    if links and "link" in response.headers:
        response.headers["Link"] = response.headers["Link"] + ", " + links
    return response


def _page_links(request: Request, offset: int, limit: int, returned: int, total: int | None) -> str:
    params = dict(request.query_params)
    links = []
    if offset > 0 and limit > 0:
        params["offset"] = str(max(0, offset - limit))
        links.append(f'<{request.url.path}?{urlencode(params)}>; rel="prev"')
    more = limit > 0 and ((offset + returned < total) if total is not None else returned == limit)
    if more:
        params["offset"] = str(offset + limit)
        links.append(f'<{request.url.path}?{urlencode(params)}>; rel="next"')
    return ", ".join(links)


@router.delete("/entities", status_code=204, summary="Purge entities (by type, idPattern or q)")
async def purge_entities(
    request: Request, type: str | None = None, idPattern: str | None = None, q: str | None = None
) -> Response:
    req = await read_request(request, body=False)
    if type is None and idPattern is None and q is None:
        raise BadRequestData("purging entities needs at least one of type, idPattern or q")
    query = build_query(req.ctx, type_=type, id_pattern=idPattern, q=q)
    await run_in_threadpool(hub_of(request).purge, req.tenant, query)
    return no_content(req)


@router.get("/entities/{entityId:uri}", summary="Retrieve an entity")
async def retrieve_entity(
    request: Request,
    entityId: str,
    attrs: str | None = None,
    options: Opt = None,
    format: str | None = None,
    geometryProperty: str | None = None,
    lang: str | None = None,
) -> Response:
    req = await read_request(request, body=False, geojson=True)
    check_id(entityId)
    view = rendering(req.ctx, options=options, fmt=format, attrs=attrs, lang=lang)
    entity = await call_hub_read(request, hub_of(request).get_entity, req.tenant, entityId)
    return ngsi_response(req, render(req, [entity], view, geometryProperty)[0])


@router.delete("/entities/{entityId:uri}", status_code=204, summary="Delete an entity")
async def delete_entity(request: Request, entityId: str) -> Response:
    req = await read_request(request, body=False)
    check_id(entityId)
    await call_hub(request, hub_of(request).delete_entity, req.tenant, entityId)
    return no_content(req)


@router.patch("/entities/{entityId:uri}", status_code=204, openapi_extra=ENTITY_BODY, summary="Merge an entity")
async def merge_entity(request: Request, entityId: str) -> Response:
    req = await read_request(request, merge_patch=True)
    check_id(entityId)
    patch = _fragment_entity(req, entityId, allow_null=True)
    await call_hub(request, hub_of(request).merge_entity, req.tenant, entityId, patch)
    return no_content(req)


@router.put("/entities/{entityId:uri}", status_code=204, openapi_extra=ENTITY_BODY, summary="Replace an entity")
async def replace_entity(request: Request, entityId: str) -> Response:
    req = await read_request(request)
    check_id(entityId)
    entity = _fragment_entity(req, entityId)
    await call_hub(request, hub_of(request).replace_entity, req.tenant, entityId, entity)
    return no_content(req)


def _fragment_entity(req: NgsiRequest, entity_id: str, *, allow_null: bool = False) -> Entity:
    body = req.body
    if not isinstance(body, dict):
        raise BadRequestData("the body must be a JSON object")
    if "id" in body and body["id"] != entity_id:
        raise BadRequestData("the id in the body differs from the id in the URL")
    return expand_entity({**body, "id": entity_id}, req.ctx, need_type=False, allow_null=allow_null)


@router.post("/entities/{entityId:uri}/attrs", openapi_extra=ENTITY_BODY, summary="Append attributes")
async def append_attrs(request: Request, entityId: str, options: Opt = None) -> Response:
    req = await read_request(request)
    check_id(entityId)
    attrs = expand_attributes(req.body, req.ctx)
    no_overwrite = "noOverwrite" in parse_options(options)
    result = await call_hub(
        request, hub_of(request).append_attrs, req.tenant, entityId, attrs, no_overwrite=no_overwrite
    )
    if result.not_updated:
        return ngsi_response(req, update_body(req, result), status=207, with_context=False)
    return no_content(req)


@router.patch("/entities/{entityId:uri}/attrs", openapi_extra=ENTITY_BODY, summary="Update attributes")
async def update_attrs(request: Request, entityId: str) -> Response:
    req = await read_request(request)
    check_id(entityId)
    attrs = expand_attributes(req.body, req.ctx)
    result = await call_hub(request, hub_of(request).update_attrs, req.tenant, entityId, attrs)
    if result.not_updated:
        return ngsi_response(req, update_body(req, result), status=207, with_context=False)
    return no_content(req)


def _one_instance(req: NgsiRequest, attr_id: str, *, allow_null: bool) -> tuple[str, dict[str, Any]]:
    iri = req.ctx.expand_term(attr_id)
    if not isinstance(req.body, dict):
        raise BadRequestData("the attribute must be a JSON object")
    body = {k: v for k, v in req.body.items() if k != "@context"}
    instances = expand_attribute(attr_id, iri, body, req.ctx, allow_null=allow_null)
    return iri, instances[0]


@router.patch(
    "/entities/{entityId:uri}/attrs/{attrId:term}",
    status_code=204,
    openapi_extra=ENTITY_BODY,
    summary="Partial attribute update",
)
async def patch_attr(request: Request, entityId: str, attrId: str) -> Response:
    req = await read_request(request)
    check_id(entityId)
    iri, patch = _partial_instance(req, attrId)
    await call_hub(request, hub_of(request).patch_attr, req.tenant, entityId, iri, patch)
    return no_content(req)


def _partial_instance(req: NgsiRequest, attr_id: str) -> tuple[str, dict[str, Any]]:
    """A fragment of an attribute; without a ``type`` the existing attribute keeps its own."""
    if not isinstance(req.body, dict):
        raise BadRequestData("the attribute fragment must be a JSON object")
    if "type" not in req.body and not any(k in req.body for k in ("value", "object", "languageMap")):
        raise BadRequestData("an attribute fragment needs a value, object or languageMap")
    iri, inst = _one_instance(req, attr_id, allow_null=True)
    if "type" not in req.body:
        inst.pop("type", None)
    return iri, inst


@router.put(
    "/entities/{entityId:uri}/attrs/{attrId:term}",
    status_code=204,
    openapi_extra=ENTITY_BODY,
    summary="Replace an attribute",
)
async def replace_attr(request: Request, entityId: str, attrId: str) -> Response:
    req = await read_request(request)
    check_id(entityId)
    iri, inst = _one_instance(req, attrId, allow_null=False)
    await call_hub(request, hub_of(request).replace_attr, req.tenant, entityId, iri, inst)
    return no_content(req)


@router.delete("/entities/{entityId:uri}/attrs/{attrId:term}", status_code=204, summary="Delete an attribute")
async def delete_attr(
    request: Request, entityId: str, attrId: str, datasetId: str | None = None, deleteAll: str | None = None
) -> Response:
    req = await read_request(request, body=False)
    check_id(entityId)
    if deleteAll not in (None, "true", "false"):
        raise BadRequestData("'deleteAll' must be true or false")
    iri = req.ctx.expand_term(attrId)
    await call_hub(
        request,
        hub_of(request).delete_attr,
        req.tenant,
        entityId,
        iri,
        dataset_id=datasetId,
        delete_all=deleteAll == "true",
    )
    return no_content(req)
