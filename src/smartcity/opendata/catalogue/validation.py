"""A dataset dictionary checked as CKAN checks it, with CKAN's field errors (``{"name": ["Missing value"]}``).

:func:`check_dataset` takes what a client sent to ``package_create``/``package_update`` and returns the
dataset's own fields, normalised (tags as names, groups and organisation as ids, times as ISO 8601 UTC without
offset, ``spatial`` as GeoJSON text); what CKAN computes (``metadata_*``, ``num_*``, ``organization``,
``license_title``...) is ignored when sent. Every problem is collected, then raised at once as
:class:`~smartcity.opendata.contracts.ValidationFailed`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import orjson

from smartcity.opendata.contracts import ValidationFailed

NAME = re.compile(r"[a-z0-9_\-]+")
TAG = re.compile(r"[\w \-.]+", re.UNICODE)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
STATES = ("active", "draft", "deleted")
#: update frequencies (the EU frequency vocabulary's terms, in lower case; see docs/opendata.md)
FREQUENCIES = (
    "continuous",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "quarterly",
    "annual",
    "irregular",
    "never",
)
GEOMETRIES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
TEXT_FIELDS = ("title", "notes", "version", "author", "author_email", "maintainer", "maintainer_email", "url")
CORE_FIELDS = frozenset(
    {
        *TEXT_FIELDS,
        "id",
        "name",
        "title_translated",
        "notes_translated",
        "owner_org",
        "private",
        "state",
        "license_id",
        "tags",
        "tag_string",
        "groups",
        "extras",
        "frequency",
        "temporal_start",
        "temporal_end",
        "spatial",
        "resources",
        "type",
        "organization",
        "metadata_created",
        "metadata_modified",
        "num_resources",
        "num_tags",
        "license_title",
        "license_url",
        "isopen",
        "creator_user_id",
    }
)
RESOURCE_TEXT = ("url", "name", "description", "format", "mimetype", "hash", "url_type", "resource_type")
RESOURCE_COMPUTED = frozenset({"package_id", "position", "state", "created", "metadata_modified"})
MAX_TEXT = 100_000
MAX_RESOURCES = 500
MAX_TAGS = 200

#: format names as CKAN shows them (``unified_resource_format``), by lower-case name or file extension
FORMATS = {
    "csv": "CSV",
    "json": "JSON",
    "geojson": "GeoJSON",
    "parquet": "Parquet",
    "xlsx": "XLSX",
    "xls": "XLS",
    "xml": "XML",
    "rdf": "RDF",
    "ttl": "TTL",
    "turtle": "TTL",
    "jsonld": "JSON-LD",
    "json-ld": "JSON-LD",
    "zip": "ZIP",
    "pdf": "PDF",
    "html": "HTML",
    "api": "API",
    "shp": "SHP",
    "kml": "KML",
    "txt": "TXT",
    "wms": "WMS",
    "wfs": "WFS",
}


class Problems:
    """Field errors gathered while checking one request."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            first = next(iter(self.errors.items()))
            raise ValidationFailed(f"{first[0]}: {first[1][0]}", self.errors)


