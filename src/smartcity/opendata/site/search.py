"""The search page's state: what the visitor asked (read from the URL, never trusted), the catalogue query it
becomes, and the links of the page (facet filters on and off, sort, pages), all plain ``/data?...`` URLs so the
page works and is indexable without JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlencode

from smartcity.opendata.contracts import SearchQuery

ROWS = 20
MAX_PAGE = 500  # beyond 10,000 results a visitor refines the search
MAX_Q = 500
MAX_FILTERS = 20
MAX_VALUE = 200
FACETS: tuple[str, ...] = ("organization", "groups", "tags", "res_format", "license_id")
FACET_LIMIT = 30
SortKey = Literal["relevance", "modified", "name"]
SORTS: dict[str, tuple[tuple[str, Literal["asc", "desc"]], ...]] = {
    "relevance": (("score", "desc"), ("metadata_modified", "desc")),
    "modified": (("metadata_modified", "desc"),),
    "name": (("name", "asc"),),
}


@dataclass(frozen=True)
class SearchState:
    q: str = ""
    filters: tuple[tuple[str, str], ...] = ()  # (facet field, value), in the order they were chosen
    page: int = 1
    sort: str = "relevance"

    def active(self, facet: str, value: str) -> bool:
        return (facet, value) in self.filters

    def toggled(self, facet: str, value: str) -> SearchState:
        """The state with this filter added (or removed when on), back on page 1."""
        pair = (facet, value)
        filters = tuple(f for f in self.filters if f != pair) if pair in self.filters else (*self.filters, pair)
        return replace(self, filters=filters, page=1)

    def url(self, base: str = "/data", **changes: object) -> str:
        state = replace(self, **changes) if changes else self  # type: ignore[arg-type]
        params: list[tuple[str, str]] = []
        if state.q:
            params.append(("q", state.q))
        params.extend(state.filters)
        if state.sort != "relevance":
            params.append(("sort", state.sort))
        if state.page > 1:
            params.append(("page", str(state.page)))
        return base + ("?" + urlencode(params) if params else "")

    def query(self) -> SearchQuery:
        return SearchQuery(
            q=self.q,
            fq=self.filters,
            rows=ROWS,
            start=(self.page - 1) * ROWS,
            sort=SORTS[self.sort],
            facet_fields=FACETS,
            facet_limit=FACET_LIMIT,
            facet_mincount=1,
        )


def parse(params: Sequence[tuple[str, str]]) -> SearchState:
    """The state from the URL's query parameters; anything unusable is ignored (a page, never an error)."""
    q = ""
    filters: list[tuple[str, str]] = []
    page = 1
    sort = "relevance"
    for key, raw in params:
        value = raw.strip()
        if key == "q":
            q = " ".join(value.split())[:MAX_Q]
        elif key in FACETS and value and len(value) <= MAX_VALUE and len(filters) < MAX_FILTERS:
            if (key, value) not in filters:
                filters.append((key, value))
        elif key == "page" and value.isdigit() and len(value) < 6:
            page = min(max(int(value), 1), MAX_PAGE)
        elif key == "sort" and value in SORTS:
            sort = value
    return SearchState(q=q, filters=tuple(filters), page=page, sort=sort)


@dataclass(frozen=True)
class FacetItem:
    value: str
    label: str
    count: int
    active: bool
    url: str


@dataclass(frozen=True)
class Facet:
    field: str
    items: list[FacetItem]


def facets(
    state: SearchState, found: Mapping[str, Mapping[str, int]], labels: Mapping[str, Mapping[str, str]]
) -> list[Facet]:
    """Each facet's values (most datasets first, then by label), each a link that toggles its filter.

    A filter that is on stays listed even when the catalogue returned no count for it, so it can be removed."""
    out: list[Facet] = []
    for name in FACETS:
        counts = dict(found.get(name) or {})
        for facet, value in state.filters:
            if facet == name:
                counts.setdefault(value, 0)
        names = labels.get(name) or {}
        items = [
            FacetItem(
                value, names.get(value) or value, count, state.active(name, value), state.toggled(name, value).url()
            )
            for value, count in counts.items()
        ]
        items.sort(key=lambda i: (not i.active, -i.count, i.label.casefold()))
        out.append(Facet(name, items))
    return out


def pages(state: SearchState, count: int) -> int:
    return max(1, min(MAX_PAGE, -(-count // ROWS)))
