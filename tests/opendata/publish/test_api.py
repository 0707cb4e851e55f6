"""The publications' admin API on both backends: listed with their last run, run now by publishers only, errors in
the platform's problem details."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from smartcity.security.credentials import Credentials
from smartcity.security.passwords import Passwords
from smartcity.security.roles import Role
from tests.opendata.publish.support import NOW, car_park, catalogue_of, portal, publisher_of
from tests.security.support import api_key, as_key, production, security_of


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with portal(store, auth="required", opendata_publish=False) as app:
        security_of(app).credentials = Credentials.from_settings(store, production(), passwords=Passwords.fast())
        with TestClient(app) as test_client:
            yield test_client


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert {"type", "title", "detail"} <= set(body)
    return body


def test_publishers_list_and_run_publications(client: TestClient) -> None:
    publisher = as_key(api_key(client, Role.DATA_PUBLISHER))
    listed = client.get("/opendata/publications", headers=publisher).json()
    assert listed["count"] >= 8 and all(p["last_run"] is None for p in listed["publications"])
    first = next(p for p in listed["publications"] if p["id"] == "car-parks-now")
    assert (first["mode"], first["schedule"], first["modelled"], first["source"]["type"]) == (
        "current",
        "PT5M",
        True,
        "OffStreetParking",
    )

    car_park(client.app, "a", 40, NOW - timedelta(minutes=1))  # type: ignore[arg-type]
    ran = client.post("/opendata/publications/car-parks-now/run", headers=publisher)
    assert ran.status_code == 200, ran.text
    run = ran.json()["run"]
    assert (run["status"], run["rows"], run["cause"], run["error"]) == ("succeeded", 1, "manual", None)
    assert run["started"].endswith("Z") and run["finished"] is not None
    writes = catalogue_of(client.app).writes  # type: ignore[arg-type]
    assert [(action, user.split(":")[0]) for action, _, user in writes] == [("create", "apikey"), ("update", "apikey")]

    listed = client.get("/opendata/publications", headers=publisher).json()
    parks = next(p for p in listed["publications"] if p["id"] == "car-parks-now")
    assert parks["last_run"]["id"] == run["id"] and parks["dataset_id"] is not None and parks["resource_id"]


def test_a_failed_run_is_answered_with_its_record(client: TestClient) -> None:
    admin = as_key(api_key(client, Role.ADMINISTRATOR))
    client.app.state.opendata.catalogue = None  # type: ignore[attr-defined]
    run = client.post("/opendata/publications/wards/run", headers=admin).json()["run"]
    assert run["status"] == "failed" and "not installed" in run["error"]


def test_others_are_refused_and_errors_have_the_platform_shape(client: TestClient) -> None:
    analyst = as_key(api_key(client, Role.ANALYST))
    _problem(client.get("/opendata/publications", headers=analyst), 403)
    _problem(client.post("/opendata/publications/wards/run", headers=analyst), 403)
    _problem(client.get("/opendata/publications"), 401)
    publisher = as_key(api_key(client, Role.DATA_PUBLISHER))
    assert (
        "no publication" in _problem(client.post("/opendata/publications/nope/run", headers=publisher), 404)["detail"]
    )
    lock = publisher_of(client.app)._locks["wards"]  # type: ignore[arg-type]
    with lock:
        body = _problem(client.post("/opendata/publications/wards/run", headers=publisher), 409)
    assert "being published already" in body["detail"]
