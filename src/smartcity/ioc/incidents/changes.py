"""Every change an incident can undergo, as pure functions: (incident, input, who, when) -> (the changed incident,
the timeline entries that record it). No entries means nothing changed. Storage and events are the desk's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from smartcity.hub.errors import BadRequestData, ResourceNotFound
from smartcity.hub.model import format_time
from smartcity.ioc.contracts import IncidentStatus, Severity
from smartcity.ioc.incidents import lifecycle
from smartcity.ioc.incidents.catalogue import Catalogue, IncidentType
from smartcity.ioc.incidents.errors import InvalidTransition, NotYourDepartment
from smartcity.ioc.incidents.model import CheckItem, Entry, Incident, Viewer

S = IncidentStatus
Result = tuple[Incident, list[Entry]]
_UNSET: Any = object()


@dataclass(frozen=True)
class Patch:
    """The fields a PATCH may change; ``_UNSET`` (the default) leaves a field as it is, None clears it."""

    title: Any = _UNSET
    description: Any = _UNSET
    severity: Any = _UNSET
    type: Any = _UNSET
    department: Any = _UNSET
    assignee: Any = _UNSET
    ward: Any = _UNSET
    location: Any = _UNSET

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not _UNSET}


def checklist_for(kind: IncidentType, previous: tuple[CheckItem, ...] = ()) -> tuple[CheckItem, ...]:
    """The type's SOP items; items of ``previous`` with the same id keep what was done."""
    done = {i.id: i for i in previous}
    out = []
    for item in kind.checklist:
        old = done.get(item.id)
        out.append(CheckItem(item.id, item.vi, item.en, *(() if old is None else (old.done, old.done_by, old.done_at))))
    return tuple(out)


def _sla(incident: Incident, kind: IncidentType, severity: Severity, now: datetime) -> Incident:
    """The deadline recomputed for a new type or severity, from the same opening time; an announced warning or
    breach stays announced only if the new deadline has passed it too (else it is announced again when due)."""
    due = lifecycle.deadline(kind, severity, incident.opened_at)
    warn = lifecycle.warning_time(incident.opened_at, due)
    return replace(
        incident,
        due_at=due,
        warn_at=warn,
        sla_warned=incident.sla_warned and warn <= now,
        sla_breached=incident.sla_breached and due <= now,
    )


def _refuse_closed(incident: Incident) -> None:
    if incident.status is S.CLOSED:
        raise InvalidTransition(f"incident {incident.number} is closed: reopen it before changing it")


def _changed(field: str, before: Any, after: Any, at: datetime, by: str, kind: str = "changed") -> Entry:
    return Entry(at, by, kind, {"field": field, "before": before, "after": after})


def _acknowledge(incident: Incident, now: datetime) -> Incident:
    return incident if incident.acknowledged_at is not None else replace(incident, acknowledged_at=now)


def apply_patch(incident: Incident, patch: Patch, catalogue: Catalogue, viewer: Viewer, now: datetime) -> Result:
    """Edit fields and assign (department and/or assignee). Assigning a new or reopened incident makes it
    assigned. The SLA deadline follows a change of severity or type (see :func:`_sla`)."""
    _refuse_closed(incident)
    given = patch.given()
    by = viewer.subject
    entries: list[Entry] = []
    out = incident
    for name in ("title", "description"):
        if name in given and given[name] != getattr(out, name):
            entries.append(_changed(name, getattr(out, name), given[name], now, by))
            out = replace(out, **{name: given[name]})
    if "ward" in given and given["ward"] != out.ward:
        if given["ward"] is not None:
            catalogue.require_ward(given["ward"])
        entries.append(_changed("ward", out.ward, given["ward"], now, by))
        out = replace(out, ward=given["ward"])
    if "location" in given and given["location"] != out.location:
        entries.append(_changed("location", out.location, given["location"], now, by))
        out = replace(out, location=given["location"])
    kind = catalogue.types.get(out.type) or catalogue.types["general"]
    severity = out.severity
    if "type" in given and given["type"] != out.type:
        kind = catalogue.require_type(given["type"])
        entries.append(_changed("type", out.type, kind.code, now, by))
        out = replace(out, type=kind.code, domain=kind.domain, checklist=checklist_for(kind, out.checklist))
    if "severity" in given and given["severity"] != out.severity:
        severity = given["severity"]
        entries.append(_changed("severity", out.severity.value, severity.value, now, by))
        out = replace(out, severity=severity)
    if out.type != incident.type or out.severity != incident.severity:
        rescheduled = _sla(out, kind, severity, now)
        if rescheduled.due_at != out.due_at:
            entries.append(_changed("dueAt", format_time(out.due_at), format_time(rescheduled.due_at), now, by))
        out = rescheduled
    assigned = False
    if "department" in given and given["department"] != out.department:
        department = catalogue.require_department(given["department"]).code
        entries.append(_changed("department", out.department, department, now, by, "assigned"))
        out = replace(out, department=department)
        assigned = True
    if "assignee" in given and given["assignee"] != out.assignee:
        entries.append(_changed("assignee", out.assignee, given["assignee"], now, by, "assigned"))
        out = replace(out, assignee=given["assignee"])
        assigned = assigned or given["assignee"] is not None
    if assigned and out.status in (S.NEW, S.REOPENED):
        entries.append(Entry(now, by, "status", {"from": out.status.value, "to": S.ASSIGNED.value, "note": None}))
        out = _acknowledge(replace(out, status=S.ASSIGNED), now)
    return out, entries


