"""Storage of the audit trail: append to the chain, list with filters, stream everything in seq order.

Appends lock the one-row ``audit_head`` table (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's single writer
already serialises), so any number of processes sharing a database extend one chain without gaps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from smartcity.hub.model import format_time, parse_time
from smartcity.hub.store import Store
from smartcity.hub.store.sql import Db
from smartcity.security.audit.chain import GENESIS, link
from smartcity.security.audit.details import dumps_details, loads_details
from smartcity.security.audit.record import AuditEntry, AuditRecord

log = logging.getLogger(__name__)

#: the columns of ``audit_records``, in table order (also the keys of the export form)
FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_kind",
    "role",
    "credential_id",
    "client",
    "tenant",
    "action",
    "method",
    "target",
    "outcome",
    "status",
    "details",
    "prev_hash",
    "hash",
)
_COLUMNS = ", ".join(FIELDS)
_INSERT = (
    "INSERT INTO audit_records (seq, at, actor, actor_kind, role, credential_id, client, tenant, action, method, "
    "target, outcome, status, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1"
_HEAD_LOCKED = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"


def lock_head(db: Db) -> tuple[int, str]:
    """The last ``seq`` and ``hash`` of the chain, locked until the caller's transaction ends."""
    head_sql = _HEAD_LOCKED if db.dialect.name == "postgresql" else _HEAD
    row = db.run(head_sql).fetchone()
    if row is None:
        # the migration inserts the head row; if it has gone, continue from the last stored record
        last = db.run("SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1").fetchone()
        if last is not None:
            log.error("the audit head row was missing: the chain continues from record %s", last[0])
        seq, digest = (int(last[0]), str(last[1])) if last is not None else (0, GENESIS)
        db.run("INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING", [seq, digest])
        row = db.run(head_sql).fetchone()
    return int(row[0]), str(row[1])


def read_head(store: Store) -> tuple[int, str] | None:
    """The head row (last ``seq`` and ``hash``), or None when it is missing."""
    with store.transaction(write=False) as db:
        row = db.run(_HEAD).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def append(db: Db, records: Sequence[AuditRecord], key: bytes | None) -> list[AuditEntry]:
    """Chain ``records`` after the head and store them, in the caller's write transaction; returns the entries."""
    if not records:
        return []
    seq, prev = lock_head(db)
    entries: list[AuditEntry] = []
    rows: list[list[Any]] = []
    for record in records:
        seq += 1
        fields = {"seq": seq, **record.stored_fields()}
        digest = link(prev, fields, key)
        fields["details"] = dumps_details(record.details)
        rows.append([*fields.values(), prev, digest])
        entries.append(_entry(record, seq, prev, digest))
        prev = digest
    db.many(_INSERT, rows)
    db.run("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", [seq, prev])
    return entries


def _entry(record: AuditRecord, seq: int, prev: str, digest: str) -> AuditEntry:
    return AuditEntry(
        seq=seq,
        prev_hash=prev,
        hash=digest,
        at=record.at,
        actor=record.actor,
        actor_kind=record.actor_kind,
        role=record.role,
        credential_id=record.credential_id,
        client=record.client,
        tenant=record.tenant,
        action=record.action,
        method=record.method,
        target=record.target,
        outcome=record.outcome,
        status=record.status,
        details=record.details,
    )


def row_fields(row: Sequence[Any]) -> dict[str, Any]:
    """A stored row as it is (``at`` as text, ``details`` as its JSON value): the form that is hashed."""
    fields = dict(zip(FIELDS, row, strict=True))
    fields["seq"] = int(fields["seq"])
    fields["details"] = loads_details(fields["details"])
    return fields


def entry_from_row(row: Sequence[Any]) -> AuditEntry:
    f = row_fields(row)
    details = f["details"]
    return AuditEntry(
        seq=f["seq"],
        prev_hash=f["prev_hash"],
        hash=f["hash"],
        at=parse_time(f["at"]) or datetime.fromtimestamp(0, UTC),
        actor=f["actor"],
        actor_kind=f["actor_kind"],
        role=f["role"],
        credential_id=f["credential_id"],
        client=f["client"],
        tenant=f["tenant"],
        action=f["action"],
        method=f["method"],
        target=f["target"],
        outcome=f["outcome"],
        status=f["status"],
        details=details if isinstance(details, dict) else {"stored": details},
    )


def _time_clauses(since: datetime | None, until: datetime | None, clauses: list[str], params: list[Any]) -> None:
    if since is not None:
        clauses.append("at >= ?")
        params.append(format_time(since))
    if until is not None:
        clauses.append("at < ?")
        params.append(format_time(until))


def _select(db: Db, clauses: list[str], params: list[Any], limit: int) -> list[Any]:
    where = " AND ".join(clauses)
    sql = f"SELECT {_COLUMNS} FROM audit_records WHERE {where} ORDER BY seq LIMIT ?"  # noqa: S608 - fixed fragments
    return db.run(sql, [*params, max(0, limit)]).fetchall()


def list_records(
    db: Db,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action_prefix: str | None = None,
    tenant: str | None = None,
    outcome: str | None = None,
    after_seq: int = 0,
    limit: int = 100,
) -> list[AuditEntry]:
    """Stored records in seq order: ``since`` inclusive, ``until`` exclusive, ``action_prefix`` a plain (case
    sensitive) prefix of the action; page on with ``after_seq``."""
    clauses = ["seq > ?"]
    params: list[Any] = [after_seq]
    _time_clauses(since, until, clauses, params)
    for column, value in (("actor", actor), ("tenant", tenant), ("outcome", outcome)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if action_prefix:
        # substr rather than LIKE: SQLite's LIKE ignores case and both would need the wildcards escaped
        clauses.append("substr(action, 1, length(CAST(? AS TEXT))) = CAST(? AS TEXT)")
        params += [action_prefix, action_prefix]
    return [entry_from_row(row) for row in _select(db, clauses, params, limit)]


def _pages(store: Store, since: datetime | None, until: datetime | None, page: int) -> Iterator[list[Any]]:
    """Stored rows in seq order, a page at a time, each page read in its own transaction."""
    after = 0
    while True:
        clauses = ["seq > ?"]
        params: list[Any] = [after]
        _time_clauses(since, until, clauses, params)
        with store.transaction(write=False) as db:
            rows = _select(db, clauses, params, page)
        if rows:
            yield rows
        if len(rows) < page:
            return
        after = int(rows[-1][0])


def iter_rows(
    store: Store, *, since: datetime | None = None, until: datetime | None = None, page: int = 5000
) -> Iterator[dict[str, Any]]:
    """Every stored row (see :func:`row_fields`) in seq order, read ``page`` rows at a time."""
    for rows in _pages(store, since, until, page):
        yield from (row_fields(row) for row in rows)


def iter_all(
    store: Store, page: int = 5000, *, since: datetime | None = None, until: datetime | None = None
) -> Iterator[AuditEntry]:
    """Every stored record in seq order, read page by page (never all at once)."""
    for rows in _pages(store, since, until, page):
        yield from (entry_from_row(row) for row in rows)
