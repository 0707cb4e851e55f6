"""Publication definitions: what a publication takes from the hub, how it is shaped and protected, and the dataset
it becomes. Parsed from plain data (a YAML file's mapping) and validated here; an invalid definition raises
:class:`DefinitionInvalid` naming the field and the reason. See docs/opendata.md (Publications).

A definition is data, not code: the columns say where each value comes from (the entity id, an attribute of the
current state, an aggregate of an attribute's history, the period, the group), and the privacy rules are applied
to every row before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, cast, get_args

import isodate  # type: ignore[import-untyped]

from smartcity.opendata.contracts import FieldType

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
COLUMN_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TERM = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
FREQUENCIES = ("continuous", "hourly", "daily", "weekly", "monthly", "quarterly", "annual", "irregular")
MODES = ("current", "history")
#: where a column's value comes from
SOURCES = ("entity", "attribute", "period_start", "period_end", "group")
#: aggregates of an attribute's history per period (``entities``: how many entities reported it; groups only)
AGGREGATES = ("avg", "min", "max", "sum", "count", "entities")
PARTS = ("value", "observedAt", "unitCode")
MIN_SCHEDULE = timedelta(minutes=1)

Mode = Literal["current", "history"]


class DefinitionInvalid(ValueError):
    """A publication definition that does not follow the format: ``where`` names the field."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}" if where else why)
        self.where = where
        self.why = why


@dataclass(frozen=True)
class Text:
    """A text in Vietnamese and English."""

    vi: str
    en: str


@dataclass(frozen=True)
class Column:
    id: str
    type: FieldType
    source: str  # one of SOURCES
    attr: str | None = None  # compact attribute name (source "attribute")
    part: str = "value"  # value | observedAt | unitCode of the attribute's default instance
    aggregate: str | None = None  # history: one of AGGREGATES
    label: Text | None = None
    notes: Text | None = None


@dataclass(frozen=True)
class GroupRule:
    """Publish aggregates per group of entities (the value of an attribute of their current state), never single
    entities; a group with fewer than ``min_group_size`` reporting entities in a period is left out."""

    by: str
    min_group_size: int = 1


@dataclass(frozen=True)
class Privacy:
    drop: tuple[str, ...] = ()  # attributes never published ("attr"), or keys of a structured value ("attr.key")
    round_coordinates: int | None = None  # decimals kept in every published coordinate
    delay: timedelta = timedelta(0)  # history: only periods that ended at least this long ago
    aggregate: GroupRule | None = None

    def dropped(self, attr: str) -> bool:
        return attr in self.drop

    def dropped_keys(self, attr: str) -> tuple[str, ...]:
        prefix = attr + "."
        return tuple(item[len(prefix) :] for item in self.drop if item.startswith(prefix))


@dataclass(frozen=True)
class History:
    period: timedelta
    lookback: timedelta  # re-aggregated on every run (late data)
    backfill: timedelta  # aggregated on the first run


@dataclass(frozen=True)
class DatasetMeta:
    title: Text
    notes: Text
    organization: str
    groups: tuple[str, ...]
    tags: tuple[str, ...]
    license: str
    frequency: str
    resource_name: Text
    resource_description: Text
    spatial: tuple[float, float, float, float] | None = None  # a fixed coverage box (west, south, east, north)


@dataclass(frozen=True)
class Source:
    type: str  # compact NGSI-LD entity type
    q: str | None = None  # NGSI-LD query language, on the current state


