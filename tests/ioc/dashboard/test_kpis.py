"""KPIs computed from the hub's data (both backends) against values worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from smartcity.hub.jsonld import ContextRegistry
from smartcity.hub.service import Hub
from smartcity.hub.store import Store
from smartcity.ioc.dashboard import kpis
from smartcity.ioc.dashboard.city import City
from smartcity.ioc.dashboard.layers import Terms
from tests.ioc.dashboard import city as data

NOW = datetime(2026, 3, 1, 1, 10, tzinfo=UTC)


def _city(store: Store) -> City:
    ctx = ContextRegistry(fetch_timeout=1.0).resolve(None)
    return City(Hub(store), "", Terms(ctx.expand_term, ctx.compact_iri))


@pytest.fixture
def loaded(store: Store) -> City:
    bodies: list[dict[str, Any]] = [
        *data.ward_bodies(),
        data.station("a", data.CENTRE, 80),
        data.station("b", data.CENTRE, 120),
        data.station("c", data.SOUTH, 50),
        data.station("d", data.SEA, 300),  # outside every ward
        data.station("e", data.CENTRE, None),  # no index yet
        data.gauge("g1", 0.2, "alert"),
        data.gauge("g2", 0.05, "normal"),
        data.gauge("g3", 0.35, None),  # no status: its level against alertLevel 0.1
        data.gauge("g4", 0.05, None),
        data.gauge("g5", 0.5, "danger"),
        data.gauge("g6", 0.12, "normal"),  # a stale status: the level is above alertLevel 0.1
        data.gauge("g7", 0.02, "alert", alert_level=0.5),  # the status says so though the level is low
        data.car_park("p1", 10, 50),
        data.car_park("p2", 25, 100),
        data.car_park("p3", None, 30),  # not reporting
        data.bus("b1", "2026-03-01T01:05:00Z"),
        data.bus("b2", "2026-03-01T00:59:59Z"),  # 10 min 1 s ago: out of service
        data.bus("b3", "2026-03-01T01:00:00Z"),  # exactly 10 min ago: in service
    ]
    data.load(Hub(store), bodies)
    return _city(store)


def test_kpis_from_the_hub_match_the_hand_computed_figures(loaded: City) -> None:
    result = kpis.compute(loaded.layers(), loaded.wards(), NOW, None, None)
    assert result["at"].startswith("2026-03-01T01:10:00")
    assert result["air"] == {
        "stations": 5,
        "wards": [
            {"ward": "26740", "name": "Sài Gòn", "nameEn": "Sai Gon", "stations": 2, "mean": 100.0, "max": 120},
            {"ward": "27487", "name": "Tân Mỹ", "nameEn": "Tan My", "stations": 1, "mean": 50.0, "max": 50},
        ],
    }
    flood = result["flood"]
    assert (flood["gauges"], flood["flooded"]) == (7, 5)
    assert [p["id"].rsplit(":", 1)[1] for p in flood["points"]] == ["g5", "g3", "g1", "g6", "g7"]
    assert flood["points"][0] == {
        "id": "urn:ngsi-ld:FloodMonitoring:test:g5",
        "name": "Gauge g5",
        "level": 0.5,
        "status": "danger",
    }
    assert result["parking"] == {"carParks": 3, "reporting": 2, "free": 35, "total": 180}
    assert result["buses"] == {"vehicles": 3, "inService": 2, "windowMinutes": 10}
    assert result["alerts"] is None and result["incidents"] is None and result["reports"] is None


def test_alert_and_incident_figures_come_from_their_parts_summaries(loaded: City) -> None:
    alerts = {"active": 4, "unacknowledged": 1, "activeByDomain": {"air": 3, "flood": 1}, "mttaSeconds": 90.0}
    incidents = {"open": 2, "openByDepartment": {"transport": 2}, "reportsTotal": 8, "reportsOnTimeShare": 0.75}
    result = kpis.compute(loaded.layers(), loaded.wards(), NOW, alerts, incidents)
    assert result["alerts"] == alerts
    assert result["incidents"] == incidents
    assert result["reports"] == {"total": 8, "onTimeShare": 0.75}


def test_an_empty_city_has_zero_figures_and_no_ward_rows(store: Store) -> None:
    empty = _city(store)
    result = kpis.compute(empty.layers(), empty.wards(), NOW, None, None)
    assert result["air"] == {"stations": 0, "wards": []}
    assert result["flood"] == {"gauges": 0, "flooded": 0, "points": []}
    assert result["parking"] == {"carParks": 0, "reporting": 0, "free": 0, "total": 0}
    assert result["buses"] == {"vehicles": 0, "inService": 0, "windowMinutes": 10}


def test_a_tenant_that_does_not_exist_yet_reads_as_an_empty_city(store: Store) -> None:
    ctx = ContextRegistry(fetch_timeout=1.0).resolve(None)
    elsewhere = City(Hub(store), "not-created-yet", Terms(ctx.expand_term, ctx.compact_iri))
    assert elsewhere.layers() == {k: [] for k in ("stations", "floods", "buses", "parking", "traffic", "weather")}
    assert len(elsewhere.wards()) == 0


def test_the_ward_map_locates_points_and_serves_simplified_geojson(loaded: City) -> None:
    wards = loaded.wards()
    assert len(wards) == 168
    found = wards.locate(*data.CENTRE)
    assert found is not None and (found.code, found.name) == ("26740", "Sài Gòn")
    assert wards.locate(*data.SEA) is None
    assert loaded.wards() is wards  # cached
    loaded.forget_wards()
    assert loaded.wards() is not wards
