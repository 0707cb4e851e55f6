"""The wards the map is drawn from: the hub's ``AdministrativeArea`` entities as a GeoJSON FeatureCollection.

The boundaries are simplified once more for the screen (:data:`TOLERANCE_DEG`, about 33 m, topology of each ward
kept, coordinates rounded to 1 m): drawing 168 wards needs no more. The same polygons answer which ward a point is
in (an STR-tree over the hub's own, unsimplified boundaries), for the air-quality index by ward.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from smartcity.hub.model import Entity
from smartcity.ioc.dashboard.layers import LOCATION, Terms

TOLERANCE_DEG = 0.0003
ENTITY_TYPE = "AdministrativeArea"


@dataclass(frozen=True)
class Ward:
    id: str
    code: str
    name: str
    name_en: str
    shape: BaseGeometry


def _text(entity: Entity, terms: Terms, name: str) -> str:
    instances = entity.attrs.get(terms.iri(name)) or []
    for instance in instances:
        value = instance.get("value")
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    return ""


def ward_of(entity: Entity, terms: Terms) -> Ward | None:
    """A ward from its entity; None when it has no usable polygon."""
    location = entity.attrs.get(LOCATION) or []
    geometry = location[0].get("value") if location else None
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    try:
        polygon = shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError):
        return None
    if polygon.is_empty:
        return None
    code = _text(entity, terms, "code") or entity.id.rsplit(":", 1)[-1]
    return Ward(entity.id, code, _text(entity, terms, "name"), _text(entity, terms, "nameEn"), polygon)


class WardMap:
    """The wards at one moment: the FeatureCollection served to the page (with its ETag) and a point index."""

    def __init__(self, wards: Sequence[Ward]) -> None:
        self.wards = sorted(wards, key=lambda w: w.code)
        self._tree = STRtree([w.shape for w in self.wards]) if self.wards else None
        features = [
            {
                "type": "Feature",
                "id": w.id,
                "properties": {"code": w.code, "name": w.name, "nameEn": w.name_en},
                "geometry": _screen(w.shape),
            }
            for w in self.wards
        ]
        self.body = orjson.dumps({"type": "FeatureCollection", "features": features})
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'

    def __len__(self) -> int:
        return len(self.wards)

    def locate(self, lon: float, lat: float) -> Ward | None:
        """The ward containing the point (on a shared edge: the first by code), or None outside every ward."""
        if self._tree is None:
            return None
        point = shapely.Point(lon, lat)
        hits = sorted(int(i) for i in self._tree.query(point, predicate="intersects"))
        return self.wards[hits[0]] if hits else None


def _screen(polygon: BaseGeometry) -> dict[str, Any]:
    simpler = polygon.simplify(TOLERANCE_DEG, preserve_topology=True)
    if simpler.is_empty or not simpler.is_valid:
        simpler = polygon
    rounded = shapely.set_precision(simpler, 1e-5)
    if rounded.is_empty:
        rounded = polygon
    out: dict[str, Any] = orjson.loads(orjson.dumps(mapping(rounded)))
    return out
