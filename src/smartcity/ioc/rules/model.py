"""Rules as data: the one schema of rule documents (YAML files and the API's JSON), parsed and validated.

A rule document (short attribute and type names, as clients write them with the NGSI-LD core @context)::

    id: flood-water-level            # a slug: lower-case letters, digits, '-'
    name: {vi: ..., en: ...}
    description: {vi: ..., en: ...}  # optional
    enabled: true                    # optional, default true
    severity: major                  # contracts.Severity
    labels: {domain: flood}          # domain required (contracts.DOMAINS); other labels are free strings
    kind: threshold                  # threshold | rate | absence | area | aggregate | composite | proximity
    target: {type: FloodMonitoring, attribute: currentLevel, idPattern: ..., per: ..., area: ...}
    when: {op: ">", value: 0.3, for: PT10M, clear: 0.25, clearFor: PT5M}
    message: {vi: "Mực nước {value} m tại {name}", en: "Water level {value} m at {name}"}

and one block per kind: ``rate: {window}``, ``absence: {after}``, ``aggregate: {method, window, groupBy}``,
``composite: {mode, conditions, subject}``, ``proximity: {groupBy, maxAge}``. Durations are ISO 8601
(``PT10M``) or seconds. Every error names the field and says why (:class:`RuleInvalid`).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import isodate  # type: ignore[import-untyped]

from smartcity.hub.errors import BadRequestData
from smartcity.ioc.contracts import DOMAINS, Severity

KINDS = ("threshold", "rate", "absence", "area", "aggregate", "composite", "proximity")
OPS = (">", ">=", "<", "<=", "==", "!=", "in", "notin")
ORDER_OPS = (">", ">=", "<", "<=")
METHODS = ("mean", "min", "max", "sum", "count")
PLACEHOLDERS = frozenset({"value", "subject", "name", "ward", "rule"})
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/#-]{0,255}$")
MAX_DURATION = 366 * 86400.0

Kind = Literal["threshold", "rate", "absence", "area", "aggregate", "composite", "proximity"]


class RuleInvalid(BadRequestData):
    """A rule document that does not follow the schema: ``field`` says where, the detail says why."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}" if where else why, field=where)
        self.field = where


@dataclass(frozen=True)
class Text:
    vi: str
    en: str


@dataclass(frozen=True)
class Area:
    """A ward (by code, its polygon from the hub's AdministrativeArea entities), a polygon or a circle."""

    ward: str | None = None
    polygon: Mapping[str, Any] | None = None  # GeoJSON Polygon or MultiPolygon
    center: tuple[float, float] | None = None  # lon, lat
    radius: float | None = None  # metres


@dataclass(frozen=True)
class Target:
    type: str
    attribute: str | None = None
    id_pattern: str | None = None
    per: str | None = None  # divide the value by this attribute of the same entity (share of a total)
    area: Area | None = None


@dataclass(frozen=True)
class Condition:
    """The test on the computed value, with hysteresis: fires once ``value op threshold`` has held for
    ``for_s``; once firing, ends when the value is past ``clear`` (or no longer holds, without ``clear``) for
    ``clear_for_s``."""

    op: str
    value: Any
    for_s: float = 0.0
    clear: float | None = None
    clear_for_s: float = 0.0


@dataclass(frozen=True)
class Part:
    """One named condition of a composite rule, about any entities of a type."""

    name: str
    type: str
    attribute: str
    condition: Condition
    id_pattern: str | None = None
    max_age_s: float | None = None  # older values no longer count


@dataclass(frozen=True)
class RuleSpec:
    id: str
    name: Text
    severity: Severity
    labels: Mapping[str, str]
    kind: Kind
    target: Target | None
    when: Condition
    message: Text
    description: Text | None = None
    enabled: bool = True
    window_s: float | None = None  # rate / aggregate
    after_s: float | None = None  # absence
    method: str | None = None  # aggregate
    group_by: str | None = None  # aggregate: "ward"; proximity: the relationship grouping the entities
    max_age_s: float | None = None  # proximity: positions older than this are ignored
    mode: str = "all"  # composite
    parts: tuple[Part, ...] = ()
    subject: str | None = None  # composite: what the alert is about
    doc: Mapping[str, Any] = field(default_factory=dict, compare=False)  # the normalised document

    @property
    def domain(self) -> str:
        return self.labels["domain"]


# -- reading helpers ---------------------------------------------------------------------------------------


