"""NGSI-LD payloads in and out: validate and expand what clients send, compact what they read.

Input may be in normalized or concise form (clause 4.5); output is normalized, concise-free
``keyValues`` (simplified) or GeoJSON, compacted with the request's @context.
"""

from __future__ import annotations

from typing import Any, Protocol

from smartcity.hub import geo
from smartcity.hub.errors import BadRequestData
from smartcity.hub.model import (
    ATTRIBUTE_TYPES,
    ENTITY_KEYS,
    GEO_ATTRIBUTE_IRIS,
    GEOPROPERTY,
    INSTANCE_KEYS,
    LANGUAGEPROPERTY,
    NGSI_NULL,
    PROPERTY,
    RELATIONSHIP,
    SYSTEM_KEYS,
    Entity,
    Instance,
    is_uri,
    parse_time,
    valid_name,
)

MAX_INSTANCES = 256
MAX_DEPTH = 8


class TermMap(Protocol):
    def expand_term(self, term: str) -> str: ...

    def compact_iri(self, iri: str) -> str: ...


# -- input -------------------------------------------------------------------------------------------


def expand_entity(
    body: object, ctx: TermMap, *, need_id: bool = True, need_type: bool = True, allow_null: bool = False
) -> Entity:
    """Validate an entity body and expand its terms; raises BadRequestData naming the problem.

    With ``allow_null`` (merge-patch), ``"urn:ngsi-ld:null"`` values survive as deletion markers.
    """
    if not isinstance(body, dict):
        raise BadRequestData("an entity must be a JSON object")
    entity_id = body.get("id", body.get("@id"))
    if entity_id is None:
        if need_id:
            raise BadRequestData("the entity has no 'id'")
        entity_id = ""
    elif not is_uri(entity_id):
        raise BadRequestData(f"entity id {entity_id!r} is not a URI")
    raw_type = body.get("type", body.get("@type"))
    types = expand_types(raw_type, ctx) if raw_type is not None else []
    if need_type and not types:
        raise BadRequestData("the entity has no 'type'")
    attrs = expand_attributes(body, ctx, skip=ENTITY_KEYS, allow_null=allow_null)
    return Entity(id=str(entity_id), types=types, attrs=attrs)


def expand_types(raw: object, ctx: TermMap) -> list[str]:
    names = raw if isinstance(raw, list) else [raw]
    if not names:
        raise BadRequestData("'type' must not be empty")
    out: list[str] = []
    for name in names:
        if not valid_name(name):
            raise BadRequestData(f"entity type {name!r} is not a valid type name")
        iri = ctx.expand_term(str(name))
        if iri not in out:
            out.append(iri)
    return out


def expand_attributes(
    body: object, ctx: TermMap, *, skip: frozenset[str] = ENTITY_KEYS, allow_null: bool = False
) -> dict[str, list[Instance]]:
    """The attributes of a body (entity or attribute fragment), keyed by expanded name.

    With ``allow_null`` (merge-patch), ``"urn:ngsi-ld:null"`` values survive as deletion markers.
    """
    if not isinstance(body, dict):
        raise BadRequestData("the attributes must be a JSON object")
    out: dict[str, list[Instance]] = {}
    for name, raw in body.items():
        if name in skip:
            continue
        if not valid_name(name):
            raise BadRequestData(f"attribute name {name!r} is not valid")
        iri = ctx.expand_term(name)
        out[iri] = expand_attribute(name, iri, raw, ctx, allow_null=allow_null)
    return out


def expand_attribute(name: str, iri: str, raw: object, ctx: TermMap, *, allow_null: bool = False) -> list[Instance]:
    """One attribute: a single instance or a list of instances with distinct datasetIds."""
    items = raw if isinstance(raw, list) and raw and all(_looks_like_instance(x) for x in raw) else [raw]
    if len(items) > MAX_INSTANCES:
        raise BadRequestData(f"attribute {name!r} has more than {MAX_INSTANCES} instances")
    instances = [expand_instance(name, iri, item, ctx, depth=0, allow_null=allow_null) for item in items]
    seen: set[str | None] = set()
    for inst in instances:
        ds = inst.get("datasetId")
        if ds in seen:
            label = "the default instance" if ds is None else f"datasetId {ds!r}"
            raise BadRequestData(f"attribute {name!r} repeats {label}")
        seen.add(ds)
    return instances


