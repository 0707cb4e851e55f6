"""The datastore: one SQL table per resource, in the platform's database, bound to one hub tenant.

:class:`TableStore` implements :class:`smartcity.opendata.contracts.Datastore`. The resources' metadata (migration
0020, ``datastore_tables``) carries the tenant; every call finds its table through it, so a resource of another
tenant is unknown here. Writes read their input in batches (``batch`` records) and never hold it whole.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

import orjson

from smartcity.hub.store import Store
from smartcity.opendata.contracts import (
    FieldSpec,
    NotFound,
    TablePage,
    TableQuery,
    TableStats,
    ValidationFailed,
)
from smartcity.opendata.datastore import fields as F
from smartcity.opendata.datastore import sqlguard
from smartcity.opendata.datastore.engines import Engine, engine_for, words
from smartcity.opendata.datastore.sqltext import Stmt

log = logging.getLogger(__name__)

MAX_LIMIT = 32_000
MAX_IN_VALUES = 1000


@dataclass(frozen=True)
class Meta:
    resource_id: str
    table: str
    fields: list[FieldSpec]
    primary_key: list[str]
    indexes: list[list[str]]
    row_count: int
    created_at: str
    last_modified: str

    @property
    def types(self) -> dict[str, str]:
        return {"_id": "int", **{f.id: f.type for f in self.fields}}

    @property
    def modified(self) -> datetime:
        return F.parse_timestamp(self.last_modified)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def jsonable(value: Any) -> Any:
    """A value a free SELECT returned, as JSON (datetimes as CKAN writes them)."""
    if isinstance(value, datetime):
        return F.timestamp_text(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


def _guess_type(values: Sequence[Any]) -> str:
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "bool"
        if isinstance(value, int):
            return "int"
        if isinstance(value, float | Decimal):
            return "float"
        if isinstance(value, datetime):
            return "timestamp"
        if isinstance(value, date):
            return "date"
        if isinstance(value, dict | list):
            return "json"
        return "text"
    return "text"


class TableStore:
    """Resource tables of one portal (``tenant``) in ``store``."""

    def __init__(
        self, store: Store, tenant: str = "", *, sql_timeout: float = 5.0, sql_max_rows: int = 32_000, batch: int = 5000
    ) -> None:
        self.store = store
        self.tenant = tenant
        self.engine: Engine = engine_for(store)
        self.sql_timeout = sql_timeout
        self.sql_max_rows = sql_max_rows
        self.batch = batch

    @property
    def tenant_id(self) -> int:
        """The portal's tenant (looked up, or created, outside any transaction: see :meth:`_ready`)."""
        return self.store.tenant(self.tenant, create=True).tenant_id

    def _ready(self) -> None:
        """Resolve the tenant before a transaction opens (its first lookup opens a transaction of its own)."""
        _ = self.tenant_id

    # -- metadata -------------------------------------------------------------------------------------------------

    def _meta(self, db: Any, resource_id: str) -> Meta | None:
        row = db.run(
            "SELECT resource_id, table_name, fields, primary_key, indexes, row_count, created_at, last_modified "
            "FROM datastore_tables WHERE resource_id = ? AND tenant_id = ?",
            [resource_id, self.tenant_id],
        ).fetchone()
        if row is None:
            return None
        return Meta(
            row[0],
            row[1],
            F.fields_from_json(row[2]),
            list(orjson.loads(row[3])),
            [list(i) for i in orjson.loads(row[4])],
            int(row[5]),
            row[6],
            row[7],
        )

    def _found(self, db: Any, resource_id: str) -> Meta:
        key = F.resource_key(resource_id)
        meta = None if key is None else self._meta(db, key)
        if meta is None:
            raise NotFound(f'Resource "{resource_id}" was not found in the datastore.')
        return meta

    def _save(self, db: Any, meta: Meta, *, new: bool) -> None:
        values = [
            meta.table,
            F.fields_json(meta.fields),
            orjson.dumps(meta.primary_key).decode(),
            orjson.dumps(meta.indexes).decode(),
            meta.row_count,
            meta.last_modified,
        ]
        if new:
            db.run(
                "INSERT INTO datastore_tables (table_name, fields, primary_key, indexes, row_count, last_modified, "
                "resource_id, tenant_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*values, meta.resource_id, self.tenant_id, meta.created_at],
            )
        else:
            db.run(
                "UPDATE datastore_tables SET table_name = ?, fields = ?, primary_key = ?, indexes = ?, row_count = ?, "
                "last_modified = ? WHERE resource_id = ? AND tenant_id = ?",
                [*values, meta.resource_id, self.tenant_id],
            )

    def exists(self, resource_id: str) -> bool:
        key = F.resource_key(resource_id)
        if key is None:
            return False
        self._ready()
        with self.store.transaction(write=False) as db:
            return self._meta(db, key) is not None

    # -- writes ---------------------------------------------------------------------------------------------------

    def create(
        self,
        resource_id: str,
        fields: Sequence[FieldSpec],
        *,
        primary_key: Sequence[str] = (),
        indexes: Sequence[str] = (),
    ) -> None:
        key = F.resource_key(resource_id)
        if key is None:
            raise ValidationFailed("resource_id must be a resource's UUID", {"resource_id": ["not a UUID"]})
        specs = F.check_fields(fields)
        pk = [F.check_column(c) for c in primary_key]
        wanted = [[F.check_column(c.strip()) for c in ix.split(",")] for ix in indexes]
        self._ready()
        with self.store.transaction(write=True) as db:
            meta = self._meta(db, key)
            if meta is None:
                self._create(db, key, specs, pk, wanted)
            else:
                self._extend(db, meta, specs, pk, wanted)

    def _check_columns(self, columns: Sequence[str], known: Mapping[str, str], what: str) -> None:
        for column in columns:
            if column not in known:
                raise ValidationFailed(f"{what}: {column!r} is not a field", {what: [f"unknown field {column}"]})

    def _create(self, db: Any, key: str, specs: list[FieldSpec], pk: list[str], wanted: list[list[str]]) -> None:
        if db.run("SELECT 1 FROM datastore_tables WHERE resource_id = ?", [key]).fetchone() is not None:
            raise ValidationFailed("this resource belongs to another portal", {"resource_id": ["taken"]})
        if not specs:
            raise ValidationFailed("a new datastore table needs fields", {"fields": ["missing"]})
        known = {f.id: f.type for f in specs}
        self._check_columns(pk, known, "primary_key")
        for ix in wanted:
            self._check_columns(ix, known, "indexes")
        table = F.table_name(key)
        self.engine.drop_table(db, table)  # a table left behind without metadata
        self.engine.create_table(db, table, specs)
        if pk:
            self.engine.create_index(db, table, 0, pk, unique=True)
        indexes: list[list[str]] = []
        for ix in wanted:
            if ix not in indexes:
                indexes.append(ix)
                self.engine.create_index(db, table, len(indexes), ix, unique=False)
        now = _now()
        self._save(db, Meta(key, table, specs, pk, indexes, 0, now, now), new=True)
        log.info("created datastore table %s for resource %s", table, key)

    def _extend(self, db: Any, meta: Meta, specs: list[FieldSpec], pk: list[str], wanted: list[list[str]]) -> None:
        old = {f.id: f for f in meta.fields}
        for spec in specs:
            if spec.id in old and old[spec.id].type != spec.type:
                raise ValidationFailed(
                    f"field {spec.id!r} is {old[spec.id].type}; its type cannot change",
                    {"fields": [f"{spec.id}: type cannot change"]},
                )
        given = {f.id: f for f in specs}
        kept = [FieldSpec(f.id, f.type, given[f.id].info or f.info) if f.id in given else f for f in meta.fields]
        new = [f for f in specs if f.id not in old]
        merged = kept + new
        known = {f.id: f.type for f in merged}
        self._check_columns(pk, known, "primary_key")
        for ix in wanted:
            self._check_columns(ix, known, "indexes")
        if new:
            self.engine.add_columns(db, meta.table, new, merged)
        primary = meta.primary_key
        if pk and pk != primary:
            if primary:
                raise ValidationFailed("the primary key cannot change", {"primary_key": ["cannot change"]})
            try:
                self.engine.create_index(db, meta.table, 0, pk, unique=True)
            except Exception as exc:
                if self.engine.is_conflict(exc):
                    raise ValidationFailed("the rows are not unique on this key", {"primary_key": ["dup"]}) from None
                raise
            primary = pk
        indexes = list(meta.indexes)
        for ix in wanted:
            if ix not in indexes:
                indexes.append(ix)
                self.engine.create_index(db, meta.table, len(indexes), ix, unique=False)
        changed = Meta(meta.resource_id, meta.table, merged, primary, indexes, meta.row_count, meta.created_at, _now())
        self._save(db, changed, new=False)

    def upsert(
        self, resource_id: str, records: Iterator[Mapping[str, Any]], *, method: Literal["insert", "upsert"] = "insert"
    ) -> int:
        return self._write(resource_id, records, method=method, replace=False)

    def replace(self, resource_id: str, records: Iterator[Mapping[str, Any]]) -> int:
        return self._write(resource_id, records, method="insert", replace=True)

    def _write(self, resource_id: str, records: Iterator[Mapping[str, Any]], *, method: str, replace: bool) -> int:
        if method not in ("insert", "upsert"):
            raise ValidationFailed("method must be insert or upsert", {"method": ["unknown method"]})
        self._ready()
        with self.store.transaction(write=True) as db:
            meta = self._found(db, resource_id)
            if method == "upsert" and not meta.primary_key:
                raise ValidationFailed("upsert needs a primary key on the table", {"method": ["no primary key"]})
            loading: AbstractContextManager[None] = nullcontext()
            if method == "insert" and (replace or meta.row_count == 0):
                loading = self.engine.bulk(db, meta.table, meta.fields)
            written = 0
            try:
                with loading:
                    if replace:
                        self.engine.truncate(db, meta.table)
                    source = iter(records)
                    while batch := list(itertools.islice(source, self.batch)):
                        self._write_batch(db, meta, batch, method)
                        written += len(batch)
            except (ValidationFailed, NotFound):
                raise
            except Exception as exc:
                raise self._refused(exc) from None
            count = self.engine.execute(db, Stmt().sql("SELECT count(*) FROM ").add(self._table(meta))).fetchone()
            self._save(db, _counted(meta, int(count[0])), new=False)
        self.engine.settle(meta.table, written)
        return written

    def _refused(self, exc: Exception) -> Exception:
        if self.engine.is_conflict(exc):
            return ValidationFailed("a record repeats the primary key of another", {"records": ["duplicate key"]})
        if isinstance(exc, OverflowError) or type(exc).__name__ in ("NumericValueOutOfRange", "DataError"):
            return ValidationFailed(f"a record has a value the column cannot hold: {exc}", {"records": [str(exc)]})
        return exc

    def _table(self, meta: Meta) -> Stmt:
        return self.engine.table(Stmt(), meta.table)

    def _write_batch(self, db: Any, meta: Meta, batch: list[Mapping[str, Any]], method: str) -> None:
        types = {f.id: f.type for f in meta.fields}
        order = [f.id for f in meta.fields]
        groups: dict[tuple[str, ...], list[list[Any]]] = {}
        for record in batch:
            if not isinstance(record, Mapping):
                raise ValidationFailed("each record must be an object", {"records": ["not an object"]})
            unknown = [k for k in record if k not in types]
            if unknown:
                raise ValidationFailed(
                    f"records have fields the table does not: {', '.join(map(str, unknown[:5]))}",
                    {"records": [f"unknown field {unknown[0]}"]},
                )
            columns = tuple(c for c in order if c in record)
            if not columns:
                raise ValidationFailed("an empty record", {"records": ["empty record"]})
            if method == "upsert" and any(c not in record or record[c] is None for c in meta.primary_key):
                raise ValidationFailed("upsert: a record lacks its primary key", {"records": ["missing key"]})
            row = [self.engine.value(types[c], record[c], c) for c in columns]
            groups.setdefault(columns, []).append(row)
        for columns, rows in groups.items():
            if method == "upsert":
                self.engine.upsert_rows(db, meta.table, columns, meta.primary_key, rows)
            else:
                self.engine.insert_rows(db, meta.table, columns, rows)

    def delete(self, resource_id: str, filters: Mapping[str, Any] | None = None) -> None:
        self._ready()
        with self.store.transaction(write=True) as db:
            meta = self._found(db, resource_id)
            if filters is None:
                self.engine.drop_table(db, meta.table)
                db.run(
                    "DELETE FROM datastore_tables WHERE resource_id = ? AND tenant_id = ?",
                    [meta.resource_id, self.tenant_id],
                )
                log.info("dropped datastore table %s", meta.table)
                return
            stmt = Stmt().sql("DELETE FROM ").add(self._table(meta))
            where = self._where(meta, filters, "")
            if where is not None:
                stmt.sql(" WHERE ").add(where)
            self.engine.execute(db, stmt)
            count = self.engine.execute(db, Stmt().sql("SELECT count(*) FROM ").add(self._table(meta))).fetchone()
            self._save(db, _counted(meta, int(count[0])), new=False)

    # -- reads ----------------------------------------------------------------------------------------------------

    def _where(self, meta: Meta, filters: Mapping[str, Any], q: str | Mapping[str, str]) -> Stmt | None:
        types = meta.types
        parts: list[Stmt] = []
        for column, wanted in filters.items():
            if column not in types:
                raise ValidationFailed(f"filters: {column!r} is not a field", {"filters": [f"unknown field {column}"]})
            values = list(wanted) if isinstance(wanted, list | tuple) else [wanted]
            if len(values) > MAX_IN_VALUES:
                raise ValidationFailed(f"filters: at most {MAX_IN_VALUES} values", {"filters": ["too many values"]})
            try:
                bound = [self.engine.value(types[column], v, column) for v in values]
            except ValidationFailed as exc:
                raise ValidationFailed(exc.message, {"filters": [exc.message]}) from None
            present = [v for v in bound if v is not None]
            options: list[Stmt] = []
            if present:
                marks = ", ".join("?" for _ in present)
                options.append(Stmt().name(column).sql(f" IN ({marks})", *present))
            if len(present) < len(bound):
                options.append(Stmt().name(column).sql(" IS NULL"))
            if not options:
                options.append(Stmt().sql("1 = 0"))
            cond = Stmt().sql("(")
            for n, option in enumerate(options):
                cond.sql(" OR " if n else "").add(option)
            parts.append(cond.sql(")"))
        texts = {f.id for f in meta.fields if f.type == "text"}
        searches: list[tuple[str, str | None]] = []
        if isinstance(q, Mapping):
            for name, text in q.items():
                if name not in texts:
                    raise ValidationFailed(f"q: {name!r} is not a text field", {"q": [f"not a text field {name}"]})
                searches.append((str(text), name))
        elif q.strip():
            searches.append((q, None))
        for text, field in searches:
            if not texts or not words(text):
                parts.append(Stmt().sql("1 = 0") if not texts else Stmt().sql("1 = 1"))
                continue
            parts.append(self.engine.match(meta.table, text, field))
        if not parts:
            return None
        where = Stmt()
        for n, part in enumerate(parts):
            where.sql(" AND " if n else "").add(part)
        return where

    def search(self, query: TableQuery) -> TablePage:
        if not 0 <= query.limit <= MAX_LIMIT:
            raise ValidationFailed(f"limit must be between 0 and {MAX_LIMIT}", {"limit": ["out of range"]})
        if query.offset < 0:
            raise ValidationFailed("offset must not be negative", {"offset": ["negative"]})
        self._ready()
        with self.store.transaction(write=False) as db:
            meta = self._found(db, query.resource_id)
            types = meta.types
            names = list(query.fields) or [c for c in types if not (query.distinct and c == "_id")]
            for column in names:
                if column not in types:
                    raise ValidationFailed(f"fields: {column!r} is not a field", {"fields": [f"unknown {column}"]})
            sort = list(query.sort) or ([] if query.distinct else [("_id", "asc")])
            for column, direction in sort:
                if column not in types or direction not in ("asc", "desc"):
                    raise ValidationFailed(f"sort: cannot sort by {column!r}", {"sort": [f"unknown {column}"]})
            where = self._where(meta, query.filters, query.q)
            select = Stmt().sql("SELECT DISTINCT " if query.distinct else "SELECT ").names(names)
            select.sql(" FROM ").add(self._table(meta))
            if where is not None:
                select.sql(" WHERE ").add(where)
            page = Stmt().add(select)
            if sort:
                page.sql(" ORDER BY ")
                for n, (column, direction) in enumerate(sort):
                    page.sql(", " if n else "").name(column).sql(" " + direction.upper() + self._nulls(direction))
            page.sql(" LIMIT ? OFFSET ?", query.limit, query.offset)
            rows = self.engine.execute(db, page).fetchall()
            total: int | None = None
            if query.include_total:
                if where is None and not query.distinct:
                    total = meta.row_count
                else:
                    counted = Stmt().sql("SELECT count(*) FROM (").add(select).sql(") AS matched")
                    total = int(self.engine.execute(db, counted).fetchone()[0])
        read = F.readers(self.engine.name, [types[c] for c in names])
        records = [{c: fn(v) for c, fn, v in zip(names, read, row, strict=True)} for row in rows]
        specs = {f.id: f for f in meta.fields}
        out_fields = [specs.get(c) or FieldSpec("_id", "int") for c in names]
        return TablePage(out_fields, records, total)

    def _nulls(self, direction: str) -> str:
        if self.engine.name == "sqlite":
            return ""  # SQLite: NULL sorts first ascending, last descending
        return " NULLS FIRST" if direction == "asc" else " NULLS LAST"

    def search_sql(self, sql: str, *, visible: Callable[[str], bool] | None = None) -> TablePage:
        """One read-only SELECT; ``visible`` (when given) says which resources the caller may read."""

        def lookup(name: str) -> str | None:
            key = F.resource_key(name)
            if key is None or (visible is not None and not visible(key)):
                return None
            self._ready()
            with self.store.transaction(write=False) as db:
                meta = self._meta(db, key)
            return None if meta is None else meta.table

        checked = sqlguard.check(sql, self.engine.name, lookup)
        names, rows = self.engine.run_readonly(
            checked.sql, checked.tables, timeout=self.sql_timeout, max_rows=self.sql_max_rows
        )
        truncated = len(rows) > self.sql_max_rows
        rows = rows[: self.sql_max_rows]
        out_fields = [FieldSpec(n, _guess_type([r[i] for r in rows[:50]])) for i, n in enumerate(names)]  # type: ignore[arg-type]
        records = [{n: jsonable(v) for n, v in zip(names, row, strict=True)} for row in rows]
        return TablePage(out_fields, records, None, records_truncated=truncated)

    def info(self, resource_id: str) -> dict[str, Any]:
        self._ready()
        with self.store.transaction(write=False) as db:
            meta = self._found(db, resource_id)
        indexed = {ix[0] for ix in meta.indexes} | set(meta.primary_key[:1])
        native = F.SQLITE_TYPES if self.engine.name == "sqlite" else F.POSTGRES_TYPES
        fields = [
            {
                "id": f.id,
                "type": f.type,
                "info": dict(f.info),
                "schema": {
                    "native_type": native[f.type],
                    "is_index": f.id in indexed,
                    "uniquekey": meta.primary_key == [f.id],
                    "notnull": False,
                },
            }
            for f in meta.fields
        ]
        return {
            "meta": {
                "id": meta.resource_id,
                "count": meta.row_count,
                "table_type": "BASE TABLE",
                "aliases": [],
                "primary_key": meta.primary_key,
                "indexes": [",".join(ix) for ix in meta.indexes],
                "last_modified": F.timestamp_text(meta.modified),
            },
            "fields": fields,
        }

    def stats(self, resource_id: str) -> TableStats:
        self._ready()
        with self.store.transaction(write=False) as db:
            meta = self._found(db, resource_id)
        return TableStats(meta.row_count, meta.modified, meta.fields, any(f.type == "geometry" for f in meta.fields))

    def row_batches(
        self, resource_id: str, size: int = 2000
    ) -> tuple[list[FieldSpec], Iterator[list[tuple[Any, ...]]]]:
        """The table's fields (``_id`` first) and its rows as JSON-ready tuples, in ``_id`` order, streamed."""
        self._ready()
        with self.store.transaction(write=False) as db:
            meta = self._found(db, resource_id)
        specs = [FieldSpec("_id", "int"), *meta.fields]
        names = [f.id for f in specs]
        read = F.readers(self.engine.name, [f.type for f in specs])
        stmt = Stmt().sql("SELECT ").names(names).sql(" FROM ").add(self._table(meta)).sql(" ORDER BY ").name("_id")

        def batches() -> Iterator[list[tuple[Any, ...]]]:
            for batch in self.engine.stream(stmt, size):
                yield [tuple(fn(v) for fn, v in zip(read, row, strict=True)) for row in batch]

        return specs, batches()

    def rows(self, resource_id: str) -> Iterator[dict[str, Any]]:
        specs, batches = self.row_batches(resource_id)
        names = [f.id for f in specs]
        for batch in batches:
            for row in batch:
                yield dict(zip(names, row, strict=True))


def _counted(meta: Meta, count: int) -> Meta:
    return Meta(
        meta.resource_id, meta.table, meta.fields, meta.primary_key, meta.indexes, count, meta.created_at, _now()
    )
