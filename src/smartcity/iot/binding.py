"""A device's configuration compiled for the southbound: its entity, its measure mappings (attribute IRIs,
types, units, plausibility rules) and its static attributes as NGSI-LD instances.

The device's own attributes win over its group's (same measure key), its static attributes over the group's
(same name); ``explicitAttrs``, ``timezone`` and the protocol fall back to the group's. Attribute names are
expanded with the NGSI-LD core @context (the Smart Data Models names are then the short names a client without
a @context reads, as FIWARE's IoT Agent does with its default context).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from smartcity.hub.model import GEOPROPERTY, RELATIONSHIP, Instance
from smartcity.iot import values
from smartcity.iot.jexl import Expression
from smartcity.iot.model import (
    Attribute,
    Command,
    ConfigGroup,
    Device,
    StaticAttribute,
    device_commands,
    speaks_ultralight,
    unit_code_of,
)
from smartcity.iot.models import OBSERVATION_TIME
from smartcity.iot.quality import Rule, rule_for

Expand = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class MeasureSpec:
    name: str
    iri: str
    kind: str | None  # the provisioned FIWARE type; None for a measure nobody mapped
    unit: str | None  # the provisioned unitCode
    rule: Rule | None
    metadata: Mapping[str, Instance] = field(default_factory=dict)  # expanded sub-attributes
    expression: Expression | None = None  # JEXL over the group's measures: its value is the one written


@dataclass(frozen=True)
class Binding:
    tenant: str
    service_path: str
    apikey: str
    device_id: str
    entity_id: str
    entity_type: str
    types: list[str]  # expanded
    specs: dict[str, MeasureSpec]  # by measure key (object_id, else name)
    explicit: bool
    timezone: str | None
    statics: dict[str, list[Instance]]  # expanded, ready to write
    static_values: dict[str, Any]  # static attribute name -> value (for checks across attributes)
    observation_time: tuple[str, str] | None  # (name, IRI) of the model's observation-time attribute
    ultralight: bool | None  # how its plain-topic messages are encoded (None: not provisioned)
    expand: Expand
    statics_digest: str = ""  # identifies the static attributes' content (they are written again when it changes)
    #: an autoprovisioned device, to register with its first written measure (None: provisioned)
    provisional: Device | None = None
    commands: tuple[Command, ...] = ()  # the device's, then its group's (same name: the device's)
    transport: str | None = None  # MQTT or HTTP (the device's, else its group's)
    endpoint: str | None = None  # where HTTP commands are pushed

    def spec(self, key: str) -> MeasureSpec | None:
        """The mapping of a measure; an unmapped one maps to the attribute of the same name unless
        ``explicitAttrs``."""
        found = self.specs.get(key)
        if found is not None or self.explicit:
            return found
        return MeasureSpec(key, self.expand(key), None, None, rule_for(self.entity_type, key))


def metadata_instances(metadata: Mapping[str, Any], expand: Expand) -> tuple[str | None, dict[str, Instance]]:
    """(unitCode, other metadata as expanded sub-properties) of FIWARE attribute metadata."""
    unit = unit_code_of(metadata)
    subs: dict[str, Instance] = {}
    for name, item in metadata.items():
        if name == "unitCode":
            continue
        value = item.get("value") if isinstance(item, Mapping) else item
        subs[expand(name)] = {"type": "Property", "value": value}
    return unit, subs


def static_instance(attribute: StaticAttribute, expand: Expand, timezone: str | None = None) -> Instance:
    """A static attribute as an NGSI-LD instance; raises values.WrongType when its value does not fit."""
    kind, value = values.cast(attribute.value, attribute.type, timezone)
    inst: Instance = {"type": kind}
    if kind == RELATIONSHIP:
        inst["object"] = value
    else:
        inst["value"] = value
    unit, subs = metadata_instances(attribute.metadata, expand)
    if unit is not None and kind != GEOPROPERTY:
        inst["unitCode"] = unit
    inst.update(subs)
    return inst


def _spec(attribute: Attribute, entity_type: str, expand: Expand) -> MeasureSpec:
    unit, subs = metadata_instances(attribute.metadata, expand)
    rule = rule_for(entity_type, attribute.name)
    expression = Expression(attribute.expression) if attribute.expression is not None else None
    return MeasureSpec(attribute.name, expand(attribute.name), attribute.type, unit, rule, subs, expression)


def _digest(entity_type: str, statics: dict[str, list[Instance]]) -> str:
    if not statics:
        return ""
    return hashlib.sha256(orjson.dumps([entity_type, statics], option=orjson.OPT_SORT_KEYS)).hexdigest()


def _endpoint(group: ConfigGroup | None, device: Device) -> str | None:
    for extra in (device.extra, group.extra if group else {}):
        value = extra.get("endpoint")
        if isinstance(value, str) and value:
            return value
    return None


def compile_binding(
    tenant: str, group: ConfigGroup | None, device: Device, expand: Expand, *, provisional: Device | None = None
) -> Binding:
    attributes: dict[str, Attribute] = {}
    for attribute in (*(group.attributes if group else ()), *device.attributes):
        attributes[attribute.key] = attribute
    statics: dict[str, StaticAttribute] = {}
    for static in (*(group.static_attributes if group else ()), *device.static_attributes):
        statics[static.name] = static
    timezone = device.timezone or (group.timezone if group else None)
    explicit = device.explicit_attrs if device.explicit_attrs is not None else bool(group and group.explicit_attrs)
    observed = OBSERVATION_TIME.get(device.entity_type)
    instances = {expand(name): [static_instance(s, expand, timezone)] for name, s in statics.items()}
    return Binding(
        tenant=tenant,
        service_path=device.scope.service_path,
        apikey=device.apikey,
        device_id=device.device_id,
        entity_id=device.entity_name,
        entity_type=device.entity_type,
        types=[expand(device.entity_type)],
        specs={key: _spec(a, device.entity_type, expand) for key, a in attributes.items()},
        explicit=explicit,
        timezone=timezone,
        statics=instances,
        static_values={name: s.value for name, s in statics.items()},
        observation_time=(observed, expand(observed)) if observed else None,
        ultralight=speaks_ultralight(
            device.protocol or (group.protocol if group else None), group.resource if group else None
        ),
        expand=expand,
        statics_digest=_digest(device.entity_type, instances),
        provisional=provisional,
        commands=device_commands(device, group),
        transport=device.transport or (group.transport if group else None),
        endpoint=_endpoint(group, device),
    )
