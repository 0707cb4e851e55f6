"""Audit records: who did what to what, when, from where, and how it ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from smartcity.hub.model import format_time
from smartcity.security.audit.details import clean_details
from smartcity.security.principal import Principal

ACTOR_KINDS = frozenset({"anonymous", "user", "client", "apikey", "system"})
OUTCOMES = frozenset({"success", "denied", "failure", "error"})


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class AuditRecord:
    """One audited action, before it is stored.

    ``actor`` is the principal's subject, ``action`` a dotted name (``hub.entity.create``), ``target`` what was
    acted on (a path or an id), ``method`` the HTTP method or ``CLI``, ``outcome`` one of ``success``, ``denied``,
    ``failure``, ``error``. ``at`` is an aware time (kept in UTC, to the microsecond); ``details`` a JSON object
    from which secret-looking keys are dropped (see :mod:`.details`).
    """

    actor: str
    actor_kind: str
    role: str
    action: str
    target: str
    outcome: str
    method: str = "CLI"
    status: int | None = None
    credential_id: str | None = None
    client: str | None = None
    tenant: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if self.actor_kind not in ACTOR_KINDS:
            raise ValueError(f"unknown actor kind {self.actor_kind!r}: use one of {', '.join(sorted(ACTOR_KINDS))}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}: use one of {', '.join(sorted(OUTCOMES))}")
        if not self.action:
            raise ValueError("an audit record needs an action")
        self._normalise()

    def _normalise(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("an audit record's time must be timezone-aware")
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        object.__setattr__(self, "role", str(self.role))
        object.__setattr__(self, "details", clean_details(self.details))

    @classmethod
    def of(
        cls,
        principal: Principal,
        action: str,
        target: str,
        *,
        outcome: str,
        status: int | None = None,
        method: str = "CLI",
        tenant: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        """The record of ``principal`` doing ``action`` on ``target`` now."""
        return cls(
            actor=principal.subject,
            actor_kind=principal.kind,
            role=str(principal.role),
            credential_id=principal.credential_id,
            client=principal.client,
            tenant=tenant,
            action=action,
            method=method,
            target=target,
            outcome=outcome,
            status=status,
            details=dict(details or {}),
        )

    def stored_fields(self) -> dict[str, Any]:
        """The record's fields as they are stored and hashed (``at`` as ISO 8601 UTC text)."""
        return {
            "at": format_time(self.at),
            "actor": self.actor,
            "actor_kind": self.actor_kind,
            "role": self.role,
            "credential_id": self.credential_id,
            "client": self.client,
            "tenant": self.tenant,
            "action": self.action,
            "method": self.method,
            "target": self.target,
            "outcome": self.outcome,
            "status": self.status,
            "details": self.details,
        }


@dataclass(frozen=True, kw_only=True)
class AuditEntry(AuditRecord):
    """A stored record: its place in the chain (``seq``), the hash of the one before and its own hash."""

    seq: int
    prev_hash: str
    hash: str

    def __post_init__(self) -> None:
        # what the database holds is shown as it is: validation happened when the record was written
        self._normalise()

    def to_json(self) -> dict[str, Any]:
        """The export form: every stored field, in the order of the table."""
        return {"seq": self.seq, **self.stored_fields(), "prev_hash": self.prev_hash, "hash": self.hash}
