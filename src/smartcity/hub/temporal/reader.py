"""SQL reads of the history: temporal entities, attribute instances and aggregates, inside one transaction.

Entity selection by ``type``, ``id``, ``idPattern`` and ``attrs`` runs on ``temporal_entities`` and the
history itself, so the history of deleted entities stays reachable. ``q`` and geo-queries are evaluated on
the *current* state of the entities (the hub's ordinary query machinery, :class:`EntityReader`): the history
keeps no index of past values, and "the stations that are now in district 1 / now above 50" is what a
temporal query with ``q`` asks in practice; an entity deleted from the current state never matches them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson
import psycopg

from smartcity.hub.query import EntityQuery
from smartcity.hub.store.dialect import Fragment
from smartcity.hub.store.postgres import PostgresDb
from smartcity.hub.store.sql import Db, EntityReader, StoreQueryError, to_pyformat
from smartcity.hub.temporal.query import TemporalQuery, TimeWindow
from smartcity.hub.temporal.rows import DELETED
from smartcity.hub.typesel import AllOf, AnyOf, TypeExpr, TypeName


@dataclass
class Record:
    """One stored temporal instance."""

    row_id: int
    entity_id: str
    name: str
    dataset_id: str
    time: int  # the value of the query's timeproperty
    ts: int
    created_at: int
    modified_at: int
    kind: str
    doc: dict[str, Any]


@dataclass
class TemporalEntityHead:
    id: str
    types: list[str]
    created_at: int
    modified_at: int
    deleted_at: int | None
    attrs: dict[str, list[Record]] = field(default_factory=dict)


class TemporalReader:
    def __init__(self, db: Db, tenant_id: int) -> None:
        self.db = db
        self.tenant_id = tenant_id
        self.pg = db.dialect.name == "postgresql"

    # -- entities ----------------------------------------------------------------------------------

    def head(self, entity_id: str) -> TemporalEntityHead | None:
        row = self.db.run(
            "SELECT entity_id, types, created_at, modified_at, deleted_at FROM temporal_entities "
            "WHERE tenant_id = ? AND entity_id = ?",
            [self.tenant_id, entity_id],
        ).fetchone()
        return None if row is None else _head(row)

    def select(self, query: EntityQuery) -> tuple[list[TemporalEntityHead], int | None]:
        """One page of the temporal entities the query selects (by id), and the total when asked."""
        where, params = self._where(query)
        if where is None:
            return [], 0 if query.count else None
        total = None
        if query.count:
            total = int(self.db.run(f"SELECT count(*) FROM temporal_entities te WHERE {where}", params).fetchone()[0])  # noqa: S608
        if query.limit == 0:
            return [], total
        rows = self.db.run(
            "SELECT te.entity_id, te.types, te.created_at, te.modified_at, te.deleted_at FROM temporal_entities te "  # noqa: S608
            f"WHERE {where} ORDER BY te.entity_id LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        ).fetchall()
        return [_head(r) for r in rows], total

    def _where(self, query: EntityQuery) -> tuple[str | None, list[Any]]:
        clauses = ["te.tenant_id = ?"]
        params: list[Any] = [self.tenant_id]
        dialect = self.db.dialect
        if query.ids is not None:
            sql, p = dialect.in_list("te.entity_id", list(query.ids))
            clauses.append(sql)
            params += p
        if query.id_pattern is not None:
            clauses.append(dialect.regex("te.entity_id"))
            params.append(query.id_pattern)
        if query.types is not None:
            sql, p = self._types(query.types)
            clauses.append(sql)
            params += p
        if query.attrs is not None:
            sql, p = dialect.in_list("i.name", list(query.attrs))
            clauses.append(
                "EXISTS (SELECT 1 FROM temporal_instances i WHERE i.tenant_id = te.tenant_id "  # noqa: S608
                f"AND i.entity_id = te.entity_id AND {sql})"
            )
            params += p
        if query.q is not None or query.geo is not None:
            current = EntityReader(self.db, self.tenant_id).ids(EntityQuery(q=query.q, geo=query.geo))
            if not current:
                return None, []
            sql, p = dialect.in_list("te.entity_id", current)
            clauses.append(sql)
            params += p
        return " AND ".join(clauses), params

    def _types(self, expr: TypeExpr) -> Fragment:
        if isinstance(expr, TypeName):
            if self.pg:
                return "(te.types::jsonb @> ?::jsonb)", [orjson.dumps([expr.name]).decode()]
            return "EXISTS (SELECT 1 FROM json_each(te.types) WHERE value = ?)", [expr.name]
        parts = [self._types(item) for item in expr.items]
        joiner = " AND " if isinstance(expr, AllOf) else " OR "
        assert isinstance(expr, AllOf | AnyOf)
        return "(" + joiner.join(s for s, _ in parts) + ")", [p for _, ps in parts for p in ps]

    # -- instances ---------------------------------------------------------------------------------

    def _filter(self, ids: Sequence[str], tq: TemporalQuery, *, names: bool = True) -> Fragment:
        dialect = self.db.dialect
        col = tq.window.column
        clauses = ["tenant_id = ?"]
        params: list[Any] = [self.tenant_id]
        if len(ids) == 1:
            clauses.append("entity_id = ?")
            params.append(ids[0])
        else:
            sql, p = dialect.in_list("entity_id", list(ids))
            clauses.append(sql)
            params += p
        if names and tq.attrs is not None:
            if len(tq.attrs) == 1:
                clauses.append("name = ?")
                params.append(tq.attrs[0])
            else:
                sql, p = dialect.in_list("name", list(tq.attrs))
                clauses.append(sql)
                params += p
        window = tq.window
        if window.start is not None:
            clauses.append(f"{col} >= ?")
            params.append(window.start)
        if window.end is not None:
            clauses.append(f"{col} < ?")
            params.append(window.end)
        return " AND ".join(clauses), params

    def instances(self, ids: Sequence[str], tq: TemporalQuery, per_attribute: int, *, newest: bool) -> list[Record]:
        """Up to ``per_attribute`` instances of each (entity, attribute), oldest first (``newest``: latest)."""
        if not ids:
            return []
        col = tq.window.column
        where, params = self._filter(ids, tq)
        order = "DESC" if newest else "ASC"
        doc = "doc::text" if self.pg else "doc"
        rows = self.db.run(
            f"SELECT id, entity_id, name, dataset_id, t, ts, created_at, modified_at, kind, d FROM ("  # noqa: S608
            f"SELECT id, entity_id, name, dataset_id, {col} AS t, ts, created_at, modified_at, kind, {doc} AS d, "
            f"ROW_NUMBER() OVER (PARTITION BY entity_id, name ORDER BY {col} {order}, id {order}) AS rn "
            f"FROM temporal_instances WHERE {where}) AS w WHERE rn <= ? ORDER BY entity_id, name, t, id",
            [*params, per_attribute],
        ).fetchall()
        return [
            Record(int(r[0]), r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]), int(r[7]), r[8], orjson.loads(r[9]))
            for r in rows
        ]

    def span(self, ids: Sequence[str], tq: TemporalQuery) -> tuple[int, int] | None:
        """The first and last time of the (non-deleted) instances the query selects."""
        where, params = self._filter(ids, tq)
        col = tq.window.column
        row = self.db.run(
            f"SELECT MIN({col}), MAX({col}) FROM temporal_instances WHERE {where} AND kind <> ?",  # noqa: S608
            [*params, DELETED],
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return int(row[0]), int(row[1])

    def value_sql(self) -> str:
        """The value of an instance row (value, object or languageMap), comparable for COUNT(DISTINCT ...)."""
        if self.pg:
            return "COALESCE(doc->'value', doc->'object', doc->'languageMap')"
        return (
            "COALESCE(json_extract(doc, '$.value'), json_extract(doc, '$.object'), json_extract(doc, '$.languageMap'))"
        )

    def grouped(
        self,
        ids: Sequence[str],
        tq: TemporalQuery,
        bucket: Fragment | None,
        exprs: Sequence[str],
        *,
        numbers_only: bool,
        datasets: bool = True,
        times: bool = False,
    ) -> dict[SeriesKey, list[tuple[Any, ...]]]:
        """Aggregate expressions per attribute series and period, computed by the database: for each series,
        its rows ``(period, *exprs, ...)`` in period order. ``bucket`` numbers the period of an instance (None:
        the whole window is period 0). Deletion instances are left out (``numbers_only``: every instance without
        a number); ``times``: ``exprs`` use the time column of the window.

        Only the columns that vary are grouped on: one entity and one attribute (``tq.attrs``) are grouped by
        period and datasetId, or by period alone when ``datasets`` is False (the attribute has no other dataset
        than the default one). PostgreSQL hashes the groups: the rows are read in a subquery it does not flatten
        (``OFFSET 0``), so that it does not expect every instance to make a group of its own (its estimate for a
        computed period) and sort them all; only the groups are sorted. SQLite sorts the instances (it has no
        hash aggregation; see :meth:`periods`)."""
        if not ids:
            return {}
        where, params = self._filter(ids, tq)
        one_entity = len(ids) == 1
        one_name = tq.attrs is not None and len(tq.attrs) == 1
        if one_entity and one_name and tq.attrs is not None:
            time = tq.window.column if times else None
            return self._one_series(
                ids[0], tq.attrs[0], where, params, bucket, exprs, numbers_only, datasets, time, tq.window.column
            )
        keys = [k for k, const in (("entity_id", one_entity), ("name", one_name)) if not const] + ["dataset_id"]
        group = ", ".join([*keys, "b"])
        time = tq.window.column if times else None
        rows = self._aggregate_rows(
            [*keys, "b", *exprs],
            keys,
            f"GROUP BY {group} ORDER BY {group}",
            where,
            params,
            bucket,
            exprs,
            numbers_only,
            time,
        )
        out: dict[SeriesKey, list[tuple[Any, ...]]] = {}
        n = len(keys)
        for varying, series in itertools.groupby(rows, key=lambda r: tuple(r[:n])):
            named = dict(zip(keys, varying, strict=True))
            key = (
                named.get("entity_id", ids[0]),
                named.get("name", tq.attrs[0] if tq.attrs else ""),
                named["dataset_id"],
            )
            out[key] = [tuple(r[n:]) for r in series]
        return out

    def _one_series(
        self,
        entity_id: str,
        name: str,
        where: str,
        params: list[Any],
        bucket: Fragment | None,
        exprs: Sequence[str],
        numbers_only: bool,
        datasets: bool,
        time: str | None,
        column: str,
    ) -> dict[SeriesKey, list[tuple[Any, ...]]]:
        """:meth:`grouped` for one attribute of one entity: rows ``(period, *exprs, datasetId)`` grouped by period
        then datasetId (``datasets``), else ``(period, *exprs)``: no grouping column to carry for each row.
        ``column``: the time column of the window."""
        if datasets:
            columns = ["b", *exprs, "dataset_id"]
            clause = "GROUP BY b, dataset_id ORDER BY b, dataset_id"
        elif bucket is None:  # one group: a plain aggregate, which counts its instances to tell an empty one
            columns = ["b", *exprs, "count(*)"]
            clause = ""
        else:
            columns = ["b", *exprs]
            clause = "GROUP BY b ORDER BY b"
        rows = self._aggregate_rows(
            columns,
            ["dataset_id"] if datasets else [],
            clause,
            where,
            params,
            bucket,
            exprs,
            numbers_only,
            time,
            index_only=column == "ts" and time in (None, "ts"),
        )
        if not datasets:
            if bucket is None:
                rows = [r for r in rows if r[-1]]
            return {(entity_id, name, ""): rows} if rows else {}
        found = {r[-1] for r in rows}
        if len(found) == 1:
            return {(entity_id, name, found.pop()): rows}
        out: dict[SeriesKey, list[tuple[Any, ...]]] = {}
        for row in rows:
            out.setdefault((entity_id, name, row[-1]), []).append(row)
        return dict(sorted(out.items()))

    def _aggregate_rows(
        self,
        columns: Sequence[str],
        keys: Sequence[str],
        clause: str,
        where: str,
        params: list[Any],
        bucket: Fragment | None,
        exprs: Sequence[str],
        numbers_only: bool,
        time: str | None,
        *,
        index_only: bool = False,
    ) -> list[tuple[Any, ...]]:
        """The rows of ``SELECT columns ... clause`` over the instances ``where`` selects (see :meth:`grouped`;
        ``time``: the time column the expressions use). ``index_only``: ``where`` is a range of the history index
        (one attribute of one entity, a window on ``ts``) and ``time`` one of its columns (PostgreSQL: read from
        the index alone unless the expressions need the documents, see :data:`_ONE_SERIES`)."""
        only, only_params = _only(numbers_only)
        bucket_sql, bucket_params = bucket if bucket is not None else ("0", [])
        if self.pg:
            value = self.value_sql()
            inner = [*keys, "num", *(["doc"] if any(value in e for e in exprs) else [])]
            if time is not None:
                inner.append(time)
            self.db.run(_ONE_SERIES if index_only and "doc" not in inner else _GROUPS)
            sql = (
                f"SELECT {', '.join('0' if c == 'b' and bucket is None else c for c in columns)} "  # noqa: S608
                f"FROM (SELECT {bucket_sql} AS b, {', '.join(inner)} FROM temporal_instances "
                f"WHERE {where} AND {only} OFFSET 0) AS s {clause}"
            )
        else:
            selected = ", ".join(f"{bucket_sql} AS b" if c == "b" else c for c in columns)
            sql = f"SELECT {selected} FROM temporal_instances WHERE {where} AND {only} {clause}"  # noqa: S608
        return binary_rows(self.db, sql, [*bucket_params, *params, *only_params])

    # -- one attribute series ----------------------------------------------------------------------

    def attributes(self, entity_id: str, names: Sequence[str] | None) -> list[tuple[str, bool]]:
        """The attributes in the history of one entity (``names``: those of them), in order, each with whether it
        may have instances with a datasetId. Index seeks only: a skip scan of the names and an index of the rows
        with a datasetId (migration 0011 on SQLite, 0018 on PostgreSQL). An attribute without any is grouped by
        period alone."""
        if names is not None and not names:
            return []
        exists = (
            "EXISTS (SELECT 1 FROM temporal_instances AS d "  # noqa: S608
            f"{'' if self.pg else 'INDEXED BY temporal_instances_datasets '}"
            "WHERE d.tenant_id = ? AND d.entity_id = ? AND d.name = n.name AND d.dataset_id <> '')"
        )
        key = "tenant_id = ? AND entity_id = ?"
        if names is None:
            sql = (
                "WITH RECURSIVE n(name) AS ("  # noqa: S608
                f"SELECT (SELECT min(name) FROM temporal_instances WHERE {key}) "
                f"UNION ALL SELECT (SELECT min(name) FROM temporal_instances WHERE {key} AND name > n.name) "
                f"FROM n WHERE n.name IS NOT NULL) SELECT name, {exists} FROM n WHERE name IS NOT NULL"
            )
            params: list[Any] = [self.tenant_id, entity_id, self.tenant_id, entity_id]
        else:
            values = ", ".join(["(CAST(? AS TEXT))" if self.pg else "(?)"] * len(names))
            sql = f"WITH n(name) AS (VALUES {values}) SELECT name, {exists} FROM n"  # noqa: S608
            params = list(names)
        params += [self.tenant_id, entity_id]
        rows = self.db.run(sql, params).fetchall()
        return [(str(r[0]), bool(r[1])) for r in rows]

    def probe(self, entity_id: str, name: str, window: TimeWindow, sample: int) -> Probe | None:
        """What :meth:`periods` needs to choose whether to read one attribute series: None when it cannot
        (PostgreSQL, a window on another time than observedAt, or no numbers table), else the series' first and
        last instant in the window, and how many instances it has there, counted up to ``sample`` (with the
        instant of the ``sample``-th one when it has that many). Index seeks, and scans of at most ``sample``
        index entries."""
        if self.pg or window.column != "ts":
            return None
        lo = window.start if window.start is not None else _MIN_TS
        hi = window.end if window.end is not None else _MAX_TS
        key = "tenant_id = ? AND entity_id = ? AND name = ? AND ts >= ? AND ts < ?"
        k = [self.tenant_id, entity_id, name, lo, hi]
        row = self.db.run(
            "SELECT (SELECT max(k) FROM temporal_numbers), "  # noqa: S608
            f"(SELECT ts FROM temporal_instances WHERE {key} ORDER BY ts LIMIT 1), "
            f"(SELECT ts FROM temporal_instances WHERE {key} ORDER BY ts DESC LIMIT 1), "
            f"(SELECT count(*) FROM (SELECT 1 FROM temporal_instances WHERE {key} LIMIT ?)), "
            f"(SELECT ts FROM temporal_instances WHERE {key} ORDER BY ts LIMIT 1 OFFSET ?)",
            [*k, *k, *k, sample, *k, sample - 1],
        ).fetchone()
        if row is None or row[0] != _NUMBERS - 1:
            return None
        if row[1] is None:
            return Probe(0, 0, 0, None)
        return Probe(int(row[1]), int(row[2]), int(row[3]), None if row[4] is None else int(row[4]))

    def periods(
        self,
        entity_id: str,
        name: str,
        window: TimeWindow,
        first: int,
        stop: int,
        bounds: tuple[Fragment, Fragment],
        exprs: Sequence[str],
        *,
        numbers_only: bool,
    ) -> list[tuple[Any, ...]]:
        """Rows ``(period, *exprs)`` of one attribute series (default dataset, observedAt) for the periods
        ``first`` to ``stop - 1`` that hold instances, in period order, without sorting its instances (SQLite):
        the periods are numbered by a join of ``temporal_numbers`` with itself, which SQLite reads in key
        order, and each period's instances are one range of the history index, so the GROUP BY streams.
        ``bounds`` are the start and the end of period ``{k}`` (SQL). It costs an index seek per period: for
        series with several instances per period (see :meth:`probe`)."""
        k = f"(a.k * {_NUMBERS} + b.k)"
        (start_sql, start_params), (end_sql, end_params) = bounds
        only, only_params = _only(numbers_only)
        lo = window.start if window.start is not None else _MIN_TS
        hi = window.end if window.end is not None else _MAX_TS
        return self.db.run(
            f"SELECT {k}, {', '.join(exprs)} "  # noqa: S608
            "FROM temporal_numbers AS a CROSS JOIN temporal_numbers AS b CROSS JOIN temporal_instances AS i "
            f"WHERE a.k >= ? AND a.k <= ? AND b.k >= ? - a.k * {_NUMBERS} AND b.k < ? - a.k * {_NUMBERS} "
            "AND i.tenant_id = ? AND i.entity_id = ? AND i.name = ? "
            f"AND i.ts >= max(?, {start_sql.format(k=k)}) AND i.ts < min(?, {end_sql.format(k=k)}) AND {only} "
            "GROUP BY a.k, b.k",
            [
                first // _NUMBERS,
                (stop - 1) // _NUMBERS,
                first,
                stop,
                self.tenant_id,
                entity_id,
                name,
                lo,
                *start_params,
                hi,
                *end_params,
                *only_params,
            ],
        ).fetchall()


#: (entity id, attribute, datasetId or '')
SeriesKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Probe:
    """One attribute series in a window, as :meth:`TemporalReader.probe` found it."""

    first: int  # its first instant (0 when it has no instance)
    last: int
    count: int  # its instances, counted up to the sample size
    nth: int | None  # the instant of the sample-th instance, when it has that many


#: temporal_numbers holds 0 .. _NUMBERS - 1 (SQLite migration 0011)
_NUMBERS = 1000
_MIN_TS = -(2**63)
_MAX_TS = 2**63 - 1


#: PostgreSQL, the settings of an aggregation (one round trip): the groups fit in memory
_GROUPS = "SELECT set_config('work_mem', '64MB', true)"
#: ... of one attribute series: also read from the history index alone (an index-only scan of the range of the
#: entity, attribute and window, whose entries hold ``ts``, ``num``, ``kind`` and ``dataset_id``). The planner
#: prefers a sequential scan when the series is most of a partition (as a year of one sensor in the default
#: partition), which reads the instances' documents too: 105,120 instances in 34 instead of 22 ms.
_ONE_SERIES = (
    "SELECT set_config('work_mem', '64MB', true), set_config('enable_seqscan', 'off', true), "
    "set_config('enable_bitmapscan', 'off', true)"
)


def binary_rows(db: Db, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of a query; on PostgreSQL in binary (integers and doubles as they are: for the thousands of rows
    of an aggregation, about a fifth of the query's time goes to writing and parsing them as text otherwise)."""
    if isinstance(db, PostgresDb):
        try:
            return db.conn.execute(_pyformat(sql), params, binary=True).fetchall()
        except psycopg.errors.DataError as exc:
            raise StoreQueryError(str(exc).splitlines()[0]) from exc
    rows: list[tuple[Any, ...]] = db.run(sql, params).fetchall()
    return rows


