"""A controlled clock, signals and alert managers on a real store for the alerts' tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from smartcity.hub.store import Store
from smartcity.ioc.alerts.manager import AlertManager
from smartcity.ioc.alerts.repository import AlertTables
from smartcity.ioc.contracts import Severity, Signal
from smartcity.ioc.events import EventHub

T0 = datetime(2026, 9, 14, 7, 30, tzinfo=UTC)
GAUGE = "urn:ngsi-ld:FloodMonitoring:hcmc-gauge-nguyen-huu-canh"
POINT = {"type": "Point", "coordinates": [106.7128, 10.7921]}


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


def flood(clock: Clock, *, firing: bool = True, severity: Severity = Severity.MAJOR, **changes: Any) -> Signal:
    signal = Signal(
        rule_id="flood-level",
        rule_version=1,
        rule_name="Flood level above 0.3 m",
        subject=GAUGE,
        subject_type="FloodMonitoring",
        firing=firing,
        severity=severity,
        at=clock(),
        labels={"domain": "flood", "ward": "26740"},
        value=0.42,
        summary_vi="Ngập 0,42 m tại Nguyễn Hữu Cảnh",
        summary_en="Flooding 0.42 m on Nguyen Huu Canh",
        location=POINT,
    )
    return replace(signal, **changes)


def manager_on(store: Store, clock: Clock, events: EventHub | None = None) -> AlertManager:
    return AlertManager(AlertTables(store, ""), events=events, clock=clock)


def kinds(manager: AlertManager, alert_id: str) -> list[str]:
    with manager.tables.read() as tx:
        return [f.kind for f in tx.facts(alert_id)]


def outbox(manager: AlertManager) -> list[tuple[str, str | None, str]]:
    """(channel, alert, reason) of every queued delivery, oldest first."""
    with manager.tables.read() as tx:
        rows = []
        for channel in tx.channels():
            rows += [(d.id, d.channel_id, d.alert_id, d.reason) for d in tx.deliveries(channel.id, 1000)]
    return [(c, a, r) for _, c, a, r in sorted(rows)]
