"""What the dashboard reads from the hub: the wards (cached) and the current features of each live layer.

Blocking (store reads): call it off the event loop on PostgreSQL. Everything is read from the tenant the
operations centre watches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from smartcity.hub.errors import NonexistentTenant
from smartcity.hub.model import Entity
from smartcity.hub.query import MAX_LIMIT, EntityQuery
from smartcity.hub.service import Hub
from smartcity.hub.typesel import TypeName
from smartcity.ioc.dashboard.layers import LAYERS, Layer, Terms, view
from smartcity.ioc.dashboard.wards import ENTITY_TYPE, WardMap, ward_of

#: the ward map is rebuilt at least this often (and at once when the live service sees a ward change)
WARDS_TTL_S = 600.0


class City:
    def __init__(self, hub: Hub, tenant: str, terms: Terms, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.hub = hub
        self.tenant = tenant
        self.terms = terms
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._wards: WardMap | None = None
        self._wards_at = 0.0

    def entities(self, entity_type: str) -> Iterator[Entity]:
        """Every entity of a (compact) type in the watched tenant; none when the tenant does not exist yet."""
        types = TypeName(self.terms.iri(entity_type))
        offset = 0
        while True:
            try:
                page, _ = self.hub.query_entities(
                    self.tenant or None, EntityQuery(types=types, limit=MAX_LIMIT, offset=offset)
                )
            except NonexistentTenant:
                return
            yield from page
            if len(page) < MAX_LIMIT:
                return
            offset += MAX_LIMIT

    def features(self, layer: Layer) -> list[dict[str, Any]]:
        return [view(entity, layer, self.terms) for entity in self.entities(layer.entity_type)]

    def layers(self) -> dict[str, list[dict[str, Any]]]:
        return {layer.key: self.features(layer) for layer in LAYERS}

    def wards(self) -> WardMap:
        with self._lock:
            now = self._monotonic()
            if self._wards is None or now - self._wards_at > WARDS_TTL_S:
                found = (ward_of(e, self.terms) for e in self.entities(ENTITY_TYPE))
                self._wards = WardMap([w for w in found if w is not None])
                self._wards_at = now
            return self._wards

    def forget_wards(self) -> None:
        """The wards changed: rebuild the map on the next read (thread-safe)."""
        with self._lock:
            self._wards = None