@lru_cache(maxsize=256)
def _pyformat(sql: str) -> str:
    return to_pyformat(sql)


def _only(numbers_only: bool) -> Fragment:
    """The instances an aggregation reads: those with a number, or all but deletions."""
    return ("num IS NOT NULL", []) if numbers_only else ("kind <> ?", [DELETED])


def _head(row: Any) -> TemporalEntityHead:
    return TemporalEntityHead(
        row[0], orjson.loads(row[1]), int(row[2]), int(row[3]), None if row[4] is None else int(row[4])
    )


def fixed_bucket(window: TimeWindow, origin: int, period: int) -> Fragment:
    """The period index of a row for a fixed-length period (integer division in the database)."""
    return f"(({window.column} - ?) / ?)", [origin, period]


def calendar_bucket(window: TimeWindow, starts: Sequence[int]) -> Fragment:
    """The period index of a row for calendar periods: a balanced CASE over the bound period starts
    (``starts[k]`` is where period ``k`` begins), so each row costs a binary search."""
    col = window.column

    def node(low: int, high: int) -> Fragment:
        # index in [low, high): the row lies in one of these periods
        if high - low <= 1:
            return str(low), []
        mid = (low + high) // 2
        left, lp = node(low, mid)
        right, rp = node(mid, high)
        return f"(CASE WHEN {col} < ? THEN {left} ELSE {right} END)", [starts[mid], *lp, *rp]

    return node(0, len(starts))
