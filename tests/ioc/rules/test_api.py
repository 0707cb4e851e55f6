"""The rules API on both backends: create, change (new versions), delete, validate, errors in the envelope, roles,
live statistics and back-tests of stored and unsaved rules."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from smartcity.security.roles import Role
from tests.ioc.rules.support import rule
from tests.open_hub import open_settings
from tests.security.support import api_key, as_key, running

FLOOD = rule(
    "flood-level",
    target={"type": "FloodMonitoring", "attribute": "currentLevel"},
    when={"op": ">", "value": 0.3, "clear": 0.25},
)


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with running(store, open_settings(database_url="sqlite:///unused.db")) as test_client:
        yield test_client


@pytest.fixture
def operator(client: TestClient) -> dict[str, str]:
    return as_key(api_key(client, Role.IOC_OPERATOR))


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= {"type", "title", "detail"}
    return body


def test_create_read_change_delete_with_versions(client: TestClient, operator: dict[str, str]) -> None:
    r = client.post("/ioc/rules", json=FLOOD, headers=operator)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["id"], created["version"], created["stats"]["active"]) == ("flood-level", 1, True)
    assert created["updatedBy"] != "" and created["createdAt"].endswith("Z")
    _problem(client.post("/ioc/rules", json=FLOOD, headers=operator), 409)

    changed = dict(FLOOD, when={"op": ">", "value": 0.4, "clear": 0.3})
    r = client.put("/ioc/rules/flood-level", json=changed, headers=operator)
    assert (r.status_code, r.json()["version"], r.json()["when"]["value"]) == (200, 2, 0.4)
    r = client.put("/ioc/rules/flood-level", json=changed, headers=operator)  # the same document: no new version
    assert r.json()["version"] == 2

    listed = client.get("/ioc/rules", headers=operator).json()
    assert listed["count"] == 1 and listed["rules"][0]["version"] == 2
    assert client.get("/ioc/rules?domain=air", headers=operator).json()["count"] == 0

    assert client.delete("/ioc/rules/flood-level", headers=operator).status_code == 204
    _problem(client.get("/ioc/rules/flood-level", headers=operator), 404)
    versions = client.get("/ioc/rules/flood-level/versions", headers=operator).json()["versions"]
    assert [(v["version"], v["change"]) for v in versions] == [(1, "created"), (2, "updated"), (3, "deleted")]
    assert versions[0]["rule"]["when"]["value"] == 0.3  # old versions stay readable
    r = client.put("/ioc/rules/flood-level", json=FLOOD, headers=operator)  # created again: numbering goes on
    assert (r.status_code, r.json()["version"]) == (201, 4)


def test_validation_errors_name_the_field(client: TestClient, operator: dict[str, str]) -> None:
    cases = [
        (dict(FLOOD, severity="urgent"), "severity"),
        (dict(FLOOD, labels={"domain": "moon"}), "labels.domain"),
        (dict(FLOOD, when={"op": ">", "value": "high"}), "when.value"),
        (dict(FLOOD, when={"op": ">", "value": 0.3, "clear": 0.5}), "when.clear"),
        (dict(FLOOD, when={"op": ">", "value": 0.3, "for": "ten minutes"}), "when.for"),
        (dict(FLOOD, target={"type": "FloodMonitoring"}), "target.attribute"),
        (dict(FLOOD, id="Not A Slug"), "id"),
        (dict(FLOOD, message={"vi": "{value}", "en": "{valu}"}), "message.en"),
        (dict(FLOOD, colour="red"), "colour"),
        (rule("a", "absence", target={"type": "X"}, absence={"after": "PT10S"}), "absence.after"),
        (
            rule(
                "b",
                "aggregate",
                target={"type": "X", "attribute": "y"},
                aggregate={"method": "median", "window": "PT1H"},
            ),
            "aggregate.method",
        ),
        (
            rule(
                "c", "proximity", target={"type": "Vehicle"}, proximity={"groupBy": "r"}, when={"op": ">", "value": 100}
            ),
            "when.op",
        ),
    ]
    for document, where in cases:
        body = _problem(client.post("/ioc/rules/validate", json=document, headers=operator), 400)
        assert body["field"] == where, (where, body)
        assert body["detail"].startswith(where)
    body = _problem(
        client.post("/ioc/rules", content=b"{not json", headers={**operator, "Content-Type": "application/json"}),
        400,
    )
    assert "JSON" in body["detail"]
    _problem(client.put("/ioc/rules/other-id", json=FLOOD, headers=operator), 400)  # ids differ
    ok = client.post("/ioc/rules/validate", json=FLOOD, headers=operator)
    assert ok.status_code == 200 and ok.json()["valid"] is True
    assert client.get("/ioc/rules", headers=operator).json()["count"] == 0  # validation stores nothing


def test_yaml_bodies_are_accepted(client: TestClient, operator: dict[str, str]) -> None:
    text = """
