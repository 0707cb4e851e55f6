"""Reading a publication's source from the hub, through its Python service interface: the current state of the
entities in pages, and the aggregates of their history per period, computed by the database.

Names in definitions are compact; the hub stores expanded IRIs, resolved once per publication with the NGSI-LD
core @context (bundled: no network), as the operations centre's rules do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smartcity.hub.api.params import expand_q
from smartcity.hub.errors import NgsiError
from smartcity.hub.jsonld import ResolvedContext
from smartcity.hub.model import Entity, Instance, to_micros
from smartcity.hub.qlang import Node
from smartcity.hub.query import EntityQuery
from smartcity.hub.service import Hub
from smartcity.hub.temporal.aggregate import Aggregates
from smartcity.hub.temporal.query import Aggregation, Period, TemporalQuery, TimeWindow
from smartcity.hub.temporal.service import TemporalService
from smartcity.hub.typesel import TypeName
from smartcity.opendata.publish.definition import DefinitionInvalid, Publication

LOCATION = "https://uri.etsi.org/ngsi-ld/location"
#: entities per page of the current state (one hub read transaction each)
CURRENT_PAGE = 500
#: entities per page of a history (their aggregates are one grouped query)
HISTORY_PAGE = 50


@dataclass(frozen=True)
class Terms:
    """A publication's names as the hub stores them."""

    type_iri: str
    q: Node | None
    iris: dict[str, str]  # compact attribute -> IRI
    modelled: str  # the IRI of the demo's provenance attribute ``modelled``

    def iri(self, attr: str) -> str:
        return self.iris[attr]


def resolve(pub: Publication, ctx: ResolvedContext) -> Terms:
    """The publication's type, query and attributes expanded; an invalid ``q`` is a definition error."""
    q: Node | None = None
    if pub.source.q is not None:
        try:
            q = expand_q(pub.source.q, ctx)
        except NgsiError as exc:
            raise DefinitionInvalid("source.q", exc.detail) from exc
    iris = {attr: ctx.expand_term(attr) for attr in pub.attrs}
    return Terms(ctx.expand_term(pub.source.type), q, iris, ctx.expand_term("modelled"))


def default_instance(entity: Entity, iri: str) -> Instance | None:
    instances = entity.attrs.get(iri)
    if not instances:
        return None
    for instance in instances:
        if "datasetId" not in instance:
            return instance
    return instances[0]


def part_of(instance: Instance | None, part: str) -> Any:
    """An instance's value (a Relationship's object, a LanguageProperty's map), ``observedAt`` or ``unitCode``."""
    if instance is None:
        return None
    if part != "value":
        return instance.get(part)
    for key in ("value", "object", "languageMap"):
        if key in instance:
            return instance[key]
    return None


class HubReader:
    """One tenant's entities and history, for publications."""

    def __init__(self, hub: Hub, temporal: TemporalService, tenant: str) -> None:
        self.hub = hub
        self.temporal = temporal
        self.tenant = tenant

    def pages(self, terms: Terms, attrs: Sequence[str] | None, size: int) -> Iterator[list[Entity]]:
        """The entities of the source type (and ``q``), page by page, each page read in its own transaction;
        ``attrs`` (IRIs) projects them (None: every attribute)."""
        offset = 0
        while True:
            query = EntityQuery(
                types=TypeName(terms.type_iri),
                q=terms.q,
                attrs=tuple(attrs) if attrs is not None else None,
                limit=size,
                offset=offset,
            )
            page, _ = self.hub.query_entities(self.tenant, query)
            if not page:
                return
            yield page
            if len(page) < size:
                return
            offset += size

    def aggregates(
        self,
        ids: Sequence[str],
        iris: Sequence[str],
        methods: Sequence[str],
        start: datetime,
        end: datetime,
        period_micros: int,
    ) -> Aggregates:
        """Per entity and attribute, the methods' values per period in ``[start, end)`` (periods from ``start``),
        computed by the database in one grouped query."""
        if not ids or not iris or not methods:
            return {}
        window = TimeWindow("between", to_micros(start), to_micros(end))
        tq = TemporalQuery(
            window=window, aggregation=Aggregation(tuple(methods), Period(period_micros)), attrs=tuple(iris)
        )
        selection = EntityQuery(ids=tuple(ids), limit=len(ids))
        result = self.temporal.query(self.tenant, selection, tq)
        return result.aggregates or {}
