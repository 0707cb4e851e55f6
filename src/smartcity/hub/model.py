"""The hub's internal entity model: NGSI-LD entities with every term expanded to its IRI.

An attribute instance is a plain dict in NGSI-LD normalized form whose reserved keys (``type``, ``value``,
``object``, ``observedAt`` ...) stay short and whose sub-attribute keys are expanded IRIs. An attribute is a
list of instances (one per ``datasetId``; the default instance has none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Instance = dict[str, Any]

PROPERTY = "Property"
RELATIONSHIP = "Relationship"
GEOPROPERTY = "GeoProperty"
LANGUAGEPROPERTY = "LanguageProperty"
ATTRIBUTE_TYPES = (PROPERTY, RELATIONSHIP, GEOPROPERTY, LANGUAGEPROPERTY)

#: keys of an attribute instance that are NGSI-LD core members, never expanded
INSTANCE_KEYS = frozenset(
    {
        "type",
        "value",
        "object",
        "languageMap",
        "observedAt",
        "unitCode",
        "datasetId",
        "createdAt",
        "modifiedAt",
        "objectType",
        "instanceId",
    }
)
SYSTEM_KEYS = frozenset({"createdAt", "modifiedAt"})
#: keys a client may not use as attribute names at entity level
ENTITY_KEYS = frozenset({"id", "type", "@id", "@type", "@context", "scope", "createdAt", "modifiedAt", "deletedAt"})

NGSI_NULL = "urn:ngsi-ld:null"
GEO_ATTRIBUTE_IRIS = frozenset(
    {
        "https://uri.etsi.org/ngsi-ld/location",
        "https://uri.etsi.org/ngsi-ld/observationSpace",
        "https://uri.etsi.org/ngsi-ld/operationSpace",
    }
)

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+$")
_FORBIDDEN_NAME = re.compile(r"[\s<>\"'=;()\[\]{}\x00-\x1f\x7f]")


def is_uri(text: object) -> bool:
    """True for an absolute URI (a scheme, a colon, no spaces or forbidden characters)."""
    return isinstance(text, str) and len(text) <= 2048 and _URI.match(text) is not None


def valid_name(text: object) -> bool:
    """True for a usable attribute or type name (NGSI-LD forbids a few characters, clause 4.6.2)."""
    return isinstance(text, str) and 0 < len(text) <= 1024 and _FORBIDDEN_NAME.search(text) is None


def now_iso() -> str:
    """The current UTC time as NGSI-LD writes system timestamps (microseconds, ``Z``)."""
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: object) -> datetime | None:
    """An ISO 8601 date-time with a timezone (``Z`` or offset), or None when it is not one."""
    if not isinstance(text, str) or len(text) > 64 or "T" not in text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(moment: datetime) -> int:
    """Microseconds since 1970-01-01T00:00:00Z (how the history stores times)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def iso_to_micros(text: str) -> int | None:
    """An ISO 8601 date-time as microseconds since the epoch, or None when it is not one."""
    moment = parse_time(text)
    return to_micros(moment) if moment is not None else None


def micros_to_iso(micros: int) -> str:
    """Microseconds since the epoch as NGSI-LD writes times (UTC, ``Z``)."""
    return format_time(_EPOCH + timedelta(microseconds=micros))


def normal_time(text: str) -> str:
    """A date-time in the one form the store compares (UTC, microseconds, ``Z``); other text as it is."""
    moment = parse_time(text)
    return format_time(moment) if moment is not None else text


@dataclass
class Entity:
    """One entity: its id, its expanded types and its attributes (IRI -> instances)."""

    id: str
    types: list[str]
    attrs: dict[str, list[Instance]] = field(default_factory=dict)
    created_at: str | None = None
    modified_at: str | None = None

    def copy(self) -> Entity:
        return Entity(
            id=self.id,
            types=list(self.types),
            attrs={name: [dict(i) for i in insts] for name, insts in self.attrs.items()},
            created_at=self.created_at,
            modified_at=self.modified_at,
        )


def dataset_of(instance: Instance) -> str | None:
    value = instance.get("datasetId")
    return value if isinstance(value, str) else None


def find_instance(instances: list[Instance], dataset_id: str | None) -> int | None:
    """Position of the instance with this datasetId (None = the default instance)."""
    for index, instance in enumerate(instances):
        if dataset_of(instance) == dataset_id:
            return index
    return None


def index_values(instance: Instance) -> tuple[str, float | None, str | None]:
    """What the storage indexes of an instance: (value kind, number, text) for fast ``q`` filters."""
    kind = instance.get("type")
    if kind == RELATIONSHIP:
        obj = instance.get("object")
        return ("relationship", None, obj) if isinstance(obj, str) else ("array", None, None)
    if kind == GEOPROPERTY:
        return "geo", None, None
    if kind == LANGUAGEPROPERTY:
        return "language", None, None
    value = instance.get("value")
    if isinstance(value, bool):
        return "boolean", 1.0 if value else 0.0, None
    if isinstance(value, int | float):
        return "number", float(value), None
    if isinstance(value, str):
        return "string", None, value
    if isinstance(value, dict):
        typed = value.get("@value")
        if isinstance(typed, str) and value.get("@type") in ("DateTime", "Date", "Time"):
            return "datetime", None, normal_time(typed) if value.get("@type") == "DateTime" else typed
        return "object", None, None
    if isinstance(value, list):
        return "array", None, None
    return "null", None, None
