"""package_search's parameters read as CKAN (Solr syntax, the parts portals use) into a
:class:`~smartcity.opendata.contracts.SearchQuery`.

* ``fq``: ``field:value`` or ``field:"quoted value"`` clauses (optionally ``+``-prefixed, ``AND``-joined), all of
  which must hold; ``fq_list`` adds clauses one per item;
* ``q``: free text; ``field:value`` clauses on a filter field are taken as filters (``q=tags:flood``), on a text
  field (``title:``, ``notes:``, ``text:``) as free text;
* ``sort``: ``"field [asc|desc], ..."``;
* ``rows`` (capped at 1000 as CKAN does), ``start``, ``facet``, ``facet.field``, ``facet.limit``,
  ``facet.mincount``, ``include_private``.

Anything else in ``fq`` is a :class:`~smartcity.opendata.contracts.SearchError` (CKAN's "Search Query Error").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, cast

from smartcity.opendata.ckan import params as p
from smartcity.opendata.contracts import SearchError, SearchQuery

MAX_ROWS = 1000
FILTER_FIELDS = frozenset(
    {
        "organization",
        "owner_org",
        "groups",
        "tags",
        "res_format",
        "license_id",
        "frequency",
        "name",
        "id",
        "type",
        "dataset_type",
        "capacity",
    }
)
TEXT_FIELDS = frozenset({"title", "notes", "text"})
_CLAUSE = re.compile(r'\s*(\+?)([A-Za-z_][\w.]*):("(?:[^"\\]|\\.)*"|(?:[^\s\\"]|\\.)+)\s*')
_AND = re.compile(r"\s*(?:AND|&&)\s+")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    return re.sub(r"\\(.)", r"\1", value)


def parse_fq(fq: str) -> list[tuple[str, str]]:
    """``'organization:so-y-te +tags:"chất lượng"'`` -> ``[("organization", "so-y-te"), ("tags", "chất lượng")]``."""
    out: list[tuple[str, str]] = []
    pos, text = 0, fq.strip()
    while pos < len(text):
        if out:
            joined = _AND.match(text, pos)
            if joined:
                pos = joined.end()
        match = _CLAUSE.match(text, pos)
        if match is None or match.end() == pos:
            raise SearchError(f'cannot read the filter at {text[pos : pos + 40]!r}: use field:value or field:"value"')
        field, value = match.group(2), _unquote(match.group(3))
        if field not in FILTER_FIELDS:
            raise SearchError(f"cannot filter on the field {field!r}")
        out.append((field, value))
        pos = match.end()
    return out


def parse_q(q: str) -> tuple[str, list[tuple[str, str]]]:
    """The free text of ``q`` and the filters it names."""
    if q.strip() in ("*:*", "*"):
        return "", []
    filters: list[tuple[str, str]] = []
    kept: list[str] = []
    pos = 0
    for match in _CLAUSE.finditer(q):
        field, value = match.group(2), _unquote(match.group(3))
        if field in FILTER_FIELDS and value != "*":
            kept.append(q[pos : match.start()])
            filters.append((field, value))
            pos = match.end()
        elif field in TEXT_FIELDS or value == "*":
            kept.append(q[pos : match.start()])
            kept.append(" " + (value if value != "*" else "") + " ")
            pos = match.end()
    kept.append(q[pos:])
    return " ".join("".join(kept).split()), filters


def parse_sort(sort: str) -> list[tuple[str, Literal["asc", "desc"]]]:
    out: list[tuple[str, Literal["asc", "desc"]]] = []
    for part in sort.split(","):
        bits = part.split()
        if not bits:
            continue
        if len(bits) > 2 or (len(bits) == 2 and bits[1].lower() not in ("asc", "desc")):
            raise SearchError(f"cannot sort by {part.strip()!r}: use 'field asc' or 'field desc'")
        direction = bits[1].lower() if len(bits) == 2 else "asc"
        out.append((bits[0], cast(Literal["asc", "desc"], direction)))
    return out


def search_query(params: Mapping[str, Any], *, may_see_private: bool) -> SearchQuery:
    """The SearchQuery of package_search's parameters; ``include_private`` only counts for publishers."""
    text, filters = parse_q(p.text(params, "q"))
    filters += parse_fq(p.text(params, "fq"))
    for item in p.string_list(params, "fq_list"):
        filters += parse_fq(item)
    facet = p.boolean(params, "facet", True)
    return SearchQuery(
        q=text,
        fq=tuple(filters),
        rows=min(p.integer(params, "rows", 10), MAX_ROWS),
        start=p.integer(params, "start", 0),
        sort=tuple(parse_sort(p.text(params, "sort"))),
        facet_fields=tuple(p.string_list(params, "facet.field")) if facet else (),
        facet_limit=p.integer(params, "facet.limit", 50, minimum=-1),
        facet_mincount=p.integer(params, "facet.mincount", 1),
        include_private=p.boolean(params, "include_private", False) and may_see_private,
    )
