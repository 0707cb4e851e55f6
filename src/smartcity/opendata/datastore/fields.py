"""Names and types of datastore columns: strict validation, and values to and from each SQL engine.

Column names users give are checked here once (``a-z``, ``0-9``, ``_``; at most 63 characters; not starting with
``_``, which marks the datastore's own columns such as ``_id``). Values are converted to what each engine stores:

========= ============================== ===================== ==========================================
type      SQLite                         PostgreSQL            in records (JSON-ready)
========= ============================== ===================== ==========================================
text      TEXT                           text                  string
int       INTEGER                        bigint                integer
float     REAL                           double precision      number
bool      INTEGER 0/1                    boolean               true/false
timestamp TEXT ``YYYY-MM-DDTHH:MM:SS[.f]`` timestamptz          ``2026-11-24T08:00:00`` (UTC, no offset)
date      TEXT ``YYYY-MM-DD``            date                  ``2026-11-24``
json      TEXT (JSON)                    jsonb                 any JSON value
geometry  TEXT (GeoJSON)                 jsonb (GeoJSON)       a GeoJSON geometry object
========= ============================== ===================== ==========================================

Timestamps are stored in UTC; a value without an offset is read as UTC (CKAN's habit). The SQLite text form
keeps seconds always and microseconds only when non-zero, without a suffix, so texts sort as the times do.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, get_args

import orjson

from smartcity.opendata.contracts import FieldSpec, FieldType, ValidationFailed

FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
COLUMN_RE = re.compile(r"[a-z0-9][a-z0-9_]{0,62}")
MAX_COLUMNS = 1000
GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"}
)
#: CKAN's aliases of its column types, accepted on input
TYPE_ALIASES = {
    "int4": "int",
    "int8": "int",
    "integer": "int",
    "bigint": "int",
    "numeric": "float",
    "float8": "float",
    "double": "float",
    "boolean": "bool",
    "timestamptz": "timestamp",
    "jsonb": "json",
    "string": "text",
}

SQLITE_TYPES = {
    "text": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "bool": "INTEGER",
    "timestamp": "TEXT",
    "date": "TEXT",
    "json": "TEXT",
    "geometry": "TEXT",
}
POSTGRES_TYPES = {
    "text": "text",
    "int": "bigint",
    "float": "double precision",
    "bool": "boolean",
    "timestamp": "timestamptz",
    "date": "date",
    "json": "jsonb",
    "geometry": "jsonb",
}


def check_column(name: object) -> str:
    """A user column name, or ValidationFailed saying why not."""
    if not isinstance(name, str) or COLUMN_RE.fullmatch(name) is None:
        raise ValidationFailed(
            f"invalid column name {name!r}: use a-z, 0-9 and _, at most 63 characters, not starting with _",
            {"fields": [f"invalid column name {name!r}"]},
        )
    return name


def field_type(value: object) -> FieldType:
    key = str(value).strip().lower()
    key = TYPE_ALIASES.get(key, key)
    if key not in FIELD_TYPES:
        raise ValidationFailed(
            f"unknown field type {value!r}: use one of {', '.join(FIELD_TYPES)}",
            {"fields": [f"unknown field type {value!r}"]},
        )
    out: FieldType = key  # type: ignore[assignment]
    return out


def resource_key(resource_id: object) -> str | None:
    """The canonical form of a resource id (a UUID, lower case with hyphens), or None when it is not one."""
    if not isinstance(resource_id, str) or len(resource_id) > 64:
        return None
    try:
        return str(uuid.UUID(resource_id.strip()))
    except ValueError:
        return None


def table_name(resource_id: str) -> str:
    """The SQL table of a resource: ``ds_`` and the 32 hex digits of its UUID."""
    return "ds_" + uuid.UUID(resource_id).hex


def check_fields(fields: Sequence[FieldSpec]) -> list[FieldSpec]:
    seen: set[str] = set()
    out: list[FieldSpec] = []
    if len(fields) > MAX_COLUMNS:
        raise ValidationFailed(f"at most {MAX_COLUMNS} fields", {"fields": ["too many fields"]})
    for spec in fields:
        check_column(spec.id)
        if spec.id in seen:
            raise ValidationFailed(f"field {spec.id!r} is given twice", {"fields": [f"duplicate field {spec.id}"]})
        seen.add(spec.id)
        info = {str(k): str(v) for k, v in (spec.info or {}).items()}
        out.append(FieldSpec(spec.id, field_type(spec.type), info))
    return out


# -- values in --------------------------------------------------------------------------------------------------


def _bad(column: str, value: object, kind: str) -> ValidationFailed:
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return ValidationFailed(f"{column}: {shown} is not a valid {kind}", {"records": [f"{column}: not a valid {kind}"]})


def parse_timestamp(value: object, column: str = "value") -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            raise _bad(column, value, "timestamp") from None
    else:
        raise _bad(column, value, "timestamp")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_date(value: object, column: str = "value") -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise _bad(column, value, "date") from None
    raise _bad(column, value, "date")


def timestamp_text(moment: datetime) -> str:
    """The UTC wall time as CKAN writes it (no offset), microseconds only when present."""
    plain = moment.astimezone(UTC).replace(tzinfo=None)
    return plain.isoformat(timespec="microseconds" if plain.microsecond else "seconds")


def _int(value: object, column: str) -> int:
    if isinstance(value, bool):
        raise _bad(column, value, "integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise _bad(column, value, "integer") from None
    raise _bad(column, value, "integer")


def _float(value: object, column: str) -> float:
    if isinstance(value, bool):
        raise _bad(column, value, "number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise _bad(column, value, "number") from None
    else:
        raise _bad(column, value, "number")
    if not math.isfinite(number):
        raise _bad(column, value, "finite number")
    return number


def _bool(value: object, column: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "t", "f", "yes", "no"):
        return value.strip().lower() in ("true", "1", "t", "yes")
    raise _bad(column, value, "boolean")


def _json(value: object, column: str) -> Any:
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value  # a plain string is a JSON value too
    return value


def _geometry(value: object, column: str) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise _bad(column, value, "GeoJSON geometry") from None
    if not isinstance(value, dict) or value.get("type") not in GEOMETRY_TYPES:
        raise _bad(column, value, "GeoJSON geometry")
    if value["type"] == "GeometryCollection":
        if not isinstance(value.get("geometries"), list):
            raise _bad(column, value, "GeoJSON geometry")
    elif not isinstance(value.get("coordinates"), list):
        raise _bad(column, value, "GeoJSON geometry")
    return value


def _text(value: object, column: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    raise _bad(column, value, "text")


def python_value(kind: str, value: object, column: str) -> Any:
    """``value`` as the Python value of a column of type ``kind`` (None stays None); ValidationFailed if not."""
    if value is None:
        return None
    if kind == "text":
        return _text(value, column)
    if kind == "int":
        return _int(value, column)
    if kind == "float":
        return _float(value, column)
    if kind == "bool":
        return _bool(value, column)
    if kind == "timestamp":
        return parse_timestamp(value, column)
    if kind == "date":
        return parse_date(value, column)
    if kind == "json":
        return _json(value, column)
    return _geometry(value, column)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def sqlite_value(kind: str, value: object, column: str) -> Any:
    """What SQLite stores for ``value`` in a column of type ``kind``."""
    out = python_value(kind, value, column)
    if out is None:
        return None
    if kind == "bool":
        return 1 if out else 0
    if kind == "timestamp":
        return timestamp_text(out)
    if kind == "date":
        return out.isoformat()
    if kind in ("json", "geometry"):
        return _dumps(out)
    return out


def postgres_value(kind: str, value: object, column: str) -> Any:
    """What psycopg binds for ``value`` in a column of type ``kind``."""
    out = python_value(kind, value, column)
    if out is not None and kind in ("json", "geometry"):
        from psycopg.types.json import Jsonb

        return Jsonb(out)
    return out


# -- values out -------------------------------------------------------------------------------------------------

Reader = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _sqlite_bool(value: Any) -> Any:
    return None if value is None else bool(value)


def _sqlite_json(value: Any) -> Any:
    return None if value is None else orjson.loads(value)


def _pg_timestamp(value: Any) -> Any:
    return None if value is None else timestamp_text(value)


def _pg_date(value: Any) -> Any:
    return None if value is None else value.isoformat()


def readers(engine: str, kinds: Sequence[str]) -> list[Reader]:
    """For each column type, the function turning what the engine returns into a JSON-ready value."""
    out: list[Reader] = []
    for kind in kinds:
        if engine == "sqlite":
            out.append(_sqlite_bool if kind == "bool" else _sqlite_json if kind in ("json", "geometry") else _same)
        else:
            out.append(_pg_timestamp if kind == "timestamp" else _pg_date if kind == "date" else _same)
    return out


def fields_json(fields: Sequence[FieldSpec]) -> str:
    return _dumps([{"id": f.id, "type": f.type, "info": dict(f.info)} for f in fields])


def fields_from_json(text: str) -> list[FieldSpec]:
    return [FieldSpec(f["id"], f["type"], f.get("info") or {}) for f in orjson.loads(text)]


def info_of(value: object) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationFailed("a field's info must be an object", {"fields": ["info must be an object"]})
    return {str(k): str(v) for k, v in value.items()}
