"""The alerts' HTTP API in process, in production auth mode, on both backends: reads and filters, acknowledge
and clear, silences, escalation policies, channels, who may do what, and the error envelope for bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from smartcity.ioc.alerts.manager import AlertManager
from smartcity.ioc.alerts.model import iso
from smartcity.ioc.contracts import Severity
from tests.ioc.alerts.support import Clock, flood
from tests.security.support import api_key, as_key, flush, running


@pytest.fixture
def api(store: Store) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    with running(store) as client:
        keys = {
            role: as_key(api_key(client, role)) for role in ("ioc_operator", "department_officer", "analyst", "citizen")
        }
        yield client, keys


def _manager(client: TestClient) -> AlertManager:
    manager: AlertManager = client.app.state.ioc.alerts  # type: ignore[attr-defined]
    return manager


def _raise(client: TestClient, **changes: Any) -> str:
    clock = Clock(datetime.now(UTC))
    alert = _manager(client).apply(flood(clock, **changes))
    assert alert is not None
    return alert.id


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert {"type", "title", "detail"} <= set(body)
    return body


def test_operators_list_filter_and_read_alerts(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, keys = api
    flood_id = _raise(client, severity=Severity.CRITICAL)
    air_id = _raise(
        client, rule_id="pm25", subject="urn:ngsi-ld:AirQualityObserved:d1", labels={"domain": "air", "ward": "26734"}
    )
    for role in ("ioc_operator", "department_officer", "analyst"):
        listed = client.get("/ioc/alerts", headers=keys[role]).json()
        assert listed["count"] == 2 and {a["id"] for a in listed["alerts"]} == {flood_id, air_id}
    h = keys["ioc_operator"]
    assert [a["id"] for a in client.get("/ioc/alerts?domain=air", headers=h).json()["alerts"]] == [air_id]
    assert [a["id"] for a in client.get("/ioc/alerts?severity=critical", headers=h).json()["alerts"]] == [flood_id]
    assert [a["id"] for a in client.get("/ioc/alerts?ward=26740", headers=h).json()["alerts"]] == [flood_id]
    assert (
        client.get("/ioc/alerts?ruleId=pm25&subject=urn:ngsi-ld:AirQualityObserved:d1", headers=h).json()["count"] == 1
    )
    page = client.get("/ioc/alerts?limit=1&offset=1", headers=h).json()
    assert page["count"] == 2 and len(page["alerts"]) == 1
    one = client.get(f"/ioc/alerts/{flood_id}", headers=h).json()
    assert one["ruleName"] == "Flood level above 0.3 m" and one["timeline"][0]["kind"] == "raised"
    assert set(one) >= {
        "id",
        "ruleId",
        "ruleVersion",
        "ruleName",
        "subject",
        "subjectType",
        "severity",
        "status",
        "acknowledged",
        "acknowledgedAt",
        "acknowledgedBy",
        "clearedAt",
        "clearedBy",
        "count",
        "firstSeen",
        "lastSeen",
        "value",
        "summary",
        "labels",
        "location",
        "silenced",
        "escalationLevel",
        "incidentId",
    }
    assert client.get("/ioc/alerts", headers=keys["citizen"]).status_code == 403
    assert client.get("/ioc/alerts").status_code == 401


def test_acknowledge_then_clear_with_notes_and_audit(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, keys = api
    alert_id = _raise(client)
    assert client.post(f"/ioc/alerts/{alert_id}/acknowledge", headers=keys["analyst"]).status_code == 403
    acked = client.post(
        f"/ioc/alerts/{alert_id}/acknowledge", headers=keys["department_officer"], json={"note": "on it"}
    )
    assert acked.status_code == 200 and acked.json()["acknowledged"] is True
    assert acked.json()["acknowledgedBy"].startswith("apikey:")
    _problem(client.post(f"/ioc/alerts/{alert_id}/acknowledge", headers=keys["ioc_operator"]), 409)
    cleared = client.post(f"/ioc/alerts/{alert_id}/clear", headers=keys["ioc_operator"], json={"note": "receded"})
    assert cleared.status_code == 200 and cleared.json()["status"] == "cleared"
    _problem(client.post(f"/ioc/alerts/{alert_id}/clear", headers=keys["ioc_operator"]), 409)
    timeline = client.get(f"/ioc/alerts/{alert_id}", headers=keys["analyst"]).json()["timeline"]
    assert [(f["kind"], f["detail"].get("note")) for f in timeline] == [
        ("raised", None),
        ("acknowledged", "on it"),
        ("cleared", "receded"),
    ]
    assert client.get("/ioc/alerts?status=cleared&acknowledged=true", headers=keys["analyst"]).json()["count"] == 1
    flush(client)
    audit = client.app.state.store  # type: ignore[attr-defined]
    with audit.transaction(write=False) as db:
        actions = [r[0] for r in db.run("SELECT action FROM audit_records").fetchall()]
    assert "ioc.alert.acknowledge" in actions and "ioc.alert.clear" in actions


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/ioc/alerts/no-such-alert", None, 404),
        ("POST", "/ioc/alerts/no-such-alert/acknowledge", {}, 404),
        ("POST", "/ioc/alerts/no-such-alert/clear", {}, 404),
        ("GET", "/ioc/alerts?status=open", None, 400),
        ("GET", "/ioc/alerts?severity=urgent", None, 400),
        ("GET", "/ioc/alerts?acknowledged=maybe", None, 400),
        ("GET", "/ioc/alerts?limit=0", None, 400),
        (
            "POST",
            "/ioc/silences",
            {"matchers": {"ward": "26740"}, "startsAt": "2030-01-02T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z"},
            400,
        ),
        ("POST", "/ioc/silences", {"matchers": {"ward": "26740"}, "endsAt": "soon"}, 400),
        ("POST", "/ioc/silences", {"endsAt": "2030-01-01T00:00:00Z"}, 400),
        ("DELETE", "/ioc/silences/no-such-silence", None, 404),
        ("POST", "/ioc/channels", {"name": "x", "type": "pager", "target": "x"}, 400),
        ("POST", "/ioc/channels", {"name": "x", "type": "webhook", "target": "ftp://x"}, 400),
        ("POST", "/ioc/channels", {"name": "x", "type": "mqtt", "target": "mqtt://host/a/#"}, 400),
        ("POST", "/ioc/channels", {"name": "x", "type": "email", "target": "not an address"}, 400),
        ("GET", "/ioc/channels/no-such-channel", None, 404),
        ("POST", "/ioc/channels/no-such-channel/test", {}, 404),
        ("POST", "/ioc/escalation-policies", {"name": "x", "levels": []}, 400),
        ("POST", "/ioc/escalation-policies", {"name": "x", "levels": [{"afterMinutes": 10}, {"afterMinutes": 5}]}, 400),
        ("POST", "/ioc/escalation-policies", {"name": "x", "levels": [{"afterMinutes": -1}]}, 400),
        ("PUT", "/ioc/escalation-policies/no-such-policy", {"name": "x", "levels": [{"afterMinutes": 1}]}, 404),
        ("DELETE", "/ioc/escalation-policies/no-such-policy", None, 404),
    ],
)
def test_bad_input_gets_the_error_envelope(
    api: tuple[TestClient, dict[str, dict[str, str]]], method: str, path: str, body: Any, status: int
) -> None:
    client, keys = api
    _problem(client.request(method, path, headers=keys["ioc_operator"], json=body), status)


def test_invalid_json_is_a_bad_request(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, keys = api
    headers = {**keys["ioc_operator"], "Content-Type": "application/json"}
    _problem(client.post("/ioc/silences", headers=headers, content=b"{oops"), 400)
    alert_id = _raise(client)
    _problem(client.post(f"/ioc/alerts/{alert_id}/acknowledge", headers=headers, content=b'{"note": 5}'), 400)


def test_silences_through_the_api(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, keys = api
    alert_id = _raise(client)
    ends = iso(datetime.now(UTC) + timedelta(hours=2))
    body = {"matchers": {"area": {"center": [106.7128, 10.7921], "radius": 300}}, "endsAt": ends, "comment": "works"}
    assert client.post("/ioc/silences", headers=keys["analyst"], json=body).status_code == 403
    made = client.post("/ioc/silences", headers=keys["department_officer"], json=body)
    assert made.status_code == 201
    silence = made.json()
    assert silence["createdBy"].startswith("apikey:") and silence["endsAt"] == ends
    assert client.get(f"/ioc/alerts/{alert_id}", headers=keys["analyst"]).json()["silenced"] is True
    assert [s["id"] for s in client.get("/ioc/silences", headers=keys["analyst"]).json()["silences"]] == [silence["id"]]
    assert client.delete(f"/ioc/silences/{silence['id']}", headers=keys["ioc_operator"]).status_code == 204
    assert client.get(f"/ioc/alerts/{alert_id}", headers=keys["analyst"]).json()["silenced"] is False
    assert client.get("/ioc/silences", headers=keys["analyst"]).json()["count"] == 0
    assert client.get("/ioc/silences?expired=true", headers=keys["analyst"]).json()["count"] == 1


def test_escalation_policies_and_channels_through_the_api(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, keys = api
    h = keys["ioc_operator"]
    demo = client.get("/ioc/escalation-policies", headers=h).json()
    assert "flood-critical" in {p["id"] for p in demo["policies"]}  # the demo set, loaded at start
    assert client.get("/ioc/channels", headers=h).json()["count"] == 0  # no MQTT or SMTP configured
    assert client.get("/ioc/channels", headers=keys["department_officer"]).status_code == 403
    channel = {
        "id": "ops-hook",
        "name": "Ops",
        "type": "webhook",
        "target": "http://127.0.0.1:9/x",
        "matchers": {"domain": "flood", "severity": "major"},
    }
    made = client.post("/ioc/channels", headers=h, json=channel)
    assert made.status_code == 201 and made.json()["deliveries"] == {"pending": 0, "sent": 0, "failed": 0}
    _problem(client.post("/ioc/channels", headers=h, json=channel), 409)
    replaced = client.put("/ioc/channels/ops-hook", headers=h, json={**channel, "enabled": False})
    assert replaced.status_code == 200 and replaced.json()["enabled"] is False
    tested = client.post("/ioc/channels/ops-hook/test", headers=h)
    assert tested.status_code == 200 and tested.json()["delivered"] is False and tested.json()["error"]
    policy = {
        "name": "Parking",
        "matchers": {"domain": "parking"},
        "levels": [{"afterMinutes": 30, "channels": ["ops-hook"]}],
    }
    created = client.post("/ioc/escalation-policies", headers=h, json=policy).json()
    assert client.get(f"/ioc/escalation-policies/{created['id']}", headers=h).json()["levels"] == [
        {"afterMinutes": 30.0, "channels": ["ops-hook"]}
    ]
    assert client.delete(f"/ioc/escalation-policies/{created['id']}", headers=h).status_code == 204
    assert client.get("/ioc/channels/ops-hook/deliveries", headers=h).json() == {"count": 0, "deliveries": []}
    assert client.delete("/ioc/channels/ops-hook", headers=h).status_code == 204
    _problem(client.get("/ioc/channels/ops-hook", headers=h), 404)
