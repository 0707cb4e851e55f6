"""What differs between SQLite and PostgreSQL for resource tables: DDL, full text, bulk loads, read-only SQL.

Full text: SQLite keeps an FTS5 external-content table ``ds_<hex>_fts`` over the text columns (tokenizer
``unicode61 remove_diacritics 2``: "chat luong" finds "chất lượng"), maintained by triggers on every write; a load
into an empty table (``replace``, the first ``insert``) drops the triggers and rebuilds the index once at the end,
which keeps million-row loads practical. PostgreSQL keeps a stored generated ``tsvector`` column (``simple``
configuration) with a GIN index, dropped during a load into an empty table and rebuilt after it.
"""

from __future__ import annotations

import logging
import queue
import re
import sqlite3
import threading
import time
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from smartcity.hub.store import Store
from smartcity.opendata.contracts import FieldSpec, SearchError, ValidationFailed
from smartcity.opendata.datastore import fields as F
from smartcity.opendata.datastore.sqltext import SCHEMA, Stmt, render

log = logging.getLogger(__name__)

READER_ROLE = "smartcity_datastore_reader"
SETTLE_ROWS = 10_000  # PostgreSQL: a write of this many rows vacuums and analyses the table after its commit
FULL_TEXT = "_full_text"  # PostgreSQL: the generated tsvector column

#: functions datastore_search_sql may call on SQLite (the authorizer refuses every other)
SQLITE_FUNCTIONS = frozenset(
    """
    count sum total avg min max group_concat string_agg abs round lower upper length substr substring trim
    ltrim rtrim replace coalesce ifnull nullif iif instr date time datetime julianday strftime unixepoch like
    glob printf format typeof char unicode sign floor ceil ceiling sqrt pow power exp ln log log10 log2 mod pi
    json json_extract json_array_length json_type json_valid -> ->> row_number rank dense_rank percent_rank
    cume_dist ntile lag lead first_value last_value nth_value cast hex quote
    """.split()  # noqa: SIM905 - a word list reads best as words
)


def dialect_of(store: Store) -> str:
    return "sqlite" if store.dialect.name == "sqlite" else "postgresql"


