"""Security events: what a security operations centre watches (sign-ins, denials, lockouts, rate limits).

Unlike the audit trail, events are not chained: they are an operational feed, kept in ``security_events`` and also
written to the log ``smartcity.security.events`` as one JSON line each (see :class:`SecurityLog`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from smartcity.hub.model import format_time, parse_time
from smartcity.hub.store.sql import Db
from smartcity.security.audit.details import clean_details, dumps_details, loads_details
from smartcity.security.principal import Principal

#: every event kind, with its default severity
EVENT_KINDS: dict[str, str] = {
    "auth.success": "info",
    "auth.failure": "low",
    "auth.lockout": "high",
    "access.denied": "medium",
    "tenant.denied": "medium",
    "ratelimit.hit": "low",
    "admin.action": "low",
    "token.issued": "info",
    "credential.revoked": "medium",
}
SEVERITIES = ("info", "low", "medium", "high")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class SecurityEvent:
    """One security event. ``severity`` left empty takes the kind's default (:data:`EVENT_KINDS`)."""

    kind: str
    subject: str
    severity: str = ""
    credential_id: str | None = None
    client: str | None = None
    tenant: str | None = None
    action: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown security event kind {self.kind!r}: use one of {', '.join(EVENT_KINDS)}")
        if not self.severity:
            object.__setattr__(self, "severity", EVENT_KINDS[self.kind])
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}: use one of {', '.join(SEVERITIES)}")
        self._normalise()

    def _normalise(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("a security event's time must be timezone-aware")
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        object.__setattr__(self, "details", clean_details(self.details))

    @classmethod
    def of(
        cls,
        kind: str,
        principal: Principal,
        *,
        severity: str | None = None,
        action: str = "",
        tenant: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> SecurityEvent:
        """An event about ``principal`` (its subject, credential and client address), now."""
        return cls(
            kind=kind,
            severity=severity or "",
            subject=principal.subject,
            credential_id=principal.credential_id,
            client=principal.client,
            tenant=tenant,
            action=action,
            details=dict(details or {}),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "at": format_time(self.at),
            "kind": self.kind,
            "severity": self.severity,
            "subject": self.subject,
            "credential_id": self.credential_id,
            "client": self.client,
            "tenant": self.tenant,
            "action": self.action,
            "details": self.details,
        }


@dataclass(frozen=True, kw_only=True)
class StoredEvent(SecurityEvent):
    """An event read back from the store, with its id (ascending in the order events were stored)."""

    id: int

    def __post_init__(self) -> None:
        self._normalise()  # shown as stored

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, **super().to_json()}


_COLUMNS = "id, at, kind, severity, subject, credential_id, client, tenant, action, details"


def insert_events(db: Db, events: Sequence[SecurityEvent]) -> None:
    """Store ``events`` in the caller's transaction."""
    db.many(
        "INSERT INTO security_events (at, kind, severity, subject, credential_id, client, tenant, action, details) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                format_time(e.at),
                e.kind,
                e.severity,
                e.subject,
                e.credential_id,
                e.client,
                e.tenant,
                e.action,
                dumps_details(e.details),
            ]
            for e in events
        ],
    )


def list_events(
    db: Db,
    *,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    subject: str | None = None,
    client: str | None = None,
    severity: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[StoredEvent]:
    """Stored events in id order: ``since`` inclusive, ``until`` exclusive; page on with ``after_id``."""
    clauses = ["id > ?"]
    params: list[Any] = [after_id]
    for column, value in (("kind", kind), ("subject", subject), ("client", client), ("severity", severity)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        clauses.append("at >= ?")
        params.append(format_time(since))
    if until is not None:
        clauses.append("at < ?")
        params.append(format_time(until))
    params.append(max(0, limit))
    where = " AND ".join(clauses)  # fixed fragments; every value is a bound parameter
    sql = f"SELECT {_COLUMNS} FROM security_events WHERE {where} ORDER BY id LIMIT ?"  # noqa: S608
    rows = db.run(sql, params).fetchall()
    return [_event(row) for row in rows]


def _event(row: Sequence[Any]) -> StoredEvent:
    details = loads_details(row[9])
    return StoredEvent(
        id=int(row[0]),
        at=parse_time(row[1]) or datetime.fromtimestamp(0, UTC),
        kind=row[2],
        severity=row[3],
        subject=row[4],
        credential_id=row[5],
        client=row[6],
        tenant=row[7],
        action=row[8],
        details=details if isinstance(details, dict) else {"stored": details},
    )
