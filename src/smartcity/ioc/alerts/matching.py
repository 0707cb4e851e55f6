"""Label matchers shared by silences, escalation policies and channels, and the area matcher of silences.

A matcher set is a JSON object; every member given must match (AND). ``ruleId``, ``subject``, ``ward`` and
``domain`` take a string or a list of strings (any of them); ``severity`` is a floor (that severity or a more
severe one); ``area`` is a GeoJSON Polygon or MultiPolygon, or ``{"center": [lon, lat], "radius": metres}``,
matched against the alert's location.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from shapely.errors import GEOSException
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from smartcity.hub.errors import BadRequestData
from smartcity.ioc.alerts.model import Alert, at_least
from smartcity.ioc.contracts import Severity

TEXT_MATCHERS = {"ruleId": "rule_id", "subject": "subject", "ward": "ward", "domain": "domain"}
MAX_RADIUS = 100_000.0
EARTH_RADIUS = 6_371_008.8


def _texts(name: str, value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) and 0 < len(i) <= 512 for i in items):
        raise BadRequestData(f"matcher {name!r} must be a non-empty string or a list of them")
    return list(items)


def _area(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestData("matcher 'area' must be a GeoJSON polygon or {'center': [lon, lat], 'radius': m}")
    if "center" in value or "radius" in value:
        center, radius = value.get("center"), value.get("radius")
        if (
            not isinstance(center, list)
            or len(center) != 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in center)
            or not (-180 <= center[0] <= 180 and -90 <= center[1] <= 90)
        ):
            raise BadRequestData("area 'center' must be [longitude, latitude]")
        if not isinstance(radius, int | float) or isinstance(radius, bool) or not 0 < radius <= MAX_RADIUS:
            raise BadRequestData(f"area 'radius' must be a number of metres in (0, {MAX_RADIUS:g}]")
        return {"center": [float(center[0]), float(center[1])], "radius": float(radius)}
    if value.get("type") not in ("Polygon", "MultiPolygon"):
        raise BadRequestData("matcher 'area' must be a GeoJSON Polygon or MultiPolygon, or a center and radius")
    try:
        geometry = shape(value)
    except (GEOSException, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise BadRequestData(f"matcher 'area' is not a valid GeoJSON polygon: {exc}") from exc
    if geometry.is_empty or not geometry.is_valid:
        raise BadRequestData("matcher 'area' is not a valid polygon (empty or self-intersecting)")
    return {"type": value["type"], "coordinates": value["coordinates"]}


def parse_matchers(raw: Any, *, allowed: frozenset[str], require_one: bool) -> dict[str, Any]:
    """Validated matchers (BadRequestData for anything else)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadRequestData("'matchers' must be a JSON object")
    unknown = set(raw) - allowed
    if unknown:
        raise BadRequestData(f"unknown matchers {sorted(unknown)}: use {sorted(allowed)}")
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if name in TEXT_MATCHERS:
            out[name] = _texts(name, value)
        elif name == "severity":
            try:
                out[name] = str(Severity(value))
            except ValueError:
                raise BadRequestData(f"matcher 'severity' must be one of {[str(s) for s in Severity]}") from None
        elif name == "area":
            out[name] = _area(value)
    if require_one and not out:
        raise BadRequestData(f"give at least one matcher of {sorted(allowed)}")
    return out


def _distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS * math.asin(min(1.0, math.sqrt(a)))


def _geometry(location: Mapping[str, Any] | None) -> BaseGeometry | None:
    if not location:
        return None
    try:
        geometry = shape(location)
    except (GEOSException, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
    return None if geometry.is_empty else geometry


def in_area(area: Mapping[str, Any], location: Mapping[str, Any] | None) -> bool:
    geometry = _geometry(location)
    if geometry is None:
        return False
    if "center" in area:
        point = geometry if isinstance(geometry, Point) else geometry.representative_point()
        lon, lat = area["center"]
        return _distance(lon, lat, point.x, point.y) <= float(area["radius"])
    return bool(shape(area).intersects(geometry))


def matches(matchers: Mapping[str, Any], alert: Alert) -> bool:
    for name, value in matchers.items():
        if name in TEXT_MATCHERS:
            actual = getattr(alert, TEXT_MATCHERS[name])
            if actual not in value:
                return False
        elif name == "severity":
            if not at_least(alert.severity, Severity(value)):
                return False
        elif name == "area" and not in_area(value, alert.location):
            return False
    return True
