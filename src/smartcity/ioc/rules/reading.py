"""Reading the hub's entities (expanded IRIs) for rules: an attribute's value, its observation time, the location."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from smartcity.hub.model import Entity, Instance, parse_time

LOCATION = "https://uri.etsi.org/ngsi-ld/location"
#: an observation time further ahead of the engine's clock than this is not believed (the receipt time is used)
MAX_AHEAD = timedelta(minutes=5)

Expand = Callable[[str], str]


def default_instance(entity: Entity, attr: str) -> Instance | None:
    instances = entity.attrs.get(attr)
    if not instances:
        return None
    for instance in instances:
        if "datasetId" not in instance:
            return instance
    return instances[0]


def value_of(instance: Instance | None) -> Any:
    if instance is None:
        return None
    if "value" in instance:
        return instance["value"]
    if "object" in instance:
        return instance["object"]
    return instance.get("languageMap")


def attribute(entity: Entity, attr: str) -> Any:
    return value_of(default_instance(entity, attr))


@lru_cache(maxsize=65_536)
def _parse(text: str) -> datetime | None:
    return parse_time(text)


def time_of(instance: Instance | None, fallback: datetime) -> datetime:
    """The instance's ``observedAt`` (not too far ahead of ``fallback``), else ``fallback``."""
    if instance is not None:
        observed = instance.get("observedAt")
        if isinstance(observed, str):
            moment = _parse(observed)
            if moment is not None and moment <= fallback + MAX_AHEAD:
                return moment
    return fallback


def modified_of(entity: Entity, fallback: datetime) -> datetime:
    text = entity.modified_at
    moment = _parse(text) if isinstance(text, str) else None
    return moment if moment is not None else fallback


def location_of(entity: Entity) -> dict[str, Any] | None:
    value = attribute(entity, LOCATION)
    return value if isinstance(value, dict) else None


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def parse_changed_at(text: str, fallback: datetime) -> datetime:
    """A change's modification time, or ``fallback`` when it is not a time."""
    moment = _parse(text) if isinstance(text, str) else None
    return moment if moment is not None else fallback
