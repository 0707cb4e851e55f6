"""The store: tenants, transactions and migrations, whatever the SQL engine."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from importlib import resources
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from smartcity.hub.errors import NonexistentTenant
from smartcity.hub.feed import ChangeBatch, ChangeFeed
from smartcity.hub.model import now_iso
from smartcity.hub.store.changes import WriteContext, WriteHook
from smartcity.hub.store.dialect import Dialect
from smartcity.hub.store.sql import Db, EntityReader, EntityWriter

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_TENANT = ""


def run_committed(callbacks: list[Callable[[], None]]) -> None:
    """Run a committed transaction's after-commit callbacks; one failing never stops the others."""
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("an after-commit callback failed; the transaction itself is committed")


@dataclass(frozen=True)
class HostedContext:
    id: str
    body: str
    created_at: str


class SqlTenantScope:
    """The only door to a tenant's entities: every reader and writer is bound to one tenant."""

    def __init__(self, store: Store, tenant_id: int, name: str) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self.name = name

    @contextmanager
    def read(self) -> Iterator[EntityReader]:
        with self.store.transaction(write=False) as db:
            yield EntityReader(db, self.tenant_id)

    @contextmanager
    def write(self) -> Iterator[EntityWriter]:
        """A write transaction; the store's write hooks see its changes before it commits."""
        with self.store.transaction(write=True) as db:
            writer = EntityWriter(db, self.tenant_id)
            yield writer
            if writer.changes:
                context = WriteContext(db, self.tenant_id, self.name)
                for hook in self.store.write_hooks:
                    hook(context, writer.changes)
                feed = self.store.feed
                if feed.active:
                    db.after_commit(partial(feed.publish, ChangeBatch(self.name, tuple(writer.changes))))

    @contextmanager
    def transaction(self) -> Iterator[WriteContext]:
        """A write transaction on this tenant's other tables (history, subscriptions), without entity hooks."""
        with self.store.transaction(write=True) as db:
            yield WriteContext(db, self.tenant_id, self.name)

    @contextmanager
    def snapshot(self) -> Iterator[WriteContext]:
        """A read-only transaction on this tenant's other tables."""
        with self.store.transaction(write=False) as db:
            yield WriteContext(db, self.tenant_id, self.name)


