"""Measure values cast by the attribute's provisioned FIWARE ``type``, as NGSI-LD attribute instances.

FIWARE types (``Number``, ``Integer``, ``Boolean``, ``Text``, ``DateTime``, ``geo:point`` ...) decide the cast;
UltraLight values arrive as text and are cast the same way. A value that does not fit its type raises
:class:`WrongType`. Measures without a provisioned type keep their JSON value; UltraLight text that reads as a
number or a boolean becomes one (the UltraLight manual's "casting to JSON native format").

Geometries: GeoJSON as it is; ``"lat, lon"`` text (the NGSI-v2 ``geo:point`` convention the IoT Agent library
keeps) and ``[lon, lat]`` arrays (GeoJSON order) become a Point.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

import orjson

from smartcity.hub import geo
from smartcity.hub.model import GEOPROPERTY, PROPERTY, RELATIONSHIP, is_uri
from smartcity.iot import timestamps

NUMBER_TYPES = frozenset({"number", "float", "double", "decimal", "quantity", "integer", "int"})
INTEGER_TYPES = frozenset({"integer", "int"})
BOOLEAN_TYPES = frozenset({"boolean", "bool"})
TEXT_TYPES = frozenset({"text", "string", "str"})
DATETIME_TYPES = frozenset({"datetime", "date-time", "iso8601"})
GEO_TYPES = frozenset(
    {"geo:point", "geo:json", "geoproperty", "point", "linestring", "polygon", "multipoint", "multilinestring"}
    | {"multipolygon"}
)
RELATIONSHIP_TYPES = frozenset({"relationship"})
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class WrongType(ValueError):
    """A value that does not fit its attribute's type."""


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise WrongType(f"{value!r} is a boolean, not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise WrongType(f"{value!r} is not a finite number")
        return value
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.match(text):
            number = float(text)
            if math.isfinite(number):
                return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
        raise WrongType(f"{value!r} is not a number")
    raise WrongType(f"a {type(value).__name__} is not a number")


def number(value: Any, *, integer: bool = False) -> float | int:
    """A finite number from a JSON number or numeric text; ``integer`` asks for a whole number."""
    result = _number(value)
    if integer and isinstance(result, float):
        if not result.is_integer():
            raise WrongType(f"{value!r} is not a whole number")
        return int(result)
    return result


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise WrongType(f"{value!r} is not a boolean")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and math.isfinite(value):
        return str(value)
    raise WrongType(f"a {type(value).__name__} is not text")


def geometry(value: Any) -> dict[str, Any]:
    """A GeoJSON geometry from GeoJSON, ``"lat, lon"`` text or a ``[lon, lat]`` array."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        if len(parts) != 2:
            raise WrongType(f"{value!r} is not a 'latitude, longitude' point")
        try:
            lat, lon = float(number(parts[0])), float(number(parts[1]))
        except WrongType:
            raise WrongType(f"{value!r} is not a 'latitude, longitude' point") from None
        candidate: Any = {"type": "Point", "coordinates": [lon, lat]}
    elif isinstance(value, list):
        candidate = {"type": "Point", "coordinates": value}
    else:
        candidate = value
    try:
        geo.check_geojson(candidate)
    except geo.GeoError as exc:
        raise WrongType(f"not a valid geometry: {exc}") from None
    assert isinstance(candidate, dict)
    return candidate


def native(value: Any) -> Any:
    """An untyped measure: UltraLight text that reads as a number or boolean becomes one."""
    if isinstance(value, str):
        text = value.strip()
        if text in ("true", "false"):
            return text == "true"
        if _NUMBER.match(text):
            try:
                return number(text)
            except WrongType:
                return value
    if isinstance(value, float) and not math.isfinite(value):
        raise WrongType(f"{value!r} is not a finite number")
    return value


def _check_text(value: Any) -> Any:
    """Refuse NUL characters, which no database text column takes."""
    if isinstance(value, str):
        if "\x00" in value:
            raise WrongType("the value holds a NUL character")
    elif isinstance(value, dict | list) and b"\\u0000" in orjson.dumps(value):
        raise WrongType("the value holds a NUL character")
    return value


def cast(value: Any, kind: str | None, timezone: str | None = None) -> tuple[str, Any]:
    """(NGSI-LD attribute type, value) of a measure whose provisioned FIWARE type is ``kind``."""
    if value is None:
        raise WrongType("the value is null")
    kind_out, result = _cast(_check_text(value), kind, timezone)
    return kind_out, result


@lru_cache(maxsize=256)
def _kind(kind: str) -> str:
    return kind.strip().lower()


def _cast(value: Any, kind: str | None, timezone: str | None) -> tuple[str, Any]:
    key = _kind(kind) if kind else ""
    if key in NUMBER_TYPES:
        return PROPERTY, number(value, integer=key in INTEGER_TYPES)
    if key in BOOLEAN_TYPES:
        return PROPERTY, _boolean(value)
    if key in TEXT_TYPES:
        return PROPERTY, _text(value)
    if key in DATETIME_TYPES:
        try:
            return PROPERTY, timestamps.iso(timestamps.parse(value, timezone))
        except timestamps.BadTimestamp as exc:
            raise WrongType(str(exc)) from None
    if key in GEO_TYPES:
        return GEOPROPERTY, geometry(value)
    if key in RELATIONSHIP_TYPES:
        if not is_uri(value):
            raise WrongType(f"{value!r} is not a URI (a relationship points to an entity id)")
        return RELATIONSHIP, value
    return PROPERTY, native(value)
