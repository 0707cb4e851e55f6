"""What the IoT agent knows about devices: config groups (service groups) and devices, as FIWARE defines them.

A *config group* (``/iot/services``) is a kind of device: its API key, the entity type its devices feed, the
mapping of measures to attributes and the static attributes every entity of the group carries. A *device*
(``/iot/devices``) is one sensor: its id, the entity it feeds, and its own mappings, which win over the group's.
Both live in a FIWARE *service* (a hub tenant) and *service path*.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SERVICE_PATH = "/"

#: device protocols (FIWARE ``protocol`` names) that speak UltraLight 2.0, and the group resource of UltraLight
UL_PROTOCOLS = frozenset({"ul", "ul20", "iota-ul", "pdi-iota-ultralight", "iota-ultralight", "ultralight"})
JSON_PROTOCOLS = frozenset({"json", "iota-json", "pdi-iota-json"})
UL_RESOURCE = "/iot/d"
JSON_RESOURCE = "/iot/json"


@dataclass(frozen=True)
class Scope:
    """Where a provisioning request acts: the hub tenant (FIWARE service) and the service path."""

    tenant: str  # '' is the default tenant
    service_path: str = DEFAULT_SERVICE_PATH

    @property
    def all_paths(self) -> bool:
        """A read over every service path of the service (``Fiware-ServicePath: /*`` or ``/#``)."""
        return self.service_path in ("/*", "/#")


@dataclass(frozen=True)
class Attribute:
    """An active attribute: the measure ``object_id`` a device sends becomes the attribute ``name``."""

    name: str
    type: str
    object_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The measure name in device messages."""
        return self.object_id if self.object_id is not None else self.name

    @property
    def unit_code(self) -> str | None:
        return unit_code_of(self.metadata)


@dataclass(frozen=True)
class StaticAttribute:
    """An attribute every entity of the group or device carries, whatever the device sends."""

    name: str
    type: str
    value: Any
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConfigGroup:
    scope: Scope
    apikey: str
    resource: str
    entity_type: str
    attributes: tuple[Attribute, ...] = ()
    static_attributes: tuple[StaticAttribute, ...] = ()
    explicit_attrs: bool = False
    timezone: str | None = None
    protocol: str | None = None
    transport: str | None = None
    #: fields of the FIWARE API this agent stores and returns but does not act on (lazy, commands, cbroker ...)
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Device:
    scope: Scope
    device_id: str
    apikey: str
    entity_name: str
    entity_type: str
    attributes: tuple[Attribute, ...] = ()
    static_attributes: tuple[StaticAttribute, ...] = ()
    explicit_attrs: bool | None = None  # None: the group's
    timezone: str | None = None
    protocol: str | None = None
    transport: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def unit_code_of(metadata: Mapping[str, Any]) -> str | None:
    """The UN/CEFACT code of FIWARE attribute metadata ``{"unitCode": {"type": "Text", "value": "GQ"}}``."""
    item = metadata.get("unitCode")
    if isinstance(item, Mapping):
        item = item.get("value")
    return item if isinstance(item, str) and item else None


def speaks_ultralight(protocol: str | None, resource: str | None) -> bool | None:
    """Whether a device's plain-topic messages are UltraLight (True), JSON (False) or unknown (None)."""
    if protocol:
        key = protocol.strip().lower()
        if key in UL_PROTOCOLS:
            return True
        if key in JSON_PROTOCOLS:
            return False
    if resource == UL_RESOURCE:
        return True
    if resource == JSON_RESOURCE:
        return False
    return None