def _looks_like_instance(item: object) -> bool:
    return isinstance(item, dict) and ("type" in item or "value" in item or "object" in item or "languageMap" in item)


def expand_instance(
    name: str, iri: str, raw: object, ctx: TermMap, *, depth: int, allow_null: bool = False
) -> Instance:
    """Validate and expand one attribute instance (normalized or concise form)."""
    if depth > MAX_DEPTH:
        raise BadRequestData(f"attribute {name!r} nests sub-attributes too deeply")
    if raw is None:
        raise BadRequestData(f"attribute {name!r} has a null value")
    if allow_null and raw == NGSI_NULL:
        return {"type": PROPERTY, "value": NGSI_NULL}
    if (
        not isinstance(raw, dict)
        or not _looks_like_instance(raw)
        or (raw.get("type") in geo.GEOMETRY_TYPES and "value" not in raw)
    ):
        return _concise(name, iri, raw)
    kind = raw.get("type")
    if kind is None:
        kind = _infer_kind(raw)
    if kind not in ATTRIBUTE_TYPES:
        raise BadRequestData(f"attribute {name!r} has unknown type {kind!r}")
    inst: Instance = {"type": kind}
    if kind == RELATIONSHIP:
        obj = raw.get("object")
        objs = obj if isinstance(obj, list) and obj else [obj]
        if not all(is_uri(o) for o in objs) and not (allow_null and obj == NGSI_NULL):
            raise BadRequestData(f"relationship {name!r} needs an 'object' that is a URI")
        inst["object"] = obj
        if "objectType" in raw:
            inst["objectType"] = raw["objectType"]
    elif kind == LANGUAGEPROPERTY:
        lang_map = raw.get("languageMap")
        if (
            not isinstance(lang_map, dict)
            or not lang_map
            or not all(
                isinstance(k, str)
                and (isinstance(v, str) or (isinstance(v, list) and all(isinstance(s, str) for s in v)))
                for k, v in lang_map.items()
            )
        ):
            raise BadRequestData(f"language property {name!r} needs a 'languageMap' of language tags to strings")
        inst["languageMap"] = lang_map
    else:
        if "value" not in raw or raw["value"] is None:
            raise BadRequestData(f"attribute {name!r} has no 'value'")
        value = raw["value"]
        if (kind == GEOPROPERTY or iri in GEO_ATTRIBUTE_IRIS) and not (allow_null and value == NGSI_NULL):
            try:
                geo.check_geojson(value)
            except geo.GeoError as exc:
                raise BadRequestData(f"attribute {name!r}: {exc}") from exc
            inst["type"] = GEOPROPERTY
        inst["value"] = value
    for key, item in raw.items():
        if key in ("type", "value", "object", "languageMap", "objectType"):
            continue
        if key in SYSTEM_KEYS or key == "instanceId":
            continue  # system-generated: ignored on input
        if key == "observedAt":
            if parse_time(item) is None:
                raise BadRequestData(f"'observedAt' of {name!r} is not an ISO 8601 date-time with a timezone")
            inst[key] = item
        elif key == "unitCode":
            if not isinstance(item, str) or not item:
                raise BadRequestData(f"'unitCode' of {name!r} must be a string")
            inst[key] = item
        elif key == "datasetId":
            if not is_uri(item):
                raise BadRequestData(f"'datasetId' of {name!r} must be a URI")
            inst[key] = item
        elif key in INSTANCE_KEYS or key.startswith("@"):
            continue
        else:
            if not valid_name(key):
                raise BadRequestData(f"sub-attribute name {key!r} of {name!r} is not valid")
            sub_iri = ctx.expand_term(key)
            inst[sub_iri] = expand_instance(key, sub_iri, item, ctx, depth=depth + 1, allow_null=allow_null)
    return inst


def _infer_kind(raw: dict[str, Any]) -> str:
    if "object" in raw:
        return RELATIONSHIP
    if "languageMap" in raw:
        return LANGUAGEPROPERTY
    value = raw.get("value")
    if isinstance(value, dict) and value.get("type") in geo.GEOMETRY_TYPES:
        return GEOPROPERTY
    return PROPERTY


