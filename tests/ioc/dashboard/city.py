"""A small city for the dashboard's tests: the demo's real wards and a few sensors with known values."""

from __future__ import annotations

from typing import Any

from smartcity.demo import wards
from smartcity.hub.jsonld import ContextRegistry
from smartcity.hub.payload import expand_entity
from smartcity.hub.service import Hub

#: Bến Thành / Sài Gòn (former District 1) and Phú Mỹ Hưng (former District 7): inside two different wards
CENTRE = (106.7005, 10.7745)
SOUTH = (106.7187, 10.7295)
#: far in the sea, outside every ward
SEA = (107.5, 10.0)
#: Nguyễn Hữu Cảnh street (flood gauge) and Tân Sơn Nhất airport (car park): apart from the stations
RIVERSIDE = (106.7205, 10.7905)
AIRPORT = (106.664, 10.815)


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def prop(value: Any, observed: str | None = None, **subs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Property", "value": value}
    if observed is not None:
        out["observedAt"] = observed
    for name, sub in subs.items():
        out[name] = {"type": "Property", "value": sub}
    return out


def station(key: str, where: tuple[float, float], aqi: int | None, pm25: float = 20.0) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:AirQualityObserved:test:{key}",
        "type": "AirQualityObserved",
        "name": prop(f"Station {key}"),
        "pm25": prop(pm25, "2026-03-01T01:00:00Z"),
        "location": point(*where),
    }
    if aqi is not None:
        body["airQualityIndex"] = prop(
            aqi,
            "2026-03-01T01:00:00Z",
            category="Trung bình",
            categoryEn="Moderate",
            categoryKey="moderate",
            colour="#FFFF00",
            dominantPollutant="pm25",
        )
    return body


def gauge(key: str, level: float, status: str | None, alert_level: float = 0.1) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:FloodMonitoring:test:{key}",
        "type": "FloodMonitoring",
        "name": prop(f"Gauge {key}"),
        "currentLevel": prop(level, "2026-03-01T01:00:00Z"),
        "alertLevel": prop(alert_level),
        "location": point(*RIVERSIDE),
    }
    if status is not None:
        body["floodLevelStatus"] = prop(status, "2026-03-01T01:00:00Z")
    return body


def car_park(key: str, free: int | None, total: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:OffStreetParking:test:{key}",
        "type": "OffStreetParking",
        "name": prop(f"Car park {key}"),
        "totalSpotNumber": prop(total),
        "location": point(*AIRPORT),
    }
    if free is not None:
        body["availableSpotNumber"] = prop(free, "2026-03-01T01:00:00Z")
    return body


def bus(key: str, seen: str) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Vehicle:test:{key}",
        "type": "Vehicle",
        "name": prop(f"Bus {key}"),
        "routeNumber": prop("01"),
        "speed": prop(25.0, seen),
        "heading": prop(90.0, seen),
        "location": {**point(*CENTRE), "observedAt": seen},
    }


def ward_bodies(codes: int | None = None) -> list[dict[str, Any]]:
    """The demo's ward entities (all 168, or the first ``codes``)."""
    found = wards.read()
    return found if codes is None else found[:codes]


def load(hub: Hub, bodies: list[dict[str, Any]], tenant: str | None = None) -> None:
    ctx = ContextRegistry(fetch_timeout=1.0).resolve(None)
    result = hub.batch_upsert(tenant, [expand_entity(body, ctx) for body in bodies])
    assert not result.errors, result.errors
