"""What the IoT agent knows about devices: config groups (service groups) and devices, as FIWARE defines them.

A *config group* (``/iot/services``) is a kind of device: its API key, the entity type its devices feed, the
mapping of measures to attributes and the static attributes every entity of the group carries. A *device*
(``/iot/devices``) is one sensor: its id, the entity it feeds, and its own mappings, which win over the group's.
Both live in a FIWARE *service* (a hub tenant) and *service path*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SERVICE_PATH = "/"

#: device protocols (FIWARE ``protocol`` names) that speak UltraLight 2.0, and the group resource of UltraLight
UL_PROTOCOLS = frozenset({"ul", "ul20", "iota-ul", "pdi-iota-ultralight", "iota-ultralight", "ultralight"})
JSON_PROTOCOLS = frozenset({"json", "iota-json", "pdi-iota-json"})
UL_RESOURCE = "/iot/d"
JSON_RESOURCE = "/iot/json"
HTTP_RESOURCES = frozenset({UL_RESOURCE, JSON_RESOURCE})


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
    expression: str | None = None  # JEXL: the value written is the expression's over the group's measures

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
    #: other fields of the FIWARE API, stored and returned as given (commands, autoprovision, lazy, cbroker ...)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def autoprovision(self) -> bool:
        """Whether a measure of a device that is not provisioned creates it (FIWARE's default: true)."""
        return self.extra.get("autoprovision") is not False


@dataclass(frozen=True)
class Command:
    """A command a device accepts (``commands: [{"name", "type"}]``): clients trigger it by updating the
    attribute of that name on the device's entity."""

    name: str
    type: str = "command"


def commands_of(extra: Mapping[str, Any]) -> tuple[Command, ...]:
    """The commands of a group or device (validated at provisioning)."""
    raw = extra.get("commands")
    if not isinstance(raw, list):
        return ()
    return tuple(Command(c["name"], str(c.get("type") or "command")) for c in raw if isinstance(c, dict))


def device_commands(device: Device, group: ConfigGroup | None) -> tuple[Command, ...]:
    """A device's commands: its group's, then its own (same name: its own)."""
    found: dict[str, Command] = {}
    for command in (*(commands_of(group.extra) if group else ()), *commands_of(device.extra)):
        found[command.name] = command
    return tuple(found.values())


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


def protocol_resource(protocol: str | None) -> str:
    """The group resource of a device protocol ('' when the protocol does not say)."""
    ultralight = speaks_ultralight(protocol, None)
    return "" if ultralight is None else UL_RESOURCE if ultralight else JSON_RESOURCE


def select_group(groups: Sequence[ConfigGroup], resource: str) -> ConfigGroup | None:
    """The config group a message of one API key belongs to (FIWARE identifies a group by API key and resource):
    the group of the message's resource (``/iot/json``, ``/iot/d``), else one whose resource is not an HTTP
    route (groups of MQTT devices keep the resource they were registered with), else the oldest. ``groups`` are
    in provisioning order."""
    if len(groups) <= 1:
        return groups[0] if groups else None
    for group in groups:
        if group.resource == resource:
            return group
    others = [g for g in groups if g.resource not in HTTP_RESOURCES]
    return (others or list(groups))[0]
