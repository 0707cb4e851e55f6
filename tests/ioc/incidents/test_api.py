"""The incident routes in process, in production auth mode, on both backends: the views, the error envelope,
opening from an alert (with a fake alert manager), department scoping and the policy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from smartcity.ioc.incidents.desk import IncidentDesk
from smartcity.security.roles import Role
from tests.ioc.incidents.support import Clock, FakeAlerts
from tests.security.support import api_key, as_key, flush, running

IOC_ERRORS = "https://smartcity.hcmc.gov.vn/errors/ioc/"
NGSI_ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
FLOOD = {"type": "flooding", "title": "Ngập đường Nguyễn Hữu Cảnh", "severity": "major"}


class Desk:
    """A signed-in client per role, the controlled clock and the fake alert manager of one running app."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.clock = Clock()
        self.alerts = FakeAlerts()
        runtime = client.app.state.ioc  # type: ignore[attr-defined]
        runtime.alerts = self.alerts
        self.desk: IncidentDesk = runtime.incidents
        self.desk.clock = self.clock
        self.keys = {
            "operator": api_key(client, Role.IOC_OPERATOR),
            "admin": api_key(client, Role.ADMINISTRATOR),
            "analyst": api_key(client, Role.ANALYST),
            "transport": api_key(client, Role.DEPARTMENT_OFFICER, department="transport"),
            "police": api_key(client, Role.DEPARTMENT_OFFICER, department="police"),
            "citizen": api_key(client, Role.CITIZEN),
        }

    def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        kw: dict[str, Any] = {"headers": as_key(self.keys[who])}
        if body is not None:
            kw["json"] = body
        return self.client.request(method, path, **kw)

    def open(self, who: str = "operator", **body: Any) -> dict[str, Any]:
        response = self.call(who, "POST", "/ioc/incidents", {**FLOOD, **body})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture
def app(store: Store) -> Iterator[Desk]:
    with running(store) as client:
        yield Desk(client)


def problem(response: Any, status: int, error_type: str, *, words: str = "") -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert {"type", "title", "detail"} <= set(body)
    assert body["type"].endswith("/" + error_type), body
    assert words in body["detail"], body
    return body


def test_catalogue_routes(app: Desk) -> None:
    departments = app.call("analyst", "GET", "/ioc/departments").json()
    assert departments["count"] == 178
    assert departments["departments"][0] == {
        "code": "transport",
        "name": {"vi": "Sở Xây dựng - Quản lý giao thông", "en": "Construction Dept. - Traffic management"},
        "kind": "city",
        "domains": ["traffic", "transit", "parking"],
    }
    wards = app.call("analyst", "GET", "/ioc/departments?kind=ward").json()
    assert wards["count"] == 168 and all(d["code"] == "ward:" + d["ward"] for d in wards["departments"])
    problem(app.call("analyst", "GET", "/ioc/departments?kind=planet"), 400, "BadRequestData", words="kind")
    types = app.call("analyst", "GET", "/ioc/incident-types").json()
    flooding = next(t for t in types["types"] if t["code"] == "flooding")
    assert flooding["slaHours"]["major"] == 4 and flooding["checklist"][0]["id"] == "verify"
    assert types["alertDomains"]["flood"] == "flooding"


