"""The notification outbox in the database: claiming due rows, renewing and releasing leases, recording outcomes.

A claimed row carries a lease (``claimed_until``): while it runs, no other deliverer takes the row, so several
server processes may share one PostgreSQL outbox (``FOR UPDATE SKIP LOCKED`` keeps their claims apart). A row is
deleted only once its receiver confirmed it; a failure puts it back with a later ``due_at``. Every method is one
short transaction: with SQLite the writer lock is shared with the API's writes.

On PostgreSQL these transactions commit without waiting for their WAL flush (``synchronous_commit = off``; the
rows themselves are queued by the API's transactions, which do wait): a database crash can only forget a lease,
a deletion or a rescheduling of the last moments, so a notification may be sent once more (at least once, as
always) but none is lost. The API's writes then do not share their WAL flushes with the deliverer's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from smartcity.hub.model import micros_to_iso
from smartcity.hub.store import Store
from smartcity.hub.store.sql import Db

log = logging.getLogger(__name__)

#: the longest last_error kept
MAX_ERROR = 500


@dataclass(frozen=True)
class _Sql:
    """The engine-specific statements (written out whole: no SQL is composed at run time)."""

    claim: str
    claim_skipping: str  # the same, except rows for a list of endpoints
    delete: str
    renew: str
    release: str


_SQLITE = _Sql(
    claim="UPDATE notification_outbox SET claimed_until = ? WHERE id IN ("
    "SELECT id FROM notification_outbox WHERE due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)"
    " ORDER BY id LIMIT ?) RETURNING id, tenant_id, subscription_id, endpoint, headers, body, attempts,"
    " EXISTS (SELECT 1 FROM subscriptions s"
    " WHERE s.tenant_id = notification_outbox.tenant_id AND s.id = notification_outbox.subscription_id)",
    claim_skipping="UPDATE notification_outbox SET claimed_until = ? WHERE id IN ("
    "SELECT id FROM notification_outbox WHERE due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)"
    " AND endpoint NOT IN (SELECT value FROM json_each(?))"
    " ORDER BY id LIMIT ?) RETURNING id, tenant_id, subscription_id, endpoint, headers, body, attempts,"
    " EXISTS (SELECT 1 FROM subscriptions s"
    " WHERE s.tenant_id = notification_outbox.tenant_id AND s.id = notification_outbox.subscription_id)",
    delete="DELETE FROM notification_outbox WHERE id IN (SELECT value FROM json_each(?))",
    renew="UPDATE notification_outbox SET claimed_until = ? WHERE id IN (SELECT value FROM json_each(?))",
    release="UPDATE notification_outbox SET claimed_until = NULL WHERE id IN (SELECT value FROM json_each(?))",
)
_POSTGRES = _Sql(
    claim="UPDATE notification_outbox SET claimed_until = ? WHERE id IN ("
    "SELECT id FROM notification_outbox WHERE due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)"
    " ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)"
    " RETURNING id, tenant_id, subscription_id, endpoint, headers, body, attempts,"
    " EXISTS (SELECT 1 FROM subscriptions s"
    " WHERE s.tenant_id = notification_outbox.tenant_id AND s.id = notification_outbox.subscription_id)",
    claim_skipping="UPDATE notification_outbox SET claimed_until = ? WHERE id IN ("
    "SELECT id FROM notification_outbox WHERE due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)"
    " AND NOT (endpoint = ANY(?)) ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)"
    " RETURNING id, tenant_id, subscription_id, endpoint, headers, body, attempts,"
    " EXISTS (SELECT 1 FROM subscriptions s"
    " WHERE s.tenant_id = notification_outbox.tenant_id AND s.id = notification_outbox.subscription_id)",
    delete="DELETE FROM notification_outbox WHERE id = ANY(?)",
    renew="UPDATE notification_outbox SET claimed_until = ? WHERE id = ANY(?)",
    release="UPDATE notification_outbox SET claimed_until = NULL WHERE id = ANY(?)",
)

_SENT = (
    "UPDATE subscriptions SET times_sent = times_sent + ?, last_notification = ?, last_success = ?"
    " WHERE tenant_id = ? AND id = ?"
)
#: PostgreSQL: the counters of every subscription of a batch in one statement (arrays of the same length)
_SENT_ALL = (
    "UPDATE subscriptions AS s SET times_sent = s.times_sent + v.n, last_notification = v.at, last_success = v.at"
    " FROM unnest(CAST(? AS BIGINT[]), CAST(? AS TEXT[]), CAST(? AS BIGINT[]), CAST(? AS TEXT[]))"
    " AS v(tenant_id, id, n, at) WHERE s.tenant_id = v.tenant_id AND s.id = v.id"
)
_FAILED = (
    "UPDATE subscriptions SET times_failed = times_failed + ?, last_failure = ?, last_error = ?"
    " WHERE tenant_id = ? AND id = ?"
)
_RETRY = "UPDATE notification_outbox SET attempts = ?, due_at = ?, claimed_until = NULL, last_error = ? WHERE id = ?"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    tenant_id: int
    subscription_id: str
    endpoint: str
    headers: dict[str, str]
    body: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one send: delivered when ``error`` is None, else to be retried at ``retry_at``."""

    row: OutboxRow
    at: int  # µs since the epoch, when the send ended
    error: str | None = None
    retry_at: int = 0


