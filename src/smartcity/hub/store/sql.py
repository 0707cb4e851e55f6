"""Entity storage in SQL, shared by the SQLite and PostgreSQL backends.

Every read and write goes through a tenant scope (``Store.tenant``); there is no way to reach an entity without one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from smartcity.hub import geo
from smartcity.hub.model import GEOPROPERTY, Entity, Instance, dataset_of, index_values, now_iso
from smartcity.hub.query import EntityQuery
from smartcity.hub.store.changes import Change
from smartcity.hub.store.dialect import Dialect, Fragment
from smartcity.hub.store.keys import name_key
from smartcity.hub.store.qsql import compile_q, driver
from smartcity.hub.typesel import AllOf, AnyOf, TypeExpr, TypeName


class Cursor(Protocol):
    """The part of a DB-API cursor the store uses (sqlite3 and psycopg both fit)."""

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchone(self) -> Any: ...


class Db(Protocol):
    """One connection inside one transaction; SQL uses ``?`` parameter markers."""

    @property
    def dialect(self) -> Dialect: ...

    def run(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def note_inserted(self, n: int) -> None:
        """Tell the engine that ``n`` entities were added (it may refresh its planner statistics)."""
        ...

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this transaction (or the group commit it joined) has committed; never if not."""
        ...


class StoreConflict(Exception):
    """A write collided with existing data (an entity that already exists)."""


class StoreQueryError(Exception):
    """The engine refused a value of the query (e.g. a regular expression it cannot compile)."""


@dataclass(frozen=True)
class TypeInfo:
    type: str
    entity_count: int
    attributes: dict[str, set[str]]  # attribute IRI -> attribute kinds


@dataclass(frozen=True)
class AttributeInfo:
    name: str
    count: int
    kinds: set[str]
    types: set[str]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _type_sql(expr: TypeExpr, db: Db, tenant_id: int) -> Fragment:
    """The entity row ``e`` has the selected types: correlated probes of the entity_types key."""
    if isinstance(expr, TypeName):
        return (
            "EXISTS (SELECT 1 FROM entity_types t WHERE t.tenant_id = ? AND t.type = ? AND t.entity_pk = e.pk)",
            [tenant_id, expr.name],
        )
    if isinstance(expr, AnyOf) and all(isinstance(i, TypeName) for i in expr.items):
        names = [i.name for i in expr.items if isinstance(i, TypeName)]
        in_sql, in_params = db.dialect.in_list("t.type", names)
        return (
            f"EXISTS (SELECT 1 FROM entity_types t WHERE t.tenant_id = ? AND {in_sql} AND t.entity_pk = e.pk)",
            [tenant_id, *in_params],
        )
    parts = [_type_sql(i, db, tenant_id) for i in expr.items]
    joiner = " AND " if isinstance(expr, AllOf) else " OR "
    return "(" + joiner.join(s for s, _ in parts) + ")", [p for _, ps in parts for p in ps]


#: a driver subquery is used when it yields fewer rows than this (SQLite; PostgreSQL plans by itself)
DRIVER_LIMIT = 2000


