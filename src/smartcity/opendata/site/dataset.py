"""A dataset page's content: its resources with their downloads, and, read from the datastore, the preview table
of one resource, the series a chart can draw (numeric columns over a time column) and the features a map can
draw (a geometry column, or latitude and longitude columns).

Blocking (datastore reads): call :func:`explore` off the event loop. A datastore that fails is logged and the page
shows the dataset without its preview; it never fails the page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
import shapely
import shapely.errors
from shapely.geometry import mapping, shape

from smartcity.opendata.contracts import Datastore, FieldSpec, NotFound, OpenDataError, TableQuery
from smartcity.opendata.site import i18n
from smartcity.opendata.site.i18n import Lang, localized

log = logging.getLogger(__name__)

PREVIEW_ROWS = 20
CHART_ROWS = 2000  # the latest points of a series
MAP_ROWS = 2000  # features drawn at most
SCREEN_TOLERANCE_DEG = 0.0001  # about 11 m: a city-wide map needs no more
CELL_CHARS = 120
NUMERIC = frozenset({"int", "float", "numeric", "int4", "int8", "float4", "float8", "bigint", "integer", "double"})
TIME = frozenset({"timestamp", "date", "timestamptz"})
LATITUDE = ("latitude", "lat", "vi_do")
LONGITUDE = ("longitude", "lon", "lng", "long", "kinh_do")
#: text columns that split a table into series, most readable first (a name before a code or an id)
CATEGORY_HINTS = ("name", "ten", "station", "tram", "ward", "route", "stop", "gauge", "sensor", "device", "code", "id")
MAX_CATEGORIES = 3
FORMATS = ("csv", "json", "geojson", "parquet")


@dataclass(frozen=True)
class Download:
    format: str
    url: str


@dataclass(frozen=True)
class ResourceView:
    id: str
    name: str
    description: str
    format: str
    url: str
    datastore: bool
    downloads: list[Download]
    rows: int | None = None
    modified: str = ""


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    type: str
    notes: str = ""


@dataclass
class Exploration:
    """What the datastore shows of one resource (``state``: ok, none (not in the datastore), failed)."""

    resource_id: str
    state: str = "none"
    columns: list[Column] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    total: int | None = None
    has_geometry: bool = False
    chart: dict[str, Any] | None = None
    map: dict[str, Any] | None = None


def dump_url(resource_id: str, fmt: str) -> str:
    return f"/datastore/dump/{quote(resource_id, safe='')}?format={fmt}"


def in_datastore(resource: Mapping[str, Any]) -> bool:
    value = resource.get("datastore_active")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def resources(dataset: Mapping[str, Any], lang: Lang, geometry: Mapping[str, bool]) -> list[ResourceView]:
    """The dataset's resources; datastore ones downloadable in every format (GeoJSON where they have geometry)."""
    out: list[ResourceView] = []
    for resource in dataset.get("resources") or ():
        if not isinstance(resource, Mapping) or not isinstance(resource.get("id"), str):
            continue
        rid: str = resource["id"]
        stored = in_datastore(resource)
        downloads = (
            [Download(f.upper(), dump_url(rid, f)) for f in FORMATS if f != "geojson" or geometry.get(rid, False)]
            if stored
            else []
        )
        url = resource.get("url")
        out.append(
            ResourceView(
                id=rid,
                name=localized(resource, "name", lang) or rid,
                description=localized(resource, "description", lang),
                format=str(resource.get("format") or "").upper(),
                url=url if isinstance(url, str) and url.startswith(("http://", "https://", "/")) else "",
                datastore=stored,
                downloads=downloads,
                modified=str(resource.get("last_modified") or resource.get("metadata_modified") or ""),
            )
        )
    return out


def _label(spec: FieldSpec, lang: Lang) -> str:
    """The data dictionary's label in ``lang`` (``label``, ``label_en``...), else the column's name."""
    return (localized(spec.info, "label", lang) if isinstance(spec.info, Mapping) else "") or spec.id


def _notes(spec: FieldSpec, lang: Lang) -> str:
    return localized(spec.info, "notes", lang) if isinstance(spec.info, Mapping) else ""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        kind = value.get("type")
        return f"[{kind}]" if isinstance(kind, str) and "coordinates" in value else _clip(orjson.dumps(value).decode())
    if isinstance(value, list):
        return _clip(orjson.dumps(value).decode())
    return _clip(str(value))


def _clip(text: str) -> str:
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _pick(names: Sequence[str], wanted: Sequence[str]) -> str | None:
    lowered = {n.lower(): n for n in names}
    for candidate in wanted:
        if candidate in lowered:
            return lowered[candidate]
    return None


def _categories(specs: Sequence[FieldSpec]) -> list[str]:
    text_fields = [s.id for s in specs if s.type == "text"]

    def rank(name: str) -> int:
        return next((i for i, hint in enumerate(CATEGORY_HINTS) if hint in name.lower()), len(CATEGORY_HINTS))

    return sorted(text_fields, key=rank)[:MAX_CATEGORIES]