def _text(p: Problems, data: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            p.add(key, "Missing value")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        p.add(key, "Must be a string")
        return ""
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        p.add(key, f"Must be at most {MAX_TEXT} characters long")
    return text


def as_bool(value: Any) -> bool | None:
    """CKAN's boolean_validator: true/false, yes/no, on/off, 1/0 (any case); None when not a boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "yes", "t", "y", "1", "on"):
            return True
        if low in ("false", "no", "f", "n", "0", "off", ""):
            return False
    return None


def ckan_time(value: Any) -> str | None:
    """An ISO 8601 date-time as CKAN writes it: UTC, without offset, with microseconds; None if not one."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and 0 < len(value) <= 64:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def _temporal(p: Problems, data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None or value == "":
        return ""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    moment = ckan_time(value)
    if moment is None:
        p.add(key, "Date format incorrect: use ISO 8601 (2026-01-31 or 2026-01-31T08:00:00Z)")
        return ""
    return moment


def _translated(p: Problems, data: Mapping[str, Any], key: str, fallback: str) -> dict[str, str]:
    value = data.get(key)
    if value is None:
        return {"vi": fallback, "en": ""}
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            p.add(key, "Must be an object of language codes to texts")
            return {"vi": fallback, "en": ""}
    if not isinstance(value, Mapping):
        p.add(key, "Must be an object of language codes to texts")
        return {"vi": fallback, "en": ""}
    out = {"vi": "", "en": ""}
    for lang, text in value.items():
        if lang not in out:
            p.add(key, f"Unsupported language: {lang} (use vi or en)")
        elif text is not None and not isinstance(text, str):
            p.add(key, f"The {lang} text must be a string")
        else:
            out[lang] = (text or "").strip()
    return out


def _name(p: Problems, value: Any, key: str = "name") -> str:
    if value is None or value == "":
        p.add(key, "Missing value")
        return ""
    if not isinstance(value, str):
        p.add(key, "Must be a string")
        return ""
    if len(value) < 2:
        p.add(key, "Must be at least 2 characters long")
    if len(value) > 100:
        p.add(key, "Name must be a maximum of 100 characters long")
    if not NAME.fullmatch(value):
        p.add(key, "Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_")
    return value


def _tags(p: Problems, data: Mapping[str, Any]) -> list[str]:
    raw = data.get("tags")
    items: list[Any]
    if raw is None and isinstance(data.get("tag_string"), str):
        items = [t for t in str(data["tag_string"]).split(",") if t.strip()]
    elif raw is None:
        items = []
    elif isinstance(raw, list):
        items = raw
    else:
        p.add("tags", "Must be a list of tags")
        return []
    names: list[str] = []
    for item in items[: MAX_TAGS + 1]:
        name = item.get("name") if isinstance(item, Mapping) else item
        if not isinstance(name, str):
            p.add("tags", "Each tag must have a name")
            continue
        name = " ".join(name.split())
        if len(name) < 2:
            p.add("tags", f'Tag "{name}" length is less than minimum 2')
        elif len(name) > 100:
            p.add("tags", f'Tag "{name[:20]}..." length is more than maximum 100')
        elif not TAG.fullmatch(name):
            p.add("tags", f'Tag "{name}" must be alphanumeric characters or symbols: -_.')
        elif name not in names:
            names.append(name)
    if len(items) > MAX_TAGS:
        p.add("tags", f"At most {MAX_TAGS} tags")
    return names


def _refs(p: Problems, data: Mapping[str, Any], key: str, known: Mapping[str, str], missing: str) -> list[str]:
    raw = data.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        p.add(key, "Must be a list")
        return []
    ids: list[str] = []
    for item in raw:
        ref = (item.get("id") or item.get("name")) if isinstance(item, Mapping) else item
        found = known.get(ref) if isinstance(ref, str) else None
        if found is None:
            p.add(key, missing)
        elif found not in ids:
            ids.append(found)
    return ids


def _extras(p: Problems, data: Mapping[str, Any], core: frozenset[str] = CORE_FIELDS) -> list[dict[str, str]]:
    raw = data.get("extras")
    if raw is None:
        return []
    if not isinstance(raw, list):
        p.add("extras", "Must be a list of {key, value} objects")
        return []
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str) or not item["key"].strip():
            p.add("extras", "Each extra needs a key")
            continue
        key = item["key"].strip()
        if key in core:
            p.add("extras", f"There is a schema field with the same name: {key}")
        elif key in seen:
            p.add("extras", f"Duplicate key: {key}")
        else:
            seen.add(key)
            value = item.get("value")
            text = value if isinstance(value, str) else orjson.dumps(value).decode()
            out.append({"key": key, "value": text})
    return out