@dataclass(frozen=True)
class Publication:
    id: str  # also the dataset's name in the catalogue
    dataset: DatasetMeta
    source: Source
    mode: Mode
    columns: tuple[Column, ...]
    schedule: timedelta
    modelled: bool  # the values are modelled or synthetic (the notes say so; checked against the hub's data)
    privacy: Privacy = field(default_factory=Privacy)
    history: History | None = None
    origin: str = ""  # the file it came from

    @property
    def attrs(self) -> tuple[str, ...]:
        """Every attribute the publication reads, in column order."""
        names = [c.attr for c in self.columns if c.attr is not None]
        if self.privacy.aggregate is not None:
            names.append(self.privacy.aggregate.by)
        return tuple(dict.fromkeys(names))

    @property
    def key(self) -> tuple[str, ...]:
        """The datastore's primary key: the entity (or group) column, and the period in history."""
        who = [c.id for c in self.columns if c.source in ("entity", "group")]
        if self.mode == "current":
            return tuple(who[:1])
        return (*who[:1], *[c.id for c in self.columns if c.source == "period_start"])

    @property
    def has_geometry(self) -> bool:
        return any(c.type == "geometry" for c in self.columns)


# -- parsing ----------------------------------------------------------------------------------------------------


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DefinitionInvalid(where, "must be a mapping")
    return value


