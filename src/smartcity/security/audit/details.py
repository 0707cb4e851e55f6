"""The ``details`` of audit records and security events: a JSON object without anything that looks secret.

Callers never hand secrets to the audit on purpose; this is the safety net for the day one does by mistake. A key
whose name contains ``password``, ``passwd``, ``secret``, ``token``, ``apikey``/``api_key``, ``authorization``,
``cookie``, ``private_key`` or ``credentials`` is dropped at every depth, unless it names an identifier (ends in
``_id``): ``token_id`` is kept, ``access_token`` is not. Values become what JSON gives back, so a record reads back
equal to what was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import orjson

from smartcity.hub.model import format_time

SECRET_MARKERS = (
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "authorization",
    "cookie",
    "private_key",
    "credentials",
)

_INT64 = 2**63


def looks_secret(key: str) -> bool:
    """Whether a details key probably holds a secret (its value is never stored nor logged)."""
    name = key.lower().replace("-", "_")
    if name == "id" or name.endswith("_id"):
        return False
    return any(marker in name for marker in SECRET_MARKERS)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            name = k.value if isinstance(k, Enum) else str(k)
            if not looks_secret(name):
                out[name] = _jsonable(v)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else str(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return format_time(value)
    return str(value)


def clean_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """``details`` as a JSON object: secret-looking keys dropped, values as stored JSON reads them back."""
    if not details:
        return {}
    data: dict[str, Any] = orjson.loads(orjson.dumps(_jsonable(details)))
    return data


def dumps_details(details: Mapping[str, Any]) -> str:
    """The stored text of a details object (sorted keys, so equal objects store equal text)."""
    return orjson.dumps(details, option=orjson.OPT_SORT_KEYS).decode()


def loads_details(text: str) -> Any:
    """A stored details text as its JSON value; text that is not JSON (an edited row) stays a string."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
