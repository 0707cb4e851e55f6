"""The FIWARE provisioning payloads (IoT Agent node-lib API): config groups and devices in and out.

Parsing validates what a client sends and raises :class:`~smartcity.iot.errors.WrongSyntax` (or
:class:`~smartcity.iot.errors.Unsupported` for FIWARE features this agent does not implement: JEXL expressions,
multi-entity attributes, NGSI payload types). Fields the agent stores but does not act on (``lazy``,
``commands``, ``cbroker``, ``trust`` ...) are kept as given and returned on reads. ``service``/``subservice`` in
a body are ignored: the ``Fiware-Service``/``Fiware-ServicePath`` headers decide (as in FIWARE).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

from smartcity.hub.model import is_uri, valid_name
from smartcity.iot import jexl, values
from smartcity.iot.errors import Unsupported, WrongSyntax
from smartcity.iot.model import Attribute, ConfigGroup, Device, Scope, StaticAttribute

MAX_ITEMS = 1000
MAX_ID = 256
#: characters an API key or device id may not hold: they travel in MQTT topic levels and URL query strings
_FORBIDDEN_ID = re.compile(r"[/+#\s\x00-\x1f\x7f]")

_GROUP_FIELDS = frozenset(
    {"apikey", "resource", "entity_type", "type", "attributes", "static_attributes", "explicitAttrs", "timezone"}
    | {"protocol", "transport"}
)
_DEVICE_FIELDS = frozenset(
    {"device_id", "apikey", "entity_name", "entity_type", "attributes", "static_attributes", "explicitAttrs"}
    | {"timezone", "protocol", "transport"}
)
#: fields that only make sense with the headers (FIWARE fills them in on reads)
_SCOPE_FIELDS = frozenset({"service", "subservice", "service_path"})
#: FIWARE features that change how measures map; accepting them silently would write something else
_UNSUPPORTED = {
    "entityNameExp": "entity name expressions (entityNameExp) are not supported: give entity_name per device",
}
_UNSUPPORTED_ATTR = {
    "entity_name": "multi-entity attributes (entity_name in an attribute) are not supported",
    "entity_type": "multi-entity attributes (entity_type in an attribute) are not supported",
    "reverse": "reverse expressions are not supported",
}


def _text(body: Mapping[str, Any], key: str, *, required: bool = False, what: str = "") -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise WrongSyntax(f"{what}'{key}' is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise WrongSyntax(f"{what}'{key}' must be a non-empty string")
    return value


def check_identifier(value: str, label: str) -> str:
    if len(value) > MAX_ID or _FORBIDDEN_ID.search(value):
        raise WrongSyntax(f"{label} {value!r} is not valid: at most {MAX_ID} characters, no spaces, '/', '+' or '#'")
    return value


def _bool(body: Mapping[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if key == "explicitAttrs" and isinstance(value, str):
        raise Unsupported("explicitAttrs as a JEXL expression or list is not supported: use true or false")
    raise WrongSyntax(f"'{key}' must be true or false")


def _timezone(body: Mapping[str, Any]) -> str | None:
    zone = _text(body, "timezone")
    if zone is None:
        return None
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise WrongSyntax(f"unknown timezone {zone!r} (use an IANA name such as Asia/Ho_Chi_Minh)") from exc
    return zone


def _metadata(raw: object, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and valid_name(k) for k in raw):
        raise WrongSyntax(f"{where}: 'metadata' must be an object of named metadata")
    for name, item in raw.items():
        if not isinstance(item, dict) or "value" not in item or item["value"] is None:
            raise WrongSyntax(f"{where}: metadata {name!r} needs a 'value'")
    return dict(raw)


def _attr_name(item: Mapping[str, Any], where: str) -> str:
    name = _text(item, "name", required=True, what=f"{where}: ")
    assert name is not None
    if not valid_name(name) or name in ("id", "type", "@id", "@type", "@context"):
        raise WrongSyntax(f"{where}: {name!r} is not a valid attribute name")
    return name


def parse_attributes(raw: object, where: str) -> tuple[Attribute, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_ITEMS:
        raise WrongSyntax(f"'{where}' must be a list of at most {MAX_ITEMS} attributes")
    out: list[Attribute] = []
    keys: set[str] = set()
    for index, item in enumerate(raw):
        label = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise WrongSyntax(f"{label} must be an object")
        for key, reason in _UNSUPPORTED_ATTR.items():
            if item.get(key) is not None:
                raise Unsupported(f"{label}: {reason}")
        name = _attr_name(item, label)
        kind = _text(item, "type", required=True, what=f"{label}: ")
        assert kind is not None
        object_id = _text(item, "object_id")
        expression = _text(item, "expression", what=f"{label}: ")
        if expression is not None:
            try:
                jexl.parse(expression)
            except jexl.JexlError as exc:
                raise WrongSyntax(f"{label}: the expression {expression!r} is not valid: {exc}") from None
        attribute = Attribute(name, kind, object_id, _metadata(item.get("metadata"), label), expression)
        if attribute.key in keys:
            raise WrongSyntax(f"{label}: the measure {attribute.key!r} is mapped twice")
        keys.add(attribute.key)
        out.append(attribute)
    return tuple(out)


def parse_statics(raw: object, where: str = "static_attributes") -> tuple[StaticAttribute, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_ITEMS:
        raise WrongSyntax(f"'{where}' must be a list of at most {MAX_ITEMS} attributes")
    out: list[StaticAttribute] = []
    for index, item in enumerate(raw):
        label = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise WrongSyntax(f"{label} must be an object")
        name = _attr_name(item, label)
        kind = _text(item, "type", required=True, what=f"{label}: ")
        assert kind is not None
        if item.get("value") is None:
            raise WrongSyntax(f"{label}: a static attribute needs a 'value'")
        try:
            values.cast(item["value"], kind)
        except values.WrongType as exc:
            raise WrongSyntax(f"{label}: the value of {name!r} does not fit its type {kind!r}: {exc}") from None
        out.append(StaticAttribute(name, kind, item["value"], _metadata(item.get("metadata"), label)))
    return tuple(out)


def _check_commands(raw: object) -> None:
    if raw is None:
        return
    if not isinstance(raw, list) or len(raw) > MAX_ITEMS:
        raise WrongSyntax(f"'commands' must be a list of at most {MAX_ITEMS} commands")
    names: set[str] = set()
    for index, item in enumerate(raw):
        label = f"commands[{index}]"
        if not isinstance(item, dict):
            raise WrongSyntax(f"{label} must be an object")
        name = _attr_name(item, label)
        if name in names:
            raise WrongSyntax(f"{label}: the command {name!r} is given twice")
        names.add(name)
        _text(item, "type", what=f"{label}: ")
        for key in ("expression", "payloadType", "contentType"):
            if item.get(key) is not None:
                raise Unsupported(f"{label}: command '{key}' is not supported")


def _check_known_extras(body: Mapping[str, Any]) -> None:
    """The extra fields this agent acts on: autoprovision (true/false), commands, endpoint (an HTTP URL)."""
    language = body.get("expressionLanguage")
    if language is not None and language != "jexl":
        raise Unsupported("only expressionLanguage 'jexl' is supported")
    auto = body.get("autoprovision")
    if auto is not None and not isinstance(auto, bool):
        raise WrongSyntax("'autoprovision' must be true or false")
    _check_commands(body.get("commands"))
    endpoint = body.get("endpoint")
    if endpoint is not None and (not isinstance(endpoint, str) or not re.fullmatch(r"https?://\S{1,2000}", endpoint)):
        raise WrongSyntax("'endpoint' must be an http:// or https:// URL (where the device takes its commands)")


def _extra(body: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    for key, reason in _UNSUPPORTED.items():
        if body.get(key) is not None:
            raise Unsupported(reason)
    _check_known_extras(body)
    payload_type = body.get("payloadType")
    if payload_type is not None and payload_type != "iotagent":
        raise Unsupported("only payloadType 'iotagent' (plain measures) is supported")
    return {k: v for k, v in body.items() if k not in known and k not in _SCOPE_FIELDS}


def parse_group(body: object, scope: Scope) -> ConfigGroup:
    """A config group from its FIWARE JSON (``entity_type``; ``type`` is accepted as its older name)."""
    if not isinstance(body, dict):
        raise WrongSyntax("a config group must be a JSON object")
    apikey = check_identifier(_text(body, "apikey", required=True) or "", "apikey")
    resource = body.get("resource") or ""
    if not isinstance(resource, str):
        raise WrongSyntax("'resource' must be a string (the path devices of the group send to, e.g. /iot/json)")
    entity_type = _text(body, "entity_type") or _text(body, "type")
    if entity_type is None:
        raise WrongSyntax("'entity_type' is required")
    if not valid_name(entity_type):
        raise WrongSyntax(f"entity_type {entity_type!r} is not a valid type name")
    return ConfigGroup(
        scope=scope,
        apikey=apikey,
        resource=resource,
        entity_type=entity_type,
        attributes=parse_attributes(body.get("attributes"), "attributes"),
        static_attributes=parse_statics(body.get("static_attributes")),
        explicit_attrs=bool(_bool(body, "explicitAttrs")),
        timezone=_timezone(body),
        protocol=_text(body, "protocol"),
        transport=_text(body, "transport"),
        extra=_extra(body, _GROUP_FIELDS),
    )


def entity_id_for(entity_name: str | None, entity_type: str, device_id: str) -> str:
    """The NGSI-LD id of a device's entity: ``entity_name`` when it is a URI, else a URN made from it.

    FIWARE's default name is ``<entity_type>:<device_id>``; NGSI-LD needs a URI, so it becomes
    ``urn:ngsi-ld:<entity_type>:<device_id>``, and a plain name ``Room1`` becomes ``urn:ngsi-ld:<type>:Room1``.
    """
    name = entity_name if entity_name is not None else device_id
    if entity_name is not None and is_uri(name) and not name.startswith(f"{entity_type}:"):
        return name
    local = name.removeprefix(f"{entity_type}:")
    candidate = f"urn:ngsi-ld:{entity_type}:{local}"
    if not is_uri(candidate):
        raise WrongSyntax(f"entity_name {entity_name!r} cannot be made an NGSI-LD entity id (a URI)")
    return candidate


def parse_device(body: object, scope: Scope, apikey_for: Any) -> Device:
    """A device from its FIWARE JSON; ``apikey_for(entity_type)`` gives the API key of its group when the body
    has none (None: no group of that type in the scope)."""
    if not isinstance(body, dict):
        raise WrongSyntax("a device must be a JSON object")
    device_id = check_identifier(_text(body, "device_id", required=True) or "", "device_id")
    entity_type = _text(body, "entity_type")
    given_key = _text(body, "apikey")
    if entity_type is None:
        raise WrongSyntax(f"device {device_id!r}: 'entity_type' is required")
    if not valid_name(entity_type):
        raise WrongSyntax(f"device {device_id!r}: entity_type {entity_type!r} is not a valid type name")
    apikey = given_key if given_key is not None else apikey_for(entity_type)
    if apikey is None:
        raise WrongSyntax(
            f"device {device_id!r} has no 'apikey' and its service has no config group of type {entity_type!r}"
        )
    return Device(
        scope=scope,
        device_id=device_id,
        apikey=check_identifier(apikey, "apikey"),
        entity_name=entity_id_for(_text(body, "entity_name"), entity_type, device_id),
        entity_type=entity_type,
        attributes=parse_attributes(body.get("attributes"), "attributes"),
        static_attributes=parse_statics(body.get("static_attributes")),
        explicit_attrs=_bool(body, "explicitAttrs"),
        timezone=_timezone(body),
        protocol=_text(body, "protocol"),
        transport=_text(body, "transport"),
        extra=_extra(body, _DEVICE_FIELDS),
    )


def _render_attribute(attribute: Attribute) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if attribute.object_id is not None:
        out["object_id"] = attribute.object_id
    out["name"] = attribute.name
    out["type"] = attribute.type
    if attribute.metadata:
        out["metadata"] = dict(attribute.metadata)
    if attribute.expression is not None:
        out["expression"] = attribute.expression
    return out


def _render_static(attribute: StaticAttribute) -> dict[str, Any]:
    out: dict[str, Any] = {"name": attribute.name, "type": attribute.type, "value": attribute.value}
    if attribute.metadata:
        out["metadata"] = dict(attribute.metadata)
    return out


def _optional(out: dict[str, Any], **fields: Any) -> None:
    for key, value in fields.items():
        if value is not None:
            out[key] = value


def render_group(group: ConfigGroup) -> dict[str, Any]:
    out: dict[str, Any] = {
        "apikey": group.apikey,
        "resource": group.resource,
        "entity_type": group.entity_type,
        "service": group.scope.tenant,
        "subservice": group.scope.service_path,
        "attributes": [_render_attribute(a) for a in group.attributes],
        "static_attributes": [_render_static(a) for a in group.static_attributes],
        "explicitAttrs": group.explicit_attrs,
    }
    _optional(out, timezone=group.timezone, protocol=group.protocol, transport=group.transport)
    out.update(group.extra)
    return out


def render_device(device: Device) -> dict[str, Any]:
    out: dict[str, Any] = {
        "device_id": device.device_id,
        "service": device.scope.tenant,
        "service_path": device.scope.service_path,
        "entity_name": device.entity_name,
        "entity_type": device.entity_type,
        "apikey": device.apikey,
        "attributes": [_render_attribute(a) for a in device.attributes],
        "static_attributes": [_render_static(a) for a in device.static_attributes],
    }
    _optional(
        out,
        explicitAttrs=device.explicit_attrs,
        timezone=device.timezone,
        protocol=device.protocol,
        transport=device.transport,
    )
    out.update(device.extra)
    return out


def updated_group(group: ConfigGroup, patch: object) -> ConfigGroup:
    """``PUT /iot/services``: the fields in the body replace the stored ones; apikey and resource stay."""
    if not isinstance(patch, dict):
        raise WrongSyntax("the update of a config group must be a JSON object")
    for key in ("apikey", "resource"):
        if key in patch and patch[key] != getattr(group, key):
            raise WrongSyntax(f"'{key}' identifies the config group and cannot be changed")
    merged = {**render_group(group), **patch}
    return parse_group(merged, group.scope)


def updated_device(device: Device, patch: object) -> Device:
    """``PUT /iot/devices/{id}``: the fields in the body replace the stored ones; the id, the entity (name and
    type) and the API key stay, as FIWARE specifies."""
    if not isinstance(patch, dict):
        raise WrongSyntax("the update of a device must be a JSON object")
    current = render_device(device)
    for key in ("device_id", "entity_name", "entity_type", "apikey"):
        if key in patch and patch[key] != current[key]:
            raise WrongSyntax(f"'{key}' of a device cannot be changed: delete and provision it again")
    merged = {**current, **patch}
    return parse_device(merged, device.scope, lambda _type: device.apikey)
