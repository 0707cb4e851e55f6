"""A publication's rows, built from the hub with the privacy rules applied to every value and row before it is
spooled: the current state (one row per entity) or the history (one row per entity, or per group, and period).
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from smartcity.hub.model import Entity
from smartcity.hub.temporal.aggregate import Aggregates
from smartcity.opendata.publish.definition import Column, Publication
from smartcity.opendata.publish.privacy import round_geometry, without_keys
from smartcity.opendata.publish.reading import (
    CURRENT_PAGE,
    HISTORY_PAGE,
    LOCATION,
    HubReader,
    Terms,
    default_instance,
    part_of,
)
from smartcity.opendata.publish.rows import Spool, convert, iso

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: a progress line every this many entities read
PROGRESS_EVERY = 5000
#: a column's aggregate -> the hub's aggregation methods it needs, per entity and per group
ENTITY_METHODS: dict[str, tuple[str, ...]] = {
    "avg": ("avg",),
    "min": ("min",),
    "max": ("max",),
    "sum": ("sum",),
    "count": ("totalCount",),
}
GROUP_METHODS: dict[str, tuple[str, ...]] = {
    "avg": ("sum", "totalCount"),
    "min": ("min",),
    "max": ("max",),
    "sum": ("sum",),
    "count": ("totalCount",),
    "entities": ("totalCount",),
}


class ModelledAsReal(RuntimeError):
    """The hub says an entity's values are modelled, the definition does not: never publish synthetic data as
    real."""


def _check_modelled(pub: Publication, terms: Terms, entity: Entity) -> None:
    if pub.modelled:
        return
    if part_of(default_instance(entity, terms.modelled), "value") is True:
        raise ModelledAsReal(
            f"{entity.id} says its values are modelled (modelled: true) but publication {pub.id} says "
            "modelled: false; set modelled: true and say so in the notes"
        )


def _location(entity: Entity) -> Any:
    return part_of(default_instance(entity, LOCATION), "value")


def _attribute(pub: Publication, terms: Terms, entity: Entity, column: Column) -> Any:
    assert column.attr is not None
    value = part_of(default_instance(entity, terms.iri(column.attr)), column.part)
    if column.type == "geometry":
        value = round_geometry(value, pub.privacy.round_coordinates)
    elif column.part == "value":
        value = without_keys(value, pub.privacy.dropped_keys(column.attr))
    return convert(value, column.type)


def _static(pub: Publication, terms: Terms, entity: Entity, column: Column) -> Any:
    """A column of the current state: the entity id or an attribute."""
    if column.source == "entity":
        return entity.id
    return _attribute(pub, terms, entity, column)


def current_rows(pub: Publication, terms: Terms, reader: HubReader, spool: Spool) -> None:
    """One row per entity of the source, as it is now."""
    attrs = [*terms.iris.values(), LOCATION, terms.modelled]
    read = 0
    for page in reader.pages(terms, list(dict.fromkeys(attrs)), CURRENT_PAGE):
        for entity in page:
            _check_modelled(pub, terms, entity)
            spool.add({c.id: _static(pub, terms, entity, c) for c in pub.columns})
            spool.extent.add_geometry(_location(entity))
        read = _progress(pub, read, len(page), spool)


def computed(value: Any) -> Any:
    """A computed number without the noise of binary floating point (12 significant digits: 15.299999999999992
    is 15.3); other values as they are."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.12g}")
    return value


def _progress(pub: Publication, read: int, more: int, spool: Spool) -> int:
    """Log a progress line each time another PROGRESS_EVERY entities are read; the entities read so far."""
    if (read + more) // PROGRESS_EVERY > read // PROGRESS_EVERY:
        log.info("publication %s: %d entities read, %d rows so far", pub.id, read + more, spool.count)
    return read + more


def _methods(pub: Publication, table: dict[str, tuple[str, ...]]) -> tuple[list[str], list[str]]:
    """The attributes aggregated (compact) and the hub methods needed."""
    attrs: list[str] = []
    methods: list[str] = []
    for c in pub.columns:
        if c.aggregate is None or c.attr is None:
            continue
        attrs.append(c.attr)
        methods.extend(table[c.aggregate])
    return list(dict.fromkeys(attrs)), list(dict.fromkeys(methods))


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def history_rows(
    pub: Publication, terms: Terms, reader: HubReader, spool: Spool, start: datetime, end: datetime
) -> None:
    """The aggregates of the history in ``[start, end)`` per period: per entity, or per group (privacy)."""
    assert pub.history is not None
    grouped = pub.privacy.aggregate is not None
    attrs, methods = _methods(pub, GROUP_METHODS if grouped else ENTITY_METHODS)
    iris = [terms.iri(a) for a in attrs]
    step = pub.history.period // timedelta(microseconds=1)
    groups: dict[tuple[str, int], _Group] = defaultdict(_Group)
    read = 0
    for page in reader.pages(terms, None, HISTORY_PAGE):
        for entity in page:
            _check_modelled(pub, terms, entity)
            if not grouped:  # where single entities are now would say more than the delayed groups do
                spool.extent.add_geometry(_location(entity))
        aggregates = reader.aggregates([e.id for e in page], iris, methods, start, end, step)
        if grouped:
            _collect(pub, terms, page, aggregates, groups)
        else:
            _entity_rows(pub, terms, page, aggregates, step, spool)
        read = _progress(pub, read, len(page), spool)
    if grouped:
        _group_rows(pub, groups, step, spool)


