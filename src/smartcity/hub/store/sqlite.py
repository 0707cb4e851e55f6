"""The embedded backend: SQLite in WAL mode, one writer connection, a pool of reader connections."""

from __future__ import annotations

import asyncio
import logging
import queue
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from smartcity.hub.model import format_time, parse_time
from smartcity.hub.store.base import Store, run_committed
from smartcity.hub.store.dialect import SqliteDialect
from smartcity.hub.store.keys import sql_name_key
from smartcity.hub.store.sql import Cursor, StoreConflict

log = logging.getLogger(__name__)
CLOSE_WAIT_S = 10.0  # how long closing waits for running transactions


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _regexp(pattern: str | None, value: object) -> int:
    if pattern is None or not isinstance(value, str):
        return 0
    compiled = _compiled(pattern)
    return 1 if compiled is not None and compiled.search(value) is not None else 0


def _ngsi_time(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    moment = parse_time(value)
    return format_time(moment) if moment is not None else None


class SqliteDb:
    dialect = SqliteDialect()

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.committed: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.committed.append(callback)

    def run(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise StoreConflict(str(exc)) from exc

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise StoreConflict(str(exc)) from exc

    def note_inserted(self, n: int) -> None:
        """SQLite plans from the store's own selectivity probes (see EntityReader); nothing to refresh."""


class SqliteStore(Store):
    dialect = SqliteDialect()

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._group_open = False
        self._group_future: asyncio.Future[None] | None = None
        self._group_committed: list[Callable[[], None]] = []
        self._writer = self._connect()
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = [self._writer]
        self._all_lock = threading.Lock()
        self._idle = threading.Condition(self._all_lock)  # signalled when no transaction is running
        self._busy = 0
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint=10000")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("PRAGMA mmap_size=268435456")
        conn.create_function("regexp", 2, _regexp, deterministic=True)
        conn.create_function("ngsi_time", 1, _ngsi_time, deterministic=True)
        conn.create_function("ngsi_name_key", 1, sql_name_key, deterministic=True)
        return conn

    # -- group commit ------------------------------------------------------------------------------
    # One-entity writes made on the event loop (see hub.api.negotiation.call_hub) share one transaction
    # per loop turn: each runs in a SAVEPOINT of the open group, the group commits once at the end of the
    # turn, and every caller waits for that commit before it answers. Fewer commits write far fewer pages.

    @contextmanager
    def grouped(self) -> Iterator[None]:
        self._local.grouping = True
        try:
            yield
        finally:
            self._local.grouping = False

    async def settle(self) -> None:
        """Wait until the writes this loop turn made are committed (raises if the commit failed)."""
        future = self._group_future
        if future is not None:
            await asyncio.shield(future)

    def _open_group(self) -> None:
        self._write_lock.acquire()
        try:
            self._writer.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._write_lock.release()
            raise
        loop = asyncio.get_running_loop()
        self._group_future = loop.create_future()
        self._group_committed = []
        self._group_open = True
        loop.call_soon(self._commit_group)

    def _commit_group(self) -> None:
        future = self._group_future
        self._group_future = None
        self._group_open = False
        committed, self._group_committed = self._group_committed, []
        try:
            self._writer.execute("COMMIT")
        except sqlite3.Error as exc:
            log.error("group commit failed: %s", exc)
            self._writer.execute("ROLLBACK")
            self._tenants.clear()  # a tenant created in the lost group must be looked up again
            if future is not None:
                future.set_exception(exc)
                future.exception()  # retrieved here too, so an unawaited failure is not reported twice
            return
        else:
            run_committed(committed)
        finally:
            self._write_lock.release()
        if future is not None:
            future.set_result(None)

    @contextmanager
    def _grouped_write(self) -> Iterator[SqliteDb]:
        if not self._group_open:
            self._open_group()
        conn = self._writer
        conn.execute("SAVEPOINT op")
        db = SqliteDb(conn)
        try:
            yield db
        except BaseException:
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
            raise
        conn.execute("RELEASE op")
        self._group_committed.extend(db.committed)

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[SqliteDb]:
        with self._idle:
            if self._closed:
                raise sqlite3.ProgrammingError("the store is closed")
            self._busy += 1
        try:
            with self._transaction(write=write) as db:
                yield db
        finally:
            with self._idle:
                self._busy -= 1
                if not self._busy:
                    self._idle.notify_all()

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[SqliteDb]:
        if write and getattr(self._local, "grouping", False):
            with self._grouped_write() as db:
                yield db
            return
        if write:
            with self._write_lock:
                conn = self._writer
                conn.execute("BEGIN IMMEDIATE")
                db = SqliteDb(conn)
                try:
                    yield db
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                run_committed(db.committed)  # under the write lock: listeners see commits in order
            return
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            conn = self._connect()
            with self._all_lock:
                self._all.append(conn)
        try:
            conn.execute("BEGIN")
            db = SqliteDb(conn)
            try:
                yield db
            finally:
                conn.execute("COMMIT")
            run_committed(db.committed)
        finally:
            self._readers.put(conn)

    def close(self) -> None:
        """Close every connection once the running transactions end (a worker thread still reading when the
        application shuts down finishes first: closing a connection under it would crash the process)."""
        with self._idle:
            if self._closed:
                return
            self._closed = True
            if not self._idle.wait_for(lambda: self._busy == 0, timeout=CLOSE_WAIT_S):
                log.warning("closing the store with %d transactions still running", self._busy)
        if self._group_open:
            self._commit_group()
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
