"""The incident desk: opens incidents (by hand, from alerts, from citizen reports), changes them along their life,
keeps their timeline, watches their SLA and answers the figures KPIs need. Implements
:class:`smartcity.ioc.contracts.IncidentDesk`.

Every call runs in one transaction of the operations centre's tenant; calls that take a :class:`Viewer` see and
change only what that viewer may (a department officer: their department; anything else is "not found").
Changes are written over the version they read (optimistic locking, retried); events are published after commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from statistics import fmean
from typing import Any

from smartcity.hub.errors import AlreadyExists, BadRequestData, ResourceNotFound
from smartcity.hub.store import Store
from smartcity.ioc import contracts
from smartcity.ioc.contracts import IncidentRequest, IncidentStatus
from smartcity.ioc.events import EventHub
from smartcity.ioc.incidents import changes, lifecycle
from smartcity.ioc.incidents.catalogue import Catalogue
from smartcity.ioc.incidents.errors import ConcurrentChange
from smartcity.ioc.incidents.model import SYSTEM, Entry, Filter, Incident, Viewer, view
from smartcity.ioc.incidents.repository import IncidentRows, labels_of

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
S = IncidentStatus
#: the year of an incident number is Ho Chi Minh City's (UTC+7 all year)
HCMC = timezone(timedelta(hours=7))
#: the window of the figures (MTTR, reports answered on time)
WINDOW = timedelta(days=30)
ATTEMPTS = 5
SLA_KINDS = ("sla_warning", "sla_breached")


def utc_now() -> datetime:
    return datetime.now(UTC)


class IncidentDesk:
    def __init__(
        self,
        store: Store,
        tenant: str,
        catalogue: Catalogue,
        events: EventHub | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.tenant = tenant
        self.catalogue = catalogue
        self.events = events
        self.clock = clock

    def _tx(self) -> Any:
        return self.store.tenant(self.tenant, create=True).transaction()

    def _view(self, incident: Incident, now: datetime | None = None) -> dict[str, Any]:
        return view(incident, self.catalogue, now or self.clock())

    def _publish(self, kind: str, data: Mapping[str, Any]) -> None:
        if self.events is not None:
            self.events.publish(kind, data)

    # -- opening -----------------------------------------------------------------------------------

    def open(self, request: IncidentRequest) -> Mapping[str, Any]:
        """Open an incident on the platform's own authority (citizen reports, rules); see :meth:`open_as`."""
        return self.open_as(request, SYSTEM)[0]

    def open_as(self, request: IncidentRequest, viewer: Viewer) -> tuple[dict[str, Any], bool]:
        """Open an incident; (its view, True). An alert or citizen report (``source_ref``) opens one incident at a
        time: while its incident is not closed, opening again answers (that incident's view, False)."""
        kind = self.catalogue.require_type(request.type)
        title = request.title.strip()
        if not title:
            raise BadRequestData("'title' must not be empty")
        if request.ward is not None:
            self.catalogue.require_ward(request.ward)
        department = changes.own_department(viewer, request.department)
        if department is not None:
            department = self.catalogue.require_department(department).code
        else:
            department = self.catalogue.default_department(kind, request.ward)
        ref = request.source_ref if request.source != "manual" else None
        for _ in range(ATTEMPTS):
            now = self.clock()
            with self._tx() as tx:
                rows = IncidentRows(tx, SYSTEM)
                replacing = None
                if ref is not None:
                    existing_id = rows.source_incident(request.source, ref)
                    existing = rows.get(existing_id) if existing_id is not None else None
                    if existing is not None and existing.status is not S.CLOSED:
                        if not viewer.sees(existing.department):
                            raise AlreadyExists(f"{request.source} {ref!r} already has an open incident of another "
                                                "department")  # fmt: skip
                        return self._view(existing, now), False
                    replacing = existing_id
                incident_id = str(uuid.uuid4())
                if ref is not None and not rows.claim_source(request.source, ref, incident_id, replacing):
                    continue  # opened at the same moment by someone else: answer theirs
                due = lifecycle.deadline(kind, request.severity, now)
                incident = Incident(
                    id=incident_id,
                    number=rows.next_number(now.astimezone(HCMC).year),
                    type=kind.code,
                    title=title,
                    description=request.description,
                    severity=request.severity,
                    status=S.NEW,
                    department=department,
                    assignee=None,
                    ward=request.ward,
                    location=request.location,
                    domain=request.domain or kind.domain,
                    source=request.source,
                    source_ref=request.source_ref,
                    labels=labels_of(request.labels),
                    opened_at=now,
                    opened_by=request.opened_by,
                    updated_at=now,
                    acknowledged_at=None,
                    due_at=due,
                    warn_at=lifecycle.warning_time(now, due),
                    sla_warned=False,
                    sla_breached=False,
                    resolved_at=None,
                    closed_at=None,
                    resolution=None,
                    checklist=changes.checklist_for(kind),
                    version=1,
                )
                rows.insert(incident)
                detail = {"type": kind.code, "severity": request.severity.value, "department": department,
                          "source": request.source, "sourceRef": request.source_ref}  # fmt: skip
                rows.add_entries(incident_id, [Entry(now, request.opened_by, "opened", detail)])
                data = self._view(incident, now)
                tx.db.after_commit(partial(self._publish, "incident.opened", data))
                log.info("incident %s opened (%s, %s, %s)", incident.number, kind.code, request.severity, department)
                return data, True
        raise ConcurrentChange("the alert or report was linked to an incident at the same moment; try again")

    # -- reading -----------------------------------------------------------------------------------

    def get(self, incident_id: str) -> Mapping[str, Any] | None:
        return self.read(incident_id, SYSTEM, timeline=False)

    def read(self, incident_id: str, viewer: Viewer, *, timeline: bool = True) -> dict[str, Any] | None:
        with self._tx() as tx:
            rows = IncidentRows(tx, viewer)
            incident = rows.get(incident_id)
            if incident is None:
                return None
            data = self._view(incident)
            if timeline:
                data["timeline"] = [e.view() for e in rows.timeline(incident_id)]
        return data

    def require(self, incident_id: str, viewer: Viewer) -> dict[str, Any]:
        found = self.read(incident_id, viewer)
        if found is None:
            raise ResourceNotFound(f"no incident {incident_id!r}")
        return found

    def query(self, where: Filter, viewer: Viewer) -> tuple[list[dict[str, Any]], int]:
        now = self.clock()
        with self._tx() as tx:
            found, total = IncidentRows(tx, viewer).query(where, now)
        return [self._view(i, now) for i in found], total

    def public_status(self, incident_id: str) -> Mapping[str, Any] | None:
        with self._tx() as tx:
            rows = IncidentRows(tx, SYSTEM)
            incident = rows.get(incident_id)
            if incident is None:
                return None
            public = rows.timeline(incident_id, public_only=True)
        notes = [e.detail.get("text") or e.detail.get("note") for e in public]
        notes = [n for n in notes if n]
        data = self._view(incident)
        return {
            "status": incident.status.value,
            "statusNotes": notes[-1] if notes else None,
            "expectedAt": data["dueAt"],
            "updatedAt": data["updatedAt"],
            "department": incident.department,
            "departmentName": data["departmentName"],
        }

    # -- changing ----------------------------------------------------------------------------------

    def _mutate(
        self, incident_id: str, viewer: Viewer, change: Callable[[Incident, datetime], changes.Result]
    ) -> dict[str, Any]:
        for _ in range(ATTEMPTS):
            with self._tx() as tx:
                rows = IncidentRows(tx, viewer)
                current = rows.get(incident_id)
                if current is None:
                    raise ResourceNotFound(f"no incident {incident_id!r}")
                now = self.clock()
                updated, entries = change(current, now)
                if not entries:
                    return self._view(current, now)
                updated = replace(updated, updated_at=now, version=current.version + 1)
                if not rows.save(updated, current.version):
                    continue
                rows.add_entries(incident_id, entries)
                data = self._view(updated, now)
                kinds = [f"incident.{e.kind}" for e in entries if e.kind in SLA_KINDS] or ["incident.changed"]
                for kind in kinds:
                    tx.db.after_commit(partial(self._publish, kind, data))
                return data
        raise ConcurrentChange(f"incident {incident_id!r} was changed by others at the same moment; try again")

    def change(self, incident_id: str, patch: changes.Patch, viewer: Viewer) -> dict[str, Any]:
        return self._mutate(
            incident_id, viewer, lambda i, now: changes.apply_patch(i, patch, self.catalogue, viewer, now)
        )

    def transition(
        self, incident_id: str, target: IncidentStatus, note: str | None, public: bool | None, viewer: Viewer
    ) -> dict[str, Any]:
        return self._mutate(
            incident_id, viewer, lambda i, now: changes.apply_transition(i, target, note, public, viewer, now)
        )

    def comment(self, incident_id: str, text: str, public: bool, viewer: Viewer) -> dict[str, Any]:
        return self._mutate(incident_id, viewer, lambda i, now: changes.add_comment(i, text, public, viewer, now))

    def check(self, incident_id: str, item_id: str, done: bool, viewer: Viewer) -> dict[str, Any]:
        return self._mutate(incident_id, viewer, lambda i, now: changes.toggle_item(i, item_id, done, viewer, now))

    def check_sla(self) -> int:
        """Announce the SLA warnings and breaches that are due (once each); returns how many incidents moved."""
        now = self.clock()
        with self._tx() as tx:
            due = IncidentRows(tx, SYSTEM).sla_due(now)
        for incident in due:
            try:
                self._mutate(incident.id, SYSTEM, lambda i, at: changes.sla_marks(i, max(at, now)))
            except (ResourceNotFound, ConcurrentChange):
                log.debug("incident %s changed while its SLA was checked; next round", incident.number)
        return len(due)

    # -- figures -----------------------------------------------------------------------------------

    def summary(self) -> Mapping[str, Any]:
        """Figures for KPIs (contracts.IncidentDesk.summary), plus ``openBySeverity`` and ``mttaSeconds`` (mean time
        from opening to the first assignment or start of work, incidents opened in the last 30 days)."""
        now = self.clock()
        with self._tx() as tx:
            rows = IncidentRows(tx, SYSTEM)
            open_now = rows.since(None, open_only=True)
            recent = rows.since(now - WINDOW, open_only=False)
        by_department: dict[str, int] = {}
        by_domain: dict[str, int] = {}
        by_severity: dict[str, int] = {}
        for i in open_now:
            by_department[i.department] = by_department.get(i.department, 0) + 1
            by_domain[i.domain] = by_domain.get(i.domain, 0) + 1
            by_severity[i.severity.value] = by_severity.get(i.severity.value, 0) + 1
        resolve = [(i.resolved_at - i.opened_at).total_seconds() for i in recent if i.resolved_at is not None]
        acknowledge = [(i.acknowledged_at - i.opened_at).total_seconds() for i in recent if i.acknowledged_at]
        reports = [i for i in recent if i.source == "open311"]
        decided = [i for i in reports if i.resolved_at is not None or now > i.due_at]
        on_time = [i for i in decided if i.resolved_at is not None and i.resolved_at <= i.due_at]
        return {
            "open": len(open_now),
            "openByDepartment": by_department,
            "openByDomain": by_domain,
            "openBySeverity": by_severity,
            "mttrSeconds": fmean(resolve) if resolve else None,
            "mttaSeconds": fmean(acknowledge) if acknowledge else None,
            "slaBreached": sum(1 for i in open_now if i.sla_breached or now > i.due_at),
            "reportsTotal": len(reports),
            "reportsOnTimeShare": len(on_time) / len(decided) if decided else None,
        }


def as_contract(desk: IncidentDesk) -> contracts.IncidentDesk:
    """The desk as the other parts see it (mypy checks here that it implements the contract)."""
    return desk
