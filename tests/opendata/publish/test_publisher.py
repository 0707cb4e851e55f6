"""Publication runs on both backends, through the fake catalogue and datastore: the current state replaced, the
history aggregated by the database and upserted by (entity, period), privacy rules applied, runs recorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from fastapi import FastAPI

from smartcity.opendata.contracts import ValidationFailed
from smartcity.opendata.publish.definition import DefinitionInvalid, parse_publication
from smartcity.opendata.publish.publisher import RETRY, Publisher, RunInProgress
from tests.opendata.publish.support import (
    HOUR,
    NOW,
    bus,
    car_park,
    catalogue_of,
    datastore_of,
    point,
    prop,
    publisher_of,
    put,
    station,
)

H9 = NOW.replace(minute=0) - HOUR  # 09:00, the last complete hour at NOW (10:20)
H8 = H9 - HOUR


def _rows(app: FastAPI, name: str) -> list[dict[str, Any]]:
    dataset = catalogue_of(app).show_dataset(name)
    resource = dataset["resources"][-1]
    return list(datastore_of(app).rows(resource["id"]))


def test_current_state_is_published_as_one_row_per_entity_and_replaced(app: FastAPI) -> None:
    car_park(app, "a", 40, NOW - timedelta(minutes=3))
    car_park(app, "b", 5, NOW - timedelta(minutes=2))
    outcome = publisher_of(app).run("car-parks-now")
    assert (outcome.rows, outcome.error) == (2, None)

    dataset = catalogue_of(app).show_dataset("car-parks-now")
    assert dataset["owner_org"] == "so-giao-thong-van-tai"
    assert {"key": "modelled", "value": "true"} in dataset["extras"]
    assert "modelled (synthetic)" in dataset["notes_translated"]["en"] and "mô phỏng" in dataset["notes"]
    assert {"name": "modelled data"} in dataset["tags"]
    assert dataset["title_translated"]["en"] == "Car parks: spaces available now"
    resource = dataset["resources"][0]
    assert resource["url"] == f"/datastore/dump/{resource['id']}?format=csv"
    assert resource["datastore_active"] is True and resource["format"] == "CSV"
    rows = {r["car_park_id"]: r for r in _rows(app, "car-parks-now")}
    a = rows["urn:ngsi-ld:OffStreetParking:test:a"]
    assert (a["free_spaces"], a["occupied_spaces"], a["total_spaces"], a["occupancy"]) == (40, 60, 100, 0.6)
    assert a["observed_at"] == (NOW - timedelta(minutes=3)).isoformat()
    assert a["location"] == {"type": "Point", "coordinates": [106.70123, 10.77123]}  # round_coordinates: 5
    assert "profileCarPark" not in orjson.dumps(a).decode()  # dropped
    assert dataset["spatial"] and orjson.loads(dataset["spatial"])["type"] == "Point"
    assert datastore_of(app).keys[resource["id"]] == ("car_park_id",)

    car_park(app, "a", 10, NOW - timedelta(minutes=1))
    assert publisher_of(app).run("car-parks-now").rows == 2
    again = catalogue_of(app).show_dataset("car-parks-now")
    assert again["id"] == dataset["id"] and again["resources"][0]["id"] == resource["id"]  # the same dataset
    rows = {r["car_park_id"]: r for r in _rows(app, "car-parks-now")}
    assert len(rows) == 2 and rows["urn:ngsi-ld:OffStreetParking:test:a"]["free_spaces"] == 10
    assert ("replace", resource["id"]) in datastore_of(app).calls


def test_history_is_aggregated_per_entity_and_hour_and_upserted(app: FastAPI) -> None:
    one = station(
        app,
        1,
        [(H8 + timedelta(minutes=10), 10.0), (H8 + timedelta(minutes=40), 20.0), (H9 + timedelta(minutes=5), 30.0)],
    )
    station(app, 2, [(H9 + timedelta(minutes=30), 50.0), (NOW - timedelta(minutes=5), 99.0)])  # 10:15: not complete
    outcome = publisher_of(app).run("air-quality-hourly")
    assert outcome.error is None and outcome.rows == 3
    rows = {(r["station_id"], r["hour_start"]): r for r in _rows(app, "air-quality-hourly")}
    first = rows[(one, H8.isoformat())]
    assert (first["pm25_avg"], first["pm25_max"], first["samples"], first["vn_aqi_max"]) == (15.0, 20.0, 2, 40.0)
    assert first["hour_end"] == H9.isoformat() and first["station_name"] == "Station 1"
    assert first["tsp_avg"] is None  # no TSP readings
    assert rows[("urn:ngsi-ld:AirQualityObserved:test:2", H9.isoformat())]["pm25_avg"] == 50.0
    assert all(start < NOW.replace(minute=0).isoformat() for _, start in rows)  # only complete hours
    dataset = catalogue_of(app).show_dataset("air-quality-hourly")
    assert {"key": "modelled", "value": "false"} in dataset["extras"] and "modelled data" not in str(dataset["tags"])
    assert (dataset["temporal_start"], dataset["temporal_end"]) == (H8.isoformat(), NOW.replace(minute=0).isoformat())
    resource_id = dataset["resources"][0]["id"]
    assert datastore_of(app).keys[resource_id] == ("station_id", "hour_start")

    # an hour later: a late reading of 09:xx and the 10:00 hour; re-published rows replace theirs (upsert)
    station(app, 1, [(H9 + timedelta(minutes=50), 40.0)])
    publisher_of(app).clock = lambda: NOW + HOUR
    assert publisher_of(app).run("air-quality-hourly").error is None
    rows = {(r["station_id"], r["hour_start"]): r for r in _rows(app, "air-quality-hourly")}
    assert rows[(one, H9.isoformat())]["pm25_avg"] == 35.0
    assert rows[("urn:ngsi-ld:AirQualityObserved:test:2", (H9 + HOUR).isoformat())]["pm25_avg"] == 99.0
    assert len(rows) == 4 and len(_rows(app, "air-quality-hourly")) == 4
    assert ("upsert", resource_id) in datastore_of(app).calls
    state = publisher_of(app).log.state("air-quality-hourly")
    assert state.published_until == NOW.replace(minute=0) + HOUR
    assert catalogue_of(app).show_dataset("air-quality-hourly")["temporal_start"] == H8.isoformat()


def test_history_that_arrives_late_in_bulk_is_published_as_it_arrives(app: FastAPI) -> None:
    t0 = NOW.replace(minute=0) - 12 * HOUR  # a replay: the first run sees the readings of 12 hours ago only
    eid = station(app, 5, [(t0 + timedelta(minutes=5), 10.0)])
    publisher = publisher_of(app)
    assert publisher.run("air-quality-hourly").rows == 1
    assert publisher.log.state("air-quality-hourly").published_until == t0 + HOUR
    station(app, 5, [(t0 + k * HOUR + timedelta(minutes=5), 10.0 + k) for k in range(1, 12)])
    publisher.clock = lambda: NOW + HOUR
    assert publisher.run("air-quality-hourly").rows == 12  # from the lookback before 12 hours ago until now
    rows = _rows(app, "air-quality-hourly")
    assert sorted(r["pm25_avg"] for r in rows if r["station_id"] == eid) == [10.0 + k for k in range(12)]


def test_buses_are_published_only_as_delayed_counts_per_route_with_enough_buses(app: FastAPI) -> None:
    t = H8 + timedelta(minutes=10)  # NOW - delay (1 h) = 09:20: only the 08:00 hour is complete
    bus(app, "r1-a", "01", [(t, 106.70, 20.0), (t + timedelta(minutes=5), 106.71, 30.0)])
    bus(app, "r1-b", "01", [(t, 106.72, 40.0)])
    bus(app, "r2-a", "02", [(t, 106.80, 15.0)])  # alone on its route: never published
    bus(app, "r1-c", "01", [(H9 + timedelta(minutes=1), 106.73, 25.0)])  # within the delay
    outcome = publisher_of(app).run("buses-in-service-hourly")
    assert outcome.error is None and outcome.rows == 1
    [row] = _rows(app, "buses-in-service-hourly")
    assert row == {
        "route_number": "01",
        "hour_start": H8.isoformat(),
        "hour_end": H9.isoformat(),
        "buses": 2,
        "position_reports": 3,
        "speed_avg_kmh": 30.0,
    }
    text = orjson.dumps(catalogue_of(app).datasets).decode()
    assert "Vehicle:test" not in text and "106.7" not in text  # no bus id, no position
    spatial = orjson.loads(catalogue_of(app).show_dataset("buses-in-service-hourly")["spatial"])
    assert spatial["coordinates"][0][0] == [106.35, 10.37]  # the city's box from the definition


def test_modelled_values_are_never_published_as_real(app: FastAPI) -> None:
    eid = station(app, 3, [(H9 + timedelta(minutes=1), 12.0)])
    put(app, {"id": eid, "type": "AirQualityObserved", "modelled": prop(True)})
    outcome = publisher_of(app).run("air-quality-hourly")
    assert outcome.error is not None and "modelled" in outcome.error
    assert catalogue_of(app).datasets == {}  # nothing was written
    [run] = publisher_of(app).log.runs("air-quality-hourly")
    assert (run.status, run.error) == ("failed", outcome.error)


def test_an_empty_source_creates_no_dataset_and_is_retried_soon(app: FastAPI) -> None:
    publisher = publisher_of(app)
    assert publisher.run("wards").rows == 0
    assert catalogue_of(app).datasets == {}
    assert "wards" not in publisher.due(NOW + timedelta(minutes=1))
    assert "wards" in publisher.due(NOW + RETRY)  # schedule P1D, but nothing was published: soon again
    car_park(app, "a", 40, NOW)
    assert publisher.run("car-parks-now").rows == 1
    assert "car-parks-now" not in publisher.due(NOW + timedelta(minutes=4))
    assert "car-parks-now" in publisher.due(NOW + timedelta(minutes=5))  # schedule PT5M


def test_a_failing_catalogue_is_recorded_and_the_run_retried(app: FastAPI) -> None:
    car_park(app, "a", 40, NOW)
    catalogue_of(app).fail_with = ValidationFailed("the catalogue is unhappy", {"owner_org": ["no such org"]})
    outcome = publisher_of(app).run("car-parks-now", cause="manual", user="alice")
    assert outcome.error == "the catalogue is unhappy (owner_org: no such org)"
    last = publisher_of(app).log.last_runs()["car-parks-now"]
    assert (last.status, last.cause, last.rows) == ("failed", "manual", None) and last.finished_at is not None
    assert "car-parks-now" in publisher_of(app).due(NOW + RETRY)
    catalogue_of(app).fail_with = None
    assert publisher_of(app).run("car-parks-now").error is None
    assert catalogue_of(app).writes[0] == ("create", "car-parks-now", "smartcity-publisher")


def test_missing_portal_parts_fail_the_run_with_a_clear_error(app: FastAPI) -> None:
    app.state.opendata.datastore = None
    outcome = publisher_of(app).run("wards")
    assert outcome.error == "the portal's catalogue and datastore are not installed"


def test_a_publication_never_overlaps_itself(app: FastAPI) -> None:
    publisher = publisher_of(app)
    lock = publisher._locks["wards"]
    lock.acquire()
    try:
        with pytest.raises(RunInProgress):
            publisher.run("wards")
        assert publisher.listing()[[p["id"] for p in publisher.listing()].index("wards")]["running"] is True
    finally:
        lock.release()
    assert publisher.run("wards").error is None


def test_a_deleted_resource_is_recreated_and_other_resources_kept(app: FastAPI) -> None:
    car_park(app, "a", 40, NOW)
    publisher_of(app).run("car-parks-now")
    catalogue = catalogue_of(app)
    dataset = catalogue.show_dataset("car-parks-now")
    dataset["resources"] = [{"id": "11111111-1111-4111-8111-111111111111", "name": "A manual note", "url": "x"}]
    catalogue.datasets[dataset["id"]] = dataset
    assert publisher_of(app).run("car-parks-now").error is None
    resources = catalogue.show_dataset("car-parks-now")["resources"]
    assert [r["name"] for r in resources] == ["A manual note", "Bãi đỗ xe hiện tại"]
    assert len(list(datastore_of(app).rows(resources[1]["id"]))) == 1


def _publisher_of(app: FastAPI, doc: dict[str, Any]) -> Publisher:
    return Publisher(
        [parse_publication(doc)],
        store=app.state.store,
        hub=app.state.hub,
        temporal=app.state.temporal,
        context=app.state.contexts.resolve(None),
        runtime=app.state.opendata,
        public_url="https://data.example.vn",
        clock=lambda: NOW,
    )


OPERATOR_STOPS: dict[str, Any] = {
    "id": "accessible-stops",
    "mode": "current",
    "modelled": False,
    "dataset": {
        "title": {"vi": "Trạm tiếp cận được", "en": "Accessible stops"},
        "notes": {"vi": "Trạm hỗ trợ xe lăn", "en": "Wheelchair-accessible stops"},
        "organization": "so-giao-thong-van-tai",
        "groups": ["transport"],
        "license": "CC-BY-4.0",
        "frequency": "daily",
    },
    "source": {"type": "PublicTransportStop", "q": 'wheelChairAccessible=="1"'},
    "columns": [
        {"id": "stop_id", "from": "entity"},
        {"id": "address", "attr": "address", "type": "json"},
        {"id": "height", "attr": "height", "type": "float"},
        {"id": "height_unit", "attr": "height", "part": "unitCode"},
        {"id": "location", "attr": "location", "type": "geometry"},
    ],
    "privacy": {"drop": ["address.streetAddress"], "round_coordinates": 3},
}


def test_an_operator_definition_with_a_query_and_dropped_keys(app: FastAPI) -> None:
    for number, accessible in ((1, "1"), (2, "0")):
        put(
            app,
            {
                "id": f"urn:ngsi-ld:PublicTransportStop:test:{number}",
                "type": "PublicTransportStop",
                "wheelChairAccessible": prop(accessible),
                "address": prop({"streetAddress": "1 Lê Lợi", "addressLocality": "Bến Thành"}),
                "height": prop(2.5, unitCode="MTR"),
                "location": point(106.701234, 10.771234),
            },
        )
    publisher = _publisher_of(app, OPERATOR_STOPS)
    assert publisher.run("accessible-stops").rows == 1
    [row] = _rows(app, "accessible-stops")
    assert row == {
        "stop_id": "urn:ngsi-ld:PublicTransportStop:test:1",
        "address": {"addressLocality": "Bến Thành"},
        "height": 2.5,
        "height_unit": "MTR",
        "location": {"type": "Point", "coordinates": [106.701, 10.771]},
    }
    resource = catalogue_of(app).show_dataset("accessible-stops")["resources"][0]
    assert resource["url"] == f"https://data.example.vn/datastore/dump/{resource['id']}?format=csv"


def test_an_invalid_query_is_a_definition_error_at_start(app: FastAPI) -> None:
    doc = {**OPERATOR_STOPS, "source": {"type": "PublicTransportStop", "q": "wheelChairAccessible=="}}
    with pytest.raises(DefinitionInvalid, match=r"source\.q: invalid q"):
        _publisher_of(app, doc)