class EntityReader:
    """Reads of one tenant's entities inside one transaction."""

    def __init__(self, db: Db, tenant_id: int) -> None:
        self.db = db
        self.tenant_id = tenant_id
        self._drivers: dict[int, tuple[EntityQuery, Fragment | None]] = {}
        #: primary keys of the entities this transaction has loaded by id (a write need not look them up again)
        self._pks: dict[str, int] = {}

    # -- loading -----------------------------------------------------------------------------------

    def get(self, entity_id: str) -> Entity | None:
        return self.get_many([entity_id]).get(entity_id)

    def get_many(self, ids: Sequence[str], *, lock: bool = False) -> dict[str, Entity]:
        if not ids:
            return {}
        in_sql, in_params = self.db.dialect.in_list("id", list(ids))
        suffix = " FOR UPDATE" if lock and self.db.dialect.name == "postgresql" else ""
        rows = self.db.run(
            f"SELECT pk, id, types, created_at, modified_at FROM entities WHERE tenant_id = ? AND {in_sql}{suffix}",
            [self.tenant_id, *in_params],
        ).fetchall()
        for row in rows:
            self._pks[row[1]] = int(row[0])
        return {e.id: e for e in self._hydrate(rows)}

    def _hydrate(self, rows: list[Any]) -> list[Entity]:
        """Entities from entity rows (pk, id, types, created, modified), with their attributes."""
        if not rows:
            return []
        by_pk: dict[int, Entity] = {}
        for pk, entity_id, types, created, modified in rows:
            by_pk[pk] = Entity(entity_id, orjson.loads(types), {}, created, modified)
        in_sql, in_params = self.db.dialect.in_list("entity_pk", list(by_pk))
        doc = "doc::text" if self.db.dialect.name == "postgresql" else "doc"
        for pk, name, doc_text in self.db.run(
            f"SELECT entity_pk, name, {doc} FROM attrs WHERE {in_sql} ORDER BY rid", in_params
        ).fetchall():
            by_pk[pk].attrs.setdefault(name, []).append(orjson.loads(doc_text))
        return list(by_pk.values())

    def pk_of(self, entity_id: str) -> int | None:
        known = self._pks.get(entity_id)
        if known is not None:
            return known
        row = self.db.run(
            "SELECT pk FROM entities WHERE tenant_id = ? AND id = ?", [self.tenant_id, entity_id]
        ).fetchone()
        return None if row is None else int(row[0])

    # -- queries -----------------------------------------------------------------------------------

    def _where(self, query: EntityQuery, *, tenant: bool = True) -> Fragment:
        clauses: list[str] = []
        params: list[Any] = []
        if tenant:
            clauses.append(self._tenant_clause(query))
            params.append(self.tenant_id)
        if query.types is not None:
            sql, p = _type_sql(query.types, self.db, self.tenant_id)
            clauses.append(sql)
            params += p
        if query.ids is not None:
            sql, p = self.db.dialect.in_list("e.id", list(query.ids))
            clauses.append(sql)
            params += p
        if query.id_pattern is not None:
            clauses.append(self.db.dialect.regex("e.id"))
            params.append(query.id_pattern)
        if query.attrs is not None:
            sql, p = self.db.dialect.in_list("name_id", [name_key(a) for a in query.attrs])
            clauses.append(f"EXISTS (SELECT 1 FROM {self.db.dialect.attrs_probe} WHERE entity_pk = e.pk AND {sql})")
            params += p
        if query.q is not None:
            sql, p = compile_q(query.q, self.db.dialect)
            clauses.append(sql)
            params += p
            drive = self._selective_driver(query)
            if drive is not None:
                clauses.append(f"e.pk IN ({drive[0]})")
                params += drive[1]
        if query.selectors:
            alternatives: list[str] = []
            for selector in query.selectors:
                parts: list[str] = []
                if selector.id is not None:
                    parts.append("e.id = ?")
                    params.append(selector.id)
                if selector.id_pattern is not None:
                    parts.append(self.db.dialect.regex("e.id"))
                    params.append(selector.id_pattern)
                if selector.types is not None:
                    sql, p = _type_sql(selector.types, self.db, self.tenant_id)
                    parts.append(sql)
                    params += p
                alternatives.append("(" + (" AND ".join(parts) or "1 = 1") + ")")
            clauses.append("(" + " OR ".join(alternatives) + ")")
        return " AND ".join(clauses) or "1 = 1", params

    def _tenant_clause(self, query: EntityQuery) -> str:
        # SQLite: with a selective driver, keep the tenant index out of the plan (unary +)
        if self.db.dialect.name == "sqlite" and query.q is not None and self._selective_driver(query) is not None:
            return "+e.tenant_id = ?"
        return "e.tenant_id = ?"

    def _selective_driver(self, query: EntityQuery) -> Fragment | None:
        """SQLite only: the most selective index-range subquery of q, if it is selective enough."""
        if self.db.dialect.name != "sqlite" or query.q is None:
            return None
        cached = self._drivers.get(id(query))
        if cached is not None:
            return cached[1]
        best: tuple[int, Fragment] | None = None
        for sql, params in driver(query.q, self.db.dialect):
            n = int(self.db.run(f"SELECT count(*) FROM ({sql} LIMIT ?)", [*params, DRIVER_LIMIT]).fetchone()[0])
            if n < DRIVER_LIMIT and (best is None or n < best[0]):
                best = (n, (sql, params))
        chosen = best[1] if best is not None else None
        self._drivers[id(query)] = (query, chosen)
        return chosen

    def query(self, query: EntityQuery) -> tuple[list[Entity], int | None]:
        """One page of matching entities (in creation order) and, if asked, the total count."""
        if query.geo is not None:
            pks = self._geo_matches(query)
            total = len(pks) if query.count else None
            page = pks[query.offset : query.offset + query.limit]
            if not page:
                return [], total
            in_sql, in_params = self.db.dialect.in_list("pk", page)
            rows = self.db.run(
                f"SELECT pk, id, types, created_at, modified_at FROM entities WHERE {in_sql} ORDER BY pk", in_params
            ).fetchall()
            return self._hydrate(rows), total
        where, params = self._where(query)
        total = None
        if query.count:
            total = int(self.db.run(f"SELECT count(*) FROM entities e WHERE {where}", params).fetchone()[0])
        if query.limit == 0:
            return [], total
        rows = self.db.run(
            f"SELECT e.pk, e.id, e.types, e.created_at, e.modified_at FROM entities e WHERE {where} "
            "ORDER BY e.pk LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        ).fetchall()
        return self._hydrate(rows), total

    def _geo_matches(self, query: EntityQuery) -> list[int]:
        """Primary keys of entities whose geoproperty satisfies the geo-query: spatial index, then exact test."""
        assert query.geo is not None
        where, params = self._where(query, tenant=False)
        box = query.geo.candidate_bbox()
        doc = "a.doc::text" if self.db.dialect.name == "postgresql" else "a.doc"
        select = f"SELECT e.pk, {doc} FROM "
        attr_cond = "a.name_id = ? AND a.kind = ? AND e.tenant_id = ?"
        attr_params: list[Any] = [name_key(query.geo.geoproperty), GEOPROPERTY, self.tenant_id]
        if box is None:
            sql = f"{select}entities e JOIN attrs a ON a.entity_pk = e.pk WHERE {attr_cond} AND {where}"
            all_params = [*attr_params, *params]
        elif self.db.dialect.name == "sqlite":
            # drive from the R*Tree: CROSS JOIN fixes the loop order
            sql = (
                f"{select}attrs_geo g CROSS JOIN attrs a ON a.rid = g.id CROSS JOIN entities e ON e.pk = a.entity_pk "
                f"WHERE g.minx <= ? AND g.maxx >= ? AND g.miny <= ? AND g.maxy >= ? AND {attr_cond} AND {where}"
            )
            all_params = [box[2], box[0], box[3], box[1], *attr_params, *params]
        else:
            sql = (
                f"{select}attrs a JOIN entities e ON e.pk = a.entity_pk "
                f"WHERE a.bbox && box(point(?, ?), point(?, ?)) AND {attr_cond} AND {where}"
            )
            all_params = [box[0], box[1], box[2], box[3], *attr_params, *params]
        rows = self.db.run(sql + " ORDER BY e.pk", all_params).fetchall()
        matched: list[int] = []
        for pk, doc_text in rows:
            if matched and matched[-1] == pk:
                continue
            try:
                target = geo.parse_geojson(orjson.loads(doc_text)["value"])
            except (geo.GeoError, KeyError):
                continue
            if query.geo.matches(target):
                matched.append(pk)
        return matched

    def ids(self, query: EntityQuery) -> list[str]:
        """Ids of every entity matching the query (no paging): for purge."""
        if query.geo is not None:
            pks = self._geo_matches(query)
            if not pks:
                return []
            in_sql, in_params = self.db.dialect.in_list("pk", pks)
            return [r[0] for r in self.db.run(f"SELECT id FROM entities WHERE {in_sql}", in_params).fetchall()]
        where, params = self._where(query)
        return [
            r[0] for r in self.db.run(f"SELECT e.id FROM entities e WHERE {where} ORDER BY e.pk", params).fetchall()
        ]

    # -- discovery ---------------------------------------------------------------------------------

    def type_names(self) -> list[str]:
        rows = self.db.run(
            "SELECT DISTINCT type FROM entity_types WHERE tenant_id = ? ORDER BY type", [self.tenant_id]
        ).fetchall()
        return [r[0] for r in rows]

    def type_info(self, type_names: Sequence[str] | None = None) -> list[TypeInfo]:
        """Entity counts and attribute kinds per type (all types, or the named ones)."""
        params: list[Any] = [self.tenant_id]
        filt = ""
        if type_names is not None:
            sql, p = self.db.dialect.in_list("t.type", list(type_names))
            filt = " AND " + sql
            params += p
        counts = {
            r[0]: int(r[1])
            for r in self.db.run(
                f"SELECT t.type, count(*) FROM entity_types t WHERE t.tenant_id = ?{filt} GROUP BY t.type",
                params,
            ).fetchall()
        }
        attrs: dict[str, dict[str, set[str]]] = {t: {} for t in counts}
        for type_name, attr, kind in self.db.run(
            "SELECT DISTINCT t.type, a.name, a.kind FROM entity_types t JOIN attrs a ON a.entity_pk = t.entity_pk "
            f"WHERE t.tenant_id = ?{filt}",
            params,
        ).fetchall():
            attrs[type_name].setdefault(attr, set()).add(kind)
        return [TypeInfo(t, counts[t], attrs[t]) for t in sorted(counts)]

    def attribute_info(self, names: Sequence[str] | None = None) -> list[AttributeInfo]:
        params: list[Any] = [self.tenant_id]
        filt = ""
        if names is not None:
            sql, p = self.db.dialect.in_list("a.name", list(names))
            filt = " AND " + sql
            params += p
        info: dict[str, AttributeInfo] = {}
        for name, kind, count in self.db.run(
            "SELECT a.name, a.kind, count(*) FROM attrs a JOIN entities e ON e.pk = a.entity_pk "
            f"WHERE e.tenant_id = ?{filt} GROUP BY a.name, a.kind",
            params,
        ).fetchall():
            item = info.setdefault(name, AttributeInfo(name, 0, set(), set()))
            info[name] = AttributeInfo(name, item.count + int(count), item.kinds | {kind}, item.types)
        for name, type_name in self.db.run(
            "SELECT DISTINCT a.name, t.type FROM attrs a JOIN entity_types t ON t.entity_pk = a.entity_pk "
            f"WHERE t.tenant_id = ?{filt}",
            params,
        ).fetchall():
            if name in info:
                info[name].types.add(type_name)
        return [info[n] for n in sorted(info)]


class EntityWriter(EntityReader):
    """Writes of one tenant's entities inside one transaction; :attr:`changes` records what they changed."""

    def __init__(self, db: Db, tenant_id: int) -> None:
        super().__init__(db, tenant_id)
        self.changes: list[Change] = []

    def insert(self, entity: Entity) -> None:
        self.insert_many([entity])

    def insert_many(self, entities: Sequence[Entity]) -> None:
        """Insert new entities with a few multi-row statements; an existing id raises StoreConflict."""
        if not entities:
            return
        self.changes.extend(Change("create", e.id, None, e, e.modified_at or e.created_at or "") for e in entities)
        self.db.note_inserted(len(entities))
        if self.db.dialect.name == "postgresql":
            self._insert_many_postgres(entities)
            return
        pks = self._allocate("entities", len(entities))
        self.db.many(
            "INSERT INTO entities (pk, tenant_id, id, types, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (pk, self.tenant_id, e.id, _dumps(e.types), e.created_at, e.modified_at)
                for pk, e in zip(pks, entities, strict=True)
            ],
        )
        self.db.many(
            "INSERT INTO entity_types (tenant_id, type, entity_pk) VALUES (?, ?, ?)",
            [(self.tenant_id, t, pk) for pk, e in zip(pks, entities, strict=True) for t in e.types],
        )
        rows = [
            (pk, name, inst)
            for pk, e in zip(pks, entities, strict=True)
            for name, insts in e.attrs.items()
            for inst in insts
        ]
        if not rows:
            return
        rids = self._allocate("attrs", len(rows))
        self.db.many(
            "INSERT INTO attrs (rid, entity_pk, name, name_id, dataset_id, kind, vtype, num, txt, doc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (rid, pk, name, name_key(name), *_attr_values(inst))
                for rid, (pk, name, inst) in zip(rids, rows, strict=True)
            ],
        )
        boxes = [(rid, _box(inst)) for rid, (_, _, inst) in zip(rids, rows, strict=True)]
        self.db.many(
            "INSERT INTO attrs_geo (id, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)",
            [(rid, b[0], b[2], b[1], b[3]) for rid, b in boxes if b is not None],
        )

    def _insert_many_postgres(self, entities: Sequence[Entity]) -> None:
        """PostgreSQL: one statement (three data-modifying CTEs) whose rows travel as JSON documents."""
        entity_rows = [
            {"id": e.id, "types": _dumps(e.types), "created": e.created_at, "modified": e.modified_at} for e in entities
        ]
        type_rows = [{"id": e.id, "type": t} for e in entities for t in e.types]
        attr_rows = []
        for e in entities:
            for name, insts in e.attrs.items():
                for inst in insts:
                    vtype, num, txt = index_values(inst)
                    box = _box(inst)
                    attr_rows.append(
                        {
                            "id": e.id,
                            "name": name,
                            "key": name_key(name),
                            "ds": dataset_of(inst) or "",
                            "kind": str(inst.get("type", "Property")),
                            "vtype": vtype,
                            "num": num,
                            "txt": txt,
                            "doc": inst,
                            "box": list(box) if box else None,
                        }
                    )
        self.db.run(
            "WITH new AS ("
            " INSERT INTO entities (tenant_id, id, types, created_at, modified_at)"
            " SELECT ?, u.id, u.types, u.created, u.modified"
            " FROM json_to_recordset(?::json) AS u(id text, types text, created text, modified text)"
            " RETURNING id, pk"
            "), typed AS ("
            " INSERT INTO entity_types (tenant_id, type, entity_pk)"
            " SELECT ?, u.type, new.pk FROM json_to_recordset(?::json) AS u(id text, type text)"
            " JOIN new ON new.id = u.id"
            ") "
            "INSERT INTO attrs (entity_pk, name, name_id, dataset_id, kind, vtype, num, txt, doc, bbox) "
            "SELECT new.pk, u.name, u.key, u.ds, u.kind, u.vtype, u.num, u.txt, u.doc, "
            "CASE WHEN u.box IS NULL THEN NULL "
            "ELSE box(point(u.box[1], u.box[2]), point(u.box[3], u.box[4])) END "
            "FROM ROWS FROM (json_to_recordset(?::json) AS (id text, name text, key int8, ds text, kind text, "
            "vtype text, num float8, txt text, doc jsonb, box float8[])) WITH ORDINALITY "
            "AS u(id, name, key, ds, kind, vtype, num, txt, doc, box, ord) JOIN new ON new.id = u.id ORDER BY u.ord",
            [self.tenant_id, _dumps(entity_rows), self.tenant_id, _dumps(type_rows), _dumps(attr_rows)],
        )

    def _allocate(self, table: str, n: int) -> list[int]:
        """``n`` fresh primary keys past the maximum (SQLite: one writer holds the lock; PostgreSQL uses sequences)."""
        query = {
            "entities": "SELECT COALESCE(MAX(pk), 0) FROM entities",
            "attrs": "SELECT COALESCE(MAX(rid), 0) FROM attrs",
        }
        start = int(self.db.run(query[table]).fetchone()[0]) + 1
        return list(range(start, start + n))

    def save(self, before: Entity, after: Entity) -> None:
        """Store ``after`` in place of ``before``, writing only what changed."""
        pk = self.pk_of(before.id)
        if pk is None:
            raise StoreConflict(before.id)
        self.changes.append(Change("update", after.id, before, after, after.modified_at or ""))
        self.db.run(
            "UPDATE entities SET types = ?, modified_at = ? WHERE pk = ?",
            [_dumps(after.types), after.modified_at, pk],
        )
        if before.types != after.types:
            self.db.run("DELETE FROM entity_types WHERE entity_pk = ?", [pk])
            self.db.many(
                "INSERT INTO entity_types (tenant_id, type, entity_pk) VALUES (?, ?, ?)",
                [(self.tenant_id, t, pk) for t in after.types],
            )
        old = _by_key(before)
        new = _by_key(after)
        for key, inst in new.items():
            previous = old.get(key)
            if previous != inst:
                was_geo = previous is not None and previous.get("type") == GEOPROPERTY
                self._put_attr(pk, key[0], inst, was_geo=was_geo)
        for key, inst in old.items():
            if key not in new:
                self._drop_attr(pk, key[0], key[1] or "", inst.get("type") == GEOPROPERTY)

    def save_many(self, pairs: Sequence[tuple[Entity, Entity]]) -> None:
        """:meth:`save` of each (before, after) pair, in order; an entity may come several times (each ``before``
        then being the previous ``after``). PostgreSQL writes a whole batch with a few set-based statements."""
        if self.db.dialect.name != "postgresql":
            for before, after in pairs:
                self.save(before, after)
            return
        if not pairs:
            return
        missing = [b.id for b, _ in pairs if b.id not in self._pks]
        if missing:
            in_sql, in_params = self.db.dialect.in_list("id", list(dict.fromkeys(missing)))
            for entity_id, pk in self.db.run(
                f"SELECT id, pk FROM entities WHERE tenant_id = ? AND {in_sql}", [self.tenant_id, *in_params]
            ).fetchall():
                self._pks[entity_id] = int(pk)
        for before, _ in pairs:
            if before.id not in self._pks:
                raise StoreConflict(before.id)
        self.changes.extend(Change("update", a.id, b, a, a.modified_at or "") for b, a in pairs)
        # the entity rows: the last state of each entity
        last = {self._pks[b.id]: a for b, a in pairs}
        self.db.run(
            "UPDATE entities SET types = u.types, modified_at = u.modified "
            "FROM json_to_recordset(?::json) AS u(pk int8, types text, modified text) WHERE entities.pk = u.pk",
            [_dumps([{"pk": pk, "types": _dumps(a.types), "modified": a.modified_at} for pk, a in last.items()])],
        )
        # types and attributes: in rounds (the n-th save of each entity in round n), so that an entity saved
        # several times goes through the same rows as one save after the other would
        rounds: list[list[tuple[int, Entity, Entity]]] = []
        seen: dict[int, int] = {}
        for before, after in pairs:
            pk = self._pks[before.id]
            n = seen.get(pk, 0)
            seen[pk] = n + 1
            if n == len(rounds):
                rounds.append([])
            rounds[n].append((pk, before, after))
        for batch in rounds:
            self._save_round(batch)

    def _save_round(self, batch: list[tuple[int, Entity, Entity]]) -> None:
        """PostgreSQL: the type, attribute and attribute-removal rows of saves of distinct entities."""
        retyped = [(pk, after) for pk, before, after in batch if before.types != after.types]
        if retyped:
            self.db.run("DELETE FROM entity_types WHERE entity_pk = ANY(?)", [[pk for pk, _ in retyped]])
            self.db.many(
                "INSERT INTO entity_types (tenant_id, type, entity_pk) VALUES (?, ?, ?)",
                [(self.tenant_id, t, pk) for pk, after in retyped for t in after.types],
            )
        puts: list[dict[str, Any]] = []
        drops: list[dict[str, Any]] = []
        for pk, before, after in batch:
            old = _by_key(before)
            new = _by_key(after)
            for key, inst in new.items():
                if old.get(key) != inst:
                    vtype, num, txt = index_values(inst)
                    puts.append(
                        {
                            "pk": pk,
                            "name": key[0],
                            "key": name_key(key[0]),
                            "ds": key[1] or "",
                            "kind": str(inst.get("type", "Property")),
                            "vtype": vtype,
                            "num": num,
                            "txt": txt,
                            "doc": inst,
                            "box": _box(inst),
                        }
                    )
            for key in old:
                if key not in new:
                    drops.append({"pk": pk, "key": name_key(key[0]), "ds": key[1] or ""})
        if puts:
            self.db.run(
                "INSERT INTO attrs (entity_pk, name, name_id, dataset_id, kind, vtype, num, txt, doc, bbox) "
                "SELECT u.pk, u.name, u.key, u.ds, u.kind, u.vtype, u.num, u.txt, u.doc, "
                "CASE WHEN u.box IS NULL THEN NULL "
                "ELSE box(point(u.box[1], u.box[2]), point(u.box[3], u.box[4])) END "
                "FROM ROWS FROM (json_to_recordset(?::json) AS (pk int8, name text, key int8, ds text, kind text, "
                "vtype text, num float8, txt text, doc jsonb, box float8[])) WITH ORDINALITY "
                "AS u(pk, name, key, ds, kind, vtype, num, txt, doc, box, ord) ORDER BY u.ord "
                "ON CONFLICT (entity_pk, name_id, dataset_id) DO UPDATE SET kind = excluded.kind, "
                "vtype = excluded.vtype, num = excluded.num, txt = excluded.txt, doc = excluded.doc, "
                "bbox = excluded.bbox",
                [_dumps(puts)],
            )
        if drops:
            self.db.run(
                "DELETE FROM attrs a USING json_to_recordset(?::json) AS u(pk int8, key int8, ds text) "
                "WHERE a.entity_pk = u.pk AND a.name_id = u.key AND a.dataset_id = u.ds",
                [_dumps(drops)],
            )

    def delete(self, entity: Entity, at: str | None = None) -> None:
        pk = self.pk_of(entity.id)
        if pk is None:
            return
        self._pks.pop(entity.id, None)
        self.changes.append(Change("delete", entity.id, entity, None, at or now_iso()))
        if self.db.dialect.name == "sqlite":
            self.db.run(
                "DELETE FROM attrs_geo WHERE id IN (SELECT rid FROM attrs WHERE entity_pk = ? AND kind = ?)",
                [pk, GEOPROPERTY],
            )
        self.db.run("DELETE FROM attrs WHERE entity_pk = ?", [pk])
        self.db.run("DELETE FROM entity_types WHERE entity_pk = ?", [pk])
        self.db.run("DELETE FROM entities WHERE pk = ?", [pk])

    def _put_attr(self, pk: int, name: str, inst: Instance, *, was_geo: bool = False) -> None:
        values = _attr_values(inst)
        if self.db.dialect.name == "postgresql":
            self.db.run(
                "INSERT INTO attrs (entity_pk, name, name_id, dataset_id, kind, vtype, num, txt, doc, bbox) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, "
                "box(point(?::float8, ?::float8), point(?::float8, ?::float8))) "
                "ON CONFLICT (entity_pk, name_id, dataset_id) DO UPDATE SET kind = excluded.kind, "
                "vtype = excluded.vtype, num = excluded.num, txt = excluded.txt, doc = excluded.doc, "
                "bbox = excluded.bbox",
                [pk, name, name_key(name), *values, *_box_params(inst)],
            )
            return
        rid = self.db.run(
            "INSERT INTO attrs (entity_pk, name, name_id, dataset_id, kind, vtype, num, txt, doc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (entity_pk, name_id, dataset_id) DO UPDATE SET kind = excluded.kind, "
            "vtype = excluded.vtype, num = excluded.num, txt = excluded.txt, doc = excluded.doc RETURNING rid",
            [pk, name, name_key(name), *values],
        ).fetchone()[0]
        box = _box(inst)
        if box is not None:
            self.db.run(
                "INSERT OR REPLACE INTO attrs_geo (id, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)",
                [rid, box[0], box[2], box[1], box[3]],
            )
        elif was_geo:
            self.db.run("DELETE FROM attrs_geo WHERE id = ?", [rid])

    def _drop_attr(self, pk: int, name: str, dataset: str, is_geo: bool) -> None:
        if is_geo and self.db.dialect.name == "sqlite":
            self.db.run(
                "DELETE FROM attrs_geo WHERE id IN (SELECT rid FROM attrs WHERE entity_pk = ? AND name_id = ? "
                "AND dataset_id = ?)",
                [pk, name_key(name), dataset],
            )
        self.db.run(
            "DELETE FROM attrs WHERE entity_pk = ? AND name_id = ? AND dataset_id = ?", [pk, name_key(name), dataset]
        )


