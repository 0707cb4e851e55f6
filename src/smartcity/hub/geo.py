"""Geometry and geo-query logic for the NGSI-LD broker (ETSI GS CIM 009 v1.8, clause 4.10).

Coordinates are WGS84 longitude/latitude (GeoJSON order); distances are metres.

Conventions and accuracy
------------------------
* Distances use a spherical Earth of mean radius :data:`EARTH_RADIUS_M` (IUGG R1).  Compared with the WGS84
  ellipsoid this is within about 0.5 % (near the equator, e.g. in Ho Chi Minh City, north-south distances
  come out up to 0.5 % long and east-west ones about 0.1 % short).
* Point-to-point distances use the haversine formula.
* Any other pair of shapes is projected onto a local azimuthal-equidistant plane centred on the query
  geometry's centroid and measured with shapely.  Distances from the centre are exact on the sphere;
  elsewhere the projection only stretches (never shrinks) lengths, by a factor of about
  ``1 + (s / R)**2 / 6`` at a distance ``s`` from the centre: under 0.01 % within 100 km, about 0.4 % at
  1000 km.  As lengths are never shrunk, a projected distance is never smaller than the spherical one, so
  ``near;maxDistance`` cannot match a target outside :meth:`GeoQuery.candidate_bbox`.  The query geometry
  is densified (about 1 km segments) before projection so that its edges follow the straight lon/lat lines
  GeoJSON implies; a non-point target's edges are taken as straight in the projected plane.
* Topological relations (within, contains, intersects, equals, disjoint, overlaps) are evaluated on the
  lon/lat plane, as GeoJSON (RFC 7946) prescribes; geometries crossing the antimeridian must be cut there.
* The optional third coordinate (altitude) is validated as a number and then dropped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast, get_args
from urllib.parse import unquote

import numpy as np
import numpy.typing as npt
import shapely
from shapely.errors import GEOSException
from shapely.geometry import (
    GeometryCollection,
    LinearRing,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

__all__ = [
    "GEOMETRY_TYPES",
    "GeoError",
    "GeoQuery",
    "Georel",
    "bbox",
    "check_geojson",
    "geojson_bbox",
    "haversine_m",
    "parse_geojson",
    "parse_georel",
    "parse_query_geometry",
    "to_geojson",
]

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG R1) in metres."""

GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)

Relation = Literal["near", "within", "contains", "intersects", "equals", "disjoint", "overlaps"]
RELATIONS: tuple[str, ...] = get_args(Relation)

BBox = tuple[float, float, float, float]
FloatArray = npt.NDArray[np.float64]

_MAX_COLLECTION_DEPTH = 8
# Edges longer than this (in degrees, ~1.1 km) are split before projection, so that a projected (straight)
# chord stays within ~2.5e-7 degrees of the lon/lat-straight edge it stands for.
_DENSIFY_DEG = 0.01
_DENSIFY_MAX_VERTICES = 100_000  # per geometry; longer geometries get proportionally longer segments
_SMALL_ARRAY = 24  # up to this many vertices are projected in plain Python (faster than numpy)
_BBOX_MARGIN = 1.01  # relative safety margin on the near-distance expansion of candidate_bbox
_BBOX_EPS_DEG = 1e-6  # absolute margin (~0.1 m), covers chord deviation and rounding for _DENSIFY_DEG
_DISTANCE_EPS_M = 1e-6  # tolerance of near comparisons (float noise of the projection)
_WORLD: BBox = (-180.0, -90.0, 180.0, 90.0)


class GeoError(ValueError):
    """An invalid geometry, geo-query parameter or georel; the message is meant for the client."""


# ---------------------------------------------------------------------------------------------------------
# GeoJSON parsing and validation
# ---------------------------------------------------------------------------------------------------------