def test_open_read_list_change(app: Desk) -> None:
    response = app.call("operator", "POST", "/ioc/incidents", {**FLOOD, "ward": "26743",
                        "location": {"type": "Point", "coordinates": [106.72, 10.79]}})  # fmt: skip
    assert response.status_code == 201 and response.headers["location"] == f"/ioc/incidents/{response.json()['id']}"
    opened = response.json()
    assert opened["source"] == "manual" and opened["openedBy"].startswith("apikey:")
    assert opened["ward"] == "26743" and opened["location"]["coordinates"] == [106.72, 10.79]
    iid = opened["id"]
    changed = app.call("operator", "PATCH", f"/ioc/incidents/{iid}", {"assignee": "đội 3", "severity": "critical"})
    assert changed.status_code == 200 and changed.json()["status"] == "assigned"
    assert changed.json()["dueAt"] == "2026-03-10T03:00:00.000000Z"  # critical flooding: 2 h from opening
    for target in ("in_progress",):
        assert app.call("operator", "POST", f"/ioc/incidents/{iid}/transitions", {"to": target}).status_code == 200
    ticked = app.call("operator", "PUT", f"/ioc/incidents/{iid}/checklist/pumps", {"done": True})
    assert [i["done"] for i in ticked.json()["checklist"] if i["id"] == "pumps"] == [True]
    comment = app.call("operator", "POST", f"/ioc/incidents/{iid}/comments", {"text": "Xe bơm đã đến", "public": True})
    assert comment.status_code == 201
    resolved = app.call("operator", "POST", f"/ioc/incidents/{iid}/transitions", {"to": "resolved", "note": "Đã rút"})
    assert resolved.json()["status"] == "resolved"
    full = app.call("analyst", "GET", f"/ioc/incidents/{iid}").json()
    kinds = [e["kind"] for e in full["timeline"]]
    assert kinds == ["opened", "changed", "changed", "assigned", "status", "status", "checklist", "comment", "status"]
    listed = app.call("analyst", "GET", "/ioc/incidents?status=resolved,closed&ward=26743").json()
    assert listed["count"] == 1 and listed["incidents"][0]["id"] == iid and "timeline" not in listed["incidents"][0]
    assert app.call("analyst", "GET", "/ioc/incidents?status=new").json()["count"] == 0
    kinds = [e.kind for e in app.client.app.state.ioc.events.since(0) if e.kind.startswith("incident.")]  # type: ignore[attr-defined]
    assert kinds[0] == "incident.opened" and kinds.count("incident.changed") == 5


def test_the_error_envelope(app: Desk) -> None:
    iid = app.open()["id"]
    bad = problem(app.call("operator", "POST", f"/ioc/incidents/{iid}/transitions", {"to": "closed"}), 409,
                  "InvalidTransition", words="cannot go from new to closed")  # fmt: skip
    assert bad["type"] == IOC_ERRORS + "InvalidTransition" and "assigned" in bad["detail"]
    app.call("operator", "POST", f"/ioc/incidents/{iid}/transitions", {"to": "assigned"})
    app.call("operator", "POST", f"/ioc/incidents/{iid}/transitions", {"to": "in_progress"})
    problem(app.call("operator", "POST", f"/ioc/incidents/{iid}/transitions", {"to": "resolved"}), 400,
            "BadRequestData", words="resolution note")  # fmt: skip
    problem(app.call("operator", "POST", f"/ioc/incidents/{iid}/transitions", {"to": "done"}), 400,
            "BadRequestData", words="'to' must be one of")  # fmt: skip
    problem(app.call("operator", "POST", f"/ioc/incidents/{iid}/transitions", {}), 400, "BadRequestData", words="'to'")
    cases: list[tuple[dict[str, Any], str]] = [
        ({**FLOOD, "type": "alien_landing"}, "unknown incident type 'alien_landing'"),
        ({**FLOOD, "department": "nasa"}, "unknown department 'nasa'"),
        ({**FLOOD, "ward": "12"}, "unknown ward code"),
        ({"type": "flooding", "severity": "major"}, "'title' is required"),
        ({"type": "flooding", "title": "x"}, "'severity' is required"),
        ({"title": "x", "severity": "major"}, "'type' is required"),
        ({**FLOOD, "severity": "apocalyptic"}, "'severity' must be one of"),
        ({**FLOOD, "colour": "red"}, "unknown member(s) colour"),
        ({**FLOOD, "location": {"type": "Point", "coordinates": [500, 10]}}, "within range"),
        ({**FLOOD, "title": "   "}, "'title' must not be empty"),
    ]
    for body, words in cases:
        problem(app.call("operator", "POST", "/ioc/incidents", body), 400, "BadRequestData", words=words)
    problem(app.call("operator", "POST", "/ioc/incidents", [1]), 400, "BadRequestData", words="JSON object")
    response = app.client.post("/ioc/incidents", content=b"{not json", headers=as_key(app.keys["operator"]))
    problem(response, 400, "InvalidRequest", words="not valid JSON")
    problem(
        app.call("operator", "PATCH", f"/ioc/incidents/{iid}", {}), 400, "BadRequestData", words="nothing to change"
    )
    problem(app.call("operator", "PATCH", f"/ioc/incidents/{iid}", {"department": "nasa"}), 400, "BadRequestData")
    problem(app.call("operator", "PATCH", f"/ioc/incidents/{iid}", {"status": "closed"}), 400, "BadRequestData",
            words="unknown member(s) status")  # fmt: skip
    problem(app.call("operator", "PUT", f"/ioc/incidents/{iid}/checklist/pumps", {}), 400, "BadRequestData",
            words="'done' is required")  # fmt: skip
    problem(app.call("operator", "PUT", f"/ioc/incidents/{iid}/checklist/pumps", {"done": "yes"}), 400,
            "BadRequestData")  # fmt: skip
    problem(app.call("operator", "POST", f"/ioc/incidents/{iid}/comments", {"text": ""}), 400, "BadRequestData")
    not_found = problem(app.call("operator", "GET", "/ioc/incidents/nope"), 404, "ResourceNotFound")
    assert not_found["type"] == NGSI_ERRORS + "ResourceNotFound"
    for method, path, body in (
        ("PATCH", "/ioc/incidents/nope", {"title": "x"}),
        ("POST", "/ioc/incidents/nope/transitions", {"to": "assigned"}),
        ("POST", "/ioc/incidents/nope/comments", {"text": "x"}),
        ("PUT", "/ioc/incidents/nope/checklist/pumps", {"done": True}),
        ("PUT", f"/ioc/incidents/{iid}/checklist/no-such-item", {"done": True}),
    ):
        problem(app.call("operator", method, path, body), 404, "ResourceNotFound")
    for query in ("status=bogus", "overdue=maybe", "limit=0", "severity=x", "offset=-1"):
        problem(app.call("analyst", "GET", f"/ioc/incidents?{query}"), 400, "BadRequestData")


