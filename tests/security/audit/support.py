"""Helpers of the audit tests: records with known times, raw tampering, a store whose writes fail."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from smartcity.hub.store import Store, open_store
from smartcity.hub.store.sql import Db
from smartcity.security.audit import AuditEntry, AuditRecord, append, iter_all
from smartcity.security.principal import Principal
from smartcity.security.roles import Role

KEY = b"test audit key"
T0 = datetime(2026, 11, 24, 3, 4, 5, 123456, tzinfo=UTC)
ALICE = Principal(subject="alice", kind="user", role=Role.IOC_OPERATOR, credential_id="u-1", client="10.0.0.1")
BOB = Principal(subject="bob", kind="apikey", role=Role.DEVICE, credential_id="k-9", client="10.0.0.2")


def make_record(i: int, *, who: Principal = ALICE, **overrides: Any) -> AuditRecord:
    values: dict[str, Any] = {
        "actor": who.subject,
        "actor_kind": who.kind,
        "role": str(who.role),
        "credential_id": who.credential_id,
        "client": who.client,
        "tenant": "district1" if i % 2 else None,
        "action": "hub.entity.create" if i % 3 else "security.user.add",
        "method": "POST",
        "target": f"/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:{i}",
        "outcome": "success",
        "status": 201,
        "details": {"i": i, "names": ["a", "b"]},
        "at": T0 + timedelta(minutes=i),
    }
    values.update(overrides)
    return AuditRecord(**values)


def fill(store: Store, n: int, key: bytes | None = KEY) -> list[AuditEntry]:
    with store.transaction(write=True) as db:
        return append(db, [make_record(i) for i in range(1, n + 1)], key)


def stored(store: Store) -> list[AuditEntry]:
    return list(iter_all(store))


def raw(store: Store, sql: str, params: Sequence[Any] = ()) -> None:
    """Tamper with the tables directly, as someone with write access to the database could."""
    with store.transaction(write=True) as db:
        db.run(sql, params)


def row(store: Store, seq: int) -> list[Any]:
    with store.transaction(write=False) as db:
        found = db.run(
            "SELECT at, actor, actor_kind, role, credential_id, client, tenant, action, method, target, outcome, "
            "status, details, prev_hash, hash FROM audit_records WHERE seq = ?",
            [seq],
        ).fetchone()
    return list(found)


def overwrite(store: Store, seq: int, values: list[Any]) -> None:
    raw(
        store,
        "UPDATE audit_records SET at = ?, actor = ?, actor_kind = ?, role = ?, credential_id = ?, client = ?, "
        "tenant = ?, action = ?, method = ?, target = ?, outcome = ?, status = ?, details = ?, prev_hash = ?, "
        "hash = ? WHERE seq = ?",
        [*values, seq],
    )


def url_of(store: Store) -> str:
    """The URL another process would open the same database with."""
    path = getattr(store, "path", None)
    return f"sqlite:///{path}" if path is not None else str(store.url)  # type: ignore[attr-defined]


def other_store(store: Store) -> Store:
    return open_store(url_of(store))


class FlakyStore(Store):
    """The store, except that its first ``failures`` write transactions fail (the database is down)."""

    def __init__(self, inner: Store, failures: int) -> None:
        super().__init__()
        self.inner = inner
        self.dialect = inner.dialect
        self.failures = failures
        self.attempts = 0

    def transaction(self, *, write: bool) -> AbstractContextManager[Db]:
        return self._transaction(write)

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Db]:
        if write:
            self.attempts += 1
            if self.failures > 0:
                self.failures -= 1
                raise ConnectionError("database is down")
        with self.inner.transaction(write=write) as db:
            yield db

    def close(self) -> None:
        self.inner.close()
