"""A dataset's spatial coverage (CKAN's ``spatial``: a GeoJSON geometry, as text or parsed) as GeoSPARQL WKT.

WKT literals without a CRS URI are in CRS84 (longitude, latitude), GeoJSON's own order, so coordinates pass
through unchanged. The bounding box and, for points and polygons, the centroid come with every coverage; the full
geometry only when it is small enough to sit in a catalogue (:data:`MAX_POINTS`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

MAX_POINTS = 2000
MAX_TEXT = 5_000_000
_NESTING = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}


class GeometryInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Coverage:
    wkt: str | None  # the whole geometry (None when it is too large)
    geojson: str | None
    bbox: str  # a WKT polygon (or point, for a single position)
    centroid: str | None
    box: tuple[float, float, float, float]  # west, south, east, north


def parse(value: Any) -> dict[str, Any]:
    """A GeoJSON geometry from CKAN's ``spatial`` (a JSON text or a mapping); a Feature gives its geometry."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise GeometryInvalid("spatial is too large")
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise GeometryInvalid(f"spatial is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise GeometryInvalid("spatial must be a GeoJSON object")
    if value.get("type") == "Feature":
        return parse(value.get("geometry"))
    kind = value.get("type")
    if kind == "GeometryCollection":
        parts = value.get("geometries")
        if not isinstance(parts, list) or not parts:
            raise GeometryInvalid("a GeometryCollection needs geometries")
        return {"type": kind, "geometries": [parse(p) for p in parts]}
    if kind not in _NESTING:
        raise GeometryInvalid(f"unknown geometry type {str(kind)[:40]!r}")
    coords: Any = value.get("coordinates")
    _check(coords, _NESTING[kind], str(kind))
    rings: list[Any] = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    if any(len(ring) < 4 or ring[0] != ring[-1] for polygon in rings for ring in polygon):
        raise GeometryInvalid(f"{kind}: every ring is closed and has at least 4 positions")
    if kind == "LineString" and len(coords) < 2:
        raise GeometryInvalid("LineString: at least 2 positions")
    return value


def _check(coords: Any, depth: int, kind: str) -> None:
    if depth == 0:
        if not isinstance(coords, list) or len(coords) not in (2, 3):
            raise GeometryInvalid(f"{kind}: a position has 2 or 3 numbers")
        for number in coords:
            if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
                raise GeometryInvalid(f"{kind}: coordinates must be finite numbers")
        if not (-180 <= coords[0] <= 180 and -90 <= coords[1] <= 90):
            raise GeometryInvalid(f"{kind}: {coords[0]}, {coords[1]} is not a longitude, latitude")
        return
    if not isinstance(coords, list) or not coords:
        raise GeometryInvalid(f"{kind}: coordinates must be non-empty lists")
    for part in coords:
        _check(part, depth - 1, kind)


def positions(geometry: dict[str, Any]) -> Iterator[Sequence[float]]:
    if geometry["type"] == "GeometryCollection":
        for part in geometry["geometries"]:
            yield from positions(part)
        return
    yield from _walk(geometry["coordinates"], _NESTING[geometry["type"]])


def _walk(coords: Any, depth: int) -> Iterator[Sequence[float]]:
    if depth == 0:
        yield coords
        return
    for part in coords:
        yield from _walk(part, depth - 1)


def _num(value: float) -> str:
    text = repr(float(value))
    if "e" in text:  # WKT numbers have no exponent
        text = f"{float(value):.15f}".rstrip("0").rstrip(".")
    return text[:-2] if text.endswith(".0") else text


def _pos(p: Sequence[float]) -> str:
    return " ".join(_num(v) for v in p)


def _list(coords: Any, depth: int) -> str:
    if depth == 1:
        return "(" + ", ".join(_pos(p) for p in coords) + ")"
    return "(" + ", ".join(_list(c, depth - 1) for c in coords) + ")"


def to_wkt(geometry: dict[str, Any]) -> str:
    """The WKT text of a parsed GeoJSON geometry."""
    kind = geometry["type"]
    if kind == "GeometryCollection":
        return "GEOMETRYCOLLECTION (" + ", ".join(to_wkt(g) for g in geometry["geometries"]) + ")"
    coords = geometry["coordinates"]
    z = " Z" if any(len(p) == 3 for p in _walk(coords, _NESTING[kind])) else ""
    if kind == "Point":
        return f"POINT{z} ({_pos(coords)})"
    if kind == "MultiPoint":
        return f"MULTIPOINT{z} (" + ", ".join(f"({_pos(p)})" for p in coords) + ")"
    return f"{kind.upper()}{z} {_list(coords, _NESTING[kind])}"


def bounds(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    west = south = math.inf
    east = north = -math.inf
    for p in positions(geometry):
        west, east = min(west, p[0]), max(east, p[0])
        south, north = min(south, p[1]), max(north, p[1])
    return west, south, east, north


def bbox_wkt(box: tuple[float, float, float, float]) -> str:
    west, south, east, north = box
    if west == east and south == north:
        return f"POINT ({_num(west)} {_num(south)})"
    ring = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    return "POLYGON ((" + ", ".join(f"{_num(x)} {_num(y)}" for x, y in ring) + "))"


def _ring_moments(ring: Sequence[Sequence[float]]) -> tuple[float, float, float]:
    """Signed area and first moments of a closed ring (shoelace)."""
    area = cx = cy = 0.0
    for (x0, y0, *_), (x1, y1, *_) in itertools.pairwise(ring):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return area / 2, cx / 6, cy / 6


def centroid(geometry: dict[str, Any]) -> tuple[float, float] | None:
    """The centroid of a point, points or (multi)polygon (planar, in degrees: fine at a city's scale)."""
    kind = geometry["type"]
    if kind == "Point":
        return float(geometry["coordinates"][0]), float(geometry["coordinates"][1])
    if kind == "MultiPoint":
        pts = geometry["coordinates"]
        return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
    polygons = (
        [geometry["coordinates"]] if kind == "Polygon" else geometry["coordinates"] if kind == "MultiPolygon" else []
    )
    area = mx = my = 0.0
    for polygon in polygons:
        for index, ring in enumerate(polygon):
            a, cx, cy = _ring_moments(ring)
            sign = 1.0 if index == 0 else -1.0  # holes take away, whatever their winding
            if a < 0:
                a, cx, cy = -a, -cx, -cy
            area += sign * a
            mx += sign * cx
            my += sign * cy
    if area <= 0:
        return None
    return mx / area, my / area


def coverage(value: Any) -> Coverage:
    """The spatial coverage of CKAN's ``spatial``; :class:`GeometryInvalid` when it is not a usable geometry."""
    geometry = parse(value)
    box = bounds(geometry)
    count = sum(1 for _ in positions(geometry))
    small = count <= MAX_POINTS
    middle = centroid(geometry)
    if middle is not None and not (box[0] <= middle[0] <= box[2] and box[1] <= middle[1] <= box[3]):
        middle = None  # a self-intersecting polygon: no meaningful centroid
    return Coverage(
        wkt=to_wkt(geometry) if small else None,
        geojson=orjson.dumps(geometry).decode() if small else None,
        bbox=bbox_wkt(box),
        centroid=f"POINT ({_num(middle[0])} {_num(middle[1])})" if middle else None,
        box=box,
    )
