"""Search without Solr: ranked full text over folded text, CKAN's ``fq`` filters, sorts and facets, all in SQL.

SQLite ranks with FTS5's bm25 (title 10, tags 4, the rest 1); PostgreSQL with ``ts_rank`` over a weighted
``tsvector`` ('simple' configuration, GIN index). Both see the same folded words (:mod:`.folding`), so a query
with or without diacritics finds the same datasets. Facet counts are computed by the database (one query for
every asked field, limited per field with a window function); over the whole catalogue they read one index.

Filters and the facets of a narrowed search read a dataset's terms (organisation, groups, tags, formats, ...).
SQLite keeps them as numbers (``opendata_terms`` numbers each term, ``opendata_dataset_term_ids`` holds a
dataset's numbers): one index range per filter, and the facets group integers. PostgreSQL keeps them on the dataset
as a ``terms`` array ('field:value', GIN index): one containment test for all the filters, and the facets unnest
the hits' arrays. Both measured several times faster than joining a (field, value) table
(benchmarks/opendata_search.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from smartcity.hub.store.sql import Db
from smartcity.opendata.catalogue.folding import words
from smartcity.opendata.contracts import SearchError, SearchQuery

#: fields a dataset's terms are kept under (filters and facets)
TERM_FIELDS = ("organization", "owner_org", "groups", "tags", "res_format", "license_id", "frequency")
FACET_FIELDS = frozenset(TERM_FIELDS)
SORTS = {
    "score": None,
    "metadata_modified": "d.metadata_modified",
    "metadata_created": "d.metadata_created",
    "name": "d.name",
    "title_string": "d.title_sort",
    "title": "d.title_sort",
}
MAX_QUERY_WORDS = 32
Fragment = tuple[str, list[Any]]


def term_key(field: str, value: str) -> str:
    """How a term is kept in PostgreSQL's ``terms`` array: field names hold no colon, so the first one splits."""
    return f"{field}:{value}"


def visible(alias: str, include_private: bool) -> str:
    """Active public datasets (2), or active ones, private included (1 and 2); an equality when it can be, so
    the indexes keep their order (newest first, facet values)."""
    return f"{alias}.visibility IN (1, 2)" if include_private else f"{alias}.visibility = 2"


