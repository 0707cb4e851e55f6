"""An alert as the operations centre keeps it, its timeline facts and its JSON view (the wire contract)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from smartcity.hub.model import format_time
from smartcity.ioc.contracts import SEVERITY_RANK, Severity

Clock = Callable[[], datetime]

ACTIVE = "active"
CLEARED = "cleared"
AUTO = "auto"  # clearedBy when the condition ended
SYSTEM = "ioc"  # the actor of facts the alert manager records itself

#: timeline fact kinds
RAISED, REFRESHED, ACKNOWLEDGED, ESCALATED, NOTIFIED, NOTIFY_FAILED = (
    "raised",
    "refreshed",
    "acknowledged",
    "escalated",
    "notified",
    "notification_failed",
)
SILENCED, UNSILENCED, CLEARED_FACT, INCIDENT = "silenced", "unsilenced", "cleared", "incident_linked"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """A time as the JSON views and the tables write it (UTC, microseconds, ``Z``)."""
    return None if moment is None else format_time(moment)


def more_severe(a: Severity, b: Severity) -> bool:
    return SEVERITY_RANK[a] < SEVERITY_RANK[b]


def at_least(severity: Severity, floor: Severity) -> bool:
    """Whether ``severity`` is ``floor`` or more severe."""
    return SEVERITY_RANK[severity] <= SEVERITY_RANK[floor]


@dataclass
class Alert:
    id: str
    rule_id: str
    rule_version: int
    rule_name: str
    subject: str
    subject_type: str | None
    severity: Severity
    status: str
    count: int
    first_seen: str
    last_seen: str
    value: float | None
    summary_vi: str
    summary_en: str
    labels: dict[str, str]
    location: dict[str, Any] | None
    escalate_from: str
    silenced: bool = False
    escalation_level: int = 0
    notified: bool = False
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None
    acknowledge_note: str | None = None
    cleared_at: str | None = None
    cleared_by: str | None = None
    clear_note: str | None = None
    incident_id: str | None = None
    updated_at: str = ""

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def domain(self) -> str:
        return self.labels.get("domain", "other")

    @property
    def ward(self) -> str | None:
        return self.labels.get("ward")

    def view(self) -> dict[str, Any]:
        """The alert JSON view of docs/ioc.md (shared with the dashboard, KPIs and the event stream)."""
        return {
            "id": self.id,
            "ruleId": self.rule_id,
            "ruleVersion": self.rule_version,
            "ruleName": self.rule_name,
            "subject": self.subject,
            "subjectType": self.subject_type,
            "severity": str(self.severity),
            "status": self.status,
            "acknowledged": self.acknowledged,
            "acknowledgedAt": self.acknowledged_at,
            "acknowledgedBy": self.acknowledged_by,
            "clearedAt": self.cleared_at,
            "clearedBy": self.cleared_by,
            "count": self.count,
            "firstSeen": self.first_seen,
            "lastSeen": self.last_seen,
            "value": self.value,
            "summary": {"vi": self.summary_vi, "en": self.summary_en},
            "labels": dict(self.labels),
            "location": self.location,
            "silenced": self.silenced,
            "escalationLevel": self.escalation_level,
            "incidentId": self.incident_id,
        }


@dataclass(frozen=True)
class Fact:
    """One entry of an alert's timeline: what happened, when, by whom."""

    at: str
    kind: str
    by: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None

    def view(self) -> dict[str, Any]:
        return {"at": self.at, "kind": self.kind, "by": self.by, "detail": dict(self.detail)}


@dataclass(frozen=True)
class AlertFilter:
    status: str = ACTIVE  # active, cleared or all
    acknowledged: bool | None = None
    severity: Severity | None = None
    domain: str | None = None
    ward: str | None = None
    rule_id: str | None = None
    subject: str | None = None
