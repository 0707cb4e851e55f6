"""Subscription bodies (clause 5.2.12) validated and expanded into the document the hub stores.

The stored document keeps the members of the NGSI-LD Subscription with every term expanded to its IRI:
entity types as a JSON tree of the type expression (``"iri"``, ``{"anyOf": [...]}``, ``{"allOf": [...]}``),
``watchedAttributes`` and ``notification.attributes`` as IRIs, ``q`` as the canonical text of the expanded
query and ``geoQ.geoproperty`` as an IRI. Members are parsed one by one (:func:`parse_members`), so a PATCH
fragment is read with the same rules as a creation; the rules that tie members together are checked on the
whole document (:func:`check_document`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson

from smartcity.hub import geo, qlang, typesel
from smartcity.hub.api.params import check_pattern, expand_q, expand_types
from smartcity.hub.errors import BadRequestData
from smartcity.hub.jsonld import ResolvedContext
from smartcity.hub.model import NGSI_NULL, is_uri, parse_time, valid_name

JSON = "application/json"
JSONLD = "application/ld+json"
SCHEMES = ("http", "https", "mqtt", "mqtts")
FORMATS = ("normalized", "keyValues", "concise")
TRIGGERS = (
    "entityCreated",
    "entityUpdated",
    "entityDeleted",
    "attributeCreated",
    "attributeUpdated",
    "attributeDeleted",
)
#: the triggers of a subscription that names none (clause 5.2.12)
DEFAULT_TRIGGERS = ("attributeCreated", "attributeUpdated")

#: members a client may not set: the broker writes them
STATUS_MEMBERS = frozenset({"status", "createdAt", "modifiedAt"})
NOTIFICATION_STATUS = frozenset(
    {"timesSent", "timesFailed", "lastNotification", "lastSuccess", "lastFailure", "status"}
)
#: optional members a PATCH may remove (with null or "urn:ngsi-ld:null")
REMOVABLE = frozenset(
    {
        "subscriptionName",
        "description",
        "entities",
        "watchedAttributes",
        "notificationTrigger",
        "q",
        "geoQ",
        "timeInterval",
        "throttling",
        "expiresAt",
        "jsonldContext",
        "lang",
    }
)
MAX_ITEMS = 1000

TypeTree = str | dict[str, Any]


# -- type expressions as JSON ------------------------------------------------------------------------


def type_tree(expr: typesel.TypeExpr) -> TypeTree:
    if isinstance(expr, typesel.TypeName):
        return expr.name
    key = "allOf" if isinstance(expr, typesel.AllOf) else "anyOf"
    return {key: [type_tree(item) for item in expr.items]}


def type_expr(tree: TypeTree) -> typesel.TypeExpr:
    if isinstance(tree, str):
        return typesel.TypeName(tree)
    if "allOf" in tree:
        return typesel.AllOf(tuple(type_expr(item) for item in tree["allOf"]))
    return typesel.AnyOf(tuple(type_expr(item) for item in tree["anyOf"]))


# -- members -----------------------------------------------------------------------------------------


def _is_null(value: object) -> bool:
    return value is None or value == NGSI_NULL


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequestData(f"'{what}' must be a non-empty string")
    return value


def _positive(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise BadRequestData(f"'{what}' must be a positive number of seconds")
    return float(value)


def _names(value: object, what: str, ctx: ResolvedContext) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > MAX_ITEMS:
        raise BadRequestData(f"'{what}' must be a non-empty array of attribute names")
    out: list[str] = []
    for name in value:
        if not valid_name(name):
            raise BadRequestData(f"'{what}' holds an invalid attribute name: {name!r}")
        iri = ctx.expand_term(str(name))
        if iri not in out:
            out.append(iri)
    return out


def _entities(value: object, ctx: ResolvedContext) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value or len(value) > MAX_ITEMS:
        raise BadRequestData("'entities' must be a non-empty array of entity selectors")
    out: list[dict[str, Any]] = []
    for item in value:
        if not isinstance(item, dict):
            raise BadRequestData("each item of 'entities' must be a JSON object")
        unknown = set(item) - {"id", "idPattern", "type"}
        if unknown:
            raise BadRequestData(f"unknown member(s) of an entity selector: {', '.join(sorted(unknown))}")
        if "type" not in item:
            raise BadRequestData("each item of 'entities' needs a 'type'")
        selector: dict[str, Any] = {"type": type_tree(expand_types(_text(item["type"], "type"), ctx))}
        if "id" in item:
            if not is_uri(item["id"]):
                raise BadRequestData(f"entity id {item['id']!r} of 'entities' is not a URI")
            selector["id"] = item["id"]
        if "idPattern" in item:
            selector["idPattern"] = check_pattern(_text(item["idPattern"], "idPattern"))
        out.append(selector)
    return out


def _q(value: object, ctx: ResolvedContext) -> str:
    node = expand_q(_text(value, "q"), ctx)
    try:
        return qlang.unparse(node)
    except ValueError as exc:
        raise BadRequestData(f"q cannot be stored: {exc}") from exc


def _geoq(value: object, ctx: ResolvedContext) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestData("'geoQ' must be a JSON object")
    unknown = set(value) - {"geometry", "coordinates", "georel", "geoproperty"}
    if unknown:
        raise BadRequestData(f"unknown member(s) of 'geoQ': {', '.join(sorted(unknown))}")
    for member in ("geometry", "coordinates", "georel"):
        if member not in value:
            raise BadRequestData(f"'geoQ' needs '{member}'")
    prop = value.get("geoproperty", "location")
    if not valid_name(prop):
        raise BadRequestData(f"geoproperty {prop!r} is not valid")
    out = {
        "geometry": value["geometry"],
        "coordinates": value["coordinates"],
        "georel": value["georel"],
        "geoproperty": ctx.expand_term(str(prop)),
    }
    geo_query(out)  # validates
    return out


def geo_query(stored: dict[str, Any]) -> geo.GeoQuery:
    """The geo-query of a stored ``geoQ`` member; BadRequestData when it is not valid."""
    coordinates = stored["coordinates"]
    text = coordinates if isinstance(coordinates, str) else orjson.dumps(coordinates).decode()
    try:
        georel = stored["georel"]
        geometry = stored["geometry"]
        if not isinstance(georel, str) or not isinstance(geometry, str):
            raise geo.GeoError("georel and geometry must be strings")
        return geo.GeoQuery(
            georel=geo.parse_georel(georel),
            geometry=geo.parse_query_geometry(geometry, text),
            geoproperty=stored["geoproperty"],
        )
    except (geo.GeoError, TypeError) as exc:
        raise BadRequestData(f"invalid geoQ: {exc}") from exc


def _key_values(value: object, what: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > 100:
        raise BadRequestData(f"'{what}' must be an array of {{key, value}} objects")
    out: list[dict[str, str]] = []
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != {"key", "value"}
            or not isinstance(item["key"], str)
            or not item["key"]
            or not isinstance(item["value"], str)
            or any(c in item["key"] + item["value"] for c in "\r\n\x00")
        ):
            raise BadRequestData(f"each item of '{what}' must be {{'key': string, 'value': string}}")
        out.append({"key": item["key"], "value": item["value"]})
    return out


def _endpoint(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestData("'notification.endpoint' must be a JSON object")
    uri = value.get("uri")
    if not is_uri(uri) or not isinstance(uri, str):
        raise BadRequestData("'notification.endpoint.uri' must be an absolute URI")
    scheme = uri.split(":", 1)[0].lower()
    if scheme not in SCHEMES or not uri[len(scheme) + 1 :].startswith("//") or len(uri) <= len(scheme) + 3:
        raise BadRequestData(f"'notification.endpoint.uri' must be an {', '.join(SCHEMES)} URI with a host")
    accept = value.get("accept", JSON)
    if accept not in (JSON, JSONLD):
        raise BadRequestData(f"'notification.endpoint.accept' must be {JSON} or {JSONLD}")
    out: dict[str, Any] = {"uri": uri, "accept": accept}
    for member in ("receiverInfo", "notifierInfo"):
        if member in value:
            out[member] = _key_values(value[member], member)
    unknown = set(value) - {"uri", "accept", "receiverInfo", "notifierInfo", "timeout", "cooldown"}
    if unknown:
        raise BadRequestData(f"unknown member(s) of 'notification.endpoint': {', '.join(sorted(unknown))}")
    return out


def parse_notification(value: object, ctx: ResolvedContext, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``notification`` member; with ``base`` (PATCH) the given members replace those of ``base``."""
    if not isinstance(value, dict):
        raise BadRequestData("'notification' must be a JSON object")
    out: dict[str, Any] = dict(base or {})
    for key, item in value.items():
        if key in NOTIFICATION_STATUS:
            continue  # status members are the broker's: ignored on input
        if key == "attributes":
            if _is_null(item):
                out.pop("attributes", None)
            else:
                out["attributes"] = _names(item, "notification.attributes", ctx)
        elif key == "format":
            if item not in FORMATS:
                raise BadRequestData(f"'notification.format' must be one of {', '.join(FORMATS)}")
            out["format"] = item
        elif key == "sysAttrs":
            if not isinstance(item, bool):
                raise BadRequestData("'notification.sysAttrs' must be true or false")
            out["sysAttrs"] = item
        elif key == "endpoint":
            out["endpoint"] = _endpoint(item)
        else:
            raise BadRequestData(f"unknown member of 'notification': {key!r}")
    if "endpoint" not in out:
        raise BadRequestData("'notification' needs an 'endpoint'")
    out.setdefault("format", "normalized")
    return out


