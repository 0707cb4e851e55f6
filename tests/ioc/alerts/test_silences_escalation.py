"""Silences and escalation with a controlled clock: silenced alerts are recorded but neither notified nor
escalated; ending a silence re-evaluates; unacknowledged alerts climb their policy's levels."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from smartcity.hub.errors import BadRequestData, ResourceNotFound
from smartcity.hub.store import Store
from smartcity.ioc.alerts import configuration as conf
from smartcity.ioc.alerts.escalation import escalate_due, tick
from smartcity.ioc.alerts.manager import AlertManager
from smartcity.ioc.alerts.model import iso
from smartcity.ioc.alerts.silencing import add_silence, end_silence, list_silences
from smartcity.ioc.contracts import Severity
from smartcity.ioc.events import EventHub
from tests.ioc.alerts.support import GAUGE, Clock, flood, kinds, manager_on, outbox

#: a square around the gauge (about 2 km wide) and one far away in Thu Duc
NEAR = {
    "type": "Polygon",
    "coordinates": [[[106.70, 10.78], [106.72, 10.78], [106.72, 10.80], [106.70, 10.80], [106.70, 10.78]]],
}
FAR = {
    "type": "Polygon",
    "coordinates": [[[106.80, 10.85], [106.81, 10.85], [106.81, 10.86], [106.80, 10.86], [106.80, 10.85]]],
}


def _window(clock: Clock, minutes: float = 60, **matchers: Any) -> dict[str, Any]:
    return {"matchers": matchers, "endsAt": iso(clock() + timedelta(minutes=minutes)), "comment": "pump works"}


def _channels(manager: AlertManager) -> None:
    conf.put_channel(
        manager,
        {
            "id": "ops-hook",
            "name": "Ops webhook",
            "type": "webhook",
            "target": "http://127.0.0.1:9/alerts",
            "matchers": {"domain": "flood"},
        },
    )
    conf.put_channel(
        manager, {"id": "director", "name": "Director", "type": "email", "target": "director@hcmc.example"}
    )


@pytest.mark.parametrize(
    ("matchers", "silenced"),
    [
        ({"ruleId": "flood-level"}, True),
        ({"ruleId": ["other", "flood-level"]}, True),
        ({"subject": GAUGE}, True),
        ({"ward": "26740"}, True),
        ({"ward": "00001"}, False),
        ({"domain": "flood", "ward": "26740"}, True),
        ({"domain": "air", "ward": "26740"}, False),
        ({"area": NEAR}, True),
        ({"area": FAR}, False),
        ({"area": {"center": [106.7128, 10.7930], "radius": 200}}, True),  # about 100 m away
        ({"area": {"center": [106.7128, 10.8021], "radius": 500}}, False),  # about 1.1 km away
    ],
)
def test_what_a_silence_matches(store: Store, matchers: dict[str, Any], silenced: bool) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    add_silence(manager, _window(clock, **matchers), "operator-lan")
    alert = manager.apply(flood(clock))
    assert alert is not None and alert.silenced is silenced


def test_a_silenced_alert_is_recorded_but_not_notified_and_ending_the_silence_notifies_it(store: Store) -> None:
    clock = Clock()
    events = EventHub()
    manager = manager_on(store, clock, events)
    _channels(manager)
    silence = add_silence(manager, _window(clock, ward="26740"), "operator-lan")
    alert = manager.apply(flood(clock))
    assert alert is not None and alert.silenced
    assert outbox(manager) == []
    assert kinds(manager, alert.id) == ["raised", "silenced"]
    clock.advance(minutes=10)
    ended = end_silence(manager, silence.id)
    assert ended.ends_at == "2026-09-14T07:40:00.000000Z"
    view = manager.get(alert.id)
    assert view is not None and view["silenced"] is False
    assert outbox(manager) == [("ops-hook", alert.id, "raised")]
    assert kinds(manager, alert.id) == ["raised", "silenced", "unsilenced"]
    assert events.since(0)[-1].kind == "alert.updated"
    assert list_silences(manager, expired=False) == []
    assert [s.id for s in list_silences(manager, expired=True)] == [silence.id]


def test_a_silence_window_opens_and_closes_by_itself(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    body = _window(clock, minutes=30, domain="flood")
    body["startsAt"] = iso(clock() + timedelta(minutes=10))
    add_silence(manager, body, "operator-lan")
    alert = manager.apply(flood(clock))
    assert alert is not None and not alert.silenced  # not in force yet
    clock.advance(minutes=10)
    tick(manager)
    assert (manager.get(alert.id) or {})["silenced"] is True
    clock.advance(minutes=30)
    tick(manager)
    assert (manager.get(alert.id) or {})["silenced"] is False


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"matchers": {"ward": "26740"}}, "'endsAt' is required"),
        ({"matchers": {"ward": "26740"}, "endsAt": "tomorrow"}, "ISO 8601"),
        (
            {"matchers": {"ward": "26740"}, "startsAt": "2026-09-14T09:00:00Z", "endsAt": "2026-09-14T08:00:00Z"},
            "after",
        ),
        (
            {"matchers": {"ward": "26740"}, "startsAt": "2026-09-14T06:00:00Z", "endsAt": "2026-09-14T07:00:00Z"},
            "in the past",
        ),
        ({"matchers": {}, "endsAt": "2026-09-14T09:00:00Z"}, "at least one matcher"),
        ({"matchers": {"colour": "red"}, "endsAt": "2026-09-14T09:00:00Z"}, "unknown matchers"),
        ({"matchers": {"area": {"center": [106.7, 10.8], "radius": -1}}, "endsAt": "2026-09-14T09:00:00Z"}, "radius"),
        ({"matchers": {"area": {"type": "Point", "coordinates": [1, 2]}}, "endsAt": "2026-09-14T09:00:00Z"}, "Polygon"),
        ([], "JSON object"),
    ],
)
def test_bad_silences_are_refused(store: Store, body: Any, message: str) -> None:
    manager = manager_on(store, Clock())
    with pytest.raises(BadRequestData, match=message):
        add_silence(manager, body, "operator-lan")


def test_ending_an_unknown_silence_is_not_found(store: Store) -> None:
    with pytest.raises(ResourceNotFound):
        end_silence(manager_on(store, Clock()), "nope")


def _flood_policy(manager: AlertManager) -> None:
    conf.put_policy(
        manager,
        {
            "id": "flood-critical",
            "name": "Flood critical",
            "matchers": {"domain": "flood", "severity": "critical"},
            "levels": [{"afterMinutes": 5, "channels": ["director"]}, {"afterMinutes": 15, "channels": ["gone"]}],
        },
    )


def test_an_unacknowledged_alert_climbs_the_levels_of_its_policy(store: Store) -> None:
    clock = Clock()
    events = EventHub()
    manager = manager_on(store, clock, events)
    _channels(manager)
    _flood_policy(manager)
    alert = manager.apply(flood(clock, severity=Severity.CRITICAL))
    minor = manager.apply(flood(clock, subject="urn:ngsi-ld:FloodMonitoring:minor", severity=Severity.MINOR))
    assert alert is not None and minor is not None
    clock.advance(minutes=4, seconds=59)
    assert escalate_due(manager) == 0
    clock.advance(seconds=1)
    assert escalate_due(manager) == 1
    assert escalate_due(manager) == 0  # once per level
    view = manager.get(alert.id)
    assert view is not None and view["escalationLevel"] == 1
    assert (manager.get(minor.id) or {})["escalationLevel"] == 0  # no policy for minor floods
    assert ("director", alert.id, "escalated") in outbox(manager)
    clock.advance(minutes=10)
    assert escalate_due(manager) == 1
    timeline = manager.detail(alert.id)["timeline"]
    escalations = [f["detail"] for f in timeline if f["kind"] == "escalated"]
    assert [e["level"] for e in escalations] == [1, 2]
    assert escalations[1]["unavailableChannels"] == ["gone"]
    assert [e.kind for e in events.since(0)].count("alert.escalated") == 2
    clock.advance(hours=5)
    assert escalate_due(manager) == 0  # no level beyond the last


def test_acknowledging_stops_escalation_and_silenced_alerts_do_not_escalate(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    _flood_policy(manager)
    acked = manager.apply(flood(clock, severity=Severity.CRITICAL))
    silenced_body = _window(clock, minutes=120, subject="urn:ngsi-ld:FloodMonitoring:quiet")
    add_silence(manager, silenced_body, "operator-lan")
    quiet = manager.apply(flood(clock, subject="urn:ngsi-ld:FloodMonitoring:quiet", severity=Severity.CRITICAL))
    assert acked is not None and quiet is not None and quiet.silenced
    clock.advance(minutes=1)
    manager.acknowledge(acked.id, "operator-lan")
    clock.advance(minutes=30)
    assert escalate_due(manager) == 0
    assert (manager.get(acked.id) or {})["escalationLevel"] == 0
    assert (manager.get(quiet.id) or {})["escalationLevel"] == 0


def test_escalation_restarts_its_clock_when_a_silence_ends(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    _flood_policy(manager)
    silence = add_silence(manager, _window(clock, minutes=120, ward="26740"), "operator-lan")
    alert = manager.apply(flood(clock, severity=Severity.CRITICAL))
    assert alert is not None
    clock.advance(minutes=30)
    end_silence(manager, silence.id)
    clock.advance(minutes=4)
    assert escalate_due(manager) == 0  # 4 minutes since the silence ended, not 34 since it was raised
    clock.advance(minutes=1)
    assert escalate_due(manager) == 1


def test_cleared_alerts_are_notified_where_they_were_and_upgrades_too(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    _channels(manager)
    alert = manager.apply(flood(clock, severity=Severity.MINOR))
    manager.apply(flood(clock, severity=Severity.CRITICAL))
    manager.apply(flood(clock, firing=False))
    assert alert is not None
    assert outbox(manager) == [
        ("ops-hook", alert.id, "raised"),
        ("ops-hook", alert.id, "upgraded"),
        ("ops-hook", alert.id, "cleared"),
    ]
    other = manager.apply(flood(clock, rule_id="pm25", labels={"domain": "air"}))
    assert other is not None and not other.notified  # no channel routes air alerts