def _obj(doc: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise RuleInvalid(where, "must be an object")
    return doc


def _known(doc: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(str(k) for k in doc if k not in allowed)
    if unknown:
        prefix = f"{where}." if where else ""
        raise RuleInvalid(f"{prefix}{unknown[0]}", f"unknown field (allowed: {', '.join(sorted(allowed))})")


def _req(doc: Mapping[str, Any], key: str, where: str) -> Any:
    if doc.get(key) is None:
        raise RuleInvalid(_at(where, key), "is required")
    return doc[key]


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _str(value: Any, where: str, *, pattern: re.Pattern[str] | None = None, limit: int = 500) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleInvalid(where, "must be a non-empty string")
    if len(value) > limit:
        raise RuleInvalid(where, f"must be at most {limit} characters")
    if pattern is not None and not pattern.match(value):
        raise RuleInvalid(where, f"{value!r} is not allowed here (pattern {pattern.pattern})")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RuleInvalid(where, "must be a finite number")
    return float(value)


def duration(value: Any, where: str) -> float:
    """Seconds of an ISO 8601 duration (``PT10M``) or of a number of seconds."""
    if isinstance(value, str):
        try:
            parsed = isodate.parse_duration(value)
        except (isodate.ISO8601Error, ValueError) as exc:
            raise RuleInvalid(where, f"{value!r} is not an ISO 8601 duration such as PT10M") from exc
        if not hasattr(parsed, "total_seconds"):
            raise RuleInvalid(where, "use days, hours, minutes or seconds (no months or years)")
        seconds = float(parsed.total_seconds())
    else:
        seconds = _number(value, where)
    if not 0 <= seconds <= MAX_DURATION:
        raise RuleInvalid(where, "must be between 0 and 366 days")
    return seconds


def _text(value: Any, where: str, *, template: bool = False) -> Text:
    doc = _obj(value, where)
    _known(doc, where, {"vi", "en"})
    vi = _str(_req(doc, "vi", where), _at(where, "vi"), limit=1000)
    en = _str(_req(doc, "en", where), _at(where, "en"), limit=1000)
    if template:
        for lang, text in (("vi", vi), ("en", en)):
            _check_template(text, _at(where, lang))
    return Text(vi, en)


def _check_template(text: str, where: str) -> None:
    try:
        fields = [name for _, name, spec, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise RuleInvalid(where, f"is not a valid template: {exc}") from exc
    for name in fields:
        if name not in PLACEHOLDERS:
            raise RuleInvalid(where, f"unknown placeholder {{{name}}} (known: {', '.join(sorted(PLACEHOLDERS))})")


def _pattern(value: Any, where: str) -> str:
    text = _str(value, where, limit=500)
    try:
        re.compile(text)
    except re.error as exc:
        raise RuleInvalid(where, f"is not a valid regular expression: {exc}") from exc
    return text


# -- the parts of a rule -----------------------------------------------------------------------------------


def _area(value: Any, where: str) -> Area:
    doc = _obj(value, where)
    _known(doc, where, {"ward", "polygon", "center", "radius"})
    if doc.get("ward") is not None:
        if len(doc) > 1:
            raise RuleInvalid(where, "give either ward, polygon or center and radius")
        return Area(ward=_str(doc["ward"], _at(where, "ward"), limit=32))
    if doc.get("polygon") is not None:
        if len(doc) > 1:
            raise RuleInvalid(where, "give either ward, polygon or center and radius")
        return Area(polygon=_polygon(doc["polygon"], _at(where, "polygon")))
    if doc.get("center") is not None or doc.get("radius") is not None:
        center = _req(doc, "center", where)
        if not isinstance(center, list | tuple) or len(center) != 2:
            raise RuleInvalid(_at(where, "center"), "must be [longitude, latitude]")
        lon, lat = _number(center[0], _at(where, "center")), _number(center[1], _at(where, "center"))
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise RuleInvalid(_at(where, "center"), "must be [longitude, latitude] in degrees")
        radius = _number(_req(doc, "radius", where), _at(where, "radius"))
        if not 0 < radius <= 100_000:
            raise RuleInvalid(_at(where, "radius"), "must be more than 0 and at most 100000 metres")
        return Area(center=(lon, lat), radius=radius)
    raise RuleInvalid(where, "give a ward (its code), a GeoJSON polygon, or a center and a radius")


def _polygon(value: Any, where: str) -> Mapping[str, Any]:
    from shapely.geometry import shape

    doc = _obj(value, where)
    if doc.get("type") not in ("Polygon", "MultiPolygon"):
        raise RuleInvalid(where, "must be a GeoJSON Polygon or MultiPolygon")
    try:
        geometry = shape(doc)
    except Exception as exc:  # shapely raises several kinds for malformed coordinates
        raise RuleInvalid(where, f"is not a valid GeoJSON geometry: {exc}") from exc
    if geometry.is_empty or not geometry.is_valid:
        raise RuleInvalid(where, "is not a valid polygon (empty or self-intersecting)")
    return dict(doc)


def _target(value: Any, where: str, *, attribute: bool) -> Target:
    doc = _obj(value, where)
    _known(doc, where, {"type", "attribute", "idPattern", "per", "area"})
    attr = doc.get("attribute")
    if attribute and attr is None:
        raise RuleInvalid(_at(where, "attribute"), "is required for this kind of rule")
    return Target(
        type=_str(_req(doc, "type", where), _at(where, "type"), pattern=NAME),
        attribute=_str(attr, _at(where, "attribute"), pattern=NAME) if attr is not None else None,
        id_pattern=_pattern(doc["idPattern"], _at(where, "idPattern")) if doc.get("idPattern") is not None else None,
        per=_str(doc["per"], _at(where, "per"), pattern=NAME) if doc.get("per") is not None else None,
        area=_area(doc["area"], _at(where, "area")) if doc.get("area") is not None else None,
    )


def condition(value: Any, where: str) -> Condition:
    doc = _obj(value, where)
    _known(doc, where, {"op", "value", "for", "clear", "clearFor"})
    op = _req(doc, "op", where)
    if op not in OPS:
        raise RuleInvalid(_at(where, "op"), f"must be one of {', '.join(OPS)}")
    raw = doc.get("value")
    if "value" not in doc:
        raise RuleInvalid(_at(where, "value"), "is required")
    threshold: Any
    if op in ORDER_OPS:
        threshold = _number(raw, _at(where, "value"))
    elif op in ("in", "notin"):
        if not isinstance(raw, list) or not raw or not all(_scalar(v) for v in raw):
            raise RuleInvalid(_at(where, "value"), "must be a non-empty list of strings, numbers or booleans")
        threshold = tuple(raw)
    else:
        if not _scalar(raw):
            raise RuleInvalid(_at(where, "value"), "must be a string, a number or a boolean")
        threshold = raw
    clear = doc.get("clear")
    if clear is not None:
        if op not in ORDER_OPS:
            raise RuleInvalid(_at(where, "clear"), "hysteresis needs an ordering operator (>, >=, <, <=)")
        clear = _number(clear, _at(where, "clear"))
        if (op in (">", ">=") and clear > threshold) or (op in ("<", "<=") and clear < threshold):
            side = "at or below" if op in (">", ">=") else "at or above"
            raise RuleInvalid(_at(where, "clear"), f"must be {side} the threshold {threshold:g} (hysteresis)")
    return Condition(
        op=op,
        value=threshold,
        for_s=duration(doc["for"], _at(where, "for")) if doc.get("for") is not None else 0.0,
        clear=clear,
        clear_for_s=duration(doc["clearFor"], _at(where, "clearFor")) if doc.get("clearFor") is not None else 0.0,
    )


def _scalar(value: Any) -> bool:
    return isinstance(value, str | bool) or (isinstance(value, int | float) and math.isfinite(value))


def _labels(value: Any, where: str) -> dict[str, str]:
    doc = _obj(value, where)
    out: dict[str, str] = {}
    for key, label in doc.items():
        if not isinstance(key, str) or not SLUG.match(key.lower()):
            raise RuleInvalid(f"{where}.{key}", "label names are short slugs")
        out[key] = _str(label, f"{where}.{key}", limit=200)
    domain = out.get("domain")
    if domain is None:
        raise RuleInvalid(f"{where}.domain", "is required")
    if domain not in DOMAINS:
        raise RuleInvalid(f"{where}.domain", f"must be one of {', '.join(DOMAINS)}")
    return out


def _parts(value: Any, where: str) -> tuple[Part, ...]:
    if not isinstance(value, list) or not value:
        raise RuleInvalid(where, "must be a non-empty list of conditions")
    if len(value) > 20:
        raise RuleInvalid(where, "at most 20 conditions")
    parts: list[Part] = []
    for index, item in enumerate(value):
        at = f"{where}[{index}]"
        doc = _obj(item, at)
        _known(doc, at, {"name", "type", "attribute", "idPattern", "op", "value", "maxAge"})
        name = _str(_req(doc, "name", at), _at(at, "name"), pattern=SLUG)
        if any(p.name == name for p in parts):
            raise RuleInvalid(_at(at, "name"), f"the name {name!r} is used twice")
        cond = condition({k: doc[k] for k in ("op", "value") if k in doc}, at)
        parts.append(
            Part(
                name=name,
                type=_str(_req(doc, "type", at), _at(at, "type"), pattern=NAME),
                attribute=_str(_req(doc, "attribute", at), _at(at, "attribute"), pattern=NAME),
                condition=cond,
                id_pattern=_pattern(doc["idPattern"], _at(at, "idPattern")) if doc.get("idPattern") else None,
                max_age_s=duration(doc["maxAge"], _at(at, "maxAge")) if doc.get("maxAge") is not None else None,
            )
        )
    return tuple(parts)


# -- the rule ----------------------------------------------------------------------------------------------

TOP = {
    "id",
    "name",
    "description",
    "enabled",
    "severity",
    "labels",
    "kind",
    "target",
    "when",
    "message",
    "rate",
    "absence",
    "aggregate",
    "composite",
    "proximity",
}
#: read-only fields of the JSON view, accepted (and ignored) when a client sends a rule back
VIEW_FIELDS = {"version", "createdAt", "updatedAt", "updatedBy", "stats"}


def parse_rule(value: Any, *, rule_id: str | None = None) -> RuleSpec:
    """Validate a rule document; ``rule_id`` (from the URL) fills or must equal the document's ``id``."""
    doc = dict(_obj(value, ""))
    for key in VIEW_FIELDS:
        doc.pop(key, None)
    _known(doc, "", TOP)
    if rule_id is not None:
        if doc.get("id") is not None and doc["id"] != rule_id:
            raise RuleInvalid("id", f"the document's id {doc['id']!r} differs from the one in the URL {rule_id!r}")
        doc["id"] = rule_id
    ident = _str(_req(doc, "id", ""), "id", pattern=SLUG)
    kind = _req(doc, "kind", "")
    if kind not in KINDS:
        raise RuleInvalid("kind", f"must be one of {', '.join(KINDS)}")
    severity = _req(doc, "severity", "")
    try:
        level = Severity(severity)
    except ValueError:
        raise RuleInvalid("severity", f"must be one of {', '.join(s.value for s in Severity)}") from None
    enabled = doc.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleInvalid("enabled", "must be true or false")
    for block in ("rate", "absence", "aggregate", "composite", "proximity"):
        if doc.get(block) is not None and block != kind:
            raise RuleInvalid(block, f"belongs to rules of kind {block}, not {kind}")
    common: dict[str, Any] = {
        "id": ident,
        "name": _text(_req(doc, "name", ""), "name"),
        "description": _text(doc["description"], "description") if doc.get("description") is not None else None,
        "severity": level,
        "labels": _labels(_req(doc, "labels", ""), "labels"),
        "kind": kind,
        "enabled": enabled,
        "message": _text(_req(doc, "message", ""), "message", template=True),
        "doc": doc,
    }
    spec = _KIND_PARSERS[kind](doc, common)
    return spec


def _threshold(doc: Mapping[str, Any], common: dict[str, Any]) -> RuleSpec:
    target = _target(_req(doc, "target", ""), "target", attribute=True)
    if common["kind"] == "area" and target.area is None:
        raise RuleInvalid("target.area", "is required for a rule of kind area")
    return RuleSpec(target=target, when=condition(_req(doc, "when", ""), "when"), **common)


def _rate(doc: Mapping[str, Any], common: dict[str, Any]) -> RuleSpec:
    target = _target(_req(doc, "target", ""), "target", attribute=True)
    when = condition(_req(doc, "when", ""), "when")
    if when.op not in ORDER_OPS:
        raise RuleInvalid("when.op", "a rate is compared with >, >=, < or <=")
    block = _obj(_req(doc, "rate", ""), "rate")
    _known(block, "rate", {"window"})
    window = duration(_req(block, "window", "rate"), "rate.window")
    if window < 60:
        raise RuleInvalid("rate.window", "must be at least one minute (PT1M)")
    return RuleSpec(target=target, when=when, window_s=window, **common)


def _absence(doc: Mapping[str, Any], common: dict[str, Any]) -> RuleSpec:
    target = _target(_req(doc, "target", ""), "target", attribute=False)
    if doc.get("when") is not None:
        raise RuleInvalid("when", "an absence rule has no condition: give absence.after")
    block = _obj(_req(doc, "absence", ""), "absence")
    _known(block, "absence", {"after"})
    after = duration(_req(block, "after", "absence"), "absence.after")
    if after < 60:
        raise RuleInvalid("absence.after", "must be at least one minute (PT1M)")
    return RuleSpec(target=target, when=Condition(">=", after), after_s=after, **common)


def _aggregate(doc: Mapping[str, Any], common: dict[str, Any]) -> RuleSpec:
    target = _target(_req(doc, "target", ""), "target", attribute=False)
    block = _obj(_req(doc, "aggregate", ""), "aggregate")
    _known(block, "aggregate", {"method", "window", "groupBy"})
    method = _req(block, "method", "aggregate")
    if method not in METHODS:
        raise RuleInvalid("aggregate.method", f"must be one of {', '.join(METHODS)}")
    if method != "count" and target.attribute is None:
        raise RuleInvalid("target.attribute", f"is required to compute the {method}")
    group_by = block.get("groupBy")
    if group_by is not None and group_by != "ward":
        raise RuleInvalid("aggregate.groupBy", "must be 'ward' (one group per ward)")
    if group_by is None and target.area is None:
        raise RuleInvalid("target.area", "an aggregate needs a group: target.area or aggregate.groupBy: ward")
    if group_by is not None and target.area is not None:
        raise RuleInvalid("aggregate.groupBy", "give either target.area or aggregate.groupBy, not both")
    when = condition(_req(doc, "when", ""), "when")
    if when.op not in ORDER_OPS:
        raise RuleInvalid("when.op", "an aggregate is compared with >, >=, < or <=")
    window = duration(_req(block, "window", "aggregate"), "aggregate.window")
    if window <= 0:
        raise RuleInvalid("aggregate.window", "must be longer than zero")
    return RuleSpec(target=target, when=when, window_s=window, method=method, group_by=group_by, **common)


def _composite(doc: Mapping[str, Any], common: dict[str, Any]) -> RuleSpec:
    if doc.get("target") is not None:
        raise RuleInvalid("target", "a composite rule names its entities in each of composite.conditions")
    block = _obj(_req(doc, "composite", ""), "composite")
    _known(block, "composite", {"mode", "conditions", "subject"})
    mode = block.get("mode", "all")
    if mode not in ("all", "any"):
        raise RuleInvalid("composite.mode", "must be 'all' or 'any'")
    when = doc.get("when")
    hold: dict[str, Any] = {"op": "==", "value": True}
    if when is not None:
        w = _obj(when, "when")
        _known(w, "when", {"for", "clearFor"})
        hold.update(w)
    subject = block.get("subject")
    return RuleSpec(
        target=None,
        when=condition(hold, "when"),
        mode=mode,
        parts=_parts(_req(block, "conditions", "composite"), "composite.conditions"),
        subject=_str(subject, "composite.subject", limit=300) if subject is not None else None,
        **common,
    )


def _proximity(doc: Mapping[str, Any], common: dict[str, Any]) -> RuleSpec:
    target = _target(_req(doc, "target", ""), "target", attribute=False)
    block = _obj(_req(doc, "proximity", ""), "proximity")
    _known(block, "proximity", {"groupBy", "maxAge"})
    group_by = _str(_req(block, "groupBy", "proximity"), "proximity.groupBy", pattern=NAME)
    when = condition(_req(doc, "when", ""), "when")
    if when.op not in ("<", "<="):
        raise RuleInvalid("when.op", "a proximity rule fires when the distance (m) is < or <= a value")
    if when.value <= 0:
        raise RuleInvalid("when.value", "must be a distance in metres, more than 0")
    max_age = duration(block["maxAge"], "proximity.maxAge") if block.get("maxAge") is not None else 300.0
    return RuleSpec(target=target, when=when, group_by=group_by, max_age_s=max_age, **common)


_KIND_PARSERS = {
    "threshold": _threshold,
    "area": _threshold,
    "rate": _rate,
    "absence": _absence,
    "aggregate": _aggregate,
    "composite": _composite,
    "proximity": _proximity,
}
