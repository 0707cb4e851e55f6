"""Subscription routes: create, query, retrieve, update, delete (clause 6.10-6.11)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from smartcity.hub.api import paths as _paths  # noqa: F401 - registers the {name:term} convertor
from smartcity.hub.api.negotiation import read_request
from smartcity.hub.api.params import parse_int, parse_options
from smartcity.hub.api.responses import ngsi_response, no_content
from smartcity.hub.errors import BadRequestData, ResourceNotFound
from smartcity.hub.model import is_uri
from smartcity.hub.query import DEFAULT_LIMIT, MAX_LIMIT
from smartcity.hub.store import Store
from smartcity.hub.subscriptions import repository, spec, view

router = APIRouter(tags=["NGSI-LD subscriptions"])

BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/ld+json": {"schema": {"type": "object"}},
        },
    }
}
PATH = "/subscriptions"


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _check_id(subscription_id: str) -> str:
    if not is_uri(subscription_id):
        raise BadRequestData(f"subscription id {subscription_id!r} is not a URI")
    return subscription_id


def _not_found(subscription_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"subscription {subscription_id} not found")


@router.post(PATH, status_code=201, openapi_extra=BODY, summary="Create a subscription")
async def create_subscription(request: Request) -> Response:
    req = await read_request(request)
    doc = spec.parse_new(req.body, req.ctx)
    given = req.body.get("id")
    doc["id"] = _check_id(given) if given is not None else f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
    store = _store(request)

    def create() -> None:
        with store.tenant(req.tenant, create=True).transaction() as tx:
            repository.insert(tx.db, tx.tenant_id, doc, req.ctx.user_context)

    await run_in_threadpool(create)
    return no_content(req, status=201, headers={"Location": f"/ngsi-ld/v1/subscriptions/{quote(doc['id'], safe=':')}"})


@router.get(PATH, summary="Query subscriptions")
async def query_subscriptions(
    request: Request,
    limit: str | None = None,
    offset: str | None = None,
    count: str | None = None,
    options: str | None = None,
) -> Response:
    req = await read_request(request, body=False)
    size = parse_int(limit, "limit", DEFAULT_LIMIT, low=0, high=MAX_LIMIT)
    start = parse_int(offset, "offset", 0, low=0, high=2**63 - 1)
    if count not in (None, "true", "false"):
        raise BadRequestData("'count' must be true or false")
    sys_attrs = "sysAttrs" in parse_options(options)
    store = _store(request)

    def read() -> tuple[list[repository.SubscriptionRow], int | None]:
        with store.tenant(req.tenant).snapshot() as tx:
            rows = repository.page(tx.db, tx.tenant_id, size, start) if size > 0 else []
            total = repository.count(tx.db, tx.tenant_id) if count == "true" else None
        return rows, total

    rows, total = await run_in_threadpool(read)
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else {}
    data = [view.render(row, req.ctx, sys_attrs=sys_attrs) for row in rows]
    return ngsi_response(req, data, headers=headers)


@router.get(PATH + "/{subscriptionId:term}", summary="Retrieve a subscription")
async def retrieve_subscription(request: Request, subscriptionId: str, options: str | None = None) -> Response:
    req = await read_request(request, body=False)
    _check_id(subscriptionId)
    sys_attrs = "sysAttrs" in parse_options(options)
    store = _store(request)

    def read() -> repository.SubscriptionRow | None:
        with store.tenant(req.tenant).snapshot() as tx:
            return repository.get(tx.db, tx.tenant_id, subscriptionId)

    row = await run_in_threadpool(read)
    if row is None:
        raise _not_found(subscriptionId)
    return ngsi_response(req, view.render(row, req.ctx, sys_attrs=sys_attrs))


@router.patch(PATH + "/{subscriptionId:term}", status_code=204, openapi_extra=BODY, summary="Update a subscription")
async def update_subscription(request: Request, subscriptionId: str) -> Response:
    req = await read_request(request)
    _check_id(subscriptionId)
    store = _store(request)

    def update() -> None:
        with store.tenant(req.tenant).transaction() as tx:
            row = repository.get(tx.db, tx.tenant_id, subscriptionId)
            if row is None:
                raise _not_found(subscriptionId)
            doc: dict[str, Any] = spec.parse_patch(req.body, req.ctx, row.doc)
            repository.update(tx.db, tx.tenant_id, doc)

    await run_in_threadpool(update)
    return no_content(req)


@router.delete(PATH + "/{subscriptionId:term}", status_code=204, summary="Delete a subscription")
async def delete_subscription(request: Request, subscriptionId: str) -> Response:
    req = await read_request(request, body=False)
    _check_id(subscriptionId)
    store = _store(request)

    def delete() -> bool:
        with store.tenant(req.tenant).transaction() as tx:
            return repository.delete(tx.db, tx.tenant_id, subscriptionId)

    if not await run_in_threadpool(delete):
        raise _not_found(subscriptionId)
    return no_content(req)
