"""The alerts' tables (migration 0014), bound to one hub tenant: every statement carries its ``tenant_id``.

:class:`AlertTables` opens transactions; :class:`Tx` is one transaction's door to the tables. Only bound
parameters reach the SQL; the few composed fragments are fixed column names.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from smartcity.hub.store import Store
from smartcity.hub.store.sql import Db
from smartcity.ioc.alerts.model import ACTIVE, REFRESHED, Alert, AlertFilter, Fact
from smartcity.ioc.alerts.policies import Channel, EscalationPolicy, Level
from smartcity.ioc.alerts.silences import Silence
from smartcity.ioc.contracts import Severity

_ALERT_COLUMNS = (
    "id, rule_id, rule_version, rule_name, subject, subject_type, severity, status, acknowledged_at, "
    "acknowledged_by, acknowledge_note, cleared_at, cleared_by, clear_note, count, first_seen, last_seen, value, "
    "summary_vi, summary_en, labels, domain, ward, location, silenced, escalation_level, escalate_from, notified, "
    "incident_id, updated_at"
)
_ALERT_MARKS = ", ".join("?" for _ in _ALERT_COLUMNS.split(","))
_ALERT_UPDATE = ", ".join(f"{c.strip()} = ?" for c in _ALERT_COLUMNS.split(",")[1:])


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _alert_row(a: Alert) -> list[Any]:
    return [
        a.id,
        a.rule_id,
        a.rule_version,
        a.rule_name,
        a.subject,
        a.subject_type,
        str(a.severity),
        a.status,
        a.acknowledged_at,
        a.acknowledged_by,
        a.acknowledge_note,
        a.cleared_at,
        a.cleared_by,
        a.clear_note,
        a.count,
        a.first_seen,
        a.last_seen,
        a.value,
        a.summary_vi,
        a.summary_en,
        _dumps(a.labels),
        a.domain,
        a.ward,
        None if a.location is None else _dumps(a.location),
        1 if a.silenced else 0,
        a.escalation_level,
        a.escalate_from,
        1 if a.notified else 0,
        a.incident_id,
        a.updated_at,
    ]


def _alert(r: Sequence[Any]) -> Alert:
    return Alert(
        id=r[0],
        rule_id=r[1],
        rule_version=int(r[2]),
        rule_name=r[3],
        subject=r[4],
        subject_type=r[5],
        severity=Severity(r[6]),
        status=r[7],
        acknowledged_at=r[8],
        acknowledged_by=r[9],
        acknowledge_note=r[10],
        cleared_at=r[11],
        cleared_by=r[12],
        clear_note=r[13],
        count=int(r[14]),
        first_seen=r[15],
        last_seen=r[16],
        value=None if r[17] is None else float(r[17]),
        summary_vi=r[18],
        summary_en=r[19],
        labels=orjson.loads(r[20]),
        location=None if r[23] is None else orjson.loads(r[23]),
        silenced=bool(r[24]),
        escalation_level=int(r[25]),
        escalate_from=r[26],
        notified=bool(r[27]),
        incident_id=r[28],
        updated_at=r[29],
    )


@dataclass(frozen=True)
class Delivery:
    """One queued notification of the outbox."""

    id: int
    channel_id: str
    alert_id: str | None
    reason: str
    payload: bytes
    state: str
    attempts: int
    next_at: int
    last_error: str | None
    created_at: str
    done_at: str | None

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channelId": self.channel_id,
            "alertId": self.alert_id,
            "reason": self.reason,
            "state": self.state,
            "attempts": self.attempts,
            "lastError": self.last_error,
            "createdAt": self.created_at,
            "doneAt": self.done_at,
        }


_DELIVERY_COLUMNS = (
    "id, channel_id, alert_id, reason, payload, state, attempts, next_at, last_error, created_at, done_at"
)


def _delivery(r: Sequence[Any]) -> Delivery:
    return Delivery(int(r[0]), r[1], r[2], r[3], r[4].encode(), r[5], int(r[6]), int(r[7]), r[8], r[9], r[10])


class Tx:
    """One transaction on the alerts' tables of one tenant."""

    def __init__(self, db: Db, tenant_id: int) -> None:
        self.db = db
        self.tid = tenant_id

    # -- alerts ----------------------------------------------------------------------------------

    def active_for(self, rule_id: str, subject: str) -> Alert | None:
        row = self.db.run(
            f"SELECT {_ALERT_COLUMNS} FROM ioc_alerts WHERE tenant_id = ? AND rule_id = ? AND subject = ? "
            "AND status = ?",
            [self.tid, rule_id, subject, ACTIVE],
        ).fetchone()
        return None if row is None else _alert(row)

    def get(self, alert_id: str) -> Alert | None:
        row = self.db.run(
            f"SELECT {_ALERT_COLUMNS} FROM ioc_alerts WHERE tenant_id = ? AND id = ?", [self.tid, alert_id]
        ).fetchone()
        return None if row is None else _alert(row)

    def insert(self, alert: Alert) -> None:
        self.db.run(
            f"INSERT INTO ioc_alerts (tenant_id, {_ALERT_COLUMNS}) VALUES (?, {_ALERT_MARKS})",
            [self.tid, *_alert_row(alert)],
        )

    def save(self, alert: Alert) -> None:
        row = _alert_row(alert)
        self.db.run(
            f"UPDATE ioc_alerts SET {_ALERT_UPDATE} WHERE tenant_id = ? AND id = ?", [*row[1:], self.tid, alert.id]
        )

    def active(self) -> list[Alert]:
        rows = self.db.run(
            f"SELECT {_ALERT_COLUMNS} FROM ioc_alerts WHERE tenant_id = ? AND status = ? ORDER BY first_seen, id",
            [self.tid, ACTIVE],
        ).fetchall()
        return [_alert(r) for r in rows]

    def query(self, where: AlertFilter, limit: int, offset: int) -> tuple[list[Alert], int]:
        clauses = ["tenant_id = ?"]
        params: list[Any] = [self.tid]
        if where.status != "all":
            clauses.append("status = ?")
            params.append(where.status)
        if where.acknowledged is not None:
            clauses.append("acknowledged_at IS NOT NULL" if where.acknowledged else "acknowledged_at IS NULL")
        for column, value in (
            ("severity", None if where.severity is None else str(where.severity)),
            ("domain", where.domain),
            ("ward", where.ward),
            ("rule_id", where.rule_id),
            ("subject", where.subject),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        sql_where = " AND ".join(clauses)
        total = int(self.db.run(f"SELECT count(*) FROM ioc_alerts WHERE {sql_where}", params).fetchone()[0])
        rows = self.db.run(
            f"SELECT {_ALERT_COLUMNS} FROM ioc_alerts WHERE {sql_where} ORDER BY last_seen DESC, id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return [_alert(r) for r in rows], total

    def since(self, first_seen: str) -> list[Alert]:
        rows = self.db.run(
            f"SELECT {_ALERT_COLUMNS} FROM ioc_alerts WHERE tenant_id = ? AND first_seen >= ?", [self.tid, first_seen]
        ).fetchall()
        return [_alert(r) for r in rows]

    # -- the timeline ----------------------------------------------------------------------------

    def add_fact(self, alert_id: str, fact: Fact) -> None:
        self.db.run(
            "INSERT INTO ioc_alert_facts (tenant_id, alert_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?, ?)",
            [self.tid, alert_id, fact.at, fact.kind, fact.by, _dumps(dict(fact.detail))],
        )

    def last_fact(self, alert_id: str) -> Fact | None:
        row = self.db.run(
            "SELECT id, at, kind, actor, detail FROM ioc_alert_facts WHERE tenant_id = ? AND alert_id = ? "
            "ORDER BY id DESC LIMIT 1",
            [self.tid, alert_id],
        ).fetchone()
        return None if row is None else Fact(row[1], row[2], row[3], orjson.loads(row[4]), int(row[0]))

    def coalesce_refresh(self, alert_id: str, fact: Fact) -> None:
        """Record a refresh: merged into the previous fact when that was a refresh too (no flood of facts)."""
        last = self.last_fact(alert_id)
        if last is not None and last.kind == REFRESHED and last.id is not None:
            detail = dict(last.detail)
            detail["times"] = int(detail.get("times", 1)) + 1
            detail["until"] = fact.at
            detail["value"] = fact.detail.get("value")
            self.db.run(
                "UPDATE ioc_alert_facts SET detail = ? WHERE tenant_id = ? AND id = ?",
                [_dumps(detail), self.tid, last.id],
            )
            return
        self.add_fact(alert_id, Fact(fact.at, REFRESHED, fact.by, {"times": 1, "until": fact.at, **fact.detail}))

    def facts(self, alert_id: str) -> list[Fact]:
        rows = self.db.run(
            "SELECT id, at, kind, actor, detail FROM ioc_alert_facts WHERE tenant_id = ? AND alert_id = ? ORDER BY id",
            [self.tid, alert_id],
        ).fetchall()
        return [Fact(r[1], r[2], r[3], orjson.loads(r[4]), int(r[0])) for r in rows]

    # -- silences --------------------------------------------------------------------------------

    def add_silence(self, s: Silence) -> None:
        self.db.run(
            "INSERT INTO ioc_silences (id, tenant_id, matchers, starts_at, ends_at, comment, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [s.id, self.tid, _dumps(s.matchers), s.starts_at, s.ends_at, s.comment, s.created_by, s.created_at],
        )

    def silences(self, *, ending_after: str | None) -> list[Silence]:
        sql = "SELECT id, matchers, starts_at, ends_at, comment, created_by, created_at FROM ioc_silences "
        params: list[Any] = [self.tid]
        if ending_after is None:
            sql += "WHERE tenant_id = ? ORDER BY created_at, id"
        else:
            sql += "WHERE tenant_id = ? AND ends_at > ? ORDER BY created_at, id"
            params.append(ending_after)
        rows = self.db.run(sql, params).fetchall()
        return [Silence(r[0], orjson.loads(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def get_silence(self, silence_id: str) -> Silence | None:
        found = [s for s in self.silences(ending_after=None) if s.id == silence_id]
        return found[0] if found else None

    def end_silence(self, silence_id: str, at: str) -> None:
        self.db.run("UPDATE ioc_silences SET ends_at = ? WHERE tenant_id = ? AND id = ?", [at, self.tid, silence_id])

    # -- escalation policies and channels --------------------------------------------------------

    def policies(self) -> list[EscalationPolicy]:
        rows = self.db.run(
            "SELECT id, name, matchers, levels FROM ioc_escalation_policies WHERE tenant_id = ? "
            "ORDER BY created_at, id",
            [self.tid],
        ).fetchall()
        out = []
        for r in rows:
            levels = tuple(Level(float(lv["afterMinutes"]), tuple(lv["channels"])) for lv in orjson.loads(r[3]))
            out.append(EscalationPolicy(r[0], r[1], orjson.loads(r[2]), levels))
        return out

    def put_policy(self, p: EscalationPolicy, now: str, *, create: bool) -> None:
        view = p.view()
        if create:
            self.db.run(
                "INSERT INTO ioc_escalation_policies (id, tenant_id, name, matchers, levels, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [p.id, self.tid, p.name, _dumps(p.matchers), _dumps(view["levels"]), now, now],
            )
        else:
            self.db.run(
                "UPDATE ioc_escalation_policies SET name = ?, matchers = ?, levels = ?, updated_at = ? "
                "WHERE tenant_id = ? AND id = ?",
                [p.name, _dumps(p.matchers), _dumps(view["levels"]), now, self.tid, p.id],
            )

    def delete_policy(self, policy_id: str) -> None:
        self.db.run("DELETE FROM ioc_escalation_policies WHERE tenant_id = ? AND id = ?", [self.tid, policy_id])

    def channels(self) -> list[Channel]:
        rows = self.db.run(
            "SELECT id, name, kind, target, matchers, enabled FROM ioc_channels WHERE tenant_id = ? "
            "ORDER BY created_at, id",
            [self.tid],
        ).fetchall()
        return [Channel(r[0], r[1], r[2], r[3], orjson.loads(r[4]), bool(r[5])) for r in rows]

    def put_channel(self, c: Channel, now: str, *, create: bool) -> None:
        if create:
            self.db.run(
                "INSERT INTO ioc_channels (id, tenant_id, name, kind, target, matchers, enabled, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [c.id, self.tid, c.name, c.kind, c.target, _dumps(c.matchers), 1 if c.enabled else 0, now, now],
            )
        else:
            self.db.run(
                "UPDATE ioc_channels SET name = ?, kind = ?, target = ?, matchers = ?, enabled = ?, updated_at = ? "
                "WHERE tenant_id = ? AND id = ?",
                [c.name, c.kind, c.target, _dumps(c.matchers), 1 if c.enabled else 0, now, self.tid, c.id],
            )

    def delete_channel(self, channel_id: str) -> None:
        self.db.run("DELETE FROM ioc_channels WHERE tenant_id = ? AND id = ?", [self.tid, channel_id])

    # -- the outbox ------------------------------------------------------------------------------

    def enqueue(self, channel_id: str, alert_id: str | None, reason: str, payload: bytes, now: str, due: int) -> int:
        row = self.db.run(
            "INSERT INTO ioc_alert_outbox (tenant_id, channel_id, alert_id, reason, payload, state, attempts, "
            "next_at, last_error, created_at, done_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, NULL, ?, NULL) "
            "RETURNING id",
            [self.tid, channel_id, alert_id, reason, payload.decode(), due, now],
        ).fetchone()
        return int(row[0])

    def due(self, now_us: int, limit: int) -> list[Delivery]:
        rows = self.db.run(
            f"SELECT {_DELIVERY_COLUMNS} FROM ioc_alert_outbox WHERE tenant_id = ? AND state = 'pending' "
            "AND next_at <= ? ORDER BY next_at, id LIMIT ?",
            [self.tid, now_us, limit],
        ).fetchall()
        return [_delivery(r) for r in rows]

    def next_due(self) -> int | None:
        row = self.db.run(
            "SELECT MIN(next_at) FROM ioc_alert_outbox WHERE tenant_id = ? AND state = 'pending'", [self.tid]
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def record(
        self, delivery_id: int, state: str, attempts: int, next_at: int, error: str | None, done: str | None
    ) -> None:
        self.db.run(
            "UPDATE ioc_alert_outbox SET state = ?, attempts = ?, next_at = ?, last_error = ?, done_at = ? "
            "WHERE tenant_id = ? AND id = ?",
            [state, attempts, next_at, error, done, self.tid, delivery_id],
        )

    def deliveries(self, channel_id: str, limit: int) -> list[Delivery]:
        rows = self.db.run(
            f"SELECT {_DELIVERY_COLUMNS} FROM ioc_alert_outbox WHERE tenant_id = ? AND channel_id = ? "
            "ORDER BY id DESC LIMIT ?",
            [self.tid, channel_id, limit],
        ).fetchall()
        return [_delivery(r) for r in rows]

    def delivery_counts(self) -> dict[str, dict[str, int]]:
        rows = self.db.run(
            "SELECT channel_id, state, count(*) FROM ioc_alert_outbox WHERE tenant_id = ? GROUP BY channel_id, state",
            [self.tid],
        ).fetchall()
        out: dict[str, dict[str, int]] = {}
        for channel_id, state, n in rows:
            out.setdefault(channel_id, {})[state] = int(n)
        return out


class AlertTables:
    """The alerts' tables of one tenant (resolved once: there is no way to reach another tenant's rows)."""

    def __init__(self, store: Store, tenant: str) -> None:
        self.store = store
        self.scope = store.tenant(tenant, create=True)

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self.scope.transaction() as ctx:
            yield Tx(ctx.db, ctx.tenant_id)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.scope.snapshot() as ctx:
            yield Tx(ctx.db, ctx.tenant_id)