def _concise(name: str, iri: str, raw: object) -> Instance:
    """Concise form: a bare value is a Property, a bare GeoJSON geometry a GeoProperty."""
    if isinstance(raw, dict) and raw.get("type") in geo.GEOMETRY_TYPES:
        try:
            geo.check_geojson(raw)
        except geo.GeoError as exc:
            raise BadRequestData(f"attribute {name!r}: {exc}") from exc
        return {"type": GEOPROPERTY, "value": raw}
    if iri in GEO_ATTRIBUTE_IRIS:
        raise BadRequestData(f"attribute {name!r} must be a GeoJSON geometry")
    return {"type": PROPERTY, "value": raw}


# -- output ------------------------------------------------------------------------------------------


def compact_entity(
    entity: Entity,
    ctx: TermMap,
    *,
    key_values: bool = False,
    sys_attrs: bool = False,
    pick: set[str] | None = None,
    lang: str | None = None,
) -> dict[str, Any]:
    """The entity as a client reads it. ``pick`` keeps only these attribute IRIs."""
    out: dict[str, Any] = {"id": entity.id}
    types = [ctx.compact_iri(t) for t in entity.types]
    out["type"] = types[0] if len(types) == 1 else types
    if sys_attrs and not key_values:
        if entity.created_at:
            out["createdAt"] = entity.created_at
        if entity.modified_at:
            out["modifiedAt"] = entity.modified_at
    for iri, instances in entity.attrs.items():
        if pick is not None and iri not in pick:
            continue
        name = ctx.compact_iri(iri)
        if key_values:
            values = [simplified_value(i, lang) for i in instances]
            out[name] = values[0] if len(values) == 1 else values
        else:
            items = [compact_instance(i, ctx, sys_attrs=sys_attrs, lang=lang) for i in instances]
            out[name] = items[0] if len(items) == 1 else items
    return out


def simplified_value(instance: Instance, lang: str | None = None) -> Any:
    kind = instance.get("type")
    if kind == RELATIONSHIP:
        return instance.get("object")
    if kind == LANGUAGEPROPERTY:
        lang_map = instance.get("languageMap", {})
        if lang is not None:
            return _pick_language(lang_map, lang)
        return {"languageMap": lang_map}
    return instance.get("value")


def compact_instance(instance: Instance, ctx: TermMap, *, sys_attrs: bool, lang: str | None = None) -> Instance:
    out: Instance = {}
    for key, item in instance.items():
        if key in INSTANCE_KEYS:
            if key in SYSTEM_KEYS and not sys_attrs:
                continue
            out[key] = item
        elif isinstance(item, dict):
            out[ctx.compact_iri(key)] = compact_instance(item, ctx, sys_attrs=sys_attrs, lang=lang)
    if lang is not None and instance.get("type") == LANGUAGEPROPERTY:
        out["type"] = PROPERTY
        out["value"] = _pick_language(out.pop("languageMap", {}), lang)
        out["lang"] = _chosen_language(instance.get("languageMap", {}), lang)
    return out


def _chosen_language(lang_map: dict[str, Any], lang: str) -> str | None:
    wanted = [part.split(";")[0].strip() for part in lang.split(",") if part.strip()]
    for tag in wanted:
        if tag == "*" and lang_map:
            return next(iter(lang_map))
        if tag in lang_map:
            return tag
    if "@none" in lang_map:
        return "@none"
    return next(iter(lang_map), None)


def _pick_language(lang_map: dict[str, Any], lang: str) -> Any:
    tag = _chosen_language(lang_map, lang)
    return lang_map.get(tag) if tag is not None else None


def geojson_feature(
    entity: Entity,
    ctx: TermMap,
    geoproperty: str,
    *,
    key_values: bool,
    sys_attrs: bool,
    pick: set[str] | None,
    lang: str | None = None,
) -> dict[str, Any]:
    """The entity as a GeoJSON Feature (clause 4.5.16): geometry from ``geoproperty``."""
    props = compact_entity(entity, ctx, key_values=key_values, sys_attrs=sys_attrs, pick=pick, lang=lang)
    entity_id = props.pop("id")
    geometry = None
    for inst in entity.attrs.get(geoproperty, []):
        if inst.get("type") == GEOPROPERTY:
            geometry = inst.get("value")
            break
    return {"id": entity_id, "type": "Feature", "geometry": geometry, "properties": props}