class Plan:
    """The FROM and WHERE of one search, with its bound values in order, and how it ranks."""

    def __init__(self, db: Db, tenant_id: int, query: SearchQuery) -> None:
        self.db = db
        self.postgres = db.dialect.name == "postgresql"
        self.source = "opendata_datasets d"
        self.params: list[Any] = []
        self.rank = ""  # an expression, larger is better; "" without a text query
        terms = [] if query.q.strip() in ("", "*:*", "*") else words(query.q)[:MAX_QUERY_WORDS]
        self.text = bool(terms)
        if self.text and self.postgres:
            self.source = "opendata_datasets d CROSS JOIN plainto_tsquery('simple', ?) tq"
            self.params.append(" ".join(terms))
            self.rank = "ts_rank(d.search, tq)"
        elif self.text:  # the full-text index drives (CROSS JOIN keeps it the outer loop), its rank carried along
            self.source = (
                "(SELECT rowid AS pk, bm25(opendata_search, 10.0, 4.0, 1.0) AS score FROM opendata_search "
                "WHERE opendata_search MATCH ?) s CROSS JOIN opendata_datasets d ON d.pk = s.pk"
            )
            self.params.append(" ".join(f'"{w}"' for w in terms))
            self.rank = "(-s.score)"
        self.where = ["d.tenant_id = ?", visible("d", query.include_private)]
        self.params.append(tenant_id)
        if self.text and self.postgres:
            self.where.append("d.search @@ tq")
        self.filtered = False
        self.terms: list[str] = []  # PostgreSQL: the terms every hit has
        self.numbered: list[tuple[str, str]] = []  # SQLite: the same, to be numbered
        for field, value in query.fq:
            self._filter(tenant_id, field, value)
        if self.terms:
            self.where.append("d.terms @> ?")
            self.params.append(sorted(set(self.terms)))
        if self.numbered:
            self._numbered_filters(tenant_id)

    def _filter(self, tenant_id: int, field: str, value: str) -> None:
        self.filtered = True
        if field in TERM_FIELDS and self.postgres:
            self.terms.append(term_key(field, value))
        elif field in TERM_FIELDS:
            self.numbered.append((field, value))
        elif field in ("name", "id"):
            self.where.append(f"d.{field} = ?")
            self.params.append(value)
        elif field in ("type", "dataset_type"):
            self.where.append("? = 'dataset'")
            self.params.append(value)
        elif field == "capacity":
            if value not in ("public", "private"):
                raise SearchError(f"capacity is public or private, not {value!r}")
            self.where.append("d.visibility = ?")
            self.params.append(2 if value == "public" else 1)
        else:
            raise SearchError(f"cannot filter on the field {field!r}")

    def _numbered_filters(self, tenant_id: int) -> None:
        """SQLite: without a text query the rarest term's datasets drive (its index range, in any order) and the
        other terms are looked up per dataset by primary key; with one, the text hits drive and every term is
        looked up. How many datasets have each term comes from the facet counters."""
        found: list[tuple[int, int]] = []
        for field, value in dict.fromkeys(self.numbered):
            row = self.db.run(
                "SELECT k.id, (SELECT coalesce(sum(f.n), 0) FROM opendata_facet_counts f WHERE "
                "f.tenant_id = k.tenant_id AND f.field = k.field AND f.value = k.value) FROM opendata_terms k "
                "WHERE k.tenant_id = ? AND k.field = ? AND k.value = ?",
                [tenant_id, field, value],
            ).fetchone()
            if row is None:  # no dataset ever had the term
                self.where.append("1 = 0")
                return
            found.append((int(row[1]), int(row[0])))
        found.sort()
        if not self.text:
            self.source = "opendata_dataset_term_ids i0 CROSS JOIN opendata_datasets d ON d.pk = i0.dataset_pk"
            self.where.append("i0.term_id = ?")
            self.params.append(found.pop(0)[1])
        for _, term_id in found:
            self.where.append(
                "EXISTS (SELECT 1 FROM opendata_dataset_term_ids i WHERE i.dataset_pk = d.pk AND i.term_id = ?)"
            )
            self.params.append(term_id)

    def sql(self, join: str = "") -> str:
        """FROM and WHERE; ``join`` is added to the FROM (this module's own SQL text, never a value)."""
        return f"FROM {self.source}{join} WHERE {' AND '.join(self.where)}"

    def order(self, sort: Sequence[tuple[str, str]]) -> str:
        keys: list[str] = []
        for field, direction in sort or (("score", "desc"), ("metadata_modified", "desc")):
            if field not in SORTS:
                raise SearchError(f"cannot sort on the field {field!r}")
            if direction not in ("asc", "desc"):
                raise SearchError(f"sort direction is asc or desc, not {direction!r}")
            column = SORTS[field]
            if column is None:
                if self.rank:
                    keys.append(f"{self.rank} {direction.upper()}")
                continue
            keys.append(f"{column} {direction.upper()}")
        keys.append("d.pk DESC")
        return ", ".join(keys)


def run(plan: Plan, query: SearchQuery, tenant_id: int) -> tuple[int, list[str], dict[str, dict[str, int]]]:
    """The number of hits, one page of their documents (JSON text) and the facets.

    A narrowed search finds its hits once, in order, as primary keys: the count is their number, the page their
    slice, and the facets count their terms, instead of matching the text, ranking and filtering once per query.
    On PostgreSQL only a text search does: its filters alone are one GIN containment test, which measured faster
    repeated (count, page, facets) than the facets' lookups by key. The whole catalogue is read through its ordered
    index and the facet counters (benchmarks/opendata_search.py)."""
    prepare(plan)
    if plan.text or (plan.filtered and not plan.postgres):
        keys = hit_keys(plan, query.sort)
        shown = keys[query.start : query.start + query.rows] if query.rows > 0 else []
        return len(keys), documents(plan.db, shown), facets(plan, query, tenant_id, keys)
    total = count(plan)
    docs = page(plan, query.sort, query.rows, query.start) if query.rows > 0 else []
    return total, docs, facets(plan, query, tenant_id)


def hit_keys(plan: Plan, sort: Sequence[tuple[str, str]]) -> list[int]:
    """Every hit's primary key, in the search's order."""
    found = plan.db.run(f"SELECT d.pk {plan.sql()} ORDER BY {plan.order(sort)}", plan.params).fetchall()
    return [int(r[0]) for r in found]


def documents(db: Db, keys: Sequence[int]) -> list[str]:
    """The documents of these datasets, in this order."""
    if not keys:
        return []
    sql = "SELECT pk, doc FROM opendata_datasets WHERE pk " + _in_keys(db)  # noqa: S608 (own SQL text)
    found = dict(db.run(sql, [_keys_param(db, keys)]).fetchall())
    return [found[k] for k in keys if k in found]  # rows are never removed; a vanished one is left out


def _in_keys(db: Db) -> str:
    """A membership test in a list of keys bound as one value (a JSON array on SQLite, an array on PostgreSQL)."""
    return "= ANY(?)" if db.dialect.name == "postgresql" else "IN (SELECT value FROM json_each(?))"


