"""The production backend: PostgreSQL through psycopg 3 and a connection pool."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from smartcity.hub.store.base import Store, run_committed
from smartcity.hub.store.dialect import PostgresDialect
from smartcity.hub.store.sql import Cursor, Db, StoreConflict, StoreQueryError, to_pyformat

log = logging.getLogger(__name__)

#: entities inserted before the store refreshes PostgreSQL's planner statistics
ANALYZE_MIN_ROWS = 5000
#: one-entity writes committed together at most
MAX_GROUP = 64

T = TypeVar("T")
_Op = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


@lru_cache(maxsize=2048)
def _pg(sql: str) -> str:
    return to_pyformat(sql)


class PostgresDb:
    dialect = PostgresDialect()

    def __init__(
        self, conn: psycopg.Connection[Any], store: PostgresStore, committed: list[Callable[[], None]] | None = None
    ) -> None:
        self.conn = conn
        self.store = store
        self.committed: list[Callable[[], None]] = committed if committed is not None else []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.committed.append(callback)

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
        self._local = threading.local()
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url, min_size=min_size, max_size=max_size, open=True, kwargs={"autocommit": False}
        )

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Db]:
        group_conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if group_conn is not None:  # inside a group of the writer thread: its transaction is ours
            yield PostgresDb(group_conn, self, self._local.committed)
            return
        with self.pool.connection() as conn:
            with conn.transaction():
                db = PostgresDb(conn, self)
                yield db
            run_committed(db.committed)
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

    # -- grouped one-entity writes -----------------------------------------------------------------
    # One writer thread takes the one-entity writes that are waiting (up to MAX_GROUP) and runs them in a
    # single transaction, answering each caller after the commit. If any of them fails, the group is rolled
    # back and each write is run again on its own, so one bad request never changes another's outcome.

    async def run_write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._start_writer()
        self._queue.put((fn, args, kwargs, loop, future))
        result: T = await future
        return result

    def _start_writer(self) -> None:
        if self._writer is not None:
            return
        with self._analyze_lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name="smartcity-pg-writer", daemon=True)
                self._writer.start()

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            ops = [first]
            while len(ops) < MAX_GROUP:
                try:
                    op = self._queue.get_nowait()
                except queue.Empty:
                    break
                if op is None:
                    self._queue.put(None)
                    break
                ops.append(op)
            self._run_group(ops)

    def _run_group(self, ops: list[_Op]) -> None:
        results: list[Any] = []
        committed: list[Callable[[], None]] = []
        try:
            # pipeline mode: statements whose results nobody reads go out without waiting for each answer
            with self.pool.connection() as conn, conn.pipeline(), conn.transaction():
                self._local.conn = conn
                self._local.committed = committed
                try:
                    for fn, args, kwargs, _, _ in ops:
                        results.append(fn(*args, **kwargs))
                finally:
                    self._local.conn = None
                    self._local.committed = None
        except Exception:
            # errors of pipelined statements surface only here, as the engine's own exceptions: run each
            # write again in its own transaction, where the store turns them into its errors
            self._tenants.clear()  # a tenant made inside the rolled-back group must be looked up again
            for op in ops:  # one by one, each in its own transaction
                try:
                    self._deliver(op, op[0](*op[1], **op[2]), None)
                except Exception as exc:
                    self._deliver(op, None, exc)
            return
        run_committed(committed)
        for op, result in zip(ops, results, strict=True):
            self._deliver(op, result, None)

    @staticmethod
    def _deliver(op: _Op, result: Any, error: BaseException | None) -> None:
        _, _, _, loop, future = op

        def settle() -> None:
            if future.cancelled():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        try:
            loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the caller's event loop is closed: nobody is waiting any more
            log.debug("dropped the answer of a write whose event loop has closed")

    def close(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(timeout=30)
        if self._analyzer is not None:
            self._analyzer.join(timeout=60)
        self.pool.close()
