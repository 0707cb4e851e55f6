"""SQL reads of the history: temporal entities, attribute instances and aggregates, inside one transaction.

Entity selection by ``type``, ``id``, ``idPattern`` and ``attrs`` runs on ``temporal_entities`` and the
history itself, so the history of deleted entities stays reachable. ``q`` and geo-queries are evaluated on
the *current* state of the entities (the hub's ordinary query machinery, :class:`EntityReader`): the history
keeps no index of past values, and "the stations that are now in district 1 / now above 50" is what a
temporal query with ``q`` asks in practice; an entity deleted from the current state never matches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from smartcity.hub.query import EntityQuery
from smartcity.hub.store.dialect import Fragment
from smartcity.hub.store.sql import Db, EntityReader
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
        self, ids: Sequence[str], tq: TemporalQuery, bucket: Fragment, exprs: Sequence[str], *, numbers_only: bool
    ) -> list[tuple[Any, ...]]:
        """Rows ``(entity_id, name, dataset_id, period, *exprs)`` of aggregate expressions per period, computed
        by the database. Only the columns that vary are grouped on (one entity and one attribute: the dataset
        and the period). Deletion instances are left out (``numbers_only``: every row without a number)."""
        if not ids:
            return []
        where, params = self._filter(ids, tq)
        one_entity = len(ids) == 1
        one_name = tq.attrs is not None and len(tq.attrs) == 1
        keys = [k for k, const in (("entity_id", one_entity), ("name", one_name)) if not const] + ["dataset_id", "b"]
        only, only_params = ("num IS NOT NULL", []) if numbers_only else ("kind <> ?", [DELETED])
        bucket_sql, bucket_params = bucket
        if self.pg:
            self.db.run("SET LOCAL work_mem = '64MB'")  # hash the periods rather than sort rows on disk
        rows = self.db.run(
            f"SELECT {', '.join(keys[:-1])}, {bucket_sql} AS b, {', '.join(exprs)} "  # noqa: S608
            f"FROM temporal_instances WHERE {where} AND {only} GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}",
            [*bucket_params, *params, *only_params],
        ).fetchall()
        if one_entity and one_name and tq.attrs is not None:
            prefix: tuple[Any, ...] = (ids[0], tq.attrs[0])
            return [prefix + tuple(r) for r in rows]
        if one_entity:
            return [(ids[0], *r) for r in rows]
        if one_name and tq.attrs is not None:
            return [(r[0], tq.attrs[0], *r[1:]) for r in rows]
        return [tuple(r) for r in rows]


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
