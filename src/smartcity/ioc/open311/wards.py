"""Which ward a report falls in: the hub's ``AdministrativeArea`` entities (the 168 wards, communes and special zone
of Ho Chi Minh City since 1 July 2025) of the operations centre's tenant.

The polygons are read from the hub once and kept in an STR-tree of prepared geometries; the index is rebuilt on
the next lookup after the hub's change feed reports a change to an ``AdministrativeArea`` entity of that tenant
(:meth:`WardIndex.on_changes`, called by :class:`WardWatch`). A point on a boundary belongs to the first ward
that covers it. A ward is also found by its name in an address (``Phường Bến Thành``, ``P. Bến Thành``, ``xa
binh chanh``): accents, case and punctuation are ignored, and the unit word is required, since bare names repeat
in street names.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from smartcity.hub.errors import NgsiError
from smartcity.hub.feed import ChangeBatch, ChangeFeed
from smartcity.hub.model import Entity
from smartcity.hub.query import MAX_LIMIT, EntityQuery
from smartcity.hub.service import Hub
from smartcity.hub.typesel import TypeName

log = logging.getLogger(__name__)

ENTITY_TYPE = "AdministrativeArea"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"
#: the unit words a ward's name follows in an address, accents removed (Phường, P., Xã, X., Đặc khu)
UNIT_WORDS = ("phuong", "p", "xa", "x", "dac khu")
#: the city's extent (Côn Đảo to Bình Dương's north), used only while no ward polygon is known
CITY_BOUNDS = (8.5, 105.9, 11.8, 107.8)  # south, west, north, east


@dataclass(frozen=True)
class Ward:
    code: str
    name: str
    name_en: str
    full_name: str
    full_name_en: str


def fold(text: str) -> str:
    """Lower case without accents or punctuation, words separated by one space (``Phường Bến Thành`` →
    ``phuong ben thanh``)."""
    text = text.replace("Đ", "D").replace("đ", "d")
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare.lower()).split())


class WardIndex:
    """The wards of one tenant, for point-in-polygon and name lookups (thread-safe)."""

    def __init__(self, hub: Hub, tenant: str, expand: Callable[[str], str]) -> None:
        self._hub = hub
        self._tenant = tenant
        self._expand = expand
        self._type = expand(ENTITY_TYPE)
        self._lock = threading.Lock()
        self._stale = True
        self._wards: list[Ward] = []
        self._shapes: list[BaseGeometry] = []
        self._tree: STRtree | None = None
        self._by_name: dict[str, Ward] = {}
        self._by_code: dict[str, Ward] = {}

    # -- lookups ---------------------------------------------------------------------------------------------

    def locate(self, lat: float, lon: float) -> Ward | None:
        """The ward covering the point, or None (outside the city)."""
        self._fresh()
        tree, shapes, wards = self._tree, self._shapes, self._wards
        if tree is None:
            return None
        point = Point(lon, lat)
        for index in sorted(int(i) for i in tree.query(point)):
            if shapes[index].covers(point):
                return wards[index]
        return None

    def within_city(self, lat: float, lon: float) -> bool:
        """Whether a point with no ward can still be in the city: only while no ward polygon is known."""
        self._fresh()
        if self._tree is not None:
            return False
        south, west, north, east = CITY_BOUNDS
        return south <= lat <= north and west <= lon <= east

    def named_in(self, address: str) -> Ward | None:
        """The ward an address names with its unit word (the longest name when several match)."""
        self._fresh()
        words = f" {fold(address)} "
        best: Ward | None = None
        best_length = 0
        for key, ward in self._by_name.items():
            if f" {key} " in words and len(key) > best_length:
                best, best_length = ward, len(key)
        return best

    def by_code(self, code: str) -> Ward | None:
        self._fresh()
        return self._by_code.get(code)

    @property
    def known(self) -> int:
        self._fresh()
        return len(self._wards)

    # -- freshness -------------------------------------------------------------------------------------------

    def invalidate(self) -> None:
        self._stale = True

    def on_changes(self, batch: ChangeBatch) -> None:
        """Change-feed listener: any change to a ward of our tenant makes the index stale (cheap, any thread)."""
        if (batch.tenant or "") != (self._tenant or ""):
            return
        for change in batch.changes:
            entity = change.after or change.before
            if entity is None or self._type in entity.types:
                self._stale = True
                return

    def _fresh(self) -> None:
        if not self._stale:
            return
        with self._lock:
            if self._stale:
                self._stale = False
                try:
                    self._load()
                except Exception:
                    self._stale = True
                    raise

    def _load(self) -> None:
        entities: list[Entity] = []
        offset = 0
        try:
            while True:
                page, _ = self._hub.query_entities(
                    self._tenant, EntityQuery(types=TypeName(self._type), limit=MAX_LIMIT, offset=offset)
                )
                entities.extend(page)
                if len(page) < MAX_LIMIT:
                    break
                offset += MAX_LIMIT
        except NgsiError as exc:  # the tenant does not exist yet: no wards
            log.info("no wards in tenant %r: %s", self._tenant, exc.detail)
        wards: list[Ward] = []
        shapes: list[BaseGeometry] = []
        for entity in sorted(entities, key=lambda e: e.id):
            found = self._ward(entity)
            if found is not None:
                wards.append(found[0])
                shapes.append(found[1])
        shapely.prepare(shapes)
        self._wards, self._shapes = wards, shapes
        self._tree = STRtree(shapes) if shapes else None
        self._by_code = {w.code: w for w in wards}
        self._by_name = {}
        for ward in wards:
            for key in self._names(ward):
                self._by_name.setdefault(key, ward)
        log.info("ward index of tenant %r: %d wards", self._tenant, len(wards))

    def _value(self, entity: Entity, term: str) -> Any:
        instances = entity.attrs.get(self._expand(term)) or []
        return instances[0].get("value") if instances else None

    def _ward(self, entity: Entity) -> tuple[Ward, BaseGeometry] | None:
        location = entity.attrs.get(LOCATION) or []
        geometry = location[0].get("value") if location else None
        if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            return None
        try:
            polygon = shape(geometry)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            log.warning("ward %s has an unreadable boundary: skipped", entity.id)
            return None
        if polygon.is_empty:
            return None
        if not polygon.is_valid:
            polygon = polygon.buffer(0)

        def text(term: str) -> str:
            value = self._value(entity, term)
            return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""

        code = text("code") or entity.id.rsplit(":", 1)[-1]
        name = text("name")
        ward = Ward(
            code=code,
            name=name,
            name_en=text("nameEn") or name,
            full_name=text("fullName") or name,
            full_name_en=text("fullNameEn") or text("nameEn") or name,
        )
        return ward, polygon

    @staticmethod
    def _names(ward: Ward) -> list[str]:
        """The folded names an address may use for the ward: its full name and each unit word + its name."""
        keys = [fold(ward.full_name)] if ward.full_name != ward.name else []
        base = fold(ward.name)
        if base:
            keys.extend(f"{unit} {base}" for unit in UNIT_WORDS)
        return [k for k in keys if k]


class WardWatch:
    """Background service: keeps a :class:`WardIndex` in step with the hub through the change feed."""

    name = "open311-ward-watch"

    def __init__(self, feed: ChangeFeed, index: WardIndex) -> None:
        self._feed = feed
        self._index = index
        self._stop: Callable[[], None] | None = None

    async def start(self) -> None:
        self._stop = self._feed.listen(self._index.on_changes)
        self._index.invalidate()

    async def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None
