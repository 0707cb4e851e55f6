"""Map views of entities, the per-entity throttle and the entity.changed events made from the change feed."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from smartcity.hub.feed import ChangeBatch
from smartcity.hub.jsonld import ContextRegistry
from smartcity.hub.model import Entity
from smartcity.hub.payload import expand_entity
from smartcity.hub.store.changes import Change
from smartcity.ioc.dashboard.layers import BY_TYPE, Terms, view
from smartcity.ioc.dashboard.live import EntityEvents, Throttle
from tests.ioc.dashboard import city as data

CTX = ContextRegistry(fetch_timeout=1.0).resolve(None)
TERMS = Terms(CTX.expand_term, CTX.compact_iri)


def _plain(body: dict[str, Any]) -> Entity:
    return expand_entity(body, CTX)


def test_a_station_view_lifts_the_vn_aqi_category_and_colour_with_compact_names() -> None:
    entity = _plain(data.station("a", data.CENTRE, 80, pm25=31.5))
    item = view(entity, BY_TYPE["AirQualityObserved"], TERMS)
    assert item == {
        "id": "urn:ngsi-ld:AirQualityObserved:test:a",
        "type": "AirQualityObserved",
        "attrs": {
            "name": "Station a",
            "airQualityIndex": 80,
            "category": "Trung bình",
            "categoryEn": "Moderate",
            "categoryKey": "moderate",
            "colour": "#FFFF00",
            "dominantPollutant": "pm25",
            "pm25": 31.5,
            "observedAt": "2026-03-01T01:00:00Z",
        },
        "location": {"type": "Point", "coordinates": [data.CENTRE[0], data.CENTRE[1]]},
    }


def test_a_bus_view_takes_the_relationship_object_and_the_location_time() -> None:
    body = data.bus("b1", "2026-03-01T01:05:00Z")
    body["refPublicTransportRoute"] = {"type": "Relationship", "object": "urn:ngsi-ld:PublicTransportRoute:01"}
    item = view(_plain(body), BY_TYPE["Vehicle"], TERMS)
    assert item["attrs"]["refPublicTransportRoute"] == "urn:ngsi-ld:PublicTransportRoute:01"
    assert item["attrs"]["observedAt"] == "2026-03-01T01:05:00Z"
    assert item["attrs"]["heading"] == 90.0


def test_the_throttle_lets_one_item_per_second_through_and_keeps_the_latest() -> None:
    throttle = Throttle(1.0)
    assert throttle.offer("x", {"v": 1}, now=10.0) == {"v": 1}
    assert throttle.offer("x", {"v": 2}, now=10.3) is None
    assert throttle.offer("x", {"v": 3}, now=10.6) is None
    assert throttle.offer("y", {"v": 9}, now=10.6) == {"v": 9}  # per entity
    assert throttle.due(10.9) == []
    assert throttle.due(11.0) == [{"v": 3}]  # the latest wins
    assert throttle.pending == 0
    assert throttle.offer("x", {"v": 4}, now=11.5) is None  # the trailing send counts as the last send
    assert throttle.offer("x", {"v": 5}, now=12.0) == {"v": 5}  # a fresh send replaces the pending one
    assert throttle.due(13.0) == []


def _change(entity: Entity, kind: Literal["create", "update", "delete"] = "update") -> Change:
    before = None if kind == "create" else entity
    return Change(kind, entity.id, before, None if kind == "delete" else entity, "t")


def test_entity_events_only_for_the_watched_tenant_and_the_map_types() -> None:
    forgotten: list[bool] = []
    events = EntityEvents("", TERMS, Throttle(1.0), lambda: forgotten.append(True))
    station = _plain(data.station("a", data.CENTRE, 80))
    other = _plain({"id": "urn:ngsi-ld:Thing:1", "type": "Thing", "x": {"type": "Property", "value": 1}})
    ward = _plain(data.ward_bodies(1)[0])
    assert events.batch(ChangeBatch("elsewhere", (_change(station),)), 0.0) == []
    out = events.batch(ChangeBatch("", (_change(station), _change(other), _change(ward))), 0.0)
    assert [e["id"] for e in out] == [station.id]
    assert forgotten == [True]  # a ward changed: the ward map is rebuilt
    assert events.batch(ChangeBatch("", (_change(station),)), 0.5) == []  # throttled
    deleted = events.batch(ChangeBatch("", (_change(station, "delete"),)), 2.0)
    assert deleted == [{"id": station.id, "type": "AirQualityObserved", "attrs": {}, "location": None, "deleted": True}]


def test_the_live_service_publishes_committed_changes(tmp_path: Any) -> None:
    from smartcity.hub.service import Hub
    from smartcity.hub.store import open_store
    from smartcity.ioc.dashboard.city import City
    from smartcity.ioc.dashboard.live import LiveService
    from smartcity.ioc.events import EventHub

    store = open_store(f"sqlite:///{tmp_path}/live.db")
    hub = EventHub()

    async def scenario() -> list[str]:
        service = LiveService(store.feed, hub, City(Hub(store), "", TERMS))
        await service.start()
        try:
            data.load(Hub(store), [data.gauge("g1", 0.2, "alert"), data.car_park("p1", 3, 10)])
            for _ in range(100):
                if len(hub.since(0)) >= 2:
                    break
                await asyncio.sleep(0.05)
        finally:
            await service.stop()
        return sorted(e.data["id"] for e in hub.since(0) if e.kind == "entity.changed")

    try:
        assert asyncio.run(scenario()) == [
            "urn:ngsi-ld:FloodMonitoring:test:g1",
            "urn:ngsi-ld:OffStreetParking:test:p1",
        ]
    finally:
        store.close()
