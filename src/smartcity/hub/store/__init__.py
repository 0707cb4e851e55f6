"""Storage of the hub: one interface (:class:`Store`), two engines (SQLite, PostgreSQL)."""

from __future__ import annotations

from smartcity.hub.store.base import DEFAULT_TENANT, HostedContext, SqlTenantScope, Store
from smartcity.hub.store.sql import AttributeInfo, EntityReader, EntityWriter, StoreConflict, StoreQueryError, TypeInfo

__all__ = [
    "DEFAULT_TENANT",
    "AttributeInfo",
    "EntityReader",
    "EntityWriter",
    "HostedContext",
    "SqlTenantScope",
    "Store",
    "StoreConflict",
    "StoreQueryError",
    "TypeInfo",
    "open_store",
]


def open_store(url: str) -> Store:
    """A migrated store for ``sqlite:///path`` or ``postgresql://...``."""
    store: Store
    if url.startswith("sqlite:///"):
        from smartcity.hub.store.sqlite import SqliteStore

        store = SqliteStore(url.removeprefix("sqlite:///"))
    elif url.startswith(("postgresql://", "postgres://")):
        from smartcity.hub.store.postgres import PostgresStore

        store = PostgresStore(url)
    else:
        raise ValueError(f"unsupported database URL {url!r}")
    store.migrate()
    return store
