"""The datastore's CKAN actions: called through the registry with an ActionContext, then over HTTP."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

import smartcity.opendata.ckan.datastore_actions  # noqa: F401  (registers the actions)
from smartcity.app import create_app
from smartcity.hub.store import Store
from smartcity.opendata.ckan.registry import ACTIONS, ActionContext
from smartcity.opendata.contracts import NotAuthorized, NotFound, ValidationFailed
from smartcity.opendata.datastore.store import TableStore
from smartcity.security.credentials import Credentials
from smartcity.security.passwords import Passwords
from smartcity.security.principal import anonymous, system
from smartcity.security.roles import Role
from tests.open_hub import open_settings
from tests.security.support import api_key, as_key, security_of

Rows = tuple[str, list[dict[str, Any]]]


def call(name: str, params: dict[str, Any], datastore: TableStore, *, write: bool = False) -> Any:
    ctx = ActionContext(
        principal=system("test") if write else anonymous(),
        runtime=SimpleNamespace(datastore=datastore, catalogue=None),
        user="test" if write else "",
        may_write=write,
        base_url="http://portal.test",
    )
    return ACTIONS[name].fn(ctx, params)


def test_search_parses_ckan_parameters_and_formats_records(datastore: TableStore, readings: Rows) -> None:
    rid, rows = readings
    params = {
        "resource_id": rid,
        "filters": json.dumps({"station": ["Quận 1", "Gò Vấp"]}),
        "fields": "station,aqi",
        "sort": "aqi desc, station",
        "limit": "5",
        "offset": "2",
        "records_format": "lists",
    }
    result = call("datastore_search", params, datastore)
    chosen = [r for r in rows if r["station"] in ("Quận 1", "Gò Vấp")]
    ordered = sorted(chosen, key=lambda r: (-(r["aqi"] if r["aqi"] is not None else -1), r["station"]))
    assert result["records"] == [[r["station"], r["aqi"]] for r in ordered[2:7]]
    assert result["total"] == len(chosen) and result["total_was_estimated"] is False
    assert [f["id"] for f in result["fields"]] == ["station", "aqi"]
    assert result["fields"][0]["info"]["label"] == "Trạm quan trắc"
    links = result["_links"]
    start, after = parse_qs(urlsplit(links["start"]).query), parse_qs(urlsplit(links["next"]).query)
    assert "offset" not in start and after["offset"] == ["7"] and after["resource_id"] == [rid]
    assert after["sort"] == ["aqi desc, station"]
    as_csv = call("datastore_search", {**params, "records_format": "csv"}, datastore)["records"]
    assert list(csv.reader(io.StringIO(as_csv))) == [
        [r["station"], "" if r["aqi"] is None else str(r["aqi"])] for r in ordered[2:7]
    ]
    as_tsv = call("datastore_search", {**params, "records_format": "tsv"}, datastore)["records"]
    assert as_tsv.splitlines()[0].split("\t")[0] == ordered[2]["station"]
    quiet = call("datastore_search", {"resource_id": rid, "include_total": "false", "limit": 1}, datastore)
    assert "total" not in quiet and len(quiet["records"]) == 1


def test_bad_parameters_and_unknown_resources(datastore: TableStore, readings: Rows) -> None:
    rid, _ = readings
    for params in (
        {"resource_id": rid, "limit": "32001"},
        {"resource_id": rid, "limit": "many"},
        {"resource_id": rid, "filters": "[1, 2]"},
        {"resource_id": rid, "sort": "station sideways"},
        {"resource_id": rid, "fields": "nope"},
        {"resource_id": rid, "records_format": "xml"},
        {},
    ):
        with pytest.raises(ValidationFailed):
            call("datastore_search", params, datastore)
    with pytest.raises(NotFound):
        call("datastore_search", {"resource_id": str(uuid.uuid4())}, datastore)
    with pytest.raises(NotFound):
        call("datastore_info", {"id": "nope"}, datastore)
    with pytest.raises(ValidationFailed):
        call("datastore_search_sql", {"sql": f'DROP TABLE "{rid}"'}, datastore)


def test_info_and_sql(datastore: TableStore, readings: Rows) -> None:
    rid, rows = readings
    info = call("datastore_info", {"id": rid}, datastore)
    assert info["meta"]["count"] == 60 and info["meta"]["table_type"] == "BASE TABLE" and info["meta"]["aliases"] == []
    assert [(f["id"], f["type"]) for f in info["fields"]][:3] == [
        ("station", "text"),
        ("ward", "text"),
        ("time", "timestamp"),
    ]
    result = call("datastore_search_sql", {"sql": f'SELECT sum(aqi) AS total FROM "{rid}"'}, datastore)
    assert result["records"] == [{"total": sum(r["aqi"] for r in rows if r["aqi"] is not None)}]
    assert result["records_truncated"] is False


def test_writes_need_a_publisher_and_round_trip(datastore: TableStore) -> None:
    rid = str(uuid.uuid4())
    create = {"resource_id": rid, "fields": [{"id": "code", "type": "text"}, {"id": "level", "type": "float"}]}
    with pytest.raises(NotAuthorized):
        call("datastore_create", create, datastore)
    created = call(
        "datastore_create",
        {**create, "primary_key": "code", "records": [{"code": "a", "level": 1}]},
        datastore,
        write=True,
    )
    assert created["primary_key"] == ["code"] and created["records_written"] == 1
    upserted = call(
        "datastore_upsert",
        {"resource_id": rid, "records": [{"code": "a", "level": 2.5}, {"code": "b", "level": 3}], "method": "upsert"},
        datastore,
        write=True,
    )
    assert upserted["records_written"] == 2
    found = call("datastore_search", {"resource_id": rid, "sort": "code"}, datastore)
    assert [(r["code"], r["level"]) for r in found["records"]] == [("a", 2.5), ("b", 3.0)]
    call("datastore_delete", {"resource_id": rid, "filters": {"code": "a"}}, datastore, write=True)
    assert call("datastore_search", {"resource_id": rid}, datastore)["total"] == 1
    call("datastore_delete", {"resource_id": rid}, datastore, write=True)
    with pytest.raises(NotFound):
        call("datastore_info", {"id": rid}, datastore)


@pytest.fixture
def portal(store: Store) -> Iterator[tuple[TestClient, str, str]]:
    settings = open_settings(database_url="sqlite:///unused.db", opendata_publish=False)
    app = create_app(settings, store=store)
    security_of(app).credentials = Credentials.from_settings(store, settings, passwords=Passwords.fast())
    with TestClient(app) as client:
        yield client, api_key(client, Role.DATA_PUBLISHER), api_key(client, Role.ANALYST)


def test_over_http_with_the_catalogue(portal: tuple[TestClient, str, str]) -> None:
    client, publisher, analyst = portal
    package = {
        "name": "air-readings",
        "title": "Air readings (synthetic)",
        "owner_org": "so-tai-nguyen-va-moi-truong",  # a department of the catalogue's reference data
        "resources": [{"name": "readings", "url": "http://x/r.csv"}],
    }
    made = client.post("/api/3/action/package_create", json=package, headers=as_key(publisher))
    assert made.status_code == 200, made.text
    rid = made.json()["result"]["resources"][0]["id"]
    body = {
        "resource_id": rid,
        "fields": [{"id": "station", "type": "text"}, {"id": "pm25", "type": "float"}],
        "records": [{"station": "Quận 1", "pm25": 12.5}, {"station": "Thủ Đức", "pm25": 30}],
    }
    refused = client.post("/api/3/action/datastore_create", json=body, headers=as_key(analyst))
    assert refused.status_code == 403 and refused.json()["success"] is False
    created = client.post("/api/3/action/datastore_create", json=body, headers=as_key(publisher))
    assert created.status_code == 200, created.text
    missing = client.post(
        "/api/3/action/datastore_create", json={**body, "resource_id": str(uuid.uuid4())}, headers=as_key(publisher)
    )
    assert missing.status_code == 404
    found = client.get("/api/3/action/datastore_search", params={"resource_id": rid, "q": "thu duc"})
    assert found.status_code == 200 and found.json()["success"] is True
    assert [r["pm25"] for r in found.json()["result"]["records"]] == [30.0]
    sql = client.post("/api/3/action/datastore_search_sql", json={"sql": f'SELECT max(pm25) AS m FROM "{rid}"'})
    assert sql.json()["result"]["records"] == [{"m": 30.0}]
    bad = client.get("/api/3/action/datastore_search", params={"resource_id": rid, "filters": "{"})
    assert bad.status_code == 409 and bad.json()["error"]["__type"] == "Validation Error"
    refused_sql = client.get("/api/3/action/datastore_search_sql", params={"sql": "SELECT * FROM entities"})
    assert refused_sql.status_code == 409
    unknown = client.get("/api/3/action/datastore_info", params={"id": str(uuid.uuid4())})
    assert unknown.status_code == 404 and unknown.json()["error"]["__type"] == "Not Found Error"
