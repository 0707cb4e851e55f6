"""Search without Solr: ranked full text over folded text, CKAN's ``fq`` filters, sorts and facets, all in SQL.

SQLite ranks with FTS5's bm25 (title 10, tags 4, the rest 1); PostgreSQL with ``ts_rank`` over a weighted
``tsvector`` ('simple' configuration, GIN index). Both see the same folded words (:mod:`.folding`), so a query
with or without diacritics finds the same datasets. Facet counts are computed by the database (one query for
every asked field, limited per field with a window function); over the whole catalogue they read one index.

Filters and the facets of a narrowed search read a dataset's terms (organisation, groups, tags, formats, ...):
SQLite as numbers (``opendata_terms`` numbers each term, ``opendata_dataset_term_ids`` holds a dataset's numbers:
one index range per filter, each hit's numbers by primary key, grouped as integers); PostgreSQL from the dataset's own ``terms`` array ('field:value', GIN index), one containment test for all the
filters and the hits' arrays unnested for the facets, which on PostgreSQL is several times faster than the joins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
        for field, value in query.fq:
            self._filter(tenant_id, field, value)
        if self.terms:
            self.where.append("d.terms @> ?")
            self.params.append(sorted(set(self.terms)))

    def _filter(self, tenant_id: int, field: str, value: str) -> None:
        self.filtered = True
        if field in TERM_FIELDS and self.postgres:
            self.terms.append(term_key(field, value))
        elif field in TERM_FIELDS:
            self.where.append(  # the datasets with the term's number, from the filter index
                "d.pk IN (SELECT i.dataset_pk FROM opendata_dataset_term_ids i WHERE i.term_id = "
                "(SELECT k.id FROM opendata_terms k WHERE k.tenant_id = ? AND k.field = ? AND k.value = ?))"
            )
            self.params += [tenant_id, field, value]
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


def facets(plan: Plan, query: SearchQuery, tenant_id: int) -> dict[str, dict[str, int]]:
    """field -> value -> number of hits with it, the most frequent first, ``facet.limit`` per field."""
    fields = list(dict.fromkeys(query.facet_fields))
    unknown = [f for f in fields if f not in FACET_FIELDS]
    if unknown:
        raise SearchError(f"cannot facet on the field {unknown[0]!r}")
    out: dict[str, dict[str, int]] = {f: {} for f in fields}
    if not fields:
        return out
    in_sql, in_params = f"t.field IN ({', '.join('?' for _ in fields)})", list(fields)
    if (plan.text or plan.filtered) and plan.postgres:  # the hits' own term arrays unnested, counted, then split
        source = (
            "(SELECT split_part(c.term, ':', 1) AS field, substr(c.term, strpos(c.term, ':') + 1) AS value, c.n AS n "
            f"FROM (SELECT u.term AS term, count(*) AS n {plan.sql(' CROSS JOIN unnest(d.terms) AS u(term)')} "
            "GROUP BY u.term OFFSET 0) c) t"  # OFFSET 0: the fields are picked after counting, not per row
        )
        params = [*plan.params, *in_params]
        where = in_sql
        counted = "sum(t.n)"
    elif plan.text or plan.filtered:  # SQLite: the hits drive, each hit's term numbers counted, then named
        source = (
            "(SELECT k.field AS field, k.value AS value, c.n AS n FROM (SELECT i.term_id AS term_id, count(*) AS n "
            f"FROM (SELECT d.pk {plan.sql()}) h CROSS JOIN opendata_dataset_term_ids i ON i.dataset_pk = h.pk "
            "GROUP BY i.term_id) c CROSS JOIN opendata_terms k ON k.id = c.term_id) t"
        )
        params = [*plan.params, *in_params]
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