def _attr_values(inst: Instance) -> tuple[Any, ...]:
    """(dataset_id, kind, vtype, num, txt, doc) of an attribute instance row."""
    vtype, num, txt = index_values(inst)
    return (dataset_of(inst) or "", str(inst.get("type", "Property")), vtype, num, txt, _dumps(inst))


#: bounding boxes are stored rounded outwards to 1e-9 degree (about 0.1 mm): candidates stay a superset, and
#: PostgreSQL's GiST never sees extents so small that its area arithmetic underflows
_GRID = 1e9


def _box(inst: Instance) -> tuple[float, float, float, float] | None:
    if inst.get("type") != GEOPROPERTY:
        return None
    box = geo.geojson_bbox(inst.get("value"))
    if box is None:
        return None
    return (
        math.floor(box[0] * _GRID) / _GRID,
        math.floor(box[1] * _GRID) / _GRID,
        math.ceil(box[2] * _GRID) / _GRID,
        math.ceil(box[3] * _GRID) / _GRID,
    )


def _box_params(inst: Instance) -> tuple[float | None, ...]:
    box = _box(inst)
    return (box[0], box[1], box[2], box[3]) if box is not None else (None, None, None, None)


def _by_key(entity: Entity) -> dict[tuple[str, str | None], Instance]:
    return {(name, dataset_of(inst)): inst for name, insts in entity.attrs.items() for inst in insts}


_PLACEHOLDER = re.compile(r"\?")


def to_pyformat(sql: str) -> str:
    """``?`` parameter markers as psycopg's ``%s`` (the SQL text holds no literal ``?`` or ``%``)."""
    return _PLACEHOLDER.sub("%s", sql)
