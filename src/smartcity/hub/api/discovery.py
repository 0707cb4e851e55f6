"""Discovery of what the hub holds: entity types and attributes (clause 5.7, 6.25-6.28)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from smartcity.hub.api import paths as _paths  # noqa: F401 - registers {typeName:term}, {attrId:term}
from smartcity.hub.api.negotiation import hub_of, read_request
from smartcity.hub.api.responses import ngsi_response
from smartcity.hub.errors import BadRequestData, ResourceNotFound
from smartcity.hub.model import valid_name

router = APIRouter(tags=["NGSI-LD discovery"])


def _details(value: str | None) -> bool:
    if value not in (None, "true", "false"):
        raise BadRequestData("'details' must be true or false")
    return value == "true"


@router.get("/types", summary="Available entity types")
async def list_types(request: Request, details: str | None = None) -> Response:
    req = await read_request(request, body=False)
    want_details = _details(details)
    hub = hub_of(request)
    compact = req.ctx.compact_iri
    if not want_details:
        names = await run_in_threadpool(hub.type_names, req.tenant)
        body = {
            "id": f"urn:ngsi-ld:EntityTypeList:{uuid.uuid4()}",
            "type": "EntityTypeList",
            "typeList": [compact(n) for n in names],
        }
        return ngsi_response(req, body)
    infos = await run_in_threadpool(hub.type_info, req.tenant)
    return ngsi_response(
        req,
        [
            {
                "id": info.type,
                "type": "EntityType",
                "typeName": compact(info.type),
                "attributeNames": sorted(compact(a) for a in info.attributes),
            }
            for info in infos
        ],
    )


@router.get("/types/{typeName:term}", summary="Details of one entity type")
async def type_details(request: Request, typeName: str) -> Response:
    req = await read_request(request, body=False)
    if not valid_name(typeName):
        raise BadRequestData(f"type name {typeName!r} is not valid")
    iri = req.ctx.expand_term(typeName)
    infos = await run_in_threadpool(hub_of(request).type_info, req.tenant, [iri])
    if not infos:
        raise ResourceNotFound(f"no entity of type {typeName}")
    info = infos[0]
    compact = req.ctx.compact_iri
    return ngsi_response(
        req,
        {
            "id": info.type,
            "type": "EntityTypeInfo",
            "typeName": compact(info.type),
            "entityCount": info.entity_count,
            "attributeDetails": [
                {
                    "id": attr,
                    "type": "Attribute",
                    "attributeName": compact(attr),
                    "attributeTypes": sorted(kinds),
                }
                for attr, kinds in sorted(info.attributes.items())
            ],
        },
    )


@router.get("/attributes", summary="Available attributes")
async def list_attributes(request: Request, details: str | None = None) -> Response:
    req = await read_request(request, body=False)
    want_details = _details(details)
    infos = await run_in_threadpool(hub_of(request).attribute_info, req.tenant)
    compact = req.ctx.compact_iri
    if not want_details:
        return ngsi_response(
            req,
            {
                "id": f"urn:ngsi-ld:AttributeList:{uuid.uuid4()}",
                "type": "AttributeList",
                "attributeList": [compact(i.name) for i in infos],
            },
        )
    return ngsi_response(
        req,
        [
            {
                "id": i.name,
                "type": "Attribute",
                "attributeName": compact(i.name),
                "typeNames": sorted(compact(t) for t in i.types),
            }
            for i in infos
        ],
    )


@router.get("/attributes/{attrId:term}", summary="Details of one attribute")
async def attribute_details(request: Request, attrId: str) -> Response:
    req = await read_request(request, body=False)
    if not valid_name(attrId):
        raise BadRequestData(f"attribute name {attrId!r} is not valid")
    iri = req.ctx.expand_term(attrId)
    infos = await run_in_threadpool(hub_of(request).attribute_info, req.tenant, [iri])
    if not infos:
        raise ResourceNotFound(f"no attribute {attrId}")
    info = infos[0]
    compact = req.ctx.compact_iri
    return ngsi_response(
        req,
        {
            "id": info.name,
            "type": "Attribute",
            "attributeName": compact(info.name),
            "attributeCount": info.count,
            "attributeTypes": sorted(info.kinds),
            "typeNames": sorted(compact(t) for t in info.types),
        },
    )
