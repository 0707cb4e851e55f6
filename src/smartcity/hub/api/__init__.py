"""The NGSI-LD HTTP API (``/ngsi-ld/v1``): the hub's edge for departments' and partners' systems."""

from __future__ import annotations

from fastapi import APIRouter

from smartcity.hub.api import batch, contexts, discovery, entities

PREFIX = "/ngsi-ld/v1"


def router() -> APIRouter:
    api = APIRouter(prefix=PREFIX)
    api.include_router(entities.router)
    api.include_router(batch.router)
    api.include_router(discovery.router)
    api.include_router(contexts.router)
    return api