def parse_members(body: dict[str, Any], ctx: ResolvedContext, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The members of ``body`` validated and expanded over ``base`` (a stored document, for PATCH)."""
    out: dict[str, Any] = dict(base or {})
    for key, value in body.items():
        if key in ("@context", "id", "type") or key in STATUS_MEMBERS:
            continue
        if key in REMOVABLE and _is_null(value):
            out.pop(key, None)
            continue
        if key in ("subscriptionName", "description", "lang"):
            out[key] = _text(value, key)
        elif key == "entities":
            out[key] = _entities(value, ctx)
        elif key == "watchedAttributes":
            out[key] = _names(value, key, ctx)
        elif key == "notificationTrigger":
            if not isinstance(value, list) or not value or not all(t in TRIGGERS for t in value):
                raise BadRequestData(f"'notificationTrigger' must be a non-empty array of {', '.join(TRIGGERS)}")
            out[key] = list(dict.fromkeys(value))
        elif key == "q":
            out[key] = _q(value, ctx)
        elif key == "geoQ":
            out[key] = _geoq(value, ctx)
        elif key == "notification":
            out[key] = parse_notification(value, ctx, out.get("notification") if base is not None else None)
        elif key in ("timeInterval", "throttling"):
            out[key] = _positive(value, key)
        elif key == "expiresAt":
            moment = parse_time(value)
            if moment is None:
                raise BadRequestData("'expiresAt' must be an ISO 8601 date-time with a timezone")
            if moment <= datetime.now(UTC):
                raise BadRequestData("'expiresAt' is in the past")
            out[key] = value
        elif key == "isActive":
            if not isinstance(value, bool):
                raise BadRequestData("'isActive' must be true or false")
            out[key] = value
        elif key == "jsonldContext":
            if not is_uri(value):
                raise BadRequestData("'jsonldContext' must be a URI")
            out[key] = value
        elif key in ("scopeQ", "csf", "temporalQ"):
            raise BadRequestData(f"'{key}' is not supported by this broker")
        else:
            raise BadRequestData(f"unknown member of a subscription: {key!r}")
    return out


def check_document(doc: dict[str, Any]) -> None:
    """The rules between members (clause 5.2.12): what to watch, and periodic versus on-change."""
    if "notification" not in doc:
        raise BadRequestData("a subscription needs a 'notification' member")
    if "entities" not in doc and "watchedAttributes" not in doc:
        raise BadRequestData("a subscription needs 'entities' or 'watchedAttributes' (or both)")
    if "timeInterval" in doc and "watchedAttributes" in doc:
        raise BadRequestData("'timeInterval' and 'watchedAttributes' cannot be used together")
    if "timeInterval" in doc and "throttling" in doc:
        raise BadRequestData("'timeInterval' and 'throttling' cannot be used together")
    if "timeInterval" in doc and "notificationTrigger" in doc:
        raise BadRequestData("'notificationTrigger' applies to on-change subscriptions, not with 'timeInterval'")


def parse_new(body: object, ctx: ResolvedContext) -> dict[str, Any]:
    """A whole subscription for creation (its id is checked by the caller)."""
    if not isinstance(body, dict):
        raise BadRequestData("a subscription must be a JSON object")
    if body.get("type") != "Subscription":
        raise BadRequestData('a subscription needs "type": "Subscription"')
    doc = parse_members(body, ctx)
    doc.setdefault("isActive", True)
    check_document(doc)
    return doc


def parse_patch(body: object, ctx: ResolvedContext, stored: dict[str, Any]) -> dict[str, Any]:
    """The stored document with a PATCH fragment merged in (clause 5.8.2)."""
    if not isinstance(body, dict) or not body:
        raise BadRequestData("a subscription fragment must be a non-empty JSON object")
    if "id" in body and body["id"] != stored["id"]:
        raise BadRequestData("the id of a subscription cannot be changed")
    if "type" in body and body["type"] != "Subscription":
        raise BadRequestData('the type of a subscription is "Subscription"')
    if "notification" in body and _is_null(body["notification"]):
        raise BadRequestData("'notification' cannot be removed")
    doc = parse_members(body, ctx, stored)
    check_document(doc)
    return doc


def triggers_of(doc: dict[str, Any]) -> tuple[str, ...]:
    given = doc.get("notificationTrigger")
    return tuple(given) if isinstance(given, list) else DEFAULT_TRIGGERS
