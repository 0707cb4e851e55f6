"""An entity query, fully expanded: what ``GET /entities``, ``/entityOperations/query`` and purge ask for."""

from __future__ import annotations

from dataclasses import dataclass

from smartcity.hub.geo import GeoQuery
from smartcity.hub.qlang import Node
from smartcity.hub.typesel import TypeExpr

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Selector:
    """One entity selector of a POST query (``entities`` member): id, idPattern and type, all optional."""

    id: str | None = None
    id_pattern: str | None = None
    types: TypeExpr | None = None


@dataclass(frozen=True)
class EntityQuery:
    types: TypeExpr | None = None
    ids: tuple[str, ...] | None = None
    id_pattern: str | None = None
    attrs: tuple[str, ...] | None = None
    q: Node | None = None
    geo: GeoQuery | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    count: bool = False
    selectors: tuple[Selector, ...] | None = None

    @property
    def is_unfiltered(self) -> bool:
        return (
            self.types is None
            and self.ids is None
            and self.id_pattern is None
            and self.attrs is None
            and self.q is None
            and self.geo is None
            and self.selectors is None
        )