id: parking-full
name: {vi: "Bãi đỗ đầy", en: "Car park full"}
severity: info
labels: {domain: parking}
kind: threshold
target: {type: OffStreetParking, attribute: availableSpotNumber, per: totalSpotNumber}
when: {op: "<", value: 0.05, clear: 0.1}
message: {vi: "{name} đầy", en: "{name} full"}
"""
    r = client.post("/ioc/rules", content=text.encode(), headers={**operator, "Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    assert r.json()["target"]["per"] == "totalSpotNumber"


def test_roles(client: TestClient) -> None:
    analyst = as_key(api_key(client, Role.ANALYST))
    officer = as_key(api_key(client, Role.DEPARTMENT_OFFICER))
    citizen = as_key(api_key(client, Role.CITIZEN))
    assert client.get("/ioc/rules", headers=analyst).status_code == 200
    assert client.get("/ioc/rules", headers=officer).status_code == 200
    _problem(client.post("/ioc/rules", json=FLOOD, headers=analyst), 403)
    _problem(client.get("/ioc/rules", headers=citizen), 403)
    _problem(client.get("/ioc/rules"), 401)


def test_live_statistics_and_backtests(client: TestClient, operator: dict[str, str]) -> None:
    quick = dict(FLOOD, when={"op": ">", "value": 0.3})
    assert client.post("/ioc/rules", json=quick, headers=operator).status_code == 201
    hub = {"Content-Type": "application/json"}
    gauge = "urn:ngsi-ld:FloodMonitoring:g1"
    for n, (level, stamp) in enumerate(
        [(0.1, "2026-03-01T08:00:00Z"), (0.5, "2026-03-01T08:10:00Z"), (0.2, "2026-03-01T08:40:00Z")]
    ):
        attr = {"type": "Property", "value": level, "observedAt": stamp}
        if n == 0:
            body = {"id": gauge, "type": "FloodMonitoring", "currentLevel": attr}
            assert client.post("/ngsi-ld/v1/entities", json=body, headers=hub).status_code == 201
        else:
            r = client.patch(f"/ngsi-ld/v1/entities/{gauge}/attrs", json={"currentLevel": attr}, headers=hub)
            assert r.status_code == 204
    stats: dict[str, Any] = {}
    for _ in range(100):  # the engine follows the change feed in the background
        stats = client.get("/ioc/rules/flood-level", headers=operator).json()["stats"]
        if stats["ruleEvaluations"] >= 3:
            break
        time.sleep(0.05)
    assert (stats["ruleEvaluations"], stats["signals"], stats["firing"]) == (3, 2, 0)

    window = {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}
    r = client.post("/ioc/rules/flood-level/backtest", json=window, headers=operator)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "ruleId": "flood-level",
        "from": "2026-03-01T00:00:00Z",
        "to": "2026-03-02T00:00:00Z",
        "fired": 1,
        "episodes": [{"subject": gauge, "start": "2026-03-01T08:10:00Z", "end": "2026-03-01T08:40:00Z", "peak": 0.5}],
        "instancesEvaluated": 3,
    }
    draft = dict(quick, id="draft", when={"op": ">", "value": 0.05})
    r = client.post("/ioc/rules/backtest", json={"rule": draft, **window}, headers=operator)
    assert r.status_code == 200 and r.json()["fired"] == 1
    assert r.json()["episodes"][0]["start"] == "2026-03-01T08:00:00Z" and r.json()["episodes"][0]["end"] is None
    body = _problem(client.post("/ioc/rules/flood-level/backtest", json={"from": "yesterday"}, headers=operator), 400)
    assert body["field"] == "from"
    _problem(client.post("/ioc/rules/nope/backtest", json={}, headers=operator), 404)
    _problem(client.post("/ioc/rules/backtest", json={"rule": dict(draft, kind="magic")}, headers=operator), 400)