def _keys_param(db: Db, keys: Sequence[int]) -> Any:
    return list(keys) if db.dialect.name == "postgresql" else orjson.dumps(list(keys)).decode()


def prepare(plan: Plan) -> None:
    """PostgreSQL, in the search's own transaction: read a narrowed search's hits through the GIN indexes. The
    planner costs a containment or text match per row as cheap as an equality and often prefers reading the whole
    table, which measured four times slower than the bitmap scan (benchmarks/opendata_search.py)."""
    if plan.postgres and (plan.text or plan.terms):
        plan.db.run("SET LOCAL enable_seqscan = off")


def count(plan: Plan) -> int:
    row = plan.db.run(f"SELECT count(*) {plan.sql()}", plan.params).fetchone()
    return int(row[0]) if row else 0


def page(plan: Plan, sort: Sequence[tuple[str, str]], rows: int, start: int) -> list[str]:
    """The documents (JSON text) of one page of hits."""
    order = plan.order(sort)
    found = plan.db.run(
        f"SELECT d.doc {plan.sql()} ORDER BY {order} LIMIT ? OFFSET ?", [*plan.params, rows, start]
    ).fetchall()
    return [r[0] for r in found]


def facets(
    plan: Plan, query: SearchQuery, tenant_id: int, keys: Sequence[int] | None = None
) -> dict[str, dict[str, int]]:
    """field -> value -> number of hits with it, the most frequent first, ``facet.limit`` per field. ``keys``:
    the hits' primary keys when they are known already."""
    fields = list(dict.fromkeys(query.facet_fields))
    unknown = [f for f in fields if f not in FACET_FIELDS]
    if unknown:
        raise SearchError(f"cannot facet on the field {unknown[0]!r}")
    out: dict[str, dict[str, int]] = {f: {} for f in fields}
    if not fields:
        return out
    in_sql, in_params = f"t.field IN ({', '.join('?' for _ in fields)})", list(fields)
    if (plan.text or plan.filtered) and plan.postgres:  # the hits' own term arrays unnested, counted, then split
        unnest = " CROSS JOIN unnest(d.terms) AS u(term)"
        hits, hit_params = (
            (f"FROM opendata_datasets d{unnest} WHERE d.pk = ANY(?)", [list(keys)])
            if keys is not None
            else (plan.sql(unnest), plan.params)
        )
        source = (  # this module's own SQL text; every value is bound
            "(SELECT split_part(c.term, ':', 1) AS field, substr(c.term, strpos(c.term, ':') + 1) AS value, "  # noqa: S608
            f"c.n AS n FROM (SELECT u.term AS term, count(*) AS n {hits} "
            "GROUP BY u.term OFFSET 0) c) t"  # OFFSET 0: the fields are picked after counting, not per row
        )
        params = [*hit_params, *in_params]
        where = in_sql
        counted = "sum(t.n)"
    elif plan.text or plan.filtered:  # SQLite: the hits drive, each hit's term numbers counted, then named
        hit_params = [_keys_param(plan.db, hit_keys(plan, ()) if keys is None else keys)]
        source = (  # this module's own SQL text; every value is bound
            "(SELECT k.field AS field, k.value AS value, c.n AS n FROM (SELECT i.term_id AS term_id, "
            "count(*) AS n FROM (SELECT value AS pk FROM json_each(?)) h "
            "CROSS JOIN opendata_dataset_term_ids i ON i.dataset_pk = h.pk "
            "GROUP BY i.term_id) c CROSS JOIN opendata_terms k ON k.id = c.term_id) t"
        )
        params = [*hit_params, *in_params]
        where = in_sql
        counted = "sum(t.n)"
    else:  # the whole catalogue: the counters kept by every write
        source = "opendata_facet_counts t"
        params = [tenant_id, *in_params]
        where = f"t.tenant_id = ? AND {visible('t', query.include_private)} AND {in_sql}"
        counted = "sum(t.n)"
    limit = "" if query.facet_limit < 0 else "WHERE rn <= ?"
    # the fragments are this module's own SQL text; every value is bound
    sql = (
        f"SELECT field, value, n FROM (SELECT t.field AS field, t.value AS value, {counted} AS n, "  # noqa: S608
        f"row_number() OVER (PARTITION BY t.field ORDER BY {counted} DESC, t.value) AS rn "
        f"FROM {source} WHERE {where} GROUP BY t.field, t.value HAVING {counted} >= ?) ranked {limit} "
        "ORDER BY field, n DESC, value"
    )
    params.append(max(query.facet_mincount, 1))
    if limit:
        params.append(query.facet_limit)
    for field, value, n in plan.db.run(sql, params).fetchall():
        out[field][value] = int(n)
    return out
