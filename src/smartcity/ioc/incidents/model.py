"""An incident as the desk holds it, the timeline entries it accumulates, who is looking, and the JSON views."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smartcity.hub.model import format_time
from smartcity.ioc.contracts import IncidentStatus, Severity
from smartcity.ioc.incidents import lifecycle
from smartcity.ioc.incidents.catalogue import Catalogue


@dataclass(frozen=True)
class CheckItem:
    id: str
    vi: str
    en: str
    done: bool = False
    done_by: str | None = None
    done_at: datetime | None = None


@dataclass(frozen=True)
class Incident:
    id: str
    number: str
    type: str
    title: str
    description: str
    severity: Severity
    status: IncidentStatus
    department: str
    assignee: str | None
    ward: str | None
    location: Mapping[str, Any] | None
    domain: str
    source: str
    source_ref: str | None
    labels: Mapping[str, str]
    opened_at: datetime
    opened_by: str
    updated_at: datetime
    acknowledged_at: datetime | None
    due_at: datetime
    warn_at: datetime
    sla_warned: bool
    sla_breached: bool
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str | None
    checklist: tuple[CheckItem, ...]
    version: int = 0


@dataclass(frozen=True)
class Entry:
    """One line of an incident's timeline: who did what when (``detail`` holds before/after, notes, text)."""

    at: datetime
    by: str
    kind: str  # opened, status, assigned, changed, comment, checklist, sla_warning, sla_breached
    detail: Mapping[str, Any]
    public: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "at": format_time(self.at),
            "by": self.by,
            "kind": self.kind,
            "detail": self.detail,
            "public": self.public,
        }


@dataclass(frozen=True)
class Viewer:
    """Who is asking: ``department`` set restricts every read and change to that department's incidents (a
    department officer); None sees all (administrators, operators, analysts, the platform's own parts)."""

    subject: str
    department: str | None = None
    restricted: bool = False

    def sees(self, department: str) -> bool:
        return not self.restricted or department == self.department


SYSTEM = Viewer("system")


@dataclass(frozen=True)
class Filter:
    status: tuple[IncidentStatus, ...] = ()
    department: str | None = None
    type: str | None = None
    severity: Severity | None = None
    assignee: str | None = None
    ward: str | None = None
    source: str | None = None
    overdue: bool | None = None
    limit: int = 50
    offset: int = 0


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def view(incident: Incident, catalogue: Catalogue, now: datetime) -> dict[str, Any]:
    """The incident JSON view (docs/ioc.md), without its timeline."""
    department = catalogue.department(incident.department)
    return {
        "id": incident.id,
        "number": incident.number,
        "type": incident.type,
        "title": incident.title,
        "description": incident.description,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "department": incident.department,
        "departmentName": {"vi": department.name_vi, "en": department.name_en}
        if department is not None
        else {"vi": incident.department, "en": incident.department},
        "assignee": incident.assignee,
        "ward": incident.ward,
        "location": incident.location,
        "domain": incident.domain,
        "source": incident.source,
        "sourceRef": incident.source_ref,
        "labels": dict(incident.labels),
        "openedAt": format_time(incident.opened_at),
        "openedBy": incident.opened_by,
        "updatedAt": format_time(incident.updated_at),
        "acknowledgedAt": _time(incident.acknowledged_at),
        "dueAt": format_time(incident.due_at),
        "breached": incident.sla_breached
        or lifecycle.is_breached(incident.status, incident.due_at, incident.resolved_at, now),
        "resolvedAt": _time(incident.resolved_at),
        "closedAt": _time(incident.closed_at),
        "resolution": incident.resolution,
        "checklist": [
            {
                "id": i.id,
                "text": {"vi": i.vi, "en": i.en},
                "done": i.done,
                "doneBy": i.done_by,
                "doneAt": _time(i.done_at),
            }
            for i in incident.checklist
        ],
    }