def _headers(text: object) -> dict[str, str]:
    """The row's headers (the same text for every notification of a subscription: parsed once)."""
    return _parsed_headers(text) if isinstance(text, str) else _parse_headers(text)


@lru_cache(maxsize=1024)
def _parsed_headers(text: str) -> dict[str, str]:
    return _parse_headers(text)


def _parse_headers(text: object) -> dict[str, str]:
    try:
        value = orjson.loads(text) if isinstance(text, (str, bytes)) else None
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        return {}
    return {str(k): v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in value.items()}


def _body(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (memoryview, bytearray)):
        return bytes(value)
    raise TypeError(f"unexpected outbox body of type {type(value).__name__}")


class Outbox:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.postgres = store.dialect.name == "postgresql"
        self.sql = _POSTGRES if self.postgres else _SQLITE

    def _list(self, values: Sequence[Any]) -> Any:
        """A list as one bound parameter: an array for PostgreSQL, JSON text for SQLite's json_each."""
        return list(values) if self.postgres else orjson.dumps(list(values)).decode()

    @contextmanager
    def _transaction(self) -> Iterator[Db]:
        """A write transaction; on PostgreSQL one whose commit does not wait for its WAL flush (see the module)."""
        with self.store.transaction(write=True) as db:
            if self.postgres:
                db.run("SET LOCAL synchronous_commit = off")
            yield db

    def release_all(self) -> None:
        """Forget every lease (SQLite: this process is the only deliverer, leases of a killed one are void)."""
        with self._transaction() as db:
            db.run("UPDATE notification_outbox SET claimed_until = NULL WHERE claimed_until IS NOT NULL")

    def claim(self, now: int, lease_until: int, limit: int, skip_endpoints: Sequence[str] = ()) -> list[OutboxRow]:
        """Lease up to ``limit`` due rows, oldest first, except those for ``skip_endpoints``.

        Rows of subscriptions that no longer exist are deleted instead of returned.
        """
        params: list[Any] = [lease_until, now, now]
        if skip_endpoints:
            params.append(self._list(skip_endpoints))
        params.append(limit)
        sql = self.sql.claim_skipping if skip_endpoints else self.sql.claim
        with self._transaction() as db:
            found = db.run(sql, params).fetchall()
            orphans = [int(r[0]) for r in found if not r[7]]
            if orphans:
                db.run(self.sql.delete, [self._list(orphans)])
        if orphans:
            log.info("dropped %d notifications of deleted subscriptions", len(orphans))
        # built once the transaction is over (SQLite: the writer lock is not held meanwhile)
        rows = [
            OutboxRow(int(r[0]), int(r[1]), r[2], r[3], _headers(r[4]), _body(r[5]), int(r[6])) for r in found if r[7]
        ]
        rows.sort(key=lambda row: row.id)
        return rows

    def renew(self, ids: Sequence[int], lease_until: int) -> None:
        if ids:
            with self._transaction() as db:
                db.run(self.sql.renew, [lease_until, self._list(ids)])

    def release(self, ids: Sequence[int]) -> None:
        """Give leased rows back (they are due again at once for any deliverer)."""
        if ids:
            with self._transaction() as db:
                db.run(self.sql.release, [self._list(ids)])

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Delete the delivered rows, reschedule the failed ones, count both on their subscriptions."""
        delivered: list[int] = []
        retries: list[tuple[int, int, str, int]] = []
        sent: dict[tuple[int, str], list[int]] = {}  # (tenant, subscription) -> [count, last time]
        failed: dict[tuple[int, str], tuple[int, int, str]] = {}
        for o in outcomes:
            key = (o.row.tenant_id, o.row.subscription_id)
            if o.error is None:
                delivered.append(o.row.id)
                count_at = sent.setdefault(key, [0, 0])
                count_at[0] += 1
                count_at[1] = max(count_at[1], o.at)
            else:
                error = o.error[:MAX_ERROR]
                retries.append((o.row.attempts + 1, o.retry_at, error, o.row.id))
                count, at, last = failed.get(key, (0, 0, error))
                failed[key] = (count + 1, o.at, error) if o.at >= at else (count + 1, at, last)
        # the parameters are made before the transaction (SQLite: the writer lock is held as briefly as can be)
        counted = [(tenant, sub, n, micros_to_iso(at)) for (tenant, sub), (n, at) in sent.items()]
        failures = [(n, micros_to_iso(at), err, tenant, sub) for (tenant, sub), (n, at, err) in failed.items()]
        deleted = self._list(delivered)
        with self._transaction() as db:
            if delivered:
                db.run(self.sql.delete, [deleted])
            db.many(_RETRY, retries)
            if self.postgres and counted:
                db.run(_SENT_ALL, [list(column) for column in zip(*counted, strict=True)])
            else:
                db.many(_SENT, [(n, at, at, tenant, sub) for tenant, sub, n, at in counted])
            db.many(_FAILED, failures)
