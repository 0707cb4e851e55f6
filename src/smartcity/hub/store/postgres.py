"""The production backend: PostgreSQL through psycopg 3 and a connection pool."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from smartcity.hub.store.base import Store
from smartcity.hub.store.dialect import PostgresDialect
from smartcity.hub.store.sql import Cursor, Db, StoreConflict, StoreQueryError, to_pyformat

log = logging.getLogger(__name__)

#: entities inserted before the store refreshes PostgreSQL's planner statistics
ANALYZE_MIN_ROWS = 5000


@lru_cache(maxsize=2048)
def _pg(sql: str) -> str:
    return to_pyformat(sql)


class PostgresDb:
    dialect = PostgresDialect()

    def __init__(self, conn: psycopg.Connection[Any], store: PostgresStore) -> None:
        self.conn = conn
        self.store = store

    def note_inserted(self, n: int) -> None:
        self.store.note_inserted(n)

    def run(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        try:
            return self.conn.execute(_pg(sql), params)
        except psycopg.errors.UniqueViolation as exc:
            raise StoreConflict(str(exc)) from exc
        except psycopg.errors.DataError as exc:
            raise StoreQueryError(str(exc).splitlines()[0]) from exc

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            with self.conn.cursor() as cur:
                cur.executemany(_pg(sql), rows)
        except psycopg.errors.UniqueViolation as exc:
            raise StoreConflict(str(exc)) from exc


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` when it does not exist yet (needs the right to create it)."""
    params = conninfo_to_dict(url)
    name = str(params.get("dbname") or "postgres")
    admin = make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists is None:
            conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
            log.info("created PostgreSQL database %s", name)


def drop_database(url: str) -> None:
    params = conninfo_to_dict(url)
    name = str(params.get("dbname"))
    admin = make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))


class PostgresStore(Store):
    dialect = PostgresDialect()

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        super().__init__()
        self.url = url
        ensure_database(url)
        self._analyze_lock = threading.Lock()
        self._inserted_since_analyze = 0
        self._analyze_threshold = ANALYZE_MIN_ROWS
        self._analyzing = False
        self._analyzer: threading.Thread | None = None
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url, min_size=min_size, max_size=max_size, open=True, kwargs={"autocommit": False}
        )

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Db]:
        with self.pool.connection() as conn, conn.transaction():
            yield PostgresDb(conn, self)
        if write and self._inserted_since_analyze >= self._analyze_threshold:
            self._analyze_soon()

    def note_inserted(self, n: int) -> None:
        with self._analyze_lock:
            self._inserted_since_analyze += n

    def _analyze_soon(self) -> None:
        """Refresh planner statistics after a large load, in the background (autovacuum would, a minute later)."""
        with self._analyze_lock:
            if self._analyzing:
                return
            self._analyzing = True
            self._inserted_since_analyze = 0
        self._analyzer = threading.Thread(target=self._analyze, name="smartcity-analyze", daemon=True)
        self._analyzer.start()

    def _analyze(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute("ANALYZE entities, entity_types, attrs")
                total = conn.execute("SELECT count(*) FROM entities").fetchone()
            with self._analyze_lock:
                # analyse again once the data has grown by a fifth
                self._analyze_threshold = max(ANALYZE_MIN_ROWS, int((total[0] if total else 0) * 0.2))
            log.info("refreshed PostgreSQL planner statistics")
        except psycopg.Error:
            log.warning("could not refresh PostgreSQL planner statistics", exc_info=True)
        finally:
            with self._analyze_lock:
                self._analyzing = False

    def _lock_migrations(self, db: Db) -> None:
        db.run("SELECT pg_advisory_xact_lock(?)", [0x5C17])

    def close(self) -> None:
        if self._analyzer is not None:
            self._analyzer.join(timeout=60)
        self.pool.close()
