"""The alert manager: one active alert per (rule, subject), deduplicated, acknowledged and cleared by operators or
cleared automatically, each change durable before it is announced.

Every change runs under one lock in one transaction: the alert row, its timeline fact and the notifications it
queues (the outbox) commit together. Only then are the effects announced: the event (``alert.*``) for the live
dashboard, the NGSI-LD ``Alert`` entity in the hub, the wake-up of the deliverer. A signal whose transaction
fails is retried (with backoff) until it is recorded: nothing a rule reported is silently dropped.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from smartcity.hub.errors import NgsiError, ResourceNotFound
from smartcity.hub.model import parse_time, to_micros
from smartcity.ioc.alerts import model as m
from smartcity.ioc.alerts.entity import AlertEntities
from smartcity.ioc.alerts.model import Alert, AlertFilter, Clock, Fact, iso, more_severe, utc_now
from smartcity.ioc.alerts.repository import AlertTables, Tx
from smartcity.ioc.contracts import Severity, Signal
from smartcity.ioc.events import EventHub

log = logging.getLogger(__name__)

SUMMARY_DAYS = 30


class AlertConflict(NgsiError):
    """The alert is not in a state that allows the operation (already acknowledged, already cleared)."""

    error_type = "Conflict"
    status = 409
    title = "Conflict"

    @property
    def type_uri(self) -> str:
        return "https://smartcity.hcmc.gov.vn/errors/ioc/Conflict"


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Effects:
    """What a committed change announces: events, alerts to mirror into the hub, whether the outbox grew."""

    events: list[tuple[str, Alert]] = field(default_factory=list)
    queued: bool = False

    def announce(self, kind: str, alert: Alert) -> None:
        self.events.append((kind, alert))


def notification(reason: str, alert: Alert, **extra: Any) -> bytes:
    """The JSON a channel receives: why, and the alert's JSON view."""
    return orjson.dumps({"reason": reason, "alert": alert.view(), **extra})