def _known(doc: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    unknown = sorted(str(k) for k in doc if k not in allowed)
    if unknown:
        raise DefinitionInvalid(where, f"unknown field(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})")


def _text(value: Any, where: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise DefinitionInvalid(where, "must be a non-empty text")
    return value.strip()


def _bilingual(value: Any, where: str) -> Text:
    doc = _mapping(value, where)
    _known(doc, ("vi", "en"), where)
    return Text(_text(doc.get("vi"), f"{where}.vi"), _text(doc.get("en"), f"{where}.en"))


def _slug(value: Any, where: str) -> str:
    text = _text(value, where)
    if not SLUG.match(text):
        raise DefinitionInvalid(where, f"{text!r} must be 2-100 characters of a-z, 0-9, '-' and '_'")
    return text


def _slugs(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DefinitionInvalid(where, "must be a list")
    return tuple(_slug(v, f"{where}[{i}]") for i, v in enumerate(value))


def duration(value: Any, where: str) -> timedelta:
    """A fixed ISO 8601 duration (``PT1H``, ``P2D``; no months or years)."""
    if not isinstance(value, str):
        raise DefinitionInvalid(where, "must be an ISO 8601 duration such as PT1H or P2D")
    try:
        parsed = isodate.parse_duration(value)
    except (isodate.ISO8601Error, ValueError, TypeError) as exc:
        raise DefinitionInvalid(where, f"{value!r} is not an ISO 8601 duration such as PT1H or P2D") from exc
    if not isinstance(parsed, timedelta):
        raise DefinitionInvalid(where, f"{value!r}: months and years have no fixed length; use days (P30D)")
    if parsed < timedelta(0):
        raise DefinitionInvalid(where, f"{value!r} must not be negative")
    return parsed


def _term(value: Any, where: str) -> str:
    text = _text(value, where)
    if not TERM.match(text):
        raise DefinitionInvalid(where, f"{text!r} must be a compact NGSI-LD name (letters, digits, '_')")
    return text


def _dataset(doc: Mapping[str, Any]) -> DatasetMeta:
    where = "dataset"
    _known(
        doc,
        ("title", "notes", "organization", "groups", "tags", "license", "frequency", "resource", "spatial"),
        where,
    )
    title = _bilingual(doc.get("title"), f"{where}.title")
    notes = _bilingual(doc.get("notes"), f"{where}.notes")
    tags_raw = doc.get("tags") or []
    if not isinstance(tags_raw, list) or not all(isinstance(t, str) and 1 < len(t.strip()) <= 100 for t in tags_raw):
        raise DefinitionInvalid(f"{where}.tags", "must be a list of texts of 2 to 100 characters")
    frequency = _text(doc.get("frequency"), f"{where}.frequency")
    if frequency not in FREQUENCIES:
        raise DefinitionInvalid(f"{where}.frequency", f"{frequency!r} must be one of {', '.join(FREQUENCIES)}")
    license_id = _text(doc.get("license"), f"{where}.license")
    resource = _mapping(doc.get("resource") or {}, f"{where}.resource")
    _known(resource, ("name", "description"), f"{where}.resource")
    name = _bilingual(resource["name"], f"{where}.resource.name") if "name" in resource else title
    description = (
        _bilingual(resource["description"], f"{where}.resource.description") if "description" in resource else notes
    )
    spatial = None
    if "spatial" in doc:
        box = doc["spatial"]
        if (
            not isinstance(box, list)
            or len(box) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
            or not (-180 <= box[0] < box[2] <= 180 and -90 <= box[1] < box[3] <= 90)
        ):
            raise DefinitionInvalid(f"{where}.spatial", "must be a box [west, south, east, north] in degrees")
        spatial = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
    return DatasetMeta(
        spatial=spatial,
        title=title,
        notes=notes,
        organization=_slug(doc.get("organization"), f"{where}.organization"),
        groups=_slugs(doc.get("groups"), f"{where}.groups"),
        tags=tuple(dict.fromkeys(t.strip() for t in tags_raw)),
        license=license_id,
        frequency=frequency,
        resource_name=name,
        resource_description=description,
    )


def _column(doc: Any, index: int, mode: str) -> Column:
    where = f"columns[{index}]"
    doc = _mapping(doc, where)
    _known(doc, ("id", "from", "attr", "part", "aggregate", "type", "label", "notes"), where)
    column_id = _text(doc.get("id"), f"{where}.id")
    if not COLUMN_ID.match(column_id):
        raise DefinitionInvalid(
            f"{where}.id", f"{column_id!r} must start with a-z and hold a-z, 0-9 and '_' (at most 63 characters)"
        )
    where = f"columns[{index}] ({column_id})"
    attr = _term(doc["attr"], f"{where}.attr") if "attr" in doc else None
    source = doc.get("from", "attribute" if attr is not None else None)
    if source not in SOURCES:
        raise DefinitionInvalid(f"{where}.from", f"must be one of {', '.join(SOURCES)} (or give 'attr')")
    if source == "attribute" and attr is None:
        raise DefinitionInvalid(f"{where}.attr", "an attribute column names its attribute")
    if source != "attribute" and attr is not None:
        raise DefinitionInvalid(f"{where}.attr", f"a column from {source} reads no attribute")
    part = doc.get("part", "value")
    if part not in PARTS:
        raise DefinitionInvalid(f"{where}.part", f"must be one of {', '.join(PARTS)}")
    aggregate = doc.get("aggregate")
    if aggregate is not None:
        if aggregate not in AGGREGATES:
            raise DefinitionInvalid(f"{where}.aggregate", f"must be one of {', '.join(AGGREGATES)}")
        if mode != "history":
            raise DefinitionInvalid(f"{where}.aggregate", "aggregates need mode: history")
        if source != "attribute":
            raise DefinitionInvalid(f"{where}.aggregate", "an aggregate is computed over an attribute ('attr')")
        if part != "value":
            raise DefinitionInvalid(f"{where}.part", "an aggregate is computed over values")
    if source in ("period_start", "period_end") and mode != "history":
        raise DefinitionInvalid(f"{where}.from", f"{source} needs mode: history")
    default: str | None = {
        "entity": "text",
        "group": "text",
        "period_start": "timestamp",
        "period_end": "timestamp",
    }.get(str(source))
    if aggregate in ("count", "entities"):
        default = "int"
    elif aggregate is not None:
        default = "float"
    elif part == "observedAt":
        default = "timestamp"
    elif part == "unitCode":
        default = "text"
    kind = doc.get("type", default)
    if kind not in FIELD_TYPES:
        raise DefinitionInvalid(f"{where}.type", f"give the column's type, one of {', '.join(FIELD_TYPES)}")
    if kind == "geometry" and (aggregate is not None or source != "attribute"):
        raise DefinitionInvalid(f"{where}.type", "only an attribute's value can be a geometry")
    if aggregate in ("avg", "min", "max", "sum") and kind not in ("float", "int"):
        raise DefinitionInvalid(f"{where}.type", f"the {aggregate} of a series is a number (float or int)")
    return Column(
        id=column_id,
        type=cast(FieldType, kind),
        source=str(source),
        attr=attr,
        part=str(part),
        aggregate=aggregate,
        label=_bilingual(doc["label"], f"{where}.label") if "label" in doc else None,
        notes=_bilingual(doc["notes"], f"{where}.notes") if "notes" in doc else None,
    )


def _privacy(doc: Mapping[str, Any], mode: str) -> Privacy:
    where = "privacy"
    _known(doc, ("drop", "round_coordinates", "delay", "aggregate"), where)
    drop_raw = doc.get("drop") or []
    if not isinstance(drop_raw, list):
        raise DefinitionInvalid(f"{where}.drop", "must be a list of attribute names ('attr' or 'attr.key')")
    drop: list[str] = []
    for i, item in enumerate(drop_raw):
        text = _text(item, f"{where}.drop[{i}]")
        if not all(TERM.match(part) for part in text.split(".", 1)):
            raise DefinitionInvalid(f"{where}.drop[{i}]", f"{text!r} must be 'attribute' or 'attribute.key'")
        drop.append(text)
    rounding = doc.get("round_coordinates")
    if rounding is not None and (isinstance(rounding, bool) or not isinstance(rounding, int) or not 0 <= rounding <= 6):
        raise DefinitionInvalid(f"{where}.round_coordinates", "must be a number of decimals from 0 to 6")
    delay = duration(doc["delay"], f"{where}.delay") if "delay" in doc else timedelta(0)
    if delay and mode != "history":
        raise DefinitionInvalid(
            f"{where}.delay", "the current state cannot be delayed: publish its history (mode: history) instead"
        )
    group: GroupRule | None = None
    if "aggregate" in doc:
        spec = _mapping(doc["aggregate"], f"{where}.aggregate")
        _known(spec, ("by", "min_group_size"), f"{where}.aggregate")
        if mode != "history":
            raise DefinitionInvalid(f"{where}.aggregate", "aggregates per group need mode: history")
        size = spec.get("min_group_size", 1)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise DefinitionInvalid(f"{where}.aggregate.min_group_size", "must be a whole number of at least 1")
        group = GroupRule(_term(spec.get("by"), f"{where}.aggregate.by"), size)
    return Privacy(tuple(drop), rounding, delay, group)


def _history(doc: Mapping[str, Any]) -> History:
    where = "history"
    _known(doc, ("period", "lookback", "backfill"), where)
    period = duration(doc.get("period", "PT1H"), f"{where}.period")
    if period < timedelta(minutes=1) or timedelta(days=1) % period:
        raise DefinitionInvalid(f"{where}.period", "must divide a day evenly (PT5M, PT15M, PT1H, P1D ...)")
    lookback = duration(doc.get("lookback", "P2D"), f"{where}.lookback")
    backfill = duration(doc.get("backfill", "P30D"), f"{where}.backfill")
    for name, value in (("lookback", lookback), ("backfill", backfill)):
        if value < period or value % period:
            raise DefinitionInvalid(f"{where}.{name}", "must be a whole number of periods (at least one)")
    if backfill < lookback:
        raise DefinitionInvalid(f"{where}.backfill", "must be at least the lookback")
    return History(period, lookback, backfill)


def parse_publication(doc: Any, origin: str = "") -> Publication:
    """A validated publication from its document (a YAML file's mapping)."""
    doc = _mapping(doc, "")
    _known(doc, ("id", "mode", "schedule", "modelled", "dataset", "source", "history", "columns", "privacy"), "")
    pub_id = _slug(doc.get("id"), "id")
    mode = doc.get("mode")
    if mode not in MODES:
        raise DefinitionInvalid("mode", f"must be one of {', '.join(MODES)}")
    schedule = duration(doc.get("schedule", "PT1H"), "schedule")
    if schedule < MIN_SCHEDULE:
        raise DefinitionInvalid("schedule", "must be at least PT1M")
    modelled = doc.get("modelled")
    if not isinstance(modelled, bool):
        raise DefinitionInvalid("modelled", "say whether the values are modelled or synthetic: true or false")
    dataset = _dataset(_mapping(doc.get("dataset"), "dataset"))
    source_doc = _mapping(doc.get("source"), "source")
    _known(source_doc, ("type", "q"), "source")
    source = Source(
        _term(source_doc.get("type"), "source.type"), _text(source_doc.get("q"), "source.q", required=False) or None
    )
    if mode == "history":
        history: History | None = _history(_mapping(doc.get("history") or {}, "history"))
    elif "history" in doc:
        raise DefinitionInvalid("history", "goes with mode: history only")
    else:
        history = None
    columns_raw = doc.get("columns")
    if not isinstance(columns_raw, list) or not columns_raw:
        raise DefinitionInvalid("columns", "must be a non-empty list")
    columns = tuple(_column(c, i, str(mode)) for i, c in enumerate(columns_raw))
    privacy = _privacy(_mapping(doc.get("privacy") or {}, "privacy"), str(mode))
    pub = Publication(
        id=pub_id,
        dataset=dataset,
        source=source,
        mode=cast(Mode, mode),
        columns=columns,
        schedule=schedule,
        modelled=modelled,
        privacy=privacy,
        history=history,
        origin=origin,
    )
    _check(pub)
    return pub


def _check(pub: Publication) -> None:
    """The rules between fields: unique columns, keys, privacy against the columns."""
    ids = [c.id for c in pub.columns]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise DefinitionInvalid("columns", f"column id(s) used twice: {', '.join(twice)}")
    sources = [c.source for c in pub.columns]
    grouped = pub.privacy.aggregate is not None
    for c in pub.columns:
        if c.attr is not None and pub.privacy.dropped(c.attr):
            raise DefinitionInvalid(f"columns ({c.id})", f"reads {c.attr}, which privacy.drop removes")
        if grouped and c.source == "entity":
            raise DefinitionInvalid(f"columns ({c.id})", "an aggregate per group publishes no entity ids")
        if grouped and c.source == "attribute" and c.aggregate is None:
            raise DefinitionInvalid(
                f"columns ({c.id})", "an aggregate per group publishes aggregates only (give 'aggregate')"
            )
        if c.source == "group" and not grouped:
            raise DefinitionInvalid(f"columns ({c.id})", "a group column needs privacy.aggregate")
        if c.aggregate == "entities" and not grouped:
            raise DefinitionInvalid(
                f"columns ({c.id})", "'entities' counts the entities of a group (privacy.aggregate)"
            )
    if pub.privacy.aggregate is not None and pub.privacy.dropped(pub.privacy.aggregate.by):
        raise DefinitionInvalid("privacy.aggregate.by", "groups by an attribute that privacy.drop removes")
    if pub.mode == "current":
        if "entity" not in sources:
            raise DefinitionInvalid("columns", "the current state needs the entity column (from: entity)")
    else:
        if "period_start" not in sources:
            raise DefinitionInvalid("columns", "a history needs its period (from: period_start)")
        if not grouped and "entity" not in sources:
            raise DefinitionInvalid("columns", "a history per entity needs the entity column (from: entity)")
        if grouped and "group" not in sources:
            raise DefinitionInvalid("columns", "an aggregate per group needs the group column (from: group)")
        if not any(c.aggregate is not None for c in pub.columns):
            raise DefinitionInvalid("columns", "a history publishes at least one aggregate")
    for c in pub.columns:
        if c.source in ("entity", "group", "period_start") and sources.count(c.source) > 1:
            raise DefinitionInvalid("columns", f"only one column comes from {c.source}")
