"""Downloads at /datastore/dump/{id}: each format read back, revalidation, errors, and memory bounded by a batch."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import Store
from smartcity.opendata.contracts import FieldSpec
from smartcity.opendata.datastore.api import BATCH
from smartcity.opendata.datastore.dump import writer_for
from smartcity.opendata.datastore.store import TableStore
from tests.open_hub import open_settings
from tests.opendata.datastore.conftest import READING_FIELDS, expected_time, reading


def resource(app: Any, name: str, *, private: bool = False) -> str:
    """A resource of a new dataset of the catalogue (public unless ``private``); its id."""
    dataset = app.state.opendata.catalogue.create_dataset(
        {
            "name": name,
            "title": f"{name} (synthetic)",
            "owner_org": "so-tai-nguyen-va-moi-truong",
            "private": private,
            "resources": [{"name": name, "url": f"http://example.test/{name}.csv"}],
        },
        user="test",
    )
    return str(dataset["resources"][0]["id"])


@pytest.fixture
def portal(store: Store) -> Iterator[tuple[TestClient, TableStore, str]]:
    app = create_app(open_settings(database_url="sqlite:///unused.db", opendata_publish=False), store=store)
    with TestClient(app) as client:
        datastore: TableStore = app.state.opendata.datastore
        rid = resource(app, "air-readings")
        datastore.create(rid, READING_FIELDS, primary_key=["station", "time"])
        datastore.upsert(rid, (reading(n) for n in range(25)))
        yield client, datastore, rid


def test_csv_and_tsv(portal: tuple[TestClient, TableStore, str]) -> None:
    client, _, rid = portal
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        response = client.get(f"/datastore/dump/{rid}", params={"format": fmt})
        assert response.status_code == 200 and response.headers["x-row-count"] == "25"
        assert response.headers["content-disposition"] == f'attachment; filename="{rid}.{fmt}"'
        table = list(csv.reader(io.StringIO(response.text), delimiter=delimiter))
        assert table[0] == ["_id", *(f.id for f in READING_FIELDS)]
        assert len(table) == 26
        for n, row in enumerate(table[1:]):
            source = reading(n)
            assert row[0] == str(n + 1) and row[1] == source["station"] and row[3] == expected_time(n)
            assert float(row[5]) == source["pm25"] and row[6] == ("" if source["aqi"] is None else str(source["aqi"]))
            assert row[7] == ("true" if source["ok"] else "false") and json.loads(row[9]) == source["location"]


def test_json_geojson_and_parquet(portal: tuple[TestClient, TableStore, str]) -> None:
    client, _, rid = portal
    body = client.get(f"/datastore/dump/{rid}", params={"format": "json"}).json()
    assert [f["id"] for f in body["fields"]] == ["_id", *(f.id for f in READING_FIELDS)]
    assert [r[0] for r in body["records"]] == list(range(1, 26))
    assert body["records"][4][8] == reading(4)["tags"]
    geo = client.get(f"/datastore/dump/{rid}", params={"format": "geojson"})
    assert geo.headers["content-type"] == "application/geo+json"
    features = geo.json()["features"]
    assert len(features) == 25 and features[3]["geometry"] == reading(3)["location"]
    assert features[3]["properties"]["station"] == reading(3)["station"] and "location" not in features[3]["properties"]
    raw = client.get(f"/datastore/dump/{rid}", params={"format": "parquet"})
    table = pq.read_table(io.BytesIO(raw.content))
    assert table.num_rows == 25
    assert table.column("pm25").to_pylist() == [reading(n)["pm25"] for n in range(25)]
    times = table.column("time").to_pylist()
    assert [t.strftime("%Y-%m-%dT%H:%M:%S") for t in times] == [expected_time(n) for n in range(25)]
    assert times[0].utcoffset() == timedelta(0)
    assert table.column("ok").to_pylist() == [reading(n)["ok"] for n in range(25)]
    assert str(table.column("day").to_pylist()[0]) == reading(0)["day"]


def test_etag_last_modified_and_304(portal: tuple[TestClient, TableStore, str]) -> None:
    client, datastore, rid = portal
    first = client.get(f"/datastore/dump/{rid}")
    tag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get(f"/datastore/dump/{rid}", headers={"If-None-Match": tag}).status_code == 304
    assert client.get(f"/datastore/dump/{rid}", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(f"/datastore/dump/{rid}?format=json", headers={"If-None-Match": tag}).status_code == 200
    earlier = format_datetime(datastore.stats(rid).last_modified - timedelta(hours=1), usegmt=True)
    assert client.get(f"/datastore/dump/{rid}", headers={"If-Modified-Since": earlier}).status_code == 200
    datastore.upsert(rid, iter([reading(99)]))
    again = client.get(f"/datastore/dump/{rid}", headers={"If-None-Match": tag})
    assert again.status_code == 200 and again.headers["etag"] != tag and again.headers["x-row-count"] == "26"


def test_errors_in_ckan_shape(portal: tuple[TestClient, TableStore, str]) -> None:
    client, datastore, rid = portal
    plain = resource(client.app, "station-names")
    datastore.create(plain, [FieldSpec("name", "text")])
    refused = client.get(f"/datastore/dump/{plain}", params={"format": "geojson"})
    assert refused.status_code == 400 and "geometry" in refused.json()["error"]["message"]
    assert client.get(f"/datastore/dump/{plain}").text == "_id,name\r\n"
    for path, status in ((f"/datastore/dump/{rid}?format=xlsx", 400), (f"/datastore/dump/{uuid.uuid4()}", 404)):
        response = client.get(path)
        assert response.status_code == status and response.json()["success"] is False


@pytest.fixture(scope="module")
def large_table(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TableStore, str]]:
    """200,000 rows: about 11 MB as CSV, far more as Python objects."""
    from smartcity.hub.store import open_store

    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('large')}/large.db")
    datastore = TableStore(store, "")
    rid = str(uuid.uuid4())
    datastore.create(rid, [FieldSpec("station", "text"), FieldSpec("time", "timestamp"), FieldSpec("pm25", "float")])
    rows = (
        {"station": f"station-{n % 97}", "time": "2026-01-01T00:00:00+00:00", "pm25": n / 7} for n in range(200_000)
    )
    datastore.upsert(rid, rows)
    yield datastore, rid
    store.close()


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_a_large_table_downloads_in_bounded_memory(large_table: tuple[TableStore, str], fmt: str) -> None:
    datastore, rid = large_table
    tracemalloc.start()
    try:
        fields, batches = datastore.row_batches(rid, BATCH)
        size = rows = 0
        for chunk in writer_for(fmt, fields, batches):
            size += len(chunk)
            rows += chunk.count(b"\n" if fmt == "csv" else b"]")  # a line or a record list each
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if fmt != "parquet":
        assert size > 10_000_000 and rows >= 200_000
    assert peak < 3_000_000, f"peak {peak} bytes for {size} bytes of {fmt}"


def test_tables_of_private_or_unlisted_resources_are_not_public(portal: tuple[TestClient, TableStore, str]) -> None:
    client, datastore, _ = portal
    hidden = resource(client.app, "internal-readings", private=True)
    unlisted = str(uuid.uuid4())  # a table whose resource is in no dataset
    for rid in (hidden, unlisted):
        datastore.create(rid, [FieldSpec("name", "text")])
        datastore.upsert(rid, iter([{"name": "secret"}]))
        assert client.get(f"/datastore/dump/{rid}").status_code == 404
        search = client.get("/api/3/action/datastore_search", params={"resource_id": rid})
        assert search.status_code == 404
        assert client.get("/api/3/action/datastore_info", params={"id": rid}).status_code == 404
        sql = client.get("/api/3/action/datastore_search_sql", params={"sql": f'SELECT * FROM "{rid}"'})
        assert sql.status_code == 409 and "secret" not in sql.text