class Engine(ABC):
    """Resource tables on one engine; every method runs inside a transaction the caller opened (``db``).
    SqliteEngine and PostgresEngine implement the abstract methods."""

    name = ""

    def __init__(self, store: Store) -> None:
        self.store = store

    def close(self) -> None:  # noqa: B027 - a hook; nothing to release unless overridden
        """Release what the engine holds beyond the platform's store (nothing, unless overridden)."""

    def execute(self, db: Any, stmt: Stmt) -> Any:
        return db.conn.execute(render(stmt, self.name), stmt.params)

    def table(self, stmt: Stmt, table: str) -> Stmt:
        return stmt.name(table)

    @abstractmethod
    def column_type(self, kind: str) -> str: ...

    @abstractmethod
    def value(self, kind: str, value: object, column: str) -> Any: ...

    @abstractmethod
    def create_table(self, db: Any, table: str, fields: Sequence[FieldSpec]) -> None: ...

    def add_columns(self, db: Any, table: str, new: Sequence[FieldSpec], all_fields: Sequence[FieldSpec]) -> None:
        for spec in new:
            stmt = Stmt().sql("ALTER TABLE ")
            self.table(stmt, table).sql(" ADD COLUMN ").name(spec.id).sql(" " + self.column_type(spec.type))
            self.execute(db, stmt)
        if any(spec.type == "text" for spec in new):
            self.drop_full_text(db, table)
            self.full_text(db, table, all_fields)

    @abstractmethod
    def create_index(self, db: Any, table: str, n: int, columns: Sequence[str], *, unique: bool) -> None: ...

    @abstractmethod
    def drop_table(self, db: Any, table: str) -> None: ...

    @abstractmethod
    def full_text(self, db: Any, table: str, fields: Sequence[FieldSpec]) -> None: ...

    @abstractmethod
    def drop_full_text(self, db: Any, table: str) -> None: ...

    @contextmanager
    def bulk(self, db: Any, table: str, fields: Sequence[FieldSpec]) -> Iterator[None]:
        """A load into an empty table: the full-text index is rebuilt once after it."""
        yield

    @abstractmethod
    def truncate(self, db: Any, table: str) -> None: ...

    def settle(self, table: str, written: int) -> None:  # noqa: B027 - a hook
        """After a committed write of ``written`` rows: refresh what the planner knows of the table."""

    def insert_rows(self, db: Any, table: str, columns: Sequence[str], rows: list[list[Any]]) -> None:
        stmt = Stmt().sql("INSERT INTO ")
        self.table(stmt, table).sql(" (").names(columns).sql(") VALUES (" + ", ".join("?" for _ in columns) + ")")
        self.many(db, stmt, rows)

    def upsert_rows(
        self, db: Any, table: str, columns: Sequence[str], key: Sequence[str], rows: list[list[Any]]
    ) -> None:
        stmt = Stmt().sql("INSERT INTO ")
        self.table(stmt, table).sql(" (").names(columns).sql(") VALUES (" + ", ".join("?" for _ in columns) + ")")
        stmt.sql(" ON CONFLICT (").names(key).sql(") DO ")
        rest = [c for c in columns if c not in key]
        if not rest:
            stmt.sql("NOTHING")
        else:
            stmt.sql("UPDATE SET ")
            for n, column in enumerate(rest):
                stmt.sql(", " if n else "").name(column).sql(" = excluded.").name(column)
        self.many(db, stmt, rows)

    @abstractmethod
    def many(self, db: Any, stmt: Stmt, rows: list[list[Any]]) -> None: ...

    @abstractmethod
    def match(self, table: str, q: str, column: str | None) -> Stmt:
        """A condition: the row matches the full-text query ``q`` (over all text columns, or one)."""
        ...

    @abstractmethod
    def is_conflict(self, exc: Exception) -> bool: ...

    @abstractmethod
    def run_readonly(
        self, sql: str, tables: Sequence[str], *, timeout: float, max_rows: int
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run an already-checked SELECT read-only, under a time limit; at most ``max_rows + 1`` rows."""
        ...

    @abstractmethod
    def stream(self, stmt: Stmt, size: int) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of a SELECT in batches of ``size``, from a cursor the engine does not read ahead of."""
        ...


def _folded_letters() -> tuple[str, str]:
    """Vietnamese letters with diacritics and their plain letters (PostgreSQL's translate() folds with them)."""
    accented, plain = ["đ"], ["d"]
    for base in "aăâeêioôơuưy":
        for mark in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"):
            letter = unicodedata.normalize("NFC", base + mark)
            if letter != "a" and letter not in accented and len(letter) == 1:
                folded = unicodedata.normalize("NFD", letter)[0]
                if letter != folded:
                    accented.append(letter)
                    plain.append(folded)
    return "".join(accented), "".join(plain)


FOLD_FROM, FOLD_TO = _folded_letters()


def fold(text: str) -> str:
    """Lower case without diacritics ("Chất lượng" -> "chat luong"), as both engines index text."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The words of a full-text query (letters and digits only: no operator of either engine gets through)."""
    return re.findall(r"\w+", fold(text))


class SqliteEngine(Engine):
    name = "sqlite"

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._readonly: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the idle read-only connections of ``datastore_search_sql`` (at shutdown)."""
        while True:
            try:
                conn = self._readonly.get_nowait()
            except queue.Empty:
                return
            conn.close()

    def column_type(self, kind: str) -> str:
        return F.SQLITE_TYPES[kind]

    def value(self, kind: str, value: object, column: str) -> Any:
        return F.sqlite_value(kind, value, column)

    def create_table(self, db: Any, table: str, fields: Sequence[FieldSpec]) -> None:
        stmt = Stmt().sql("CREATE TABLE ").name(table).sql(" (").name("_id").sql(" INTEGER PRIMARY KEY")
        for spec in fields:
            stmt.sql(", ").name(spec.id).sql(" " + self.column_type(spec.type))
        self.execute(db, stmt.sql(")"))
        self.full_text(db, table, fields)

    def create_index(self, db: Any, table: str, n: int, columns: Sequence[str], *, unique: bool) -> None:
        stmt = Stmt().sql("CREATE UNIQUE INDEX " if unique else "CREATE INDEX ").name(f"{table}_i{n}")
        self.execute(db, stmt.sql(" ON ").name(table).sql(" (").names(columns).sql(")"))

    def drop_table(self, db: Any, table: str) -> None:
        self.drop_full_text(db, table)
        self.execute(db, Stmt().sql("DROP TABLE IF EXISTS ").name(table))

    def full_text(self, db: Any, table: str, fields: Sequence[FieldSpec]) -> None:
        texts = [f.id for f in fields if f.type == "text"]
        if not texts:
            return
        fts = f"{table}_fts"
        stmt = Stmt().sql("CREATE VIRTUAL TABLE ").name(fts).sql(" USING fts5(").names(texts)
        self.execute(db, stmt.sql(", content='', tokenize='unicode61 remove_diacritics 2')"))
        self._fill(db, table, texts)
        self._triggers(db, table, texts)

    @staticmethod
    def _folded(prefix: str, texts: Sequence[str]) -> Stmt:
        """The indexed form of the text columns: unicode61 drops diacritics but keeps đ, folded here."""
        stmt = Stmt()
        for n, column in enumerate(texts):
            stmt.sql(", " if n else "").sql(f"replace(replace(coalesce({prefix}").name(column)
            stmt.sql(", ''), 'đ', 'd'), 'Đ', 'D')")
        return stmt

    def _fill(self, db: Any, table: str, texts: Sequence[str]) -> None:
        """Index every row (the FTS table is contentless: it keeps the index, not a copy of the text)."""
        fts = f"{table}_fts"
        self.execute(db, Stmt().sql("INSERT INTO ").name(fts).sql("(").name(fts).sql(") VALUES ('delete-all')"))
        stmt = Stmt().sql("INSERT INTO ").name(fts).sql("(rowid, ").names(texts).sql(") SELECT ").name("_id")
        stmt.sql(", ").add(self._folded("", texts)).sql(" FROM ").name(table)
        self.execute(db, stmt)

    def _triggers(self, db: Any, table: str, texts: Sequence[str]) -> None:
        fts = f"{table}_fts"

        def insert() -> Stmt:
            stmt = Stmt().sql("INSERT INTO ").name(fts).sql("(rowid, ").names(texts).sql(") VALUES (new.").name("_id")
            return stmt.sql(", ").add(self._folded("new.", texts)).sql(")")

        def delete() -> Stmt:
            stmt = Stmt().sql("INSERT INTO ").name(fts).sql("(").name(fts).sql(", rowid, ").names(texts)
            return stmt.sql(") VALUES ('delete', old.").name("_id").sql(", ").add(self._folded("old.", texts)).sql(")")

        ins = Stmt().sql("CREATE TRIGGER ").name(f"{table}_ai").sql(" AFTER INSERT ON ").name(table).sql(" BEGIN ")
        self.execute(db, ins.add(insert()).sql("; END"))
        dele = Stmt().sql("CREATE TRIGGER ").name(f"{table}_ad").sql(" AFTER DELETE ON ").name(table).sql(" BEGIN ")
        self.execute(db, dele.add(delete()).sql("; END"))
        upd = Stmt().sql("CREATE TRIGGER ").name(f"{table}_au").sql(" AFTER UPDATE ON ").name(table).sql(" BEGIN ")
        self.execute(db, upd.add(delete()).sql("; ").add(insert()).sql("; END"))

    def _drop_triggers(self, db: Any, table: str) -> None:
        for suffix in ("ai", "ad", "au"):
            self.execute(db, Stmt().sql("DROP TRIGGER IF EXISTS ").name(f"{table}_{suffix}"))

    def drop_full_text(self, db: Any, table: str) -> None:
        self._drop_triggers(db, table)
        self.execute(db, Stmt().sql("DROP TABLE IF EXISTS ").name(f"{table}_fts"))

    @contextmanager
    def bulk(self, db: Any, table: str, fields: Sequence[FieldSpec]) -> Iterator[None]:
        texts = [f.id for f in fields if f.type == "text"]
        if not texts:
            yield
            return
        self._drop_triggers(db, table)
        yield
        self._fill(db, table, texts)
        self._triggers(db, table, texts)

    def truncate(self, db: Any, table: str) -> None:
        self.execute(db, Stmt().sql("DELETE FROM ").name(table))

    def many(self, db: Any, stmt: Stmt, rows: list[list[Any]]) -> None:
        db.conn.executemany(render(stmt, self.name), rows)

    def match(self, table: str, q: str, column: str | None) -> Stmt:
        terms = " ".join('"' + w + '"*' for w in words(q))
        if column is not None:
            terms = f"{column} : ({terms})"
        fts = f"{table}_fts"
        stmt = Stmt().name("_id").sql(" IN (SELECT rowid FROM ").name(fts).sql(" WHERE ").name(fts)
        return stmt.sql(" MATCH ?)", terms)

    def is_conflict(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    # -- datastore_search_sql: a dedicated read-only connection --------------------------------------------------

    def _connect_readonly(self) -> sqlite3.Connection:
        path = getattr(self.store, "path", ":memory:")
        if path == ":memory:":
            raise SearchError("datastore_search_sql needs a database file (this one is in memory)")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA query_only = 1")
        conn.execute("PRAGMA trusted_schema = 0")
        return conn

    @contextmanager
    def _readonly_conn(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._readonly.get_nowait()
        except queue.Empty:
            conn = self._connect_readonly()
        try:
            yield conn
        finally:
            conn.set_authorizer(None)
            conn.set_progress_handler(None, 0)
            self._readonly.put(conn)

    def run_readonly(
        self, sql: str, tables: Sequence[str], *, timeout: float, max_rows: int
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        allowed = frozenset(tables)

        def authorize(action: int, arg1: str | None, arg2: str | None, dbname: str | None, source: str | None) -> int:
            if action == sqlite3.SQLITE_SELECT:
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_READ:
                if (arg1 in allowed and dbname == "main") or dbname is None:  # None: a WITH name, not a table
                    return sqlite3.SQLITE_OK
                return sqlite3.SQLITE_DENY
            if action == sqlite3.SQLITE_FUNCTION:
                return sqlite3.SQLITE_OK if (arg2 or "").lower() in SQLITE_FUNCTIONS else sqlite3.SQLITE_DENY
            if action == sqlite3.SQLITE_RECURSIVE:
                return sqlite3.SQLITE_OK
            return sqlite3.SQLITE_DENY

        deadline = time.monotonic() + timeout
        expired = [False]

        def progress() -> int:
            if time.monotonic() > deadline:
                expired[0] = True
                return 1
            return 0

        with self._readonly_conn() as conn:
            conn.set_authorizer(authorize)
            conn.set_progress_handler(progress, 2000)
            try:
                cursor = conn.execute(sql)
                try:
                    names = [d[0] for d in cursor.description or ()]
                    rows = cursor.fetchmany(max_rows + 1)
                finally:
                    cursor.close()
            except sqlite3.DatabaseError as exc:
                if expired[0]:
                    raise SearchError(f"the query ran longer than {timeout:g} s and was stopped") from None
                raise ValidationFailed(f"the query failed: {exc}", {"sql": [str(exc)]}) from None
        return names, rows

    def stream(self, stmt: Stmt, size: int) -> Iterator[list[tuple[Any, ...]]]:
        with self.store.transaction(write=False) as db:
            cursor = db.conn.execute(render(stmt, self.name), stmt.params)  # type: ignore[attr-defined]
            while batch := cursor.fetchmany(size):
                yield batch


class PostgresEngine(Engine):
    name = "postgresql"

    def table(self, stmt: Stmt, table: str) -> Stmt:
        return stmt.name(SCHEMA, table)

    def column_type(self, kind: str) -> str:
        return F.POSTGRES_TYPES[kind]

    def value(self, kind: str, value: object, column: str) -> Any:
        return F.postgres_value(kind, value, column)

    def create_table(self, db: Any, table: str, fields: Sequence[FieldSpec]) -> None:
        stmt = self.table(Stmt().sql("CREATE TABLE "), table).sql(" (").name("_id")
        stmt.sql(" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
        for spec in fields:
            stmt.sql(", ").name(spec.id).sql(" " + self.column_type(spec.type))
        self.execute(db, stmt.sql(")"))
        self.execute(db, self.table(Stmt().sql("GRANT SELECT ON "), table).sql(" TO ").name(READER_ROLE))
        self.full_text(db, table, fields)

    def create_index(self, db: Any, table: str, n: int, columns: Sequence[str], *, unique: bool) -> None:
        stmt = Stmt().sql("CREATE UNIQUE INDEX " if unique else "CREATE INDEX ").name(f"{table}_i{n}")
        self.table(stmt.sql(" ON "), table).sql(" (")
        for k, column in enumerate(columns):
            # NULLs first ascending (as SQLite): a backward scan serves "DESC NULLS LAST" sorts
            stmt.sql(", " if k else "").name(column).sql(" NULLS FIRST")
        self.execute(db, stmt.sql(")"))

    def drop_table(self, db: Any, table: str) -> None:
        self.execute(db, self.table(Stmt().sql("DROP TABLE IF EXISTS "), table))

    def full_text(self, db: Any, table: str, fields: Sequence[FieldSpec]) -> None:
        texts = [f.id for f in fields if f.type == "text"]
        if not texts:
            return
        stmt = self.table(Stmt().sql("ALTER TABLE "), table).sql(" ADD COLUMN ").name(FULL_TEXT)
        stmt.sql(" tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, translate(lower(")
        for n, column in enumerate(texts):
            stmt.sql(" || ' ' || " if n else "").sql("coalesce(").name(column).sql(", '')")
        # fixed letters (see _folded_letters), not input: Vietnamese without diacritics matches
        self.execute(db, stmt.sql(f"), '{FOLD_FROM}', '{FOLD_TO}'))) STORED"))
        self._gin(db, table)

    def _gin(self, db: Any, table: str) -> None:
        stmt = Stmt().sql("CREATE INDEX IF NOT EXISTS ").name(f"{table}_fts").sql(" ON ")
        self.execute(db, self.table(stmt, table).sql(" USING gin (").name(FULL_TEXT).sql(")"))

    def drop_full_text(self, db: Any, table: str) -> None:
        stmt = self.table(Stmt().sql("ALTER TABLE "), table).sql(" DROP COLUMN IF EXISTS ").name(FULL_TEXT)
        self.execute(db, stmt)

    @contextmanager
    def bulk(self, db: Any, table: str, fields: Sequence[FieldSpec]) -> Iterator[None]:
        if not any(f.type == "text" for f in fields):
            yield
            return
        self.execute(db, Stmt().sql("DROP INDEX IF EXISTS ").name(SCHEMA, f"{table}_fts"))
        yield
        self._gin(db, table)

    def truncate(self, db: Any, table: str) -> None:
        self.execute(db, self.table(Stmt().sql("TRUNCATE "), table))

    def settle(self, table: str, written: int) -> None:
        """After a large load: VACUUM (visibility map: counts by index only) and ANALYZE (statistics), which
        autovacuum would do a minute later; outside the load's transaction, on a connection of its own."""
        if written < SETTLE_ROWS:
            return
        import psycopg

        url = getattr(self.store, "url", None)
        if url is None:
            return
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(render(self.table(Stmt().sql("VACUUM (ANALYZE) "), table), self.name))
        except psycopg.Error:
            log.warning("could not vacuum the datastore table %s", table, exc_info=True)

    def insert_rows(self, db: Any, table: str, columns: Sequence[str], rows: list[list[Any]]) -> None:
        stmt = self.table(Stmt().sql("COPY "), table).sql(" (").names(columns).sql(") FROM STDIN")
        with db.conn.cursor() as cur, cur.copy(render(stmt, self.name)) as copy:
            for row in rows:
                copy.write_row(row)

    def many(self, db: Any, stmt: Stmt, rows: list[list[Any]]) -> None:
        with db.conn.cursor() as cur:
            cur.executemany(render(stmt, self.name), rows)

    def match(self, table: str, q: str, column: str | None) -> Stmt:
        terms = " & ".join(w + ":*" for w in words(q)) or "''"
        if column is None:
            return Stmt().name(FULL_TEXT).sql(" @@ to_tsquery('simple'::regconfig, ?)", terms)
        stmt = Stmt().sql("to_tsvector('simple'::regconfig, translate(lower(coalesce(").name(column)
        stmt.sql(f"::text, '')), '{FOLD_FROM}', '{FOLD_TO}'))")
        return stmt.sql(" @@ to_tsquery('simple'::regconfig, ?)", terms)

    def is_conflict(self, exc: Exception) -> bool:
        import psycopg

        return isinstance(exc, psycopg.errors.UniqueViolation)

    def run_readonly(
        self, sql: str, tables: Sequence[str], *, timeout: float, max_rows: int
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        import psycopg
        from psycopg import sql as pgsql

        try:
            with self.store.transaction(write=False) as db:
                conn = db.conn  # type: ignore[attr-defined]
                conn.execute("SET TRANSACTION READ ONLY")
                conn.execute("SELECT set_config('statement_timeout', %s, true)", [str(max(1, int(timeout * 1000)))])
                conn.execute(pgsql.SQL("SET LOCAL ROLE {}").format(pgsql.Identifier(READER_ROLE)))
                with conn.cursor(name="datastore_search_sql") as cur:
                    cur.execute(sql)
                    names = [d.name for d in cur.description or ()]
                    rows = cur.fetchmany(max_rows + 1)
        except psycopg.errors.QueryCanceled:
            raise SearchError(f"the query ran longer than {timeout:g} s and was stopped") from None
        except psycopg.Error as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValidationFailed(f"the query failed: {message}", {"sql": [message]}) from None
        return names, rows

    def stream(self, stmt: Stmt, size: int) -> Iterator[list[tuple[Any, ...]]]:
        with (
            self.store.transaction(write=False) as db,
            db.conn.cursor(name="datastore_dump") as cur,  # type: ignore[attr-defined]
        ):
            cur.itersize = size
            cur.execute(render(stmt, self.name), stmt.params)
            while batch := cur.fetchmany(size):
                yield batch


def engine_for(store: Store) -> Engine:
    return SqliteEngine(store) if dialect_of(store) == "sqlite" else PostgresEngine(store)
