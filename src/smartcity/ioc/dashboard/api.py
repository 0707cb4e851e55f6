"""The dashboard's HTTP edge: the page and its files, the map data, the KPIs and the live stream."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from smartcity.hub.model import format_time
from smartcity.ioc.dashboard import kpis, stream
from smartcity.ioc.dashboard.assets import CSP, PAGE, Assets
from smartcity.ioc.dashboard.city import City
from smartcity.ioc.runtime import IocRuntime, runtime_of, watched_tenant_access

router = APIRouter(tags=["operations centre: dashboard"])


@dataclass
class Dashboard:
    city: City
    assets: Assets
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def dashboard_of(request: Request) -> Dashboard:
    found: Dashboard = request.app.state.ioc_dashboard
    return found


def _json(data: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), media_type="application/json", headers=dict(headers or {}))


def _matches(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match")
    return sent is not None and etag in {t.strip().removeprefix("W/") for t in sent.split(",")}


def _file(request: Request, name: str, extra: Mapping[str, str] | None = None) -> Response:
    asset = dashboard_of(request).assets.get(name)
    headers = {"ETag": asset.etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", **(extra or {})}
    if _matches(request, asset.etag):
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/", name="ioc_dashboard", summary="The operations centre's dashboard (HTML; sign in on the page)")
async def page(request: Request) -> Response:
    return _file(request, PAGE, {"Content-Security-Policy": CSP, "Referrer-Policy": "same-origin"})


@router.get("/ioc/ui/{asset:path}", name="ioc_dashboard_asset", summary="A file of the dashboard (scripts, styles)")
async def asset(request: Request, asset: str) -> Response:
    return _file(request, asset)


@router.get(
    "/ioc/map/wards",
    name="ioc_map_wards",
    summary="The wards as GeoJSON (simplified for the screen)",
    dependencies=[Depends(watched_tenant_access)],
)
async def wards(request: Request) -> Response:
    ward_map = await run_in_threadpool(dashboard_of(request).city.wards)
    headers = {"ETag": ward_map.etag, "Cache-Control": "private, no-cache"}
    if _matches(request, ward_map.etag):
        return Response(status_code=304, headers=headers)
    return Response(ward_map.body, media_type="application/geo+json", headers=headers)


def _parts(ioc: IocRuntime) -> dict[str, bool]:
    return {
        "alerts": ioc.alerts is not None,
        "incidents": ioc.incidents is not None,
        "open311": ioc.open311 is not None,
    }


@router.get(
    "/ioc/map/layers",
    name="ioc_map_layers",
    summary="The current features of every live map layer",
    dependencies=[Depends(watched_tenant_access)],
)
async def layers(request: Request) -> Response:
    dashboard = dashboard_of(request)
    found = await run_in_threadpool(dashboard.city.layers)
    events = runtime_of(request).events.since(0)
    body = {
        "at": format_time(dashboard.now()),
        "lastEventId": events[-1].seq if events else 0,
        "parts": _parts(runtime_of(request)),
        "layers": found,
    }
    return _json(body, {"Cache-Control": "no-store"})


def _summary(part: Any) -> Mapping[str, Any] | None:
    if part is None:
        return None
    summary: Mapping[str, Any] = part.summary()
    return summary


@router.get(
    "/ioc/kpis",
    name="ioc_kpis",
    summary="Key figures computed from the live data, alerts and incidents",
    dependencies=[Depends(watched_tenant_access)],
)
async def kpi(request: Request) -> Response:
    dashboard = dashboard_of(request)
    ioc = runtime_of(request)

    def compute() -> dict[str, Any]:
        city = dashboard.city
        return kpis.compute(city.layers(), city.wards(), dashboard.now(), _summary(ioc.alerts), _summary(ioc.incidents))

    return _json(await run_in_threadpool(compute), {"Cache-Control": "no-store"})


@router.get(
    "/ioc/stream",
    name="ioc_stream",
    summary="Live events (Server-Sent Events): alerts, incidents, citizen reports, entities moving",
    dependencies=[Depends(watched_tenant_access)],
)
async def live(request: Request, kinds: str | None = None) -> Response:
    wanted = stream.parse_kinds(kinds)
    last_id = stream.parse_last_id(request.headers.get("last-event-id") or request.query_params.get("lastEventId"))
    events = runtime_of(request).events
    if "text/event-stream" not in request.headers.get("accept", ""):
        return _json(stream.snapshot(events, last_id, wanted), {"Cache-Control": "no-store"})
    subscription = events.subscribe(wanted)
    return StreamingResponse(
        stream.frames(events, subscription, last_id, wanted),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