class Store(ABC):
    """One database; subclasses provide connections and transactions."""

    dialect: Dialect

    def __init__(self) -> None:
        self._tenants: dict[str, int] = {}
        self._tenant_lock = threading.Lock()
        self.write_hooks: list[WriteHook] = []
        self.feed = ChangeFeed()  # committed changes, for in-process listeners (rules, live streams)

    def add_write_hook(self, hook: WriteHook) -> None:
        """Run ``hook`` inside every entity write transaction, after the writes, before the commit."""
        if hook not in self.write_hooks:
            self.write_hooks.append(hook)

    @abstractmethod
    def transaction(self, *, write: bool) -> AbstractContextManager[Db]:
        """A transaction; writes are serialised where the engine needs it."""

    @abstractmethod
    def close(self) -> None: ...

    @contextmanager
    def grouped(self) -> Iterator[None]:
        """Writes inside may share a transaction committed later (engines with group commit)."""
        yield

    async def settle(self) -> None:  # noqa: B027 - a hook: engines without group commit are durable at once
        """Wait until the writes made under :meth:`grouped` are durable."""

    async def run_write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a one-entity write from the event loop; engines may group such writes into one transaction."""
        return await run_in_threadpool(fn, *args, **kwargs)

    # -- tenants -----------------------------------------------------------------------------------

    def tenant(self, name: str | None, *, create: bool = False) -> SqlTenantScope:
        """The scope of a tenant; an unknown tenant is created when ``create``, else NonexistentTenant."""
        key = name or DEFAULT_TENANT
        tenant_id = self._tenants.get(key)
        if tenant_id is None:
            tenant_id = self._lookup_tenant(key, create=create)
        return SqlTenantScope(self, tenant_id, key)

    def _lookup_tenant(self, key: str, *, create: bool) -> int:
        with self._tenant_lock:
            if key in self._tenants:
                return self._tenants[key]
            with self.transaction(write=create) as db:
                row = db.run("SELECT id FROM tenants WHERE name = ?", [key]).fetchone()
                if row is None and create:
                    row = db.run(
                        "INSERT INTO tenants (name, created_at) VALUES (?, ?) RETURNING id", [key, now_iso()]
                    ).fetchone()
            if row is None:
                raise NonexistentTenant(f"tenant {key!r} does not exist")
            self._tenants[key] = int(row[0])
            return self._tenants[key]

    def tenant_names(self) -> list[str]:
        with self.transaction(write=False) as db:
            return [r[0] for r in db.run("SELECT name FROM tenants ORDER BY id").fetchall()]

    # -- hosted @contexts --------------------------------------------------------------------------

    def put_context(self, context_id: str, body: str) -> HostedContext:
        created = now_iso()
        with self.transaction(write=True) as db:
            db.run(
                "INSERT INTO jsonld_contexts (id, body, created_at) VALUES (?, ?, ?)",
                [context_id, body, created],
            )
        return HostedContext(context_id, body, created)

    def get_context(self, context_id: str) -> HostedContext | None:
        with self.transaction(write=False) as db:
            row = db.run("SELECT id, body, created_at FROM jsonld_contexts WHERE id = ?", [context_id]).fetchone()
        return None if row is None else HostedContext(row[0], row[1], row[2])

    def list_contexts(self) -> list[HostedContext]:
        with self.transaction(write=False) as db:
            rows = db.run("SELECT id, body, created_at FROM jsonld_contexts ORDER BY created_at, id").fetchall()
        return [HostedContext(r[0], r[1], r[2]) for r in rows]

    def delete_context(self, context_id: str) -> bool:
        with self.transaction(write=True) as db:
            found = db.run("SELECT 1 FROM jsonld_contexts WHERE id = ?", [context_id]).fetchone()
            if found is not None:
                db.run("DELETE FROM jsonld_contexts WHERE id = ?", [context_id])
        return found is not None

    # -- migrations --------------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        """Apply the versioned migrations this database has not seen yet; returns their names."""
        folder = resources.files("smartcity.hub.store.migrations").joinpath(self._migration_dir())
        scripts = sorted(
            (item.name, item.read_text(encoding="utf-8")) for item in folder.iterdir() if item.name.endswith(".sql")
        )
        applied: list[str] = []
        with self.transaction(write=True) as db:
            self._lock_migrations(db)
            db.run(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TEXT NOT NULL)"
            )
            done = {int(r[0]) for r in db.run("SELECT version FROM schema_migrations").fetchall()}
            for name, text in scripts:
                version = int(name.split("_", 1)[0])
                if version in done:
                    continue
                for statement in _statements(text):
                    db.run(statement)
                db.run(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [version, name, now_iso()],
                )
                applied.append(name)
                log.info("applied migration %s", name)
            if db.run("SELECT id FROM tenants WHERE name = ?", [DEFAULT_TENANT]).fetchone() is None:
                db.run("INSERT INTO tenants (name, created_at) VALUES (?, ?)", [DEFAULT_TENANT, now_iso()])
        return applied

    def _migration_dir(self) -> str:
        return "postgres" if self.dialect.name == "postgresql" else "sqlite"

    def _lock_migrations(self, db: Db) -> None:  # noqa: B027 - a hook; SQLite's write lock is enough
        """Serialise migrations between processes (PostgreSQL); SQLite's write lock already does."""


def _statements(script: str) -> list[str]:
    out: list[str] = []
    for chunk in script.split(";\n"):
        lines = [ln for ln in chunk.splitlines() if not ln.strip().startswith("--")]
        text = "\n".join(lines).strip().rstrip(";")
        if text:
            out.append(text)
    return out
