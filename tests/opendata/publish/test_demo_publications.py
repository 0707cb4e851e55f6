"""The demo's publications against the demo city (static layers from the shipped files, every kind of sensor as
the IoT agent writes it), through the real catalogue and datastore: at least eight datasets, modelled series
labelled, bus positions never published."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from fastapi import FastAPI

from smartcity.hub.store import Store, open_store
from smartcity.opendata.datastore.store import TableStore
from tests.opendata.publish.demo_city import load_static_layers, report, sensors
from tests.opendata.publish.fakes import FakeDatastore
from tests.opendata.publish.support import HOUR, NOW, portal, publisher_of


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('demo')}/demo.db")
    yield store
    store.close()


@pytest.fixture(scope="module")
def published(demo_store: Store) -> Iterator[FastAPI]:
    with portal(demo_store, real=True) as app:
        runtime = app.state.opendata
        if isinstance(runtime.datastore, FakeDatastore):  # the datastore's install has not set it
            runtime.datastore = TableStore(demo_store, runtime.tenant)
        counts = load_static_layers(app)
        assert counts == {"wards": 168, "bus-stops": 4397, "bus-routes": 297}
        devices = sensors()
        start = NOW.replace(minute=0) - 3 * HOUR
        for step in range(12):  # every 20 minutes for four hours, until 10:20
            report(app, devices, start + step * timedelta(minutes=20), step)
        publisher = publisher_of(app)
        outcomes = [publisher.run(pub_id) for pub_id in publisher.publications]
        assert [(o.publication_id, o.error) for o in outcomes if o.error is not None] == []
        yield app


def _rows(app: FastAPI, name: str) -> list[dict[str, Any]]:
    dataset = app.state.opendata.catalogue.show_dataset(name)
    return list(app.state.opendata.datastore.rows(dataset["resources"][0]["id"]))


def test_the_demo_publishes_at_least_eight_datasets_with_rows(published: FastAPI) -> None:
    names = published.state.opendata.catalogue.list_datasets()
    assert len(names) >= 8
    counts = {name: len(_rows(published, name)) for name in names}
    assert all(n > 0 for n in counts.values()), counts
    assert (counts["wards"], counts["bus-stops"], counts["bus-routes"]) == (168, 4397, 297)
    assert counts["air-quality-hourly"] == 6 * 3  # six stations, three complete hours
    assert counts["car-parks-now"] == 8


def test_geometry_is_kept_as_geojson(published: FastAPI) -> None:
    ward = _rows(published, "wards")[0]
    assert ward["boundary"]["type"] == "MultiPolygon" and ward["level"] in ("ward", "commune", "special zone")
    route = _rows(published, "bus-routes")[0]
    assert route["path"]["type"] == "LineString"
    stop = _rows(published, "bus-stops")[0]
    assert stop["location"]["type"] == "Point" and isinstance(stop["route_numbers"], list)
    spatial = orjson.loads(published.state.opendata.catalogue.show_dataset("wards")["spatial"])
    west, south = spatial["coordinates"][0][0]
    east, north = spatial["coordinates"][0][2]
    # the city since 2025 (with Bình Dương, Bà Rịa - Vũng Tàu and the Côn Đảo special zone)
    assert 105.9 < west < 106.6 < 107.0 < east < 107.8 and 8.4 < south < 10.0 < 11.0 < north < 11.6


def test_modelled_series_say_so_and_real_ones_do_not_claim_it(published: FastAPI) -> None:
    catalogue = published.state.opendata.catalogue
    for name in ("rain-hourly", "water-levels-hourly", "parking-occupancy-hourly", "traffic-flow-hourly",
                 "buses-in-service-hourly", "car-parks-now"):  # fmt: skip
        dataset = catalogue.show_dataset(name)
        assert {"key": "modelled", "value": "true"} in dataset["extras"], name
        assert "modelled (synthetic)" in dataset["notes_translated"]["en"] and "mô phỏng" in dataset["notes"], name
    for name in ("air-quality-hourly", "wards", "bus-stops", "bus-routes"):
        assert {"key": "modelled", "value": "false"} in catalogue.show_dataset(name)["extras"], name
    assert "replayed" in catalogue.show_dataset("air-quality-hourly")["notes_translated"]["en"]


def test_bus_positions_are_only_delayed_counts_per_route(published: FastAPI) -> None:
    rows = _rows(published, "buses-in-service-hourly")
    assert {r["route_number"] for r in rows} == {"01", "03", "08"}
    assert all(r["buses"] == 2 for r in rows)
    assert max(str(r["hour_end"]) for r in rows) <= (NOW - HOUR).isoformat()  # an hour late
    text = (
        orjson.dumps(rows).decode()
        + orjson.dumps(published.state.opendata.catalogue.show_dataset("buses-in-service-hourly")).decode()
    )
    assert "Vehicle" not in text and "bus-01" not in text and "heading" not in text


def test_air_quality_hourly_carries_vn_aqi(published: FastAPI) -> None:
    rows = sorted(_rows(published, "air-quality-hourly"), key=lambda r: (str(r["station_id"]), str(r["hour_start"])))
    first = rows[0]
    assert first["station_name"] == "HealthyAir station 1"
    assert (first["pm25_avg"], first["vn_aqi_max"], first["samples"]) == (21.0, 52.0, 3)