def test_closed_incidents_must_be_reopened_before_a_change(app: Desk) -> None:
    iid = app.open()["id"]
    for step in ({"to": "assigned"}, {"to": "in_progress"}, {"to": "resolved", "note": "ok"}, {"to": "closed"}):
        assert app.call("operator", "POST", f"/ioc/incidents/{iid}/transitions", step).status_code == 200
    problem(app.call("operator", "PATCH", f"/ioc/incidents/{iid}", {"title": "y"}), 409, "InvalidTransition",
            words="reopen it")  # fmt: skip
    assert app.call("operator", "POST", f"/ioc/incidents/{iid}/comments", {"text": "note"}).status_code == 201
    reopened = app.call("operator", "POST", f"/ioc/incidents/{iid}/transitions", {"to": "reopened", "note": "again"})
    assert reopened.json()["status"] == "reopened" and reopened.json()["closedAt"] is None
    assert app.call("operator", "PATCH", f"/ioc/incidents/{iid}", {"assignee": "b"}).json()["status"] == "assigned"


def test_opening_from_an_alert(app: Desk) -> None:
    app.alerts.add("alert-1")
    first = app.call("operator", "POST", "/ioc/incidents", {"alertId": "alert-1"})
    assert first.status_code == 201, first.text
    incident = first.json()
    assert (incident["type"], incident["severity"], incident["department"]) == ("flooding", "major", "flood_control")
    assert (incident["source"], incident["sourceRef"], incident["ward"]) == ("alert", "alert-1", "26743")
    assert incident["title"] == "Ngập 42 cm tại trạm 7" and incident["location"]["type"] == "Point"
    assert "Flooding 42 cm at gauge 7" in incident["description"] and incident["domain"] == "flood"
    assert app.alerts.links == [("alert-1", incident["id"])]
    again = app.call("operator", "POST", "/ioc/incidents", {"alertId": "alert-1"})
    assert again.status_code == 200 and again.json()["id"] == incident["id"]
    assert app.alerts.links == [("alert-1", incident["id"])]
    # the alert's label may name the type; the body may override severity and department
    app.alerts.add("alert-2", labels={"domain": "traffic", "incidentType": "traffic_light_fault"}, severity="minor")
    light = app.call("operator", "POST", "/ioc/incidents", {"alertId": "alert-2", "severity": "critical"}).json()
    assert (light["type"], light["severity"], light["department"]) == ("traffic_light_fault", "critical", "transport")
    app.alerts.add("alert-3", labels={"domain": "air"}, severity="warning", location=None)
    air = app.call("operator", "POST", "/ioc/incidents", {"alertId": "alert-3", "department": "health"}).json()
    assert (air["type"], air["department"], air["ward"]) == ("air_pollution", "health", None)
    problem(app.call("operator", "POST", "/ioc/incidents", {"alertId": "nope"}), 404, "ResourceNotFound",
            words="no alert 'nope'")  # fmt: skip
    problem(app.call("operator", "POST", "/ioc/incidents", {"alertId": "alert-1", "ward": "1"}), 400,
            "BadRequestData", words="unknown member(s) ward")  # fmt: skip
    app.client.app.state.ioc.alerts = None  # type: ignore[attr-defined]
    problem(app.call("operator", "POST", "/ioc/incidents", {"alertId": "alert-9"}), 503, "AlertsUnavailable")


