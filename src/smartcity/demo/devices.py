"""The demo's sensors as the IoT agent knows them: service groups (one API key per kind of sensor) and devices.

These are plain data, rendered into the FIWARE provisioning payloads (``POST /iot/services``,
``POST /iot/devices``) by :mod:`.southbound`; a device message carries ``object_id -> value`` pairs, which the IoT
agent maps to the attribute ``name`` of the device's entity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: UN/CEFACT common codes used as ``unitCode``
MICROGRAM_PER_M3 = "GQ"
CELSIUS = "CEL"
PERCENT = "P1"
MILLIMETRE = "MMT"
METRE = "MTR"
KM_PER_HOUR = "KMH"
DEGREE = "DD"
#: the southbound resource of JSON devices (FIWARE iotagent-json)
RESOURCE = "/iot/json"


@dataclass(frozen=True)
class Measure:
    """One value a device reports: the key in its message and the attribute it becomes."""

    object_id: str
    name: str
    type: str = "Number"
    unit: str | None = None

    def provisioning(self) -> dict[str, Any]:
        out: dict[str, Any] = {"object_id": self.object_id, "name": self.name, "type": self.type}
        if self.unit is not None:
            out["metadata"] = {"unitCode": {"type": "Text", "value": self.unit}}
        return out


@dataclass(frozen=True)
class ServiceGroup:
    """A kind of sensor: its API key, the entity type its devices feed and the measures they report."""

    apikey: str
    entity_type: str
    measures: tuple[Measure, ...]
    label: str

    def provisioning(self) -> dict[str, Any]:
        return {
            "apikey": self.apikey,
            "entity_type": self.entity_type,
            "resource": RESOURCE,
            "attributes": [m.provisioning() for m in self.measures],
        }


@dataclass(frozen=True)
class StaticAttribute:
    name: str
    type: str  # a FIWARE attribute type: Text, Number, Integer, Boolean, geo:json, StructuredValue
    value: Any

    def provisioning(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "value": self.value}


@dataclass(frozen=True)
class Device:
    """One sensor: its id within the group, the entity it feeds and the attributes that never change."""

    device_id: str
    entity_id: str
    group: ServiceGroup
    static: tuple[StaticAttribute, ...] = field(default=())

    def provisioning(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "entity_name": self.entity_id,
            "entity_type": self.group.entity_type,
            "apikey": self.group.apikey,
            "protocol": "IoTA-JSON",
            "attributes": [m.provisioning() for m in self.group.measures],
            "static_attributes": [s.provisioning() for s in self.static],
        }


@dataclass(frozen=True)
class Message:
    """One device message: the measures (``object_id -> value``) observed at the simulated instant ``at``."""

    group: ServiceGroup
    device_id: str
    at: datetime
    measures: dict[str, Any]


#: GeoJSON geometry types (a static value of one of these is a location)
_GEOMETRIES = frozenset({"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"})


def fiware_type(value: Any) -> str:
    """The FIWARE attribute type of a static value, so the IoT agent keeps it as it is (text stays text)."""
    if isinstance(value, dict) and value.get("type") in _GEOMETRIES and "coordinates" in value:
        return "geo:json"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Number"
    if isinstance(value, str):
        return "Text"
    return "StructuredValue"


def statics(*attributes: tuple[str, Any], provenance: dict[str, Any] | None = None) -> tuple[StaticAttribute, ...]:
    """Static attributes from ``(name, value)`` pairs plus a provenance block (see sources.provenance)."""
    out = [StaticAttribute(name, fiware_type(value), value) for name, value in attributes]
    for name, attr in (provenance or {}).items():
        out.append(StaticAttribute(name, fiware_type(attr["value"]), attr["value"]))
    return tuple(out)
