"""Test plumbing: subscriptions and outbox rows written straight into the store, waiting with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson

from smartcity.hub.model import now_iso
from smartcity.hub.notify import wakeup
from smartcity.hub.store import Store

T = TypeVar("T")


def wait_for(probe: Callable[[], T], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last value {value!r})")
        time.sleep(0.02)


def default_tenant(store: Store) -> int:
    with store.transaction(write=False) as db:
        return int(db.run("SELECT id FROM tenants WHERE name = ?", [""]).fetchone()[0])


def add_subscription(store: Store, sub_id: str) -> None:
    stamp = now_iso()
    with store.transaction(write=True) as db:
        db.run(
            "INSERT INTO subscriptions (tenant_id, id, doc, context, created_at, modified_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [default_tenant(store), sub_id, "{}", "[]", stamp, stamp],
        )


def notification(n: int, sub_id: str = "urn:ngsi-ld:Subscription:s") -> bytes:
    return orjson.dumps(
        {
            "id": f"urn:ngsi-ld:Notification:{n}",
            "type": "Notification",
            "subscriptionId": sub_id,
            "notifiedAt": now_iso(),
            "data": [{"id": f"urn:ngsi-ld:T:{n}", "type": "T", "n": {"type": "Property", "value": n}}],
        }
    )


def queue(
    store: Store,
    sub_id: str,
    endpoint: str,
    numbers: Sequence[int],
    headers: dict[str, str] | None = None,
    *,
    wake: bool = True,
) -> list[int]:
    """Queue one notification per number for ``sub_id``; the outbox ids."""
    tenant = default_tenant(store)
    heads = orjson.dumps(headers if headers is not None else {"Content-Type": "application/json"}).decode()
    now = time.time_ns() // 1000
    ids: list[int] = []
    with store.transaction(write=True) as db:
        for n in numbers:
            row = db.run(
                "INSERT INTO notification_outbox (tenant_id, subscription_id, endpoint, headers, body, created_at, "
                "due_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [tenant, sub_id, endpoint, heads, notification(n, sub_id), now, now],
            ).fetchone()
            ids.append(int(row[0]))
    if wake:
        wakeup.outbox.set()
    return ids


def outbox(store: Store, sub_id: str | None = None) -> list[dict[str, Any]]:
    with store.transaction(write=False) as db:
        rows = db.run(
            "SELECT id, subscription_id, attempts, due_at, claimed_until, last_error FROM notification_outbox "
            "ORDER BY id"
        ).fetchall()
    keys = ("id", "subscription_id", "attempts", "due_at", "claimed_until", "last_error")
    return [dict(zip(keys, r, strict=True)) for r in rows if sub_id is None or r[1] == sub_id]


def status(store: Store, sub_id: str) -> dict[str, Any]:
    with store.transaction(write=False) as db:
        row = db.run(
            "SELECT times_sent, times_failed, last_notification, last_success, last_failure, last_error "
            "FROM subscriptions WHERE id = ?",
            [sub_id],
        ).fetchone()
    keys = ("times_sent", "times_failed", "last_notification", "last_success", "last_failure", "last_error")
    return dict(zip(keys, row, strict=True))


def numbers_of(bodies: Sequence[bytes]) -> list[int]:
    return sorted(int(str(orjson.loads(b)["id"]).rsplit(":", 1)[1]) for b in bodies)