def _entity_rows(
    pub: Publication, terms: Terms, page: list[Entity], aggregates: Aggregates, step: int, spool: Spool
) -> None:
    names = {terms.iri(c.attr): c.attr for c in pub.columns if c.aggregate is not None and c.attr is not None}
    for entity in page:
        periods: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)  # period start -> attr -> method values
        for iri, attr in names.items():
            series = aggregates.get((entity.id, iri, ""))
            if series is None:
                continue
            for i, begins in enumerate(series.starts):
                periods[begins][attr] = {method: column[i] for method, column in series.values.items()}
        if not periods:
            continue
        statics = {
            c.id: _static(pub, terms, entity, c)
            for c in pub.columns
            if c.aggregate is None and c.source in ("entity", "attribute")
        }
        for begins in sorted(periods):
            row: dict[str, Any] = {}
            for c in pub.columns:
                if c.source == "period_start":
                    row[c.id] = iso(_moment(begins))
                elif c.source == "period_end":
                    row[c.id] = iso(_moment(begins + step))
                elif c.aggregate is not None and c.attr is not None:
                    method = ENTITY_METHODS[c.aggregate][0]
                    row[c.id] = convert(computed(periods[begins].get(c.attr, {}).get(method)), c.type)
                else:
                    row[c.id] = statics[c.id]
            spool.add_period_row(row, _moment(begins + step))


@dataclass
class _Measure:
    count: int = 0
    total: float = 0.0
    low: float | None = None
    high: float | None = None


@dataclass
class _Group:
    entities: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # attr -> entity ids
    measures: dict[str, _Measure] = field(default_factory=lambda: defaultdict(_Measure))

    def reporting(self) -> int:
        """How many entities reported any aggregated attribute in the period."""
        return len(set().union(*self.entities.values())) if self.entities else 0


def _collect(
    pub: Publication, terms: Terms, page: list[Entity], aggregates: Aggregates, groups: dict[tuple[str, int], _Group]
) -> None:
    rule = pub.privacy.aggregate
    assert rule is not None
    by = terms.iri(rule.by)
    attrs = {c.attr for c in pub.columns if c.aggregate is not None and c.attr is not None}
    for entity in page:
        key = convert(part_of(default_instance(entity, by), "value"), "text")
        if key is None:
            continue  # an entity outside every group is never published on its own
        for attr in attrs:
            series = aggregates.get((entity.id, terms.iri(attr), ""))
            if series is None:
                continue
            for i, begins in enumerate(series.starts):
                group = groups[(key, begins)]
                group.entities[attr].add(entity.id)
                m = group.measures[attr]
                values = series.values
                m.count += int(values.get("totalCount", [0] * len(series))[i] or 0)
                if "sum" in values and values["sum"][i] is not None:
                    m.total += float(values["sum"][i])
                for method, better in (("min", min), ("max", max)):
                    found = values.get(method, [None] * len(series))[i]
                    if found is None:
                        continue
                    current = m.low if method == "min" else m.high
                    chosen = float(found) if current is None else better(current, float(found))
                    if method == "min":
                        m.low = chosen
                    else:
                        m.high = chosen


def _group_rows(pub: Publication, groups: dict[tuple[str, int], _Group], step: int, spool: Spool) -> None:
    rule = pub.privacy.aggregate
    assert rule is not None
    for key, begins in sorted(groups):
        group = groups[(key, begins)]
        if group.reporting() < rule.min_group_size:
            continue  # too few entities: the row could single one out
        row: dict[str, Any] = {}
        for c in pub.columns:
            if c.source == "group":
                row[c.id] = key
            elif c.source == "period_start":
                row[c.id] = iso(_moment(begins))
            elif c.source == "period_end":
                row[c.id] = iso(_moment(begins + step))
            elif c.aggregate is not None and c.attr is not None:
                row[c.id] = convert(computed(_group_value(group, c.attr, c.aggregate)), c.type)
        spool.add_period_row(row, _moment(begins + step))


def _group_value(group: _Group, attr: str, aggregate: str) -> Any:
    m = group.measures.get(attr)
    if aggregate == "entities":
        return len(group.entities.get(attr, ()))
    if m is None:
        return None
    if aggregate == "count":
        return m.count
    if aggregate == "sum":
        return m.total
    if aggregate == "avg":
        return m.total / m.count if m.count else None
    return m.low if aggregate == "min" else m.high
