"""Shared pieces of the incident tests: a controlled clock, a fake alert manager, a desk on a store."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from smartcity.hub.store import Store
from smartcity.ioc.contracts import IncidentRequest, Severity
from smartcity.ioc.events import EventHub, IocEvent
from smartcity.ioc.incidents.catalogue import packaged
from smartcity.ioc.incidents.desk import IncidentDesk

START = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 08:00 in Ho Chi Minh City


class Clock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeAlerts:
    """A stand-in for the alert manager (contracts.AlertsView plus link_incident)."""

    def __init__(self) -> None:
        self.alerts: dict[str, dict[str, Any]] = {}
        self.links: list[tuple[str, str]] = []

    def add(self, alert_id: str, **fields: Any) -> dict[str, Any]:
        alert: dict[str, Any] = {
            "id": alert_id,
            "ruleId": "flood-depth",
            "ruleVersion": 3,
            "ruleName": "Flood depth over 30 cm",
            "subject": "urn:ngsi-ld:FloodMonitoring:gauge-7",
            "subjectType": "FloodMonitoring",
            "severity": "major",
            "status": "active",
            "acknowledged": False,
            "count": 4,
            "value": 0.42,
            "summary": {"vi": "Ngập 42 cm tại trạm 7", "en": "Flooding 42 cm at gauge 7"},
            "labels": {"domain": "flood", "ward": "26743"},
            "location": {"type": "Point", "coordinates": [106.7, 10.78]},
            "incidentId": None,
        }
        alert.update(fields)
        self.alerts[alert_id] = alert
        return alert

    def get(self, alert_id: str) -> Mapping[str, Any] | None:
        return self.alerts.get(alert_id)

    def summary(self) -> Mapping[str, Any]:
        return {"active": len(self.alerts)}

    def link_incident(self, alert_id: str, incident_id: str) -> None:
        self.links.append((alert_id, incident_id))
        self.alerts[alert_id]["incidentId"] = incident_id


class Recorder(EventHub):
    """An event hub that keeps what was published (no subscribers needed)."""

    def kinds(self) -> list[str]:
        return [e.kind for e in self.since(0)]

    def of(self, kind: str) -> list[IocEvent]:
        return [e for e in self.since(0) if e.kind == kind]


def desk_on(store: Store, clock: Clock, events: EventHub | None = None) -> IncidentDesk:
    return IncidentDesk(store, "", packaged(), events, clock)


def request(**fields: Any) -> IncidentRequest:
    values: dict[str, Any] = {
        "type": "road_damage",
        "title": "Ổ gà lớn trên đường Nguyễn Huệ",
        "description": "about 50 cm wide",
        "severity": Severity.MAJOR,
        "source": "manual",
        "opened_by": "operator-1",
    }
    values.update(fields)
    return IncidentRequest(**values)