def test_department_officers_see_and_change_only_their_department(app: Desk) -> None:
    light = app.open(type="traffic_light_fault", title="Đèn hỏng ngã tư")["id"]  # transport
    theft = app.open(type="public_security", title="Cướp giật")["id"]  # police
    mine = app.call("transport", "GET", "/ioc/incidents").json()
    assert mine["count"] == 1 and mine["incidents"][0]["id"] == light
    assert app.call("transport", "GET", "/ioc/incidents?department=police").json()["count"] == 0
    assert app.call("transport", "GET", f"/ioc/incidents/{light}").status_code == 200
    for method, path, body in (
        ("GET", f"/ioc/incidents/{theft}", None),
        ("PATCH", f"/ioc/incidents/{theft}", {"assignee": "me"}),
        ("POST", f"/ioc/incidents/{theft}/transitions", {"to": "assigned"}),
        ("POST", f"/ioc/incidents/{theft}/comments", {"text": "x"}),
        ("PUT", f"/ioc/incidents/{theft}/checklist/dispatch", {"done": True}),
    ):
        problem(app.call("transport", method, path, body), 404, "ResourceNotFound")
    assert app.call("police", "GET", f"/ioc/incidents/{theft}").status_code == 200
    assert app.call("operator", "GET", "/ioc/incidents").json()["count"] == 2
    assert app.call("admin", "GET", "/ioc/incidents").json()["count"] == 2
    # an officer opens for their own department (by default, or when named), never for another one
    own = app.open("transport", type="flooding")
    assert own["department"] == "transport"
    problem(app.call("transport", "POST", "/ioc/incidents", {**FLOOD, "department": "police"}), 403, "Forbidden",
            words="own department")  # fmt: skip
    assert app.call("transport", "PATCH", f"/ioc/incidents/{light}", {"assignee": "tổ 2"}).status_code == 200


def test_the_policy_rows(app: Desk) -> None:
    iid = app.open()["id"]
    assert app.call("analyst", "GET", f"/ioc/incidents/{iid}").status_code == 200
    for who in ("analyst", "citizen"):
        problem(app.call(who, "PATCH", f"/ioc/incidents/{iid}", {"title": "x"}), 403, "Forbidden")
        problem(app.call(who, "POST", "/ioc/incidents", FLOOD), 403, "Forbidden")
    problem(app.call("citizen", "GET", "/ioc/incidents"), 403, "Forbidden")
    assert app.client.get("/ioc/incidents").status_code == 401


def test_changes_are_audited_with_the_incident(app: Desk) -> None:
    incident = app.open()
    app.call("operator", "POST", f"/ioc/incidents/{incident['id']}/comments", {"text": "x"})
    flush(app.client)
    mine = app.call("admin", "GET", "/security/audit?action=ioc.incident&limit=50").json()
    assert [r["action"] for r in mine] == ["ioc.incident.open", "ioc.incident.comment"]
    assert all(r["outcome"] == "success" and r["details"]["number"] == incident["number"] for r in mine)
    assert mine[1]["target"] == f"/ioc/incidents/{incident['id']}/comments"


def test_sla_breach_shows_in_the_views(app: Desk) -> None:
    iid = app.open(severity="critical")["id"]  # flooding, critical: 2 h
    # the app's own SLA watch may run at any moment too: what counts is that each mark falls once
    app.clock.advance(hours=1, minutes=36)
    app.desk.check_sla()
    app.clock.advance(minutes=25)
    app.desk.check_sla()
    app.desk.check_sla()
    view = app.call("operator", "GET", f"/ioc/incidents/{iid}").json()
    assert view["breached"] is True
    assert [e["kind"] for e in view["timeline"]][-2:] == ["sla_warning", "sla_breached"]
    assert app.call("operator", "GET", "/ioc/incidents?overdue=true").json()["count"] == 1
    events = app.client.app.state.ioc.events.since(0)  # type: ignore[attr-defined]
    assert [e.kind for e in events if e.kind.startswith("incident.sla")] == ["incident.sla_warning",
                                                                             "incident.sla_breached"]  # fmt: skip