def _typename(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def _fmt(value: object) -> str:
    try:
        text = repr(value)
    except ValueError:  # int too large for str() (sys.int_info.str_digits_check_threshold)
        return "<huge integer>"
    return text if len(text) <= 40 else text[:37] + "..."


def _is_array(value: object) -> bool:
    return isinstance(value, list | tuple)


def _number(value: object, what: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GeoError(f"{what} must be a number, got {_typename(value)} at {where}")
    if isinstance(value, float) and not math.isfinite(value):
        raise GeoError(f"{what} must be a finite number, got {_fmt(value)} at {where}")
    return value


def _position(value: object, where: str) -> tuple[float, float]:
    if not _is_array(value):
        raise GeoError(f"a position must be an array of 2 or 3 numbers, got {_typename(value)} at {where}")
    pos = cast(Sequence[object], value)
    if len(pos) not in (2, 3):
        raise GeoError(f"a position must have 2 or 3 numbers, got {len(pos)} at {where}")
    lon = _number(pos[0], "longitude", where)
    lat = _number(pos[1], "latitude", where)
    if len(pos) == 3:
        _number(pos[2], "altitude", where)
    if not -180 <= lon <= 180:
        raise GeoError(f"longitude {_fmt(lon)} out of range [-180, 180] at {where}")
    if not -90 <= lat <= 90:
        raise GeoError(f"latitude {_fmt(lat)} out of range [-90, 90] at {where}")
    return (float(lon), float(lat))


def _array(value: object, what: str, where: str, min_len: int = 1, unit: str = "items") -> Sequence[object]:
    if not _is_array(value):
        raise GeoError(f"{what} must be an array, got {_typename(value)} at {where}")
    seq = cast(Sequence[object], value)
    if len(seq) < min_len:
        raise GeoError(f"{what} must have at least {min_len} {unit}, got {len(seq)} at {where}")
    return seq


def _positions(value: object, what: str, where: str, min_len: int) -> list[tuple[float, float]]:
    seq = _array(value, what, where, min_len, "positions")
    return [_position(p, f"{where}[{i}]") for i, p in enumerate(seq)]


def _line(value: object, where: str) -> list[tuple[float, float]]:
    return _positions(value, "a LineString", where, 2)


def _ring(value: object, where: str) -> list[tuple[float, float]]:
    ring = _positions(value, "a Polygon ring", where, 4)
    if ring[0] != ring[-1]:
        first, last = list(ring[0]), list(ring[-1])
        raise GeoError(f"Polygon ring is not closed: first {first} differs from last {last} at {where}")
    return ring


def _polygon(value: object, where: str) -> Polygon:
    rings = _array(value, "Polygon coordinates", where)
    parsed = [_ring(r, f"{where}[{i}]") for i, r in enumerate(rings)]
    return Polygon(parsed[0], parsed[1:])


def _check_valid(geom: BaseGeometry, kind: str) -> None:
    if not geom.is_valid:
        raise GeoError(f"invalid {kind}: {explain_validity(geom)}")


def _parse(obj: object, where: str, depth: int) -> BaseGeometry:
    if not isinstance(obj, Mapping):
        raise GeoError(f"a GeoJSON geometry must be an object, got {_typename(obj)} at {where}")
    gtype = obj.get("type")
    if not isinstance(gtype, str):
        raise GeoError(f"a GeoJSON geometry needs a string member 'type' at {where}")
    if gtype not in GEOMETRY_TYPES:
        raise GeoError(
            f"unsupported geometry type {_fmt(gtype)} at {where}; expected one of {', '.join(GEOMETRY_TYPES)}"
        )
    if gtype == "GeometryCollection":
        if depth >= _MAX_COLLECTION_DEPTH:
            raise GeoError(f"GeometryCollection nested too deeply at {where}")
        if "geometries" not in obj:
            raise GeoError(f"a GeometryCollection needs a member 'geometries' at {where}")
        members = _array(obj["geometries"], "'geometries'", f"{where}.geometries")
        parts = [_parse(m, f"{where}.geometries[{i}]", depth + 1) for i, m in enumerate(members)]
        return GeometryCollection(parts)
    if "coordinates" not in obj:
        raise GeoError(f"a {gtype} needs a member 'coordinates' at {where}")
    coords = obj["coordinates"]
    cw = f"{where}.coordinates"
    if gtype == "Point":
        return Point(_position(coords, cw))
    if gtype == "MultiPoint":
        return MultiPoint(_positions(coords, "MultiPoint coordinates", cw, 1))
    if gtype == "LineString":
        return LineString(_line(coords, cw))
    if gtype == "MultiLineString":
        lines = _array(coords, "MultiLineString coordinates", cw)
        return MultiLineString([_line(x, f"{cw}[{i}]") for i, x in enumerate(lines)])
    if gtype == "Polygon":
        poly = _polygon(coords, cw)
        _check_valid(poly, "polygon")
        return poly
    # MultiPolygon
    polys = _array(coords, "MultiPolygon coordinates", cw)
    parsed = [_polygon(x, f"{cw}[{i}]") for i, x in enumerate(polys)]
    for i, p in enumerate(parsed):
        if not p.is_valid:
            raise GeoError(f"invalid polygon: {explain_validity(p)} at {cw}[{i}]")
    multi = MultiPolygon(parsed)
    _check_valid(multi, "multipolygon (its polygons overlap or share an edge)")
    return multi


def parse_geojson(obj: object) -> BaseGeometry:
    """Validate a GeoJSON geometry object and return it as a 2-D shapely geometry.

    Accepts every type of :data:`GEOMETRY_TYPES`; positions have 2 or 3 numbers (the third is ignored);
    longitudes lie in [-180, 180] and latitudes in [-90, 90]; LineStrings have at least 2 positions; Polygon
    rings have at least 4 positions and are closed; polygons must be valid (no self-intersection).  Empty
    geometries are rejected (they cannot be indexed).  Foreign members (such as "bbox") are ignored.
    Raises :class:`GeoError`, and nothing else, for any invalid input.
    """
    try:
        return _parse(obj, "geometry", 0)
    except GeoError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, RecursionError, GEOSException) as exc:
        raise GeoError(f"invalid GeoJSON geometry: {exc}") from exc


def parse_query_geometry(geometry: str, coordinates: str) -> BaseGeometry:
    """Build the reference geometry of a geo-query from the ``geometry`` and ``coordinates`` parameters.

    ``coordinates`` is the JSON text of the coordinates array, e.g. ``[106.7,10.78]``; a still
    percent-encoded value (``%5B106.7%2C10.78%5D``) is accepted too.
    """
    if not isinstance(geometry, str) or geometry not in GEOMETRY_TYPES:
        allowed = ", ".join(GEOMETRY_TYPES[:-1])
        raise GeoError(f"unknown geometry {_fmt(geometry)}; expected one of {allowed}")
    if geometry == "GeometryCollection":
        raise GeoError("GeometryCollection cannot be used as a query geometry")
    if not isinstance(coordinates, str):
        raise GeoError(f"coordinates must be a JSON array text, got {_typename(coordinates)}")
    value = _load_json(coordinates)
    if value is None and "%" in coordinates:
        value = _load_json(unquote(coordinates))
    if value is None:
        raise GeoError(f"coordinates is not a valid JSON array: {_fmt(coordinates)}")
    if not isinstance(value, list):
        raise GeoError(f"coordinates must be a JSON array, got {_typename(value)}")
    return parse_geojson({"type": geometry, "coordinates": value})


def _load_json(text: str) -> object | None:
    try:
        return cast(object, json.loads(text))
    except (ValueError, RecursionError):
        return None


def to_geojson(geom: BaseGeometry) -> dict[str, object]:
    """Return the GeoJSON geometry object (plain dicts and lists) of a shapely geometry."""
    if not isinstance(geom, BaseGeometry):
        raise GeoError(f"not a geometry: {type(geom).__name__}")
    is_multi = isinstance(geom, MultiPoint | MultiLineString | MultiPolygon)
    if isinstance(geom, GeometryCollection) and not is_multi:
        return {"type": "GeometryCollection", "geometries": [to_geojson(g) for g in geom.geoms]}
    if isinstance(geom, LinearRing):
        geom = LineString(geom.coords)
    interface = cast(Mapping[str, object], geom.__geo_interface__)
    return {"type": interface["type"], "coordinates": _listify(interface["coordinates"])}


def _listify(value: object) -> object:
    if isinstance(value, list | tuple):
        return [_listify(v) for v in value]
    return value


def bbox(geom: BaseGeometry) -> BBox:
    """Bounding box ``(minlon, minlat, maxlon, maxlat)`` of a non-empty geometry."""
    if not isinstance(geom, BaseGeometry):
        raise GeoError(f"not a geometry: {type(geom).__name__}")
    if geom.is_empty:
        raise GeoError("an empty geometry has no bounding box")
    minx, miny, maxx, maxy = geom.bounds
    return (float(minx), float(miny), float(maxx), float(maxy))


def check_geojson(obj: object) -> None:
    """Raise GeoError unless ``obj`` is a valid GeoJSON geometry; plain Points skip building a shapely object."""
    if isinstance(obj, dict) and obj.get("type") == "Point" and len(obj) <= 3:
        position = obj.get("coordinates")
        if (
            isinstance(position, list)
            and 2 <= len(position) <= 3
            and all(type(v) in (int, float) and math.isfinite(v) for v in position)
            and -180 <= position[0] <= 180
            and -90 <= position[1] <= 90
        ):
            return
    parse_geojson(obj)


def geojson_bbox(obj: object) -> BBox | None:
    """Bounding box of an already-validated GeoJSON geometry, read from its coordinates without shapely.

    Cheap enough for the write path; None when there are no positions.
    """
    if isinstance(obj, dict) and obj.get("type") == "Point":
        position = obj.get("coordinates")
        if isinstance(position, list) and len(position) >= 2 and type(position[0]) in (int, float):
            x, y = float(position[0]), float(position[1])
            return (x, y, x, y)
    minx = miny = math.inf
    maxx = maxy = -math.inf
    stack: list[object] = []
    if isinstance(obj, dict):
        stack.append(obj.get("coordinates"))
        stack.extend(g for g in obj.get("geometries") or [] if isinstance(g, dict))
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.append(item.get("coordinates"))
            stack.extend(g for g in item.get("geometries") or [] if isinstance(g, dict))
        elif isinstance(item, list) and item:
            first = item[0]
            if isinstance(first, int | float) and not isinstance(first, bool) and len(item) >= 2:
                x, y = float(first), float(item[1])
                minx, maxx = min(minx, x), max(maxx, x)
                miny, maxy = min(miny, y), max(maxy, y)
            else:
                stack.extend(item)
    if minx == math.inf:
        return None
    return (minx, miny, maxx, maxy)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two lon/lat points (spherical Earth)."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = phi2 - phi1
    dlam = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    a = min(1.0, max(0.0, a))
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


# ---------------------------------------------------------------------------------------------------------
# georel
# ---------------------------------------------------------------------------------------------------------


def _densify(geom: BaseGeometry) -> tuple[BaseGeometry, float]:
    """Split edges longer than ~_DENSIFY_DEG degrees; return the geometry and the segment length used."""
    if isinstance(geom, Point | MultiPoint):
        return geom, _DENSIFY_DEG
    minx, miny, maxx, maxy = geom.bounds
    if maxx - minx <= _DENSIFY_DEG and maxy - miny <= _DENSIFY_DEG:  # cheap: no edge can be longer
        return geom, _DENSIFY_DEG
    seg = max(_DENSIFY_DEG, float(shapely.length(geom)) / _DENSIFY_MAX_VERTICES)
    return shapely.segmentize(geom, seg), seg


def _check_distance(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GeoError(f"{name} must be a number, got {_typename(value)}")
    if not math.isfinite(value) or value < 0:
        raise GeoError(f"{name} must be a non-negative number, got {_fmt(value)}")
    return float(value)


@dataclass(frozen=True)
class Georel:
    """A parsed ``georel`` query parameter; distances are in metres."""

    relation: Relation
    max_distance: float | None = None
    min_distance: float | None = None

    def __post_init__(self) -> None:
        if self.relation not in RELATIONS:
            raise GeoError(f"unknown georel {_fmt(self.relation)}; expected one of {', '.join(RELATIONS)}")
        max_d = _check_distance(self.max_distance, "maxDistance")
        min_d = _check_distance(self.min_distance, "minDistance")
        object.__setattr__(self, "max_distance", max_d)
        object.__setattr__(self, "min_distance", min_d)
        if self.relation == "near":
            if max_d is None and min_d is None:
                raise GeoError("georel near needs maxDistance and/or minDistance")
            if max_d is not None and min_d is not None and min_d > max_d:
                raise GeoError(f"minDistance {_fmt(min_d)} is greater than maxDistance {_fmt(max_d)}")
        elif max_d is not None or min_d is not None:
            raise GeoError(f"georel {self.relation} takes no distance")


_DISTANCE_NAMES = {"maxDistance": "max_distance", "minDistance": "min_distance"}
_DISTANCE_RE = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _parse_distance(text: str, name: str) -> float:
    # Plain decimal notation, optionally with an exponent: no sign, no "nan"/"inf", no "_" separators.
    if not _DISTANCE_RE.fullmatch(text):
        raise GeoError(f"{name} must be a non-negative number, got {_fmt(text)}")
    value = float(text)
    if not math.isfinite(value):
        raise GeoError(f"{name} is too large: {_fmt(text)}")
    return value


def parse_georel(text: str) -> Georel:
    """Parse ``near;maxDistance==2000``, ``near;minDistance==100`` (both may be given), ``within``, ..."""
    if not isinstance(text, str):
        raise GeoError(f"georel must be a string, got {_typename(text)}")
    parts = text.strip().split(";")
    relation = parts[0]
    if relation not in RELATIONS:
        raise GeoError(f"unknown georel {_fmt(relation)}; expected one of {', '.join(RELATIONS)}")
    if relation != "near":
        if len(parts) > 1:
            raise GeoError(f"georel {relation} takes no parameters, got {_fmt(text)}")
        return Georel(cast(Relation, relation))
    distances: dict[str, float] = {}
    for part in parts[1:]:
        name, sep, value = part.partition("==")
        if not sep or name not in _DISTANCE_NAMES:
            expected = "maxDistance==<metres> or minDistance==<metres>"
            raise GeoError(f"invalid near parameter {_fmt(part)}; expected {expected}")
        if _DISTANCE_NAMES[name] in distances:
            raise GeoError(f"{name} given more than once")
        distances[_DISTANCE_NAMES[name]] = _parse_distance(value, name)
    if not distances:
        raise GeoError("georel near needs maxDistance and/or minDistance, e.g. near;maxDistance==2000")
    return Georel("near", **distances)


# ---------------------------------------------------------------------------------------------------------
# GeoQuery
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeoQuery:
    """A geo-query: ``georel`` + reference ``geometry`` applied to the GeoProperty ``geoproperty``.

    Everything that depends only on the query (prepared geometry, projection centre, projected query) is
    computed once in ``__post_init__`` so that :meth:`matches` stays cheap per candidate.
    """

    georel: Georel
    geometry: BaseGeometry
    geoproperty: str = "location"

    _point: tuple[float, float] | None = field(init=False, repr=False, compare=False)
    _lam0: float = field(init=False, repr=False, compare=False)
    _sin0: float = field(init=False, repr=False, compare=False)
    _cos0: float = field(init=False, repr=False, compare=False)
    _projected: BaseGeometry | None = field(init=False, repr=False, compare=False)
    _bbox_eps: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.georel, Georel):
            raise GeoError(f"georel must be a Georel, got {type(self.georel).__name__}")
        if not isinstance(self.geometry, BaseGeometry):
            raise GeoError(f"geometry must be a shapely geometry, got {type(self.geometry).__name__}")
        if self.geometry.is_empty:
            raise GeoError("the query geometry is empty")
        if not isinstance(self.geoproperty, str) or not self.geoproperty:
            raise GeoError("geoproperty must be a non-empty string")
        # Preparing is an in-place, semantically invisible optimisation of shapely predicates.
        shapely.prepare(self.geometry)
        point = (float(self.geometry.x), float(self.geometry.y)) if isinstance(self.geometry, Point) else None
        object.__setattr__(self, "_point", point)
        projected: BaseGeometry | None = None
        eps = _BBOX_EPS_DEG
        if self.georel.relation == "near":
            centre = self.geometry.centroid
            lam0, phi0 = math.radians(centre.x), math.radians(centre.y)
            object.__setattr__(self, "_lam0", lam0)
            object.__setattr__(self, "_sin0", math.sin(phi0))
            object.__setattr__(self, "_cos0", math.cos(phi0))
            if point is None:
                dense, seg = _densify(self.geometry)
                # Chord deviation grows with the square of the segment length (see _BBOX_EPS_DEG).
                eps = _BBOX_EPS_DEG * max(1.0, (seg / _DENSIFY_DEG) ** 2)
                projected = shapely.transform(dense, self._project_array)
            else:
                projected = Point(0.0, 0.0)
            shapely.prepare(projected)
        else:
            object.__setattr__(self, "_lam0", 0.0)
            object.__setattr__(self, "_sin0", 0.0)
            object.__setattr__(self, "_cos0", 1.0)
        object.__setattr__(self, "_projected", projected)
        object.__setattr__(self, "_bbox_eps", eps)

    # -- candidate bounding box ------------------------------------------------------------------------

    def candidate_bbox(self) -> BBox | None:
        """``(minlon, minlat, maxlon, maxlat)`` that the bbox of every matching target intersects.

        ``None`` when the spatial index cannot help (disjoint; near with only minDistance).  For near the
        query bbox is widened by maxDistance on the sphere; across a pole or the antimeridian the box is
        widened to all longitudes (a box never wraps).
        """
        rel = self.georel.relation
        if rel == "disjoint":
            return None
        qbox = bbox(self.geometry)
        if rel != "near":
            return qbox
        max_d = self.georel.max_distance
        if max_d is None:
            return None
        delta = max_d * _BBOX_MARGIN / EARTH_RADIUS_M  # angular radius, radians
        if delta >= math.pi:
            return _WORLD
        ddeg = math.degrees(delta) + self._bbox_eps
        minlon, minlat, maxlon, maxlat = qbox
        south, north = minlat - ddeg, maxlat + ddeg
        if south <= -90 or north >= 90:  # a pole is within reach: every longitude is
            return (-180.0, max(-90.0, south), 180.0, min(90.0, north))
        # Widest longitude extent of a spherical cap of radius delta is at the query's most polar latitude.
        phi = math.radians(max(abs(minlat), abs(maxlat)))
        ratio = math.sin(delta) / math.cos(phi)
        if ratio >= 1:
            return (-180.0, south, 180.0, north)
        dlon = math.degrees(math.asin(ratio)) * _BBOX_MARGIN + self._bbox_eps
        west, east = minlon - dlon, maxlon + dlon
        if west < -180 or east > 180:  # wraps around the antimeridian
            return (-180.0, south, 180.0, north)
        return (west, south, east, north)

    # -- exact predicate ---------------------------------------------------------------------------------

    def matches(self, target: BaseGeometry) -> bool:
        """Exact predicate: does ``target`` (the entity's GeoProperty value) satisfy the query?"""
        if target.is_empty:
            return self.georel.relation == "disjoint"
        query = self.geometry
        try:
            match self.georel.relation:
                case "near":
                    return self._near(target)
                case "within":  # target within query  <=>  query contains target
                    return bool(shapely.contains(query, target))
                case "contains":  # target contains query
                    return bool(shapely.within(query, target))
                case "intersects":
                    return bool(shapely.intersects(query, target))
                case "equals":
                    return bool(shapely.equals(query, target))
                case "disjoint":
                    return bool(shapely.disjoint(query, target))
                case "overlaps":
                    return bool(shapely.overlaps(query, target))
        except GEOSException:
            # A malformed stored geometry cannot be related to anything: treat it as not matching.
            return False
        raise AssertionError(self.georel.relation)  # pragma: no cover - Georel validates the relation

    def _near(self, target: BaseGeometry) -> bool:
        distance = self._distance_m(target)
        max_d, min_d = self.georel.max_distance, self.georel.min_distance
        if max_d is not None and not distance <= max_d + _DISTANCE_EPS_M:
            return False
        return min_d is None or distance >= min_d - _DISTANCE_EPS_M

    def _distance_m(self, target: BaseGeometry) -> float:
        """Distance in metres from ``target`` to the query geometry (accuracy: see the module docstring)."""
        if isinstance(target, Point):
            tx, ty = float(target.x), float(target.y)
            if self._point is not None:
                return haversine_m(self._point[0], self._point[1], tx, ty)
            projected_target = Point(*self._project_xy(tx, ty))
        else:
            projected_target = shapely.transform(_densify(target)[0], self._project_array)
        return float(shapely.distance(self._projected, projected_target))

    # -- azimuthal-equidistant projection centred on the query centroid ------------------------------------

    def _project_xy(self, lon: float, lat: float) -> tuple[float, float]:
        dlam = math.radians(lon) - self._lam0
        phi = math.radians(lat)
        sin_phi, cos_phi, cos_dlam = math.sin(phi), math.cos(phi), math.cos(dlam)
        xp = cos_phi * math.sin(dlam)
        yp = self._cos0 * sin_phi - self._sin0 * cos_phi * cos_dlam
        cos_c = self._sin0 * sin_phi + self._cos0 * cos_phi * cos_dlam
        sin_c = math.hypot(xp, yp)
        if sin_c <= 1e-15:  # the centre itself, or its antipode
            return (0.0, 0.0) if cos_c > 0 else (math.pi * EARTH_RADIUS_M, 0.0)
        k = EARTH_RADIUS_M * math.atan2(sin_c, cos_c) / sin_c
        return (k * xp, k * yp)

    def _project_array(self, coords: FloatArray) -> FloatArray:
        if len(coords) <= _SMALL_ARRAY:  # numpy's per-call overhead dominates for a handful of vertices
            xy = [self._project_xy(lon, lat) for lon, lat in coords.tolist()]
            return np.array(xy, dtype=np.float64).reshape(len(xy), 2)
        dlam = np.radians(coords[:, 0]) - self._lam0
        phi = np.radians(coords[:, 1])
        sin_phi, cos_phi, cos_dlam = np.sin(phi), np.cos(phi), np.cos(dlam)
        xp = cos_phi * np.sin(dlam)
        yp = self._cos0 * sin_phi - self._sin0 * cos_phi * cos_dlam
        cos_c = self._sin0 * sin_phi + self._cos0 * cos_phi * cos_dlam
        sin_c = np.hypot(xp, yp)
        degenerate = sin_c <= 1e-15
        k = np.divide(np.arctan2(sin_c, cos_c), sin_c, out=np.ones_like(sin_c), where=~degenerate)
        out = np.empty_like(coords, dtype=np.float64)
        out[:, 0] = EARTH_RADIUS_M * k * xp
        out[:, 1] = EARTH_RADIUS_M * k * yp
        antipode = degenerate & (cos_c < 0)
        out[antipode, 0] = math.pi * EARTH_RADIUS_M
        out[antipode, 1] = 0.0
        return out
