"""Publications through the portal's real parts on both backends: the catalogue and the datastore (its
TableStore on the app's store when the datastore's install has not set it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import orjson
import pytest
from fastapi import FastAPI

from smartcity.hub.store import Store
from smartcity.opendata.catalogue.repository import SqlCatalogue
from smartcity.opendata.contracts import SearchQuery, TableQuery
from smartcity.opendata.datastore.store import TableStore
from tests.opendata.publish.fakes import FakeDatastore
from tests.opendata.publish.support import HOUR, NOW, car_park, portal, publisher_of, station


@pytest.fixture
def app(store: Store) -> Iterator[FastAPI]:
    with portal(store, real=True) as the_app:
        runtime = the_app.state.opendata
        assert isinstance(runtime.catalogue, SqlCatalogue)
        if isinstance(runtime.datastore, FakeDatastore):
            runtime.datastore = TableStore(store, runtime.tenant)
        yield the_app


def test_a_current_publication_in_the_catalogue(app: FastAPI) -> None:
    car_park(app, "a", 40, NOW - timedelta(minutes=2))
    car_park(app, "b", 7, NOW - timedelta(minutes=1))
    publisher = publisher_of(app)
    assert publisher.run("car-parks-now").error is None
    catalogue = app.state.opendata.catalogue
    dataset = catalogue.show_dataset("car-parks-now")
    assert dataset["title"] == "Bãi đỗ xe: chỗ trống hiện tại"
    assert dataset["title_translated"]["en"] == "Car parks: spaces available now"
    assert dataset["organization"]["name"] == "so-giao-thong-van-tai" and dataset["frequency"] == "continuous"
    assert [g["name"] for g in dataset["groups"]] == ["transport"] and dataset["license_id"] == "CC-BY-4.0"
    assert {"key": "modelled", "value": "true"} in dataset["extras"]
    assert "modelled data" in [t["name"] for t in dataset["tags"]]
    [resource] = dataset["resources"]
    assert resource["url"].endswith(f"/datastore/dump/{resource['id']}?format=csv")
    assert resource["datastore_active"] is True and resource["format"] == "CSV"
    assert orjson.loads(dataset["spatial"])["type"] == "Point"

    assert publisher.run("car-parks-now").error is None  # a second run updates the same dataset and resource
    again = catalogue.show_dataset("car-parks-now")
    assert again["id"] == dataset["id"] and [r["id"] for r in again["resources"]] == [resource["id"]]
    found = catalogue.search(SearchQuery(q="bai do xe cho trong"))
    assert "car-parks-now" in [d["name"] for d in found.results]
    records = app.state.opendata.datastore.search(TableQuery(resource["id"], sort=(("car_park_id", "asc"),))).records
    assert [(r["free_spaces"], r["occupancy"]) for r in records] == [(40, 0.6), (7, 0.93)]
    assert records[0]["location"] == {"type": "Point", "coordinates": [106.70123, 10.77123]}
    assert records[0]["observed_at"].startswith((NOW - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M"))


def test_a_history_publication_in_the_catalogue_and_the_datastore(app: FastAPI) -> None:
    h9 = NOW.replace(minute=0) - HOUR
    station(app, 1, [(h9 - HOUR + timedelta(minutes=5), 10.0), (h9 + timedelta(minutes=5), 30.0)])
    publisher = publisher_of(app)
    assert publisher.run("air-quality-hourly").error is None
    dataset = app.state.opendata.catalogue.show_dataset("air-quality-hourly")
    assert dataset["temporal_start"].startswith((h9 - HOUR).strftime("%Y-%m-%dT%H:%M:%S"))
    assert dataset["temporal_end"].startswith(NOW.replace(minute=0).strftime("%Y-%m-%dT%H:%M:%S"))
    datastore = app.state.opendata.datastore
    resource_id = dataset["resources"][0]["id"]
    page = datastore.search(TableQuery(resource_id, sort=(("hour_start", "asc"),)))
    assert [r["pm25_avg"] for r in page.records] == [10.0, 30.0] and page.total == 2
    station(app, 1, [(h9 + timedelta(minutes=45), 50.0)])
    assert publisher.run("air-quality-hourly").error is None
    page = datastore.search(TableQuery(resource_id, sort=(("hour_start", "asc"),)))
    assert [r["pm25_avg"] for r in page.records] == [10.0, 40.0]  # upserted by (station, hour)
    assert [f.id for f in page.fields][:3] == ["_id", "station_id", "station_name"]
