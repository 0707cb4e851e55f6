"""The alert manager with a controlled clock on both backends: deduplication, severity upgrades, automatic and
manual clearing, acknowledgement as its own fact, the timeline, events, KPIs, and no signal lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from smartcity.hub.errors import ResourceNotFound
from smartcity.hub.store import Store
from smartcity.ioc.alerts.manager import AlertConflict, AlertManager
from smartcity.ioc.alerts.model import AlertFilter
from smartcity.ioc.alerts.repository import AlertTables, Tx
from smartcity.ioc.contracts import Severity
from smartcity.ioc.events import EventHub
from tests.ioc.alerts.support import GAUGE, Clock, flood, kinds, manager_on


def test_repeated_firings_refresh_one_alert_and_coalesce_the_timeline(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    first = manager.apply(flood(clock))
    assert first is not None
    for minutes in (1, 2, 3):
        clock.advance(minutes=1)
        again = manager.apply(flood(clock, value=0.40 + minutes / 100))
        assert again is not None and again.id == first.id
    view = manager.get(first.id)
    assert view is not None
    assert view["count"] == 4
    assert view["firstSeen"] == "2026-09-14T07:30:00.000000Z"
    assert view["lastSeen"] == "2026-09-14T07:33:00.000000Z"
    assert view["value"] == pytest.approx(0.43)
    assert view["status"] == "active" and view["acknowledged"] is False
    detail = manager.detail(first.id)
    assert [f["kind"] for f in detail["timeline"]] == ["raised", "refreshed"]
    refreshed = detail["timeline"][1]["detail"]
    assert refreshed["times"] == 3 and refreshed["until"] == "2026-09-14T07:33:00.000000Z"
    alerts, total = manager.find(AlertFilter(status="all"), 10, 0)
    assert total == 1 and len(alerts) == 1


def test_one_active_alert_per_rule_and_subject(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    a = manager.apply(flood(clock))
    b = manager.apply(flood(clock, subject="urn:ngsi-ld:FloodMonitoring:other"))
    c = manager.apply(flood(clock, rule_id="flood-rain"))
    assert a is not None and b is not None and c is not None
    assert len({a.id, b.id, c.id}) == 3
    assert manager.summary()["active"] == 3


def test_severity_only_goes_up_and_an_upgrade_is_its_own_fact(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    alert = manager.apply(flood(clock, severity=Severity.MINOR))
    assert alert is not None
    manager.apply(flood(clock, severity=Severity.CRITICAL))
    manager.apply(flood(clock, severity=Severity.WARNING))
    view = manager.get(alert.id)
    assert view is not None and view["severity"] == "critical" and view["count"] == 3
    assert kinds(manager, alert.id) == ["raised", "severity_raised", "refreshed"]


def test_the_end_of_the_condition_clears_automatically_and_a_new_firing_opens_a_new_alert(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    first = manager.apply(flood(clock))
    assert first is not None
    clock.advance(minutes=20)
    cleared = manager.apply(flood(clock, firing=False))
    assert cleared is not None and cleared.id == first.id
    view = manager.get(first.id)
    assert view is not None
    assert view["status"] == "cleared" and view["clearedBy"] == "auto"
    assert view["clearedAt"] == "2026-09-14T07:50:00.000000Z"
    assert manager.apply(flood(clock, firing=False)) is None  # nothing active: nothing to clear
    clock.advance(minutes=5)
    second = manager.apply(flood(clock))
    assert second is not None and second.id != first.id and second.count == 1
    assert kinds(manager, first.id) == ["raised", "cleared"]
    active, total = manager.find(AlertFilter(), 10, 0)
    assert total == 1 and active[0].id == second.id
    cleared_list, cleared_total = manager.find(AlertFilter(status="cleared"), 10, 0)
    assert cleared_total == 1 and cleared_list[0].id == first.id


def test_acknowledge_and_clear_are_separate_facts_with_who_when_and_note(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    alert = manager.apply(flood(clock))
    assert alert is not None
    clock.advance(minutes=3)
    manager.acknowledge(alert.id, "operator-lan", "crew dispatched")
    with pytest.raises(AlertConflict):
        manager.acknowledge(alert.id, "operator-minh")
    clock.advance(minutes=10)
    manager.clear(alert.id, "operator-minh", "water receded")
    with pytest.raises(AlertConflict):
        manager.clear(alert.id, "operator-lan")
    view = manager.get(alert.id)
    assert view is not None
    assert view["acknowledged"] and view["acknowledgedBy"] == "operator-lan"
    assert view["acknowledgedAt"] == "2026-09-14T07:33:00.000000Z"
    assert view["status"] == "cleared" and view["clearedBy"] == "operator-minh"
    assert view["clearedAt"] == "2026-09-14T07:43:00.000000Z"
    timeline = manager.detail(alert.id)["timeline"]
    assert [(f["kind"], f["by"], f["detail"].get("note")) for f in timeline] == [
        ("raised", "ioc", None),
        ("acknowledged", "operator-lan", "crew dispatched"),
        ("cleared", "operator-minh", "water receded"),
    ]
    # a rule still firing after a manual clear opens a new alert rather than reviving the cleared one
    again = manager.apply(flood(clock))
    assert again is not None and again.id != alert.id


def test_a_cleared_alert_may_still_be_acknowledged(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    alert = manager.apply(flood(clock))
    assert alert is not None
    manager.apply(flood(clock, firing=False))
    acknowledged = manager.acknowledge(alert.id, "operator-lan")
    assert acknowledged.acknowledged and acknowledged.status == "cleared"


def test_unknown_alerts_are_not_found(store: Store) -> None:
    manager = manager_on(store, Clock())
    assert manager.get("nope") is None
    for call in (manager.acknowledge, manager.clear, manager.link_incident):
        with pytest.raises(ResourceNotFound):
            call("nope", "x")
    with pytest.raises(ResourceNotFound):
        manager.detail("nope")


def test_every_change_is_published_with_the_alert_view(store: Store) -> None:
    clock = Clock()
    events = EventHub()
    manager = manager_on(store, clock, events)
    alert = manager.apply(flood(clock))
    assert alert is not None
    manager.apply(flood(clock))
    manager.acknowledge(alert.id, "operator-lan")
    manager.link_incident(alert.id, "inc-1")
    manager.apply(flood(clock, firing=False))
    seen = events.since(0)
    assert [e.kind for e in seen] == [
        "alert.raised",
        "alert.updated",
        "alert.acknowledged",
        "alert.updated",
        "alert.cleared",
    ]
    assert all(e.data["id"] == alert.id for e in seen)
    assert seen[1].data["count"] == 2
    assert seen[3].data["incidentId"] == "inc-1"
    assert seen[4].data["status"] == "cleared" and seen[4].data["acknowledged"] is True


def test_summary_counts_and_mean_times_to_acknowledge_and_clear(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    a = manager.apply(flood(clock, severity=Severity.CRITICAL))
    b = manager.apply(flood(clock, subject="urn:ngsi-ld:FloodMonitoring:b"))
    c = manager.apply(flood(clock, rule_id="pm25", labels={"domain": "air"}))
    assert a is not None and b is not None and c is not None
    clock.advance(minutes=2)
    manager.acknowledge(a.id, "op")
    clock.advance(minutes=2)
    manager.acknowledge(b.id, "op")
    clock.advance(minutes=6)
    manager.clear(a.id, "op")
    summary = manager.summary()
    assert summary["active"] == 2
    assert summary["unacknowledged"] == 1
    assert summary["activeByDomain"] == {"flood": 1, "air": 1}
    assert summary["activeBySeverity"]["major"] == 2 and summary["activeBySeverity"]["critical"] == 0
    assert summary["mttaSeconds"] == pytest.approx(180.0)  # (120 + 240) / 2
    assert summary["mttrSeconds"] == pytest.approx(600.0)


class FlakyTables(AlertTables):
    """Tables whose first writes fail, as a database restarting would."""

    def __init__(self, store: Store, failures: int) -> None:
        super().__init__(store, "")
        self.failures = failures

    @contextmanager
    def write(self) -> Iterator[Tx]:
        if self.failures > 0:
            self.failures -= 1
            raise OSError("database unavailable")
        with super().write() as tx:
            yield tx


def test_a_signal_is_retried_until_it_is_recorded(store: Store, caplog: Any) -> None:
    clock = Clock()
    tables = FlakyTables(store, failures=3)
    manager = AlertManager(tables, clock=clock, retry_max=0.01)
    asyncio.run(manager.signal(flood(clock)))
    assert tables.failures == 0
    alerts, total = manager.find(AlertFilter(), 10, 0)
    assert total == 1 and alerts[0].subject == GAUGE
    assert sum("retrying" in r.getMessage() for r in caplog.records) == 3
