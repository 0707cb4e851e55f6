"""CKAN's datastore parameters as callers send them (query strings or JSON bodies), parsed strictly.

Each parser accepts what CKAN accepts: ``filters`` as a JSON object (or its text), ``fields`` / ``sort`` /
``primary_key`` / ``indexes`` as lists or comma-separated texts (or JSON lists), integers and booleans as JSON
values or texts. Anything else is a ValidationFailed naming the parameter (CKAN's 409 "Validation Error").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import orjson

from smartcity.opendata.contracts import FieldSpec, ValidationFailed
from smartcity.opendata.datastore import fields as F

RECORDS_FORMATS = ("objects", "lists", "csv", "tsv")
SortKey = tuple[str, Literal["asc", "desc"]]


def invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{name}: {message}", {name: [message]})


def _json_text(value: str) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


def parse_int(value: object, name: str, *, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise invalid(name, "must be an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value.strip()) <= 18:
        number = int(value.strip())
    else:
        raise invalid(name, "must be an integer")
    if not low <= number <= high:
        raise invalid(name, f"must be between {low} and {high}")
    return number


def parse_bool(value: object, name: str, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
        return value.strip().lower() in ("true", "1", "yes", "on")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise invalid(name, "must be true or false")


def parse_names(value: object, name: str) -> list[str]:
    """A list of column names: a JSON list, or a comma-separated text (CKAN's ``fields``, ``primary_key``)."""
    if value is None or value == "":
        return []
    items: Any = value
    if isinstance(value, str):
        text = value.strip()
        items = _json_text(text) if text.startswith("[") else text.split(",")
        if items is None:
            raise invalid(name, "must be a list or a comma-separated text")
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise invalid(name, "must be a list of names")
    out = [i.strip().strip('"') for i in items if i.strip()]
    for column in out:
        if column != "_id":
            try:
                F.check_column(column)
            except ValidationFailed:
                raise invalid(name, f"invalid name {column!r}") from None
    return out


def parse_sort(value: object) -> list[SortKey]:
    """``"time desc, station"`` or ``["time desc", "station asc"]`` as (column, direction) pairs."""
    out: list[SortKey] = []
    for item in parse_sort_items(value):
        parts = item.split()
        if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
            raise invalid("sort", f"cannot read {item!r}: use 'column' or 'column asc|desc'")
        column = parts[0].strip('"')
        if column != "_id":
            try:
                F.check_column(column)
            except ValidationFailed:
                raise invalid("sort", f"invalid name {column!r}") from None
        direction: Literal["asc", "desc"] = "desc" if len(parts) == 2 and parts[1].lower() == "desc" else "asc"
        out.append((column, direction))
    return out


def parse_sort_items(value: object) -> list[str]:
    if value is None or value == "":
        return []
    items: Any = value
    if isinstance(value, str):
        text = value.strip()
        items = _json_text(text) if text.startswith("[") else text.split(",")
        if items is None:
            raise invalid("sort", "must be a list or a comma-separated text")
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise invalid("sort", "must be a list of texts")
    return [i.strip() for i in items if i.strip()]


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def parse_filters(value: object) -> dict[str, Any]:
    """``{"column": value or [values]}``, given as an object or its JSON text."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        value = _json_text(value)
    if not isinstance(value, Mapping):
        raise invalid("filters", "must be a JSON object")
    out: dict[str, Any] = {}
    for key, wanted in value.items():
        if not isinstance(key, str):
            raise invalid("filters", "keys must be column names")
        if key != "_id":
            try:
                F.check_column(key)
            except ValidationFailed:
                raise invalid("filters", f"invalid name {key!r}") from None
        if isinstance(wanted, list):
            if not all(_scalar(v) for v in wanted):
                raise invalid("filters", f"{key}: list values must be plain values")
        elif not _scalar(wanted):
            raise invalid("filters", f"{key}: must be a value or a list of values")
        out[key] = wanted
    return out


def parse_q(value: object) -> str | dict[str, str]:
    """Full text: a text, or ``{"column": "text"}`` (an object or its JSON text)."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            parsed = _json_text(text)
            if parsed is None:
                raise invalid("q", "must be a text or a JSON object")
            value = parsed
        else:
            return value
    if isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return {str(k): str(v) for k, v in value.items()}
    raise invalid("q", "must be a text or an object of column -> text")


def parse_records_format(value: object) -> str:
    if value is None or value == "":
        return "objects"
    if value not in RECORDS_FORMATS:
        raise invalid("records_format", f"must be one of {', '.join(RECORDS_FORMATS)}")
    return str(value)


def parse_field_specs(value: object) -> list[FieldSpec]:
    """datastore_create's ``fields``: ``[{"id": ..., "type": ..., "info": {...}}]``."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = _json_text(value)
    if not isinstance(value, list):
        raise invalid("fields", "must be a list of {id, type}")
    out: list[FieldSpec] = []
    for item in value:
        if not isinstance(item, Mapping) or "id" not in item:
            raise invalid("fields", "each field needs an id")
        out.append(
            FieldSpec(F.check_column(item["id"]), F.field_type(item.get("type", "text")), F.info_of(item.get("info")))
        )
    return out


def parse_indexes(value: object) -> list[str]:
    """CKAN's ``indexes``: a comma-separated text (one index per column) or a list whose items are column names
    or lists of them (one composite index each); returned as comma-joined column lists."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        value = _json_text(text) if text.startswith("[") else text.split(",")
    if not isinstance(value, list):
        raise invalid("indexes", "must be a list or a comma-separated text")
    out: list[str] = []
    for item in value:
        columns = item if isinstance(item, list) else [item]
        if not columns or not all(isinstance(c, str) for c in columns):
            raise invalid("indexes", "each index is a column name or a list of them")
        names = [c.strip() for c in columns if c.strip()]
        for column in names:
            try:
                F.check_column(column)
            except ValidationFailed:
                raise invalid("indexes", f"invalid name {column!r}") from None
        if names:
            out.append(",".join(names))
    return out


def parse_records(value: object) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        value = _json_text(value)
    if not isinstance(value, list) or not all(isinstance(r, Mapping) for r in value):
        raise invalid("records", "must be a list of objects")
    return value


def resource_id_of(params: Mapping[str, Any], *names: str) -> str:
    for name in names or ("resource_id",):
        value = params.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    raise invalid(names[0] if names else "resource_id", "Missing value")