def _spatial(p: Problems, value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            p.add("spatial", "Must be a GeoJSON geometry")
            return ""
    if not _geometry(value):
        p.add("spatial", "Must be a GeoJSON geometry (Point, LineString, Polygon or their Multi- forms)")
        return ""
    return orjson.dumps(value).decode()


def _geometry(value: Any) -> bool:
    if not isinstance(value, Mapping) or value.get("type") not in GEOMETRIES:
        return False
    depth = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
    return _positions(value.get("coordinates"), depth[str(value["type"])])


def _positions(value: Any, depth: int) -> bool:
    if depth == 0:
        return (
            isinstance(value, list)
            and 2 <= len(value) <= 3
            and all(isinstance(c, int | float) and not isinstance(c, bool) for c in value)
            and -180 <= value[0] <= 180
            and -90 <= value[1] <= 90
        )
    return isinstance(value, list) and len(value) > 0 and all(_positions(v, depth - 1) for v in value)


def resource_format(fmt: str, url: str) -> str:
    """The format CKAN would show: a known name in its usual case, else as given, else guessed from the URL."""
    if fmt:
        return FORMATS.get(fmt.lower().lstrip("."), fmt)
    path = url.split("?", 1)[0].rstrip("/")
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return FORMATS.get(ext, "")


def _resource(p: Problems, index: int, item: Any) -> dict[str, Any]:
    key = f"resources/{index}"
    if not isinstance(item, Mapping):
        p.add("resources", f"Resource {index} must be an object")
        return {}
    out: dict[str, Any] = {}
    rid = item.get("id")
    if rid not in (None, ""):
        if not isinstance(rid, str) or not _is_uuid(rid):
            p.add(f"{key}/id", "Must be a UUID")
        else:
            out["id"] = rid
    for field in RESOURCE_TEXT:
        out[field] = _text(p, item, field)
    out["format"] = resource_format(out["format"], out["url"])
    size = item.get("size")
    if size in (None, ""):
        out["size"] = None
    elif isinstance(size, bool) or not (isinstance(size, int) or (isinstance(size, str) and size.isdigit())):
        p.add(f"{key}/size", "Invalid integer")
    else:
        out["size"] = int(size)
    active = as_bool(item.get("datastore_active", False))
    if active is None:
        p.add(f"{key}/datastore_active", "Must be a boolean")
    out["datastore_active"] = bool(active)
    last = item.get("last_modified")
    out["last_modified"] = None
    if last not in (None, ""):
        out["last_modified"] = ckan_time(last)
        if out["last_modified"] is None:
            p.add(f"{key}/last_modified", "Date format incorrect")
    for extra, value in item.items():  # resource extras (CKAN keeps them as top-level keys)
        if extra in out or extra in RESOURCE_COMPUTED or extra == "id":
            continue
        if not isinstance(extra, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", extra):
            p.add(key, f"Invalid resource field name: {str(extra)[:64]}")
        elif value is None or isinstance(value, str | int | float | bool):
            out[extra] = value
        else:
            p.add(f"{key}/{extra}", "Must be a string, a number or a boolean")
    return out


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def check_dataset(
    data: Mapping[str, Any], *, organizations: Mapping[str, str], groups: Mapping[str, str], licenses: set[str]
) -> dict[str, Any]:
    """The dataset's own fields, normalised; ``organizations``/``groups`` map ids and names to ids."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("the dataset must be an object", {"__root__": ["Must be an object"]})
    p = Problems()
    out: dict[str, Any] = {"name": _name(p, data.get("name"))}
    if data.get("id") not in (None, ""):
        if not isinstance(data["id"], str) or not _is_uuid(data["id"]):
            p.add("id", "Must be a UUID")
        else:
            out["id"] = data["id"]
    for field in TEXT_FIELDS:
        out[field] = _text(p, data, field)
    for field in ("author_email", "maintainer_email"):
        if out[field] and not EMAIL.fullmatch(out[field]):
            p.add(field, f"Email {out[field]} is not a valid format")
    out["title_translated"] = _translated(p, data, "title_translated", out["title"])
    out["notes_translated"] = _translated(p, data, "notes_translated", out["notes"])
    if not out["title"]:
        out["title"] = out["title_translated"]["vi"] or out["title_translated"]["en"] or out["name"]
    if not out["notes"]:
        out["notes"] = out["notes_translated"]["vi"] or out["notes_translated"]["en"]
    owner = data.get("owner_org")
    if owner in (None, ""):
        p.add("owner_org", "An organization must be provided")
    elif not isinstance(owner, str) or owner not in organizations:
        p.add("owner_org", "Organization does not exist")
    else:
        out["owner_org"] = organizations[owner]
    private = as_bool(data.get("private", False))
    if private is None:
        p.add("private", "Must be a boolean")
    out["private"] = bool(private)
    state = data.get("state") or "active"
    if state not in STATES:
        p.add("state", f"Must be one of: {', '.join(STATES)}")
    out["state"] = state
    license_id = data.get("license_id") or "notspecified"
    if not isinstance(license_id, str) or license_id not in licenses:
        p.add("license_id", "License not found")
    out["license_id"] = license_id
    frequency = data.get("frequency") or ""
    if frequency and frequency not in FREQUENCIES:
        p.add("frequency", f"Must be one of: {', '.join(FREQUENCIES)}")
    out["frequency"] = frequency
    out["temporal_start"] = _temporal(p, data, "temporal_start")
    out["temporal_end"] = _temporal(p, data, "temporal_end")
    if out["temporal_start"] and out["temporal_end"] and out["temporal_end"] < out["temporal_start"]:
        p.add("temporal_end", "Must not be before temporal_start")
    out["spatial"] = _spatial(p, data.get("spatial"))
    dtype = data.get("type") or "dataset"
    if dtype != "dataset":
        p.add("type", "Only datasets of type dataset are supported")
    out["tags"] = _tags(p, data)
    out["groups"] = _refs(p, data, "groups", groups, "Group was not found.")
    out["extras"] = _extras(p, data)
    raw = data.get("resources")
    if raw is None:
        out["resources"] = None  # absent: an update keeps the dataset's resources (CKAN 2.10)
    elif not isinstance(raw, list):
        p.add("resources", "Must be a list")
    elif len(raw) > MAX_RESOURCES:
        p.add("resources", f"At most {MAX_RESOURCES} resources")
    else:
        out["resources"] = [_resource(p, i, item) for i, item in enumerate(raw)]
        ids = [r["id"] for r in out["resources"] if "id" in r]
        if len(ids) != len(set(ids)):
            p.add("resources", "Two resources have the same id")
    p.raise_if_any()
    return out


PARTY_STATES = ("active", "deleted")
PARTY_FIELDS = frozenset(
    {
        "id",
        "name",
        "title",
        "title_translated",
        "description",
        "description_translated",
        "image_url",
        "image_display_url",
        "extras",
        "state",
        "type",
        "is_organization",
        "approval_status",
        "created",
        "display_name",
        "package_count",
        "packages",
        "users",
        "groups",
        "tags",
        "num_followers",
    }
)
RESERVED_NAMES = ("new", "edit", "search")  # CKAN's group_name_validator refuses these (they are URL paths)


def check_party(data: Mapping[str, Any], *, is_organization: bool) -> dict[str, Any]:
    """An organisation's or group's own fields (organization_create / group_create), normalised as CKAN's
    default group schema with ckanext-fluent's ``title_translated``/``description_translated`` in vi and en."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("the organization must be an object", {"__root__": ["Must be an object"]})
    p = Problems()
    out: dict[str, Any] = {"name": _name(p, data.get("name"))}
    if out["name"] in RESERVED_NAMES:
        p.add("name", "That name cannot be used")
    if data.get("id") not in (None, ""):
        if not isinstance(data["id"], str) or not _is_uuid(data["id"]):
            p.add("id", "Must be a UUID")
        else:
            out["id"] = data["id"]
    for field in ("title", "description", "image_url"):
        out[field] = _text(p, data, field)
    if out["image_url"] and not out["image_url"].lower().startswith(("http://", "https://")):
        p.add("image_url", "Please provide a valid URL")
    out["title_translated"] = _translated(p, data, "title_translated", out["title"])
    out["description_translated"] = _translated(p, data, "description_translated", out["description"])
    if not out["title"]:
        out["title"] = out["title_translated"]["vi"] or out["title_translated"]["en"] or out["name"]
    if not out["description"]:
        out["description"] = out["description_translated"]["vi"] or out["description_translated"]["en"]
    state = data.get("state") or "active"
    if state not in PARTY_STATES:
        p.add("state", f"Must be one of: {', '.join(PARTY_STATES)}")
    out["state"] = state
    kind = "organization" if is_organization else "group"
    if data.get("type") not in (None, "", kind):
        p.add("type", f"Only {kind}s of type {kind} are supported")
    out["extras"] = _extras(p, data, PARTY_FIELDS)
    p.raise_if_any()
    return out
