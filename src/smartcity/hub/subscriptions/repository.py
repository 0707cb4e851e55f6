"""The ``subscriptions`` table: one row per subscription, its stored document and its delivery status.

Every change of a tenant's subscriptions also bumps the tenant's row of ``subscription_versions`` in the same
transaction: the in-memory index of each server process compares that counter with its own once per entity
write transaction (see :mod:`smartcity.hub.subscriptions.matcher`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from smartcity.hub.errors import AlreadyExists
from smartcity.hub.model import iso_to_micros, now_iso
from smartcity.hub.store.sql import Db

_COLUMNS = (
    "id, doc, context, is_active, expires_at, time_interval, throttling, created_at, modified_at, last_fired, "
    "times_sent, times_failed, last_notification, last_success, last_failure, last_error"
)

_S_COLUMNS = ", ".join("s." + c.strip() for c in _COLUMNS.split(","))


@dataclass(frozen=True)
class SubscriptionRow:
    """A row of ``subscriptions``: the stored (expanded) document, its @context and the delivery status."""

    tenant_id: int
    id: str
    doc: dict[str, Any]
    context: Any  # the user @context as given (None: the core context only)
    doc_text: str
    context_text: str
    is_active: bool
    expires_at: int | None
    time_interval: float | None
    throttling: float | None
    created_at: str
    modified_at: str
    last_fired: int | None
    times_sent: int
    times_failed: int
    last_notification: str | None
    last_success: str | None
    last_failure: str | None
    last_error: str | None


def _row(tenant_id: int, r: Any) -> SubscriptionRow:
    return SubscriptionRow(
        tenant_id=tenant_id,
        id=r[0],
        doc=orjson.loads(r[1]),
        context=orjson.loads(r[2]),
        doc_text=r[1],
        context_text=r[2],
        is_active=bool(r[3]),
        expires_at=None if r[4] is None else int(r[4]),
        time_interval=None if r[5] is None else float(r[5]),
        throttling=None if r[6] is None else float(r[6]),
        created_at=r[7],
        modified_at=r[8],
        last_fired=None if r[9] is None else int(r[9]),
        times_sent=int(r[10]),
        times_failed=int(r[11]),
        last_notification=r[12],
        last_success=r[13],
        last_failure=r[14],
        last_error=r[15],
    )


def _derived(doc: dict[str, Any]) -> list[Any]:
    """The columns that mirror members of the document: is_active, expires_at, time_interval, throttling."""
    expires = doc.get("expiresAt")
    return [
        1 if doc.get("isActive", True) else 0,
        iso_to_micros(expires) if isinstance(expires, str) else None,
        doc.get("timeInterval"),
        doc.get("throttling"),
    ]


def bump_version(db: Db, tenant_id: int) -> None:
    db.run(
        "INSERT INTO subscription_versions (tenant_id, version) VALUES (?, 1) "
        "ON CONFLICT (tenant_id) DO UPDATE SET version = subscription_versions.version + 1",
        [tenant_id],
    )


def version(db: Db, tenant_id: int) -> int:
    row = db.run("SELECT version FROM subscription_versions WHERE tenant_id = ?", [tenant_id]).fetchone()
    return 0 if row is None else int(row[0])


def insert(db: Db, tenant_id: int, doc: dict[str, Any], context: Any) -> None:
    """Store a new subscription; AlreadyExists when the tenant has one with the same id."""
    now = now_iso()
    row = db.run(
        "INSERT INTO subscriptions (tenant_id, id, doc, context, is_active, expires_at, time_interval, throttling, "
        "created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING "
        "RETURNING id",
        [tenant_id, doc["id"], orjson.dumps(doc).decode(), orjson.dumps(context).decode(), *_derived(doc), now, now],
    ).fetchone()
    if row is None:
        raise AlreadyExists(f"subscription {doc['id']} already exists")
    bump_version(db, tenant_id)


def get(db: Db, tenant_id: int, subscription_id: str) -> SubscriptionRow | None:
    r = db.run(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE tenant_id = ? AND id = ?",  # noqa: S608 - constant columns
        [tenant_id, subscription_id],
    ).fetchone()
    return None if r is None else _row(tenant_id, r)


def page(db: Db, tenant_id: int, limit: int, offset: int) -> list[SubscriptionRow]:
    rows = db.run(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE tenant_id = ? "  # noqa: S608 - constant columns
        "ORDER BY created_at, id LIMIT ? OFFSET ?",
        [tenant_id, limit, offset],
    ).fetchall()
    return [_row(tenant_id, r) for r in rows]


def count(db: Db, tenant_id: int) -> int:
    return int(db.run("SELECT count(*) FROM subscriptions WHERE tenant_id = ?", [tenant_id]).fetchone()[0])


def all_of(db: Db, tenant_id: int) -> list[SubscriptionRow]:
    rows = db.run(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE tenant_id = ? ORDER BY id",  # noqa: S608 - constant columns
        [tenant_id],
    ).fetchall()
    return [_row(tenant_id, r) for r in rows]


def periodic(db: Db) -> list[tuple[str, SubscriptionRow]]:
    """(tenant name, row) of every active subscription with a timeInterval, in every tenant."""
    rows = db.run(
        f"SELECT t.name, s.tenant_id, {_S_COLUMNS} "  # noqa: S608 - constant columns
        "FROM subscriptions s JOIN tenants t ON t.id = s.tenant_id "
        "WHERE s.time_interval IS NOT NULL AND s.is_active = 1 ORDER BY s.tenant_id, s.id"
    ).fetchall()
    return [(r[0], _row(int(r[1]), r[2:])) for r in rows]


def update(db: Db, tenant_id: int, doc: dict[str, Any]) -> None:
    db.run(
        "UPDATE subscriptions SET doc = ?, is_active = ?, expires_at = ?, time_interval = ?, throttling = ?, "
        "modified_at = ? WHERE tenant_id = ? AND id = ?",
        [orjson.dumps(doc).decode(), *_derived(doc), now_iso(), tenant_id, doc["id"]],
    )
    bump_version(db, tenant_id)


def delete(db: Db, tenant_id: int, subscription_id: str) -> bool:
    """Remove a subscription and the notifications it still has queued; False when there was none."""
    found = db.run(
        "DELETE FROM subscriptions WHERE tenant_id = ? AND id = ? RETURNING id", [tenant_id, subscription_id]
    ).fetchone()
    if found is None:
        return False
    db.run("DELETE FROM notification_outbox WHERE tenant_id = ? AND subscription_id = ?", [tenant_id, subscription_id])
    bump_version(db, tenant_id)
    return True


def claim_firing(db: Db, tenant_id: int, subscription_id: str, now: int, gap: int) -> bool:
    """Record a firing at ``now`` unless the subscription fired less than ``gap`` µs before; True when recorded.

    One conditional UPDATE: the row lock makes it exact between transactions and processes, and a rolled-back
    transaction takes its firing with it.
    """
    row = db.run(
        "UPDATE subscriptions SET last_fired = ? WHERE tenant_id = ? AND id = ? "
        "AND (last_fired IS NULL OR last_fired <= ?) RETURNING id",
        [now, tenant_id, subscription_id, now - gap],
    ).fetchone()
    return row is not None