def apply_transition(incident: Incident, target: IncidentStatus, note: str | None, public: bool | None,
                     viewer: Viewer, now: datetime) -> Result:  # fmt: skip
    """Move along the state machine; resolving needs a resolution note (public by default: it is the answer a
    citizen sees), other notes are internal unless ``public``."""
    lifecycle.check_transition(incident.status, target)
    if target is S.RESOLVED and not (note and note.strip()):
        raise BadRequestData("resolving an incident needs a resolution note ('note')")
    out = replace(incident, status=target)
    if target in (S.ASSIGNED, S.IN_PROGRESS):
        out = _acknowledge(out, now)
    elif target is S.RESOLVED:
        out = replace(out, resolved_at=now, resolution=note, sla_breached=out.sla_breached or now > out.due_at)
    elif target is S.CLOSED:
        out = replace(out, closed_at=now)
    elif target is S.REOPENED:
        out = replace(out, resolved_at=None, closed_at=None, resolution=None)
    shown = public if public is not None else target is S.RESOLVED
    entry = Entry(now, viewer.subject, "status", {"from": incident.status.value, "to": target.value, "note": note},
                  public=bool(note) and shown)  # fmt: skip
    return out, [entry]


def add_comment(incident: Incident, text: str, public: bool, viewer: Viewer, now: datetime) -> Result:
    return incident, [Entry(now, viewer.subject, "comment", {"text": text}, public=public)]


def toggle_item(incident: Incident, item_id: str, done: bool, viewer: Viewer, now: datetime) -> Result:
    _refuse_closed(incident)
    items = list(incident.checklist)
    for n, item in enumerate(items):
        if item.id == item_id:
            if item.done == done:
                return incident, []
            items[n] = replace(item, done=done, done_by=viewer.subject if done else None, done_at=now if done else None)
            entry = Entry(now, viewer.subject, "checklist", {"item": item_id, "text": {"vi": item.vi, "en": item.en},
                                                             "before": item.done, "after": done})  # fmt: skip
            return replace(incident, checklist=tuple(items)), [entry]
    raise ResourceNotFound(f"incident {incident.number} has no checklist item {item_id!r}")


def sla_marks(incident: Incident, now: datetime) -> Result:
    """Announce, once each, the SLA warning (at 80 % of the span) and the breach (past the deadline)."""
    entries: list[Entry] = []
    out = incident
    if incident.status not in lifecycle.OPEN:
        return incident, []
    detail: Mapping[str, Any] = {"dueAt": format_time(incident.due_at)}
    if not out.sla_warned and out.warn_at <= now:
        out = replace(out, sla_warned=True)
        entries.append(Entry(now, "sla", "sla_warning", detail))
    if not out.sla_breached and out.due_at <= now:
        out = replace(out, sla_breached=True)
        entries.append(Entry(now, "sla", "sla_breached", detail))
    return out, entries


def own_department(viewer: Viewer, department: str | None) -> str | None:
    """The department a restricted viewer opens incidents for: their own (another one is refused)."""
    if not viewer.restricted:
        return department
    if department is not None and department != viewer.department:
        raise NotYourDepartment("a department officer opens incidents for their own department only")
    return viewer.department
