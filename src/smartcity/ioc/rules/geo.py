"""Where entities are: the wards (polygons of the hub's ``AdministrativeArea`` entities), areas of rules, distances.

The wards are learnt from the hub (at start, then from the change feed), so a rule naming a ward the hub does
not know yet matches nothing until the ward arrives. Points are tested against prepared polygons; which ward a
point is in comes from an STR-tree over the wards, cached per point.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from smartcity.ioc.rules.model import Area

log = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8
_CACHE = 50_000


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) between two (lon, lat) points, in metres."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def point_of(geometry: Any) -> tuple[float, float] | None:
    """A representative (lon, lat) of a GeoJSON geometry: the point itself, else the centroid."""
    if not isinstance(geometry, Mapping):
        return None
    if geometry.get("type") == "Point":
        coords = geometry.get("coordinates")
        if (
            isinstance(coords, list | tuple)
            and len(coords) >= 2
            and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords[:2])
        ):
            return float(coords[0]), float(coords[1])
        return None
    try:
        centroid = shape(geometry).centroid
    except Exception:
        return None
    return (float(centroid.x), float(centroid.y)) if not centroid.is_empty else None


@dataclass
class Ward:
    code: str
    entity_id: str
    name: str
    geometry: BaseGeometry

    @property
    def centre(self) -> dict[str, Any]:
        point = self.geometry.representative_point()
        return {"type": "Point", "coordinates": [round(point.x, 6), round(point.y, 6)]}


class Wards:
    """The wards the hub knows, by code and by position."""

    def __init__(self) -> None:
        self._by_code: dict[str, Ward] = {}
        self._by_entity: dict[str, str] = {}
        self._tree: STRtree | None = None
        self._order: list[Ward] = []
        self._point_cache: dict[tuple[float, float], str | None] = {}
        self.version = 0

    def __len__(self) -> int:
        return len(self._by_code)

    def put(self, entity_id: str, code: str, name: str, geometry: Mapping[str, Any]) -> None:
        try:
            geom = shape(geometry)
        except Exception:
            log.warning("ward %s has a geometry shapely cannot read; ignored", entity_id)
            return
        if geom.is_empty:
            return
        shapely.prepare(geom)
        old = self._by_entity.get(entity_id)
        if old is not None and old != code:
            self._by_code.pop(old, None)
        self._by_code[code] = Ward(code, entity_id, name, geom)
        self._by_entity[entity_id] = code
        self._changed()

    def remove(self, entity_id: str) -> None:
        code = self._by_entity.pop(entity_id, None)
        if code is not None:
            self._by_code.pop(code, None)
            self._changed()

    def _changed(self) -> None:
        self._tree = None
        self._point_cache.clear()
        self.version += 1

    def get(self, code: str) -> Ward | None:
        return self._by_code.get(code)

    def code_of(self, entity_id: str) -> str | None:
        return self._by_entity.get(entity_id)

    def ward_at(self, point: tuple[float, float]) -> Ward | None:
        """The ward a point is in (None outside every ward)."""
        if point in self._point_cache:
            code = self._point_cache[point]
            return self._by_code.get(code) if code is not None else None
        if self._tree is None:
            self._order = list(self._by_code.values())
            self._tree = STRtree([w.geometry for w in self._order]) if self._order else None
        found: Ward | None = None
        if self._tree is not None:
            candidate = Point(point)
            for index in self._tree.query(candidate):
                ward = self._order[int(index)]
                if ward.geometry.covers(candidate):
                    found = ward
                    break
        if len(self._point_cache) >= _CACHE:
            self._point_cache.clear()
        self._point_cache[point] = found.code if found is not None else None
        return found


class Region:
    """A rule's area, ready to test points."""

    def __init__(self, area: Area, wards: Wards) -> None:
        self.area = area
        self.wards = wards
        self._polygon: BaseGeometry | None = None
        if area.polygon is not None:
            self._polygon = shape(area.polygon)
            shapely.prepare(self._polygon)
        self._missing_logged = False

    def contains(self, point: tuple[float, float]) -> bool:
        area = self.area
        if area.center is not None and area.radius is not None:
            return distance_m(area.center, point) <= area.radius
        if area.ward is not None:
            found = self.wards.ward_at(point)
            if found is None and self.wards.get(area.ward) is None and not self._missing_logged:
                self._missing_logged = True
                log.info("ward %s is not (yet) in the hub: its rules match nothing until it is", area.ward)
            return found is not None and found.code == area.ward
        if self._polygon is not None:
            return bool(self._polygon.covers(Point(point)))
        return False

    @property
    def subject(self) -> tuple[str, str | None, dict[str, Any] | None]:
        """What an aggregate over this area is about: (id, type, GeoJSON location)."""
        area = self.area
        if area.ward is not None:
            ward = self.wards.get(area.ward)
            if ward is not None:
                return ward.entity_id, "AdministrativeArea", ward.centre
            return f"ward:{area.ward}", "AdministrativeArea", None
        if area.center is not None:
            return (
                f"area:{area.center[0]:.5f},{area.center[1]:.5f},{area.radius:g}m",
                None,
                {"type": "Point", "coordinates": list(area.center)},
            )
        assert self._polygon is not None
        c = self._polygon.representative_point()
        return f"area:{c.x:.5f},{c.y:.5f}", None, {"type": "Point", "coordinates": [c.x, c.y]}
