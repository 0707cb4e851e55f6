"""The embedded backend: SQLite in WAL mode, one writer connection, a pool of reader connections."""

from __future__ import annotations

import queue
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from smartcity.hub.model import format_time, parse_time
from smartcity.hub.store.base import Store
from smartcity.hub.store.dialect import SqliteDialect
from smartcity.hub.store.sql import Cursor, StoreConflict


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
        self._writer = self._connect()
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = [self._writer]
        self._all_lock = threading.Lock()

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
        return conn

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[SqliteDb]:
        if write:
            with self._write_lock:
                conn = self._writer
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield SqliteDb(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            return
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            conn = self._connect()
            with self._all_lock:
                self._all.append(conn)
        try:
            conn.execute("BEGIN")
            try:
                yield SqliteDb(conn)
            finally:
                conn.execute("COMMIT")
        finally:
            self._readers.put(conn)

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