def _geometry(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and value.startswith("{"):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    if isinstance(value, dict) and isinstance(value.get("type"), str) and "coordinates" in value:
        return value
    if isinstance(value, dict) and value.get("type") == "GeometryCollection":
        return value
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def explore(datastore: Datastore | None, resource_id: str, lang: Lang = "vi") -> Exploration:
    """The preview, chart and map of one resource (``state`` says why there is none)."""
    found = Exploration(resource_id)
    if datastore is None:
        return found
    try:
        stats = datastore.stats(resource_id)
        specs = [s for s in stats.fields if not s.id.startswith("_")]
        found.total = stats.row_count
        found.has_geometry = stats.has_geometry
        found.columns = [Column(s.id, _label(s, lang), s.type, _notes(s, lang)) for s in specs]
        page = datastore.search(
            TableQuery(resource_id, fields=[s.id for s in specs], limit=PREVIEW_ROWS, include_total=False)
        )
        found.rows = [[_cell(record.get(s.id)) for s in specs] for record in page.records]
        found.state = "ok"
        found.chart = _chart(datastore, resource_id, specs, lang)
        found.map = _map(datastore, resource_id, specs)
    except NotFound:
        found.state = "none"
    except OpenDataError as exc:
        log.warning("datastore refused the preview of %s: %s", resource_id, exc.message)
        found.state = "failed"
    except Exception:  # the page shows the dataset anyway; the failure is logged for the operators
        log.exception("datastore preview of %s failed", resource_id)
        found.state = "failed"
    return found


def _chart(datastore: Datastore, resource_id: str, specs: Sequence[FieldSpec], lang: Lang) -> dict[str, Any] | None:
    """The latest points of every numeric column over each time column, oldest first (None: not a time series)."""
    times = [s for s in specs if s.type in TIME]
    numbers = [s for s in specs if s.type in NUMERIC and s.id.lower() not in (*LATITUDE, *LONGITUDE)]
    if not times or not numbers:
        return None
    categories = _categories(specs)
    columns = [s.id for s in times] + [s.id for s in numbers] + categories
    page = datastore.search(
        TableQuery(resource_id, fields=columns, sort=[(times[0].id, "desc")], limit=CHART_ROWS, include_total=False)
    )
    records = list(reversed(page.records))
    kinds = {s.id: "time" for s in times} | {s.id: "number" for s in numbers} | dict.fromkeys(categories, "text")
    if len({r.get(times[0].id) for r in records}) < 2:
        return None  # one moment (a snapshot): nothing to draw over time
    return {
        "time": [{"id": s.id, "label": _label(s, lang)} for s in times],
        "values": [{"id": s.id, "label": _label(s, lang)} for s in numbers],
        "series": categories,
        "columns": columns,
        "rows": [[_chart_value(r.get(c), kinds[c]) for c in columns] for r in records],
    }


def _chart_value(value: Any, kind: str) -> Any:
    """Times with their offset (CKAN writes UTC without one, which a browser would read as its local time)."""
    if kind == "number":
        return _number(value)
    if kind == "time":
        found = i18n.parse_time(value)
        return found.isoformat() if found is not None else None
    return value


def _map(datastore: Datastore, resource_id: str, specs: Sequence[FieldSpec]) -> dict[str, Any] | None:
    """A FeatureCollection of the resource's places (latest row per place when it is a time series)."""
    names = [s.id for s in specs]
    geometry = next((s.id for s in specs if s.type == "geometry"), None)
    lat = _pick(names, LATITUDE)
    lon = _pick(names, LONGITUDE)
    if geometry is None and (lat is None or lon is None):
        return None
    times = [s.id for s in specs if s.type in TIME]
    labels = [s.id for s in specs if s.type in ("text", "int", "float") and s.id not in (lat, lon)][:4]
    place = [geometry] if geometry else [lat, lon]
    page = datastore.search(
        TableQuery(
            resource_id,
            fields=[c for c in (*place, *labels) if c is not None],
            sort=[(times[0], "desc")] if times else [],
            limit=MAP_ROWS,
            include_total=False,
        )
    )
    features: list[dict[str, Any]] = []
    seen: set[bytes] = set()
    for record in page.records:
        if geometry is not None:
            shape = _screen(_geometry(record.get(geometry)))
        else:
            y, x = _number(record.get(lat or "")), _number(record.get(lon or ""))
            ok = y is not None and x is not None and -90 <= y <= 90 and -180 <= x <= 180
            shape = {"type": "Point", "coordinates": [x, y]} if ok else None
        if shape is None:
            continue
        key = orjson.dumps(shape)
        if key in seen:
            continue
        seen.add(key)
        features.append({"type": "Feature", "geometry": shape, "properties": {k: record.get(k) for k in labels}})
    if not features:
        return None
    return {"type": "FeatureCollection", "features": features}


def _screen(geometry: dict[str, Any] | None) -> dict[str, Any] | None:
    """A geometry simplified for the screen (about 11 m) with coordinates rounded to about 1 m: the page stays small."""
    if geometry is None or geometry.get("type") == "Point":
        return _rounded(geometry) if geometry is not None else None
    try:
        found = shape(geometry)
        simpler = found.simplify(SCREEN_TOLERANCE_DEG, preserve_topology=True)
        if simpler.is_empty:
            return geometry
        out: dict[str, Any] = orjson.loads(orjson.dumps(mapping(shapely.set_precision(simpler, 1e-5))))
        return out
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException):
        return geometry


def _rounded(point: dict[str, Any]) -> dict[str, Any]:
    coordinates = point.get("coordinates")
    if isinstance(coordinates, list) and all(isinstance(c, int | float) for c in coordinates):
        return {"type": "Point", "coordinates": [round(float(c), 5) for c in coordinates]}
    return point


def spatial(dataset: Mapping[str, Any]) -> dict[str, Any] | None:
    """The dataset's spatial coverage as GeoJSON (CKAN's ``spatial`` field, an object or its JSON text)."""
    return _geometry(i18n.field(dataset, "spatial"))


def script_json(data: object) -> str:
    """JSON safe inside a ``<script type="application/json">`` element (no ``</script>``, no HTML comment)."""
    text = orjson.dumps(data).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