class AlertManager:
    """Implements :class:`smartcity.ioc.contracts.AlertSink` and :class:`~smartcity.ioc.contracts.AlertsView`."""

    def __init__(
        self,
        tables: AlertTables,
        *,
        events: EventHub | None = None,
        entities: AlertEntities | None = None,
        clock: Clock = utc_now,
        retry_max: float = 5.0,
    ) -> None:
        self.tables = tables
        self.events = events
        self.entities = entities
        self.clock = clock
        self.retry_max = retry_max
        self.wake: Callable[[], None] = lambda: None  # set by the deliverer: new rows in the outbox
        self.senders: Any = None  # the channels' senders (alerts.senders.Senders), for test messages
        self._lock = threading.RLock()

    # -- AlertSink -------------------------------------------------------------------------------

    async def signal(self, signal: Signal) -> None:
        """Raise, refresh or clear the alert the signal is about; retried until it is recorded."""
        delay = 0.05
        while True:
            try:
                await run_in_threadpool(self.apply, signal)
                return
            except Exception:
                log.exception(
                    "recording the signal of rule %s on %s failed; retrying in %.2f s",
                    signal.rule_id,
                    signal.subject,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max)

    def apply(self, signal: Signal) -> Alert | None:
        """Record a signal (synchronously); the alert it raised, refreshed or cleared (None: nothing to clear)."""
        with self._change() as (tx, fx):
            current = tx.active_for(signal.rule_id, signal.subject)
            if signal.firing:
                if current is None:
                    return self._raise(tx, fx, signal)
                return self._refresh(tx, fx, current, signal)
            if current is None:
                log.debug("rule %s ended on %s with no active alert", signal.rule_id, signal.subject)
                return None
            self._clear(tx, fx, current, by=m.AUTO, note=None, at=iso(signal.at) or "")
            return current

    def _raise(self, tx: Tx, fx: Effects, s: Signal) -> Alert:
        at = iso(s.at) or ""
        now = iso(self.clock()) or ""
        alert = Alert(
            id=new_id(),
            rule_id=s.rule_id,
            rule_version=s.rule_version,
            rule_name=s.rule_name,
            subject=s.subject,
            subject_type=s.subject_type,
            severity=s.severity,
            status=m.ACTIVE,
            count=1,
            first_seen=at,
            last_seen=at,
            value=s.value,
            summary_vi=s.summary_vi,
            summary_en=s.summary_en,
            labels=dict(s.labels),
            location=None if s.location is None else dict(s.location),
            escalate_from=now,
            updated_at=now,
        )
        silence = self.silence_of(tx, alert, now)
        alert.silenced = silence is not None
        tx.insert(alert)
        tx.add_fact(alert.id, Fact(now, m.RAISED, m.SYSTEM, {"severity": str(s.severity), "value": s.value}))
        if silence is not None:
            tx.add_fact(alert.id, Fact(now, m.SILENCED, m.SYSTEM, {"silenceId": silence}))
        else:
            self.route(tx, fx, alert, "raised")
        fx.announce("alert.raised", alert)
        return alert

    def _refresh(self, tx: Tx, fx: Effects, alert: Alert, s: Signal) -> Alert:
        at = iso(s.at) or ""
        now = iso(self.clock()) or ""
        alert.count += 1
        alert.last_seen = max(alert.last_seen, at)
        alert.value = s.value
        alert.rule_version, alert.rule_name = s.rule_version, s.rule_name
        alert.summary_vi, alert.summary_en = s.summary_vi or alert.summary_vi, s.summary_en or alert.summary_en
        alert.labels = {**alert.labels, **s.labels}
        if s.location is not None:
            alert.location = dict(s.location)
        alert.updated_at = now
        upgraded = more_severe(s.severity, alert.severity)
        if upgraded:
            tx.add_fact(alert.id, Fact(now, "severity_raised", m.SYSTEM, {"from": alert.severity, "to": s.severity}))
            alert.severity = s.severity
        else:
            tx.coalesce_refresh(alert.id, Fact(now, m.REFRESHED, m.SYSTEM, {"value": s.value, "seen": at}))
        tx.save(alert)
        if upgraded and not alert.silenced:
            self.route(tx, fx, alert, "upgraded")
        fx.announce("alert.updated", alert)
        return alert

    def _clear(self, tx: Tx, fx: Effects, alert: Alert, *, by: str, note: str | None, at: str) -> None:
        now = iso(self.clock()) or ""
        alert.status = m.CLEARED
        alert.cleared_at = max(at, alert.first_seen)
        alert.cleared_by = by
        alert.clear_note = note
        alert.updated_at = now
        tx.save(alert)
        tx.add_fact(alert.id, Fact(now, m.CLEARED_FACT, by, {"note": note} if note else {}))
        if alert.notified and not alert.silenced:
            self.route(tx, fx, alert, "cleared")
        fx.announce("alert.cleared", alert)

    # -- operators -------------------------------------------------------------------------------

    def acknowledge(self, alert_id: str, by: str, note: str | None = None) -> Alert:
        with self._change() as (tx, fx):
            alert = self._existing(tx, alert_id)
            if alert.acknowledged:
                raise AlertConflict(f"alert {alert_id} was already acknowledged by {alert.acknowledged_by}")
            now = iso(self.clock()) or ""
            alert.acknowledged_at, alert.acknowledged_by, alert.acknowledge_note = now, by, note
            alert.updated_at = now
            tx.save(alert)
            tx.add_fact(alert.id, Fact(now, m.ACKNOWLEDGED, by, {"note": note} if note else {}))
            fx.announce("alert.acknowledged", alert)
            return alert

    def clear(self, alert_id: str, by: str, note: str | None = None) -> Alert:
        """Clear by hand; while the condition holds, the rule's next firing opens a new alert."""
        with self._change() as (tx, fx):
            alert = self._existing(tx, alert_id)
            if not alert.active:
                raise AlertConflict(f"alert {alert_id} is already cleared (by {alert.cleared_by})")
            self._clear(tx, fx, alert, by=by, note=note, at=iso(self.clock()) or "")
            return alert

    def link_incident(self, alert_id: str, incident_id: str) -> Alert:
        """Record the incident opened for this alert (called by the incidents part)."""
        with self._change() as (tx, fx):
            alert = self._existing(tx, alert_id)
            now = iso(self.clock()) or ""
            alert.incident_id = incident_id
            alert.updated_at = now
            tx.save(alert)
            tx.add_fact(alert.id, Fact(now, m.INCIDENT, m.SYSTEM, {"incidentId": incident_id}))
            fx.announce("alert.updated", alert)
            return alert

    @staticmethod
    def _existing(tx: Tx, alert_id: str) -> Alert:
        alert = tx.get(alert_id)
        if alert is None:
            raise ResourceNotFound(f"alert {alert_id} not found")
        return alert

    # -- AlertsView and reads --------------------------------------------------------------------

    def get(self, alert_id: str) -> Mapping[str, Any] | None:
        with self.tables.read() as tx:
            alert = tx.get(alert_id)
        return None if alert is None else alert.view()

    def detail(self, alert_id: str) -> dict[str, Any]:
        """The alert's JSON view with its timeline (``GET /ioc/alerts/{id}``)."""
        with self.tables.read() as tx:
            alert = self._existing(tx, alert_id)
            facts = tx.facts(alert_id)
        return {**alert.view(), "timeline": [f.view() for f in facts]}

    def find(self, where: AlertFilter, limit: int, offset: int) -> tuple[list[Alert], int]:
        with self.tables.read() as tx:
            return tx.query(where, limit, offset)

    def summary(self) -> Mapping[str, Any]:
        now = self.clock()
        with self.tables.read() as tx:
            active = tx.active()
            recent = tx.since(iso(now - timedelta(days=SUMMARY_DAYS)) or "")
        by_domain: dict[str, int] = {}
        by_severity: dict[str, int] = {str(s): 0 for s in Severity}
        for alert in active:
            by_domain[alert.domain] = by_domain.get(alert.domain, 0) + 1
            by_severity[str(alert.severity)] += 1
        return {
            "active": len(active),
            "unacknowledged": sum(1 for a in active if not a.acknowledged),
            "activeByDomain": by_domain,
            "activeBySeverity": by_severity,
            "mttaSeconds": _mean_seconds((a.first_seen, a.acknowledged_at) for a in recent),
            "mttrSeconds": _mean_seconds((a.first_seen, a.cleared_at) for a in recent),
        }

    # -- shared with silences and escalation -----------------------------------------------------

    @contextmanager
    def _change(self) -> Iterator[tuple[Tx, Effects]]:
        fx = Effects()
        with self._lock:
            with self.tables.write() as tx:
                yield tx, fx
            self._announce(fx)

    def _announce(self, fx: Effects) -> None:
        for kind, alert in fx.events:
            if self.entities is not None:
                self.entities.upsert(alert)
            if self.events is not None:
                self.events.publish(kind, alert.view())
        if fx.queued:
            self.wake()

    def silence_of(self, tx: Tx, alert: Alert, now: str) -> str | None:
        """The id of a silence in force that matches the alert, if any."""
        for silence in tx.silences(ending_after=now):
            if silence.silences(alert, now):
                return silence.id
        return None

    def route(self, tx: Tx, fx: Effects, alert: Alert, reason: str) -> None:
        """Queue the notifications of an alert raised, upgraded or cleared on the channels that route it."""
        now = self.clock()
        body = notification(reason, alert)
        sent = False
        for channel in tx.channels():
            if channel.routes(alert):
                tx.enqueue(channel.id, alert.id, reason, body, iso(now) or "", to_micros(now))
                sent = True
        if sent:
            fx.queued = True
            if not alert.notified:
                alert.notified = True
                tx.save(alert)

    def queue_on(
        self, tx: Tx, fx: Effects, alert: Alert, channel_ids: tuple[str, ...], reason: str, **extra: Any
    ) -> list[str]:
        """Queue a notification on given channels (an escalation level's); returns the ids that do not exist."""
        now = self.clock()
        known = {c.id: c for c in tx.channels()}
        body = notification(reason, alert, **extra)
        missing = []
        for channel_id in channel_ids:
            channel = known.get(channel_id)
            if channel is None or not channel.enabled:
                missing.append(channel_id)
                continue
            tx.enqueue(channel_id, alert.id, reason, body, iso(now) or "", to_micros(now))
            fx.queued = True
        return missing


def _mean_seconds(pairs: Any) -> float | None:
    spans = []
    for start, end in pairs:
        if start is None or end is None:
            continue
        a, b = parse_time(start), parse_time(end)
        if a is not None and b is not None:
            spans.append((b - a).total_seconds())
    return sum(spans) / len(spans) if spans else None
