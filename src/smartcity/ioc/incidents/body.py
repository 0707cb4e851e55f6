"""Reading the JSON bodies and query parameters of the incident routes: every mistake is a clear 400."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from smartcity.hub.errors import BadRequestData
from smartcity.ioc.contracts import IncidentStatus, Severity

MAX_TITLE = 200
MAX_TEXT = 10_000
MAX_NAME = 200


def obj(body: Any, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise BadRequestData("the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequestData(f"unknown member(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return body


def text(body: Mapping[str, Any], key: str, *, required: bool = False, limit: int = MAX_TEXT,
         nullable: bool = False) -> str | None:  # fmt: skip
    if key not in body or (body[key] is None and not required and not nullable):
        if required:
            raise BadRequestData(f"'{key}' is required")
        return None
    value = body[key]
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise BadRequestData(f"'{key}' must be a string")
    value = value.strip()
    if required and not value:
        raise BadRequestData(f"'{key}' must not be empty")
    if len(value) > limit:
        raise BadRequestData(f"'{key}' must be at most {limit} characters long")
    if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise BadRequestData(f"'{key}' must not contain control characters")
    return value


def flag(body: Mapping[str, Any], key: str, *, required: bool = False) -> bool | None:
    if key not in body or body[key] is None:
        if required:
            raise BadRequestData(f"'{key}' is required (true or false)")
        return None
    value = body[key]
    if not isinstance(value, bool):
        raise BadRequestData(f"'{key}' must be true or false")
    return value


def severity(value: Any, key: str = "severity") -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise BadRequestData(f"'{key}' must be one of {', '.join(s.value for s in Severity)}") from None


def status(value: Any, key: str = "to") -> IncidentStatus:
    try:
        return IncidentStatus(value)
    except ValueError:
        raise BadRequestData(f"'{key}' must be one of {', '.join(s.value for s in IncidentStatus)}") from None


def point(value: Any) -> dict[str, Any] | None:
    """A GeoJSON Point (longitude, latitude in WGS 84), or None."""
    if value is None:
        return None
    coords = value.get("coordinates") if isinstance(value, dict) else None
    if (
        not isinstance(value, dict)
        or value.get("type") != "Point"
        or not isinstance(coords, list)
        or len(coords) not in (2, 3)
        or not all(isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c) for c in coords)
    ):
        raise BadRequestData('\'location\' must be a GeoJSON Point {"type": "Point", "coordinates": [lon, lat]}')
    lon, lat = coords[0], coords[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise BadRequestData("'location' coordinates must be [longitude, latitude] within range")
    return {"type": "Point", "coordinates": list(coords)}


def boolean_param(value: str | None, key: str) -> bool | None:
    if value is None:
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise BadRequestData(f"'{key}' must be true or false, not {value!r}")
