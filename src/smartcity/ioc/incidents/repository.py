"""Incidents in SQL (tables of migration 0015), bound to one tenant and, for a restricted viewer, one department.

An :class:`IncidentRows` is made from an open transaction of one tenant (``SqlTenantScope.transaction()``): every
statement carries that tenant's id, and every read or change of an incident carries the viewer's department when
the viewer is restricted (a department officer), so neither another tenant's nor another department's incidents
can be reached through it. SQL is composed only of the fixed fragments below; every value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from smartcity.hub.model import format_time
from smartcity.hub.store.changes import WriteContext
from smartcity.ioc.contracts import IncidentStatus, Severity
from smartcity.ioc.incidents.lifecycle import OPEN
from smartcity.ioc.incidents.model import CheckItem, Entry, Filter, Incident, Viewer

COLUMNS = (
    "id, number, type, title, description, severity, status, department, assignee, ward, location, domain, "
    "source, source_ref, labels, opened_at, opened_by, updated_at, acknowledged_at, due_at, warn_at, sla_warned, "
    "sla_breached, resolved_at, closed_at, resolution, checklist, version"
)
_OPEN = sorted(s.value for s in OPEN)
_MARKS = ", ".join("?" * (COLUMNS.count(",") + 2))  # tenant_id and every column


def _t(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _checklist_json(items: Sequence[CheckItem]) -> str:
    return orjson.dumps(
        [
            {"id": i.id, "vi": i.vi, "en": i.en, "done": i.done, "doneBy": i.done_by, "doneAt": _t(i.done_at)}
            for i in items
        ]
    ).decode()


def _checklist(text: str) -> tuple[CheckItem, ...]:
    return tuple(
        CheckItem(i["id"], i["vi"], i["en"], bool(i["done"]), i.get("doneBy"), _dt(i.get("doneAt")))
        for i in orjson.loads(text)
    )


def _values(i: Incident) -> list[Any]:
    return [
        i.id, i.number, i.type, i.title, i.description, i.severity.value, i.status.value, i.department, i.assignee,
        i.ward, None if i.location is None else orjson.dumps(i.location).decode(), i.domain, i.source,
        i.source_ref, orjson.dumps(dict(i.labels)).decode(), _t(i.opened_at), i.opened_by, _t(i.updated_at),
        _t(i.acknowledged_at), _t(i.due_at), _t(i.warn_at), int(i.sla_warned), int(i.sla_breached),
        _t(i.resolved_at), _t(i.closed_at), i.resolution, _checklist_json(i.checklist), i.version,
    ]  # fmt: skip


def _incident(row: Sequence[Any]) -> Incident:
    return Incident(
        id=row[0], number=row[1], type=row[2], title=row[3], description=row[4], severity=Severity(row[5]),
        status=IncidentStatus(row[6]), department=row[7], assignee=row[8], ward=row[9],
        location=None if row[10] is None else orjson.loads(row[10]), domain=row[11], source=row[12],
        source_ref=row[13], labels=orjson.loads(row[14]), opened_at=_dt(row[15]),  # type: ignore[arg-type]
        opened_by=row[16], updated_at=_dt(row[17]), acknowledged_at=_dt(row[18]),  # type: ignore[arg-type]
        due_at=_dt(row[19]), warn_at=_dt(row[20]), sla_warned=bool(row[21]),  # type: ignore[arg-type]
        sla_breached=bool(row[22]), resolved_at=_dt(row[23]), closed_at=_dt(row[24]), resolution=row[25],
        checklist=_checklist(row[26]), version=int(row[27]),
    )  # fmt: skip


class IncidentRows:
    def __init__(self, tx: WriteContext, viewer: Viewer) -> None:
        self.db = tx.db
        self.tenant_id = tx.tenant_id
        self.viewer = viewer

    def _scope(self) -> tuple[str, list[Any]]:
        """The WHERE clause every incident read and change starts with: this tenant (and department)."""
        if self.viewer.restricted:
            return "tenant_id = ? AND department = ?", [self.tenant_id, self.viewer.department]
        return "tenant_id = ?", [self.tenant_id]

    # -- incidents ---------------------------------------------------------------------------------

    def next_number(self, year: int) -> str:
        row = self.db.run(
            "INSERT INTO ioc_incident_numbers (tenant_id, year, last) VALUES (?, ?, 1) "
            "ON CONFLICT (tenant_id, year) DO UPDATE SET last = ioc_incident_numbers.last + 1 RETURNING last",
            [self.tenant_id, year],
        ).fetchone()
        return f"INC-{year}-{int(row[0]):06d}"

    def insert(self, incident: Incident) -> None:
        self.db.run(
            f"INSERT INTO ioc_incidents (tenant_id, {COLUMNS}) VALUES ({_MARKS})",  # noqa: S608
            [self.tenant_id, *_values(incident)],
        )

    def get(self, incident_id: str) -> Incident | None:
        where, params = self._scope()
        row = self.db.run(
            f"SELECT {COLUMNS} FROM ioc_incidents WHERE {where} AND id = ?",  # noqa: S608
            [*params, incident_id],
        ).fetchone()
        return None if row is None else _incident(row)

    def save(self, incident: Incident, read_version: int) -> bool:
        """Write ``incident`` over the row if it is still at ``read_version``; False if someone changed it."""
        where, params = self._scope()
        names = [c.strip() for c in COLUMNS.split(",")][1:]
        values = _values(incident)[1:]
        assignments = ", ".join(f"{n} = ?" for n in names)
        row = self.db.run(
            f"UPDATE ioc_incidents SET {assignments} WHERE {where} AND id = ? AND version = ? RETURNING id",  # noqa: S608
            [*values, *params, incident.id, read_version],
        ).fetchone()
        return row is not None

    def query(self, where_filter: Filter, now: datetime) -> tuple[list[Incident], int]:
        where, params = self._scope()
        clauses = [where]
        f = where_filter
        for column, value in (
            ("department", f.department),
            ("type", f.type),
            ("severity", f.severity.value if f.severity is not None else None),
            ("assignee", f.assignee),
            ("ward", f.ward),
            ("source", f.source),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if f.status:
            fragment, more = self.db.dialect.in_list("status", [s.value for s in f.status])
            clauses.append(fragment)
            params.extend(more)
        if f.overdue is not None:
            fragment, more = self.db.dialect.in_list("status", _OPEN)
            clauses.append(f"({fragment} AND due_at < ?)" if f.overdue else f"NOT ({fragment} AND due_at < ?)")
            params.extend([*more, format_time(now)])
        sql_where = " AND ".join(clauses)
        total = int(self.db.run(f"SELECT count(*) FROM ioc_incidents WHERE {sql_where}", params).fetchone()[0])  # noqa: S608
        rows = self.db.run(
            f"SELECT {COLUMNS} FROM ioc_incidents WHERE {sql_where} "  # noqa: S608
            "ORDER BY opened_at DESC, number DESC LIMIT ? OFFSET ?",
            [*params, f.limit, f.offset],
        ).fetchall()
        return [_incident(r) for r in rows], total

    def sla_due(self, now: datetime, limit: int = 500) -> list[Incident]:
        """Open incidents whose SLA warning or breach is due and not yet announced."""
        where, params = self._scope()
        fragment, more = self.db.dialect.in_list("status", _OPEN)
        moment = format_time(now)
        rows = self.db.run(
            f"SELECT {COLUMNS} FROM ioc_incidents WHERE {where} AND {fragment} "  # noqa: S608
            "AND ((sla_warned = 0 AND warn_at <= ?) OR (sla_breached = 0 AND due_at <= ?)) ORDER BY due_at LIMIT ?",
            [*params, *more, moment, moment, limit],
        ).fetchall()
        return [_incident(r) for r in rows]

    def since(self, opened_after: datetime | None, *, open_only: bool) -> list[Incident]:
        """Incidents for the figures: the open ones, or those opened after a moment."""
        where, params = self._scope()
        if open_only:
            fragment, more = self.db.dialect.in_list("status", _OPEN)
            sql = f"SELECT {COLUMNS} FROM ioc_incidents WHERE {where} AND {fragment}"  # noqa: S608
            return [_incident(r) for r in self.db.run(sql, [*params, *more]).fetchall()]
        sql = f"SELECT {COLUMNS} FROM ioc_incidents WHERE {where} AND opened_at >= ?"  # noqa: S608
        return [_incident(r) for r in self.db.run(sql, [*params, _t(opened_after)]).fetchall()]

    # -- timeline ----------------------------------------------------------------------------------

    def add_entries(self, incident_id: str, entries: Sequence[Entry]) -> None:
        for e in entries:
            self.db.run(
                "INSERT INTO ioc_incident_timeline (tenant_id, incident_id, at, actor, kind, detail, public) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [self.tenant_id, incident_id, _t(e.at), e.by, e.kind, orjson.dumps(e.detail).decode(), int(e.public)],
            )

    def timeline(self, incident_id: str, *, public_only: bool = False) -> list[Entry]:
        sql = (
            "SELECT at, actor, kind, detail, public FROM ioc_incident_timeline WHERE tenant_id = ? AND incident_id = ?"
        )
        if public_only:
            sql += " AND public = 1"
        rows = self.db.run(sql + " ORDER BY id", [self.tenant_id, incident_id]).fetchall()
        return [Entry(_dt(r[0]), r[1], r[2], orjson.loads(r[3]), bool(r[4])) for r in rows]  # type: ignore[arg-type]

    # -- sources (an alert or a citizen report opens one incident at a time) ----------------------

    def source_incident(self, source: str, ref: str) -> str | None:
        row = self.db.run(
            "SELECT incident_id FROM ioc_incident_sources WHERE tenant_id = ? AND source = ? AND source_ref = ?",
            [self.tenant_id, source, ref],
        ).fetchone()
        return None if row is None else str(row[0])

    def claim_source(self, source: str, ref: str, incident_id: str, replacing: str | None) -> bool:
        """Link the source to ``incident_id``: a first link, or one replacing the link to ``replacing`` (a
        closed incident); False if another transaction linked it first."""
        if replacing is None:
            row = self.db.run(
                "INSERT INTO ioc_incident_sources (tenant_id, source, source_ref, incident_id) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (tenant_id, source, source_ref) DO NOTHING RETURNING incident_id",
                [self.tenant_id, source, ref, incident_id],
            ).fetchone()
        else:
            row = self.db.run(
                "UPDATE ioc_incident_sources SET incident_id = ? WHERE tenant_id = ? AND source = ? "
                "AND source_ref = ? AND incident_id = ? RETURNING incident_id",
                [incident_id, self.tenant_id, source, ref, replacing],
            ).fetchone()
        return row is not None


def labels_of(value: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}
