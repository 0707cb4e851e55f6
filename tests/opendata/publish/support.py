"""Helpers of the publication tests: an app on a store with the fake catalogue and datastore, and demo-like
entities written through the hub with observation times (so their history is recorded, as the IoT agent's
writes are)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from smartcity.app import create_app
from smartcity.hub.model import format_time
from smartcity.hub.payload import expand_entity
from smartcity.hub.store import Store
from smartcity.opendata.publish.publisher import Publisher
from smartcity.opendata.runtime import OpenDataRuntime
from tests.open_hub import open_settings
from tests.opendata.publish.fakes import FakeCatalogue, FakeDatastore

#: the runs' clock: 10:20 UTC, so the last complete hour is 09:00-10:00
NOW = datetime(2026, 3, 2, 10, 20, tzinfo=UTC)
HOUR = timedelta(hours=1)


@contextmanager
def portal(store: Store, *, real: bool = False, **settings: Any) -> Iterator[FastAPI]:
    """An app (not started: no background service) whose portal writes to fresh fakes (``real``: to the installed
    catalogue and datastore, a fake for a part not installed yet), its clock at NOW."""
    values: dict[str, Any] = {"database_url": "sqlite:///unused.db", "opendata_publish": False}
    values.update(settings)
    app = create_app(open_settings(**values), store=store)
    runtime: OpenDataRuntime = app.state.opendata
    if not real or runtime.catalogue is None:
        runtime.catalogue = FakeCatalogue()
    if not real or runtime.datastore is None:
        runtime.datastore = FakeDatastore()
    publisher_of(app).clock = lambda: NOW
    yield app


def publisher_of(app: FastAPI) -> Publisher:
    publisher: Publisher = app.state.opendata.publisher
    return publisher


def catalogue_of(app: FastAPI) -> FakeCatalogue:
    found: FakeCatalogue = app.state.opendata.catalogue
    return found


def datastore_of(app: FastAPI) -> FakeDatastore:
    found: FakeDatastore = app.state.opendata.datastore
    return found


def put(app: FastAPI, body: dict[str, Any]) -> None:
    """Create or update an entity through the hub (its attributes appended), as the demo and the IoT agent do."""
    ctx = app.state.contexts.resolve(None)
    result = app.state.hub.batch_upsert(None, [expand_entity(body, ctx)], update=True)
    assert not result.errors, result.errors


def prop(value: Any, at: datetime | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Property", "value": value, **extra}
    if at is not None:
        out["observedAt"] = format_time(at)
    return out


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def provenance(*, modelled: bool) -> dict[str, Any]:
    return {
        "dataProvider": prop("test"),
        "source": prop("https://example.org/test"),
        "modelled": prop(modelled),
    }


def station(app: FastAPI, number: int, readings: list[tuple[datetime, float]]) -> str:
    """An air-quality station with PM2.5 readings (and a VN_AQI of twice the PM2.5) at the given times."""
    eid = f"urn:ngsi-ld:AirQualityObserved:test:{number}"
    put(
        app,
        {
            "id": eid,
            "type": "AirQualityObserved",
            "name": prop(f"Station {number}"),
            "location": point(106.7 + number / 100, 10.78 + number / 100),
            **provenance(modelled=False),
        },
    )
    for at, value in readings:
        put(
            app,
            {
                "id": eid,
                "type": "AirQualityObserved",
                "pm25": prop(value, at, unitCode="GQ"),
                "airQualityIndex": prop(value * 2, at),
            },
        )
    return eid


def car_park(app: FastAPI, code: str, free: int, at: datetime, *, modelled: bool = True) -> str:
    eid = f"urn:ngsi-ld:OffStreetParking:test:{code}"
    put(
        app,
        {
            "id": eid,
            "type": "OffStreetParking",
            "name": prop(f"Car park {code}"),
            "location": point(106.701234567, 10.771234567),
            "totalSpotNumber": prop(100),
            "profileCarPark": prop("Birmingham X"),
            "availableSpotNumber": prop(free, at),
            "occupiedSpotNumber": prop(100 - free, at),
            "occupancy": prop((100 - free) / 100, at),
            **provenance(modelled=modelled),
        },
    )
    return eid


def bus(app: FastAPI, bus_id: str, route: str, positions: list[tuple[datetime, float, float]]) -> str:
    eid = f"urn:ngsi-ld:Vehicle:test:{bus_id}"
    put(app, {"id": eid, "type": "Vehicle", "routeNumber": prop(route), **provenance(modelled=True)})
    for at, lon, speed in positions:
        location = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, 10.77]}}
        location["observedAt"] = format_time(at)
        put(app, {"id": eid, "type": "Vehicle", "location": location, "speed": prop(speed, at)})
    return eid
