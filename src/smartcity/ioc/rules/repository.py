"""Where rules are kept: each rule's current version, every version ever stored, and what each rule is firing about.

A :class:`RuleBook` is bound to one hub tenant: every query it runs is scoped by that tenant's id, and there is
no other way in. Every change (create, update, delete) stores a new version; old versions stay readable, also
those of a deleted rule, and a rule created again under the same id continues its numbering.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from smartcity.hub.model import format_time, now_iso, parse_time
from smartcity.hub.store import Store
from smartcity.hub.store.changes import WriteContext


@dataclass(frozen=True)
class StoredRule:
    rule_id: str
    version: int
    enabled: bool
    doc: Mapping[str, Any]
    created_at: str
    updated_at: str
    updated_by: str

    def view(self) -> dict[str, Any]:
        return {
            **self.doc,
            "version": self.version,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "updatedBy": self.updated_by,
        }


@dataclass(frozen=True)
class Version:
    rule_id: str
    version: int
    change: str  # created | updated | deleted
    doc: Mapping[str, Any]
    changed_at: str
    changed_by: str

    def view(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "change": self.change,
            "changedAt": self.changed_at,
            "changedBy": self.changed_by,
            "rule": dict(self.doc),
        }


@dataclass(frozen=True)
class Firing:
    rule_id: str
    subject: str
    subject_type: str | None
    fired_at: datetime


def _stored(row: Any) -> StoredRule:
    return StoredRule(row[0], int(row[1]), bool(row[2]), orjson.loads(row[3]), row[4], row[5], row[6])


class RuleBook:
    """The rules of one tenant."""

    def __init__(self, store: Store, tenant: str) -> None:
        self._store = store
        self._tenant = tenant

    def _write(self) -> Any:
        return self._store.tenant(self._tenant, create=True).transaction()

    def _read(self) -> Any:
        return self._store.tenant(self._tenant, create=True).snapshot()

    # -- rules ----------------------------------------------------------------------------------------

    def all(self) -> list[StoredRule]:
        ctx: WriteContext
        with self._read() as ctx:
            rows = ctx.db.run(
                "SELECT rule_id, version, enabled, doc, created_at, updated_at, updated_by "
                "FROM ioc_rules WHERE tenant_id = ? ORDER BY rule_id",
                [ctx.tenant_id],
            ).fetchall()
        return [_stored(r) for r in rows]

    def get(self, rule_id: str) -> StoredRule | None:
        ctx: WriteContext
        with self._read() as ctx:
            row = ctx.db.run(
                "SELECT rule_id, version, enabled, doc, created_at, updated_at, updated_by "
                "FROM ioc_rules WHERE tenant_id = ? AND rule_id = ?",
                [ctx.tenant_id, rule_id],
            ).fetchone()
        return _stored(row) if row is not None else None

    def put(self, doc: Mapping[str, Any], by: str, *, create_only: bool = False) -> tuple[StoredRule, bool] | None:
        """Store a (validated) rule document as the rule's new version; returns it and whether it was created.
        With ``create_only``, None when the rule exists already. An unchanged document stores nothing."""
        rule_id = str(doc["id"])
        body = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode()
        enabled = 1 if doc.get("enabled", True) else 0
        now = now_iso()
        ctx: WriteContext
        with self._write() as ctx:
            db, tid = ctx.db, ctx.tenant_id
            row = db.run(
                "SELECT rule_id, version, enabled, doc, created_at, updated_at, updated_by "
                "FROM ioc_rules WHERE tenant_id = ? AND rule_id = ?",
                [tid, rule_id],
            ).fetchone()
            if row is not None and create_only:
                return None
            if row is not None and orjson.dumps(orjson.loads(row[3]), option=orjson.OPT_SORT_KEYS).decode() == body:
                return _stored(row), False
            last = db.run(
                "SELECT max(version) FROM ioc_rule_versions WHERE tenant_id = ? AND rule_id = ?", [tid, rule_id]
            ).fetchone()
            version = int(last[0] or 0) + 1
            if row is None:
                db.run(
                    "INSERT INTO ioc_rules (tenant_id, rule_id, version, enabled, doc, created_at, updated_at, "
                    "updated_by) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [tid, rule_id, version, enabled, body, now, now, by],
                )
            else:
                db.run(
                    "UPDATE ioc_rules SET version = ?, enabled = ?, doc = ?, updated_at = ?, updated_by = ? "
                    "WHERE tenant_id = ? AND rule_id = ?",
                    [version, enabled, body, now, by, tid, rule_id],
                )
            db.run(
                "INSERT INTO ioc_rule_versions (tenant_id, rule_id, version, change, doc, changed_at, changed_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [tid, rule_id, version, "created" if row is None else "updated", body, now, by],
            )
            created_at = now if row is None else row[4]
        return StoredRule(rule_id, version, bool(enabled), orjson.loads(body), created_at, now, by), row is None

    def delete(self, rule_id: str, by: str) -> bool:
        """Delete a rule (its versions stay, with a last ``deleted`` one); False when there is none."""
        now = now_iso()
        ctx: WriteContext
        with self._write() as ctx:
            db, tid = ctx.db, ctx.tenant_id
            row = db.run("SELECT version, doc FROM ioc_rules WHERE tenant_id = ? AND rule_id = ?", [tid, rule_id])
            found = row.fetchone()
            if found is None:
                return False
            db.run("DELETE FROM ioc_rules WHERE tenant_id = ? AND rule_id = ?", [tid, rule_id])
            db.run("DELETE FROM ioc_rule_firing WHERE tenant_id = ? AND rule_id = ?", [tid, rule_id])
            db.run(
                "INSERT INTO ioc_rule_versions (tenant_id, rule_id, version, change, doc, changed_at, changed_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [tid, rule_id, int(found[0]) + 1, "deleted", found[1], now, by],
            )
        return True

    def versions(self, rule_id: str) -> list[Version]:
        ctx: WriteContext
        with self._read() as ctx:
            rows = ctx.db.run(
                "SELECT rule_id, version, change, doc, changed_at, changed_by FROM ioc_rule_versions "
                "WHERE tenant_id = ? AND rule_id = ? ORDER BY version",
                [ctx.tenant_id, rule_id],
            ).fetchall()
        return [Version(r[0], int(r[1]), r[2], orjson.loads(r[3]), r[4], r[5]) for r in rows]

    # -- what rules are firing about (survives restarts) ----------------------------------------------

    def firing(self) -> list[Firing]:
        ctx: WriteContext
        with self._read() as ctx:
            rows = ctx.db.run(
                "SELECT rule_id, subject, subject_type, fired_at FROM ioc_rule_firing WHERE tenant_id = ?",
                [ctx.tenant_id],
            ).fetchall()
        out = []
        for r in rows:
            moment = parse_time(r[3])
            if moment is not None:
                out.append(Firing(r[0], r[1], r[2], moment))
        return out

    def record(self, changes: list[tuple[str, str, str | None, datetime, bool]]) -> None:
        """(rule id, subject, subject type, time, firing) of the signals that started or ended an episode."""
        if not changes:
            return
        ctx: WriteContext
        with self._write() as ctx:
            db, tid = ctx.db, ctx.tenant_id
            for rule_id, subject, subject_type, at, firing in changes:
                db.run(
                    "DELETE FROM ioc_rule_firing WHERE tenant_id = ? AND rule_id = ? AND subject = ?",
                    [tid, rule_id, subject],
                )
                if firing:
                    db.run(
                        "INSERT INTO ioc_rule_firing (tenant_id, rule_id, subject, subject_type, fired_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        [tid, rule_id, subject, subject_type, format_time(at)],
                    )
