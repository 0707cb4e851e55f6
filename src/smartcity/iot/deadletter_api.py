"""``GET /iot/deadletters``: the device messages the agent refused, newest first, with the reason.

Query parameters ``device_id``, ``apikey``, ``reason`` (a reason code, see :mod:`smartcity.iot.outcome`),
``limit`` (default 20, at most 1000) and ``offset``; the FIWARE headers choose the service and service path
(``/*``: all of them). Messages whose API key no group has are kept in the default service.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from smartcity.hub.api.params import parse_int
from smartcity.hub.store import Store
from smartcity.iot import deadletters
from smartcity.iot.errors import BadRequest
from smartcity.iot.headers import scope_of, tenant_id
from smartcity.iot.outcome import REASONS

router = APIRouter(tags=["IoT agent: dead letters"])


@router.get("/iot/deadletters", summary="Refused device messages, with the reason")
async def iot_list_deadletters(request: Request) -> Response:
    scope = scope_of(request, reading=True)
    params = request.query_params
    limit = parse_int(params.get("limit"), "limit", 20, low=1, high=1000)
    offset = parse_int(params.get("offset"), "offset", 0, low=0, high=2**62)
    reason = params.get("reason")
    if reason is not None and reason not in REASONS:
        raise BadRequest(f"unknown reason {reason!r}: one of {', '.join(REASONS)}")
    where = deadletters.Filter(params.get("device_id"), params.get("apikey"), reason)
    store: Store = request.app.state.store
    tid = tenant_id(store, scope.tenant)
    if tid is None:
        return Response(orjson.dumps({"count": 0, "deadletters": []}), media_type="application/json")

    def read() -> tuple[list[dict[str, object]], int]:
        with store.transaction(write=False) as db:
            found, total = deadletters.query(db, tid, scope, where, limit, offset)
            return list(found), total

    items, total = await run_in_threadpool(read)
    return Response(orjson.dumps({"count": total, "deadletters": items}), media_type="application/json")
