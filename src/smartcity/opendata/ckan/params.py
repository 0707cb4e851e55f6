"""CKAN's request parameters: what a request carries (JSON body, form, or URL parameters for reads) and the
conversions CKAN's schemas make (integers, booleans, JSON lists such as ``facet.field=["tags"]``).

A value that does not convert raises :class:`~smartcity.opendata.contracts.ValidationFailed` with CKAN's field
message (``{"rows": ["Invalid integer"]}``), which the edge answers with 409 as CKAN does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from smartcity.opendata.catalogue.validation import as_bool
from smartcity.opendata.contracts import ValidationFailed


class BadRequest(Exception):
    """A request CKAN answers with 400 and a bare JSON string (``"Bad request - JSON Error: ..."``)."""


def mixed(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """URL or form parameters as CKAN reads them: a list where a key repeats, else the single string."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            previous = out[key]
            out[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[key] = value
    return out


def from_body(body: bytes) -> dict[str, Any]:
    """A JSON request body as a dictionary (an empty body is ``{}``); BadRequest as CKAN words it."""
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(
            f"JSON Error: Error decoding JSON data. Error: {exc.msg!r} JSON data extracted from the request: {{}}"
        ) from None
    return _dictionary(data)


def from_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form data; a single key with the value "1" or "" is the JSON document itself (old clients)."""
    if len(pairs) == 1 and pairs[0][1] in ("1", ""):
        try:
            return _dictionary(orjson.loads(pairs[0][0]))
        except orjson.JSONDecodeError:
            pass
    return mixed(pairs)


def _dictionary(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequest(f"JSON Error: Request data JSON decoded to {data!r} but it needs to be a dictionary.")
    return data


def _invalid(key: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{key}: {message}", {key: [message]})


def integer(params: Mapping[str, Any], key: str, default: int, *, minimum: int = 0) -> int:
    value = params.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise _invalid(key, "Invalid integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    else:
        raise _invalid(key, "Invalid integer")
    if number < minimum:
        raise _invalid(key, "Must be a natural number" if minimum == 0 else f"Must be at least {minimum}")
    return number


def boolean(params: Mapping[str, Any], key: str, default: bool) -> bool:
    value = params.get(key)
    if value is None or value == "":
        return default
    found = as_bool(value)
    if found is None:
        raise _invalid(key, "Value must be one of: true, false")
    return found


def text(params: Mapping[str, Any], key: str, default: str = "") -> str:
    value = params.get(key)
    if value is None:
        return default
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _invalid(key, "Must be a string")
    return str(value)


def string_list(params: Mapping[str, Any], key: str) -> list[str]:
    """A list of strings, given as a list or as JSON text (``["tags", "res_format"]``)."""
    value = params.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise _invalid(key, "Could not parse as valid JSON") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(key, "Must be a list of strings")
    return list(value)


def required(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if value is None or value == "":
        raise _invalid(key, "Missing value")
    if not isinstance(value, str):
        raise _invalid(key, "Must be a string")
    return value
