"""Temporal representations of entities (clause 4.5.7-4.5.9, 4.5.19), compacted with the request's @context.

* normalized: each attribute is an array of its instances (``value``/``object``/``languageMap``,
  ``observedAt``, ``datasetId``, sub-attributes, ``instanceId``; ``createdAt``/``modifiedAt`` with sysAttrs;
  ``deletedAt`` on deletion instances);
* ``temporalValues`` (simplified): per attribute instance series, ``{"type": ..., "values": [[v, t], ...]}``
  (``objects`` for relationships, ``languageMaps`` for language properties), t = the timeproperty;
* ``aggregatedValues``: ``{"type": ..., "<method>": [[v, start, end], ...]}`` per method.

An attribute with several datasetIds is an array of such objects, one per datasetId.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from smartcity.hub.model import LANGUAGEPROPERTY, PROPERTY, RELATIONSHIP, micros_to_iso
from smartcity.hub.payload import TermMap, compact_instance
from smartcity.hub.temporal.aggregate import Series
from smartcity.hub.temporal.reader import Record, TemporalEntityHead
from smartcity.hub.temporal.rows import instance_uri
from smartcity.hub.temporal.service import TemporalResult


@dataclass(frozen=True)
class View:
    temporal_values: bool = False
    sys_attrs: bool = False
    pick: frozenset[str] | None = None  # attribute IRIs to show


def render(result: TemporalResult, ctx: TermMap, view: View) -> list[dict[str, Any]]:
    return [_entity(head, result, ctx, view) for head in result.entities]


def _entity(head: TemporalEntityHead, result: TemporalResult, ctx: TermMap, view: View) -> dict[str, Any]:
    out: dict[str, Any] = {"id": head.id}
    types = [ctx.compact_iri(t) for t in head.types]
    out["type"] = types[0] if len(types) == 1 else types
    if view.sys_attrs:
        out["createdAt"] = micros_to_iso(head.created_at)
        out["modifiedAt"] = micros_to_iso(head.modified_at)
    if head.deleted_at is not None:
        out["deletedAt"] = micros_to_iso(head.deleted_at)
    if result.aggregates is not None:
        series: dict[str, dict[str, Series]] = {}
        for (entity_id, name, dataset), periods in result.aggregates.items():
            if entity_id == head.id and (view.pick is None or name in view.pick):
                series.setdefault(name, {})[dataset] = periods
        methods = result.query.aggregation.methods if result.query.aggregation else ()
        for name, by_dataset in series.items():
            items = [_aggregated(dataset, periods, methods) for dataset, periods in by_dataset.items()]
            out[ctx.compact_iri(name)] = items[0] if len(items) == 1 else items
        return out
    for name, records in head.attrs.items():
        if view.pick is not None and name not in view.pick:
            continue
        key = ctx.compact_iri(name)
        if view.temporal_values:
            items = _simplified(records, result.query.window.timeproperty)
            out[key] = items[0] if len(items) == 1 else items
        else:
            out[key] = [_instance(r, ctx, view.sys_attrs) for r in records]
    return out


def _instance(record: Record, ctx: TermMap, sys_attrs: bool) -> dict[str, Any]:
    out = compact_instance(record.doc, ctx, sys_attrs=False)
    if "deletedAt" in record.doc:
        out["deletedAt"] = record.doc["deletedAt"]
    out["instanceId"] = instance_uri(record.row_id)
    if sys_attrs:
        out["createdAt"] = micros_to_iso(record.created_at)
        out["modifiedAt"] = micros_to_iso(record.modified_at)
    return out


def _time(record: Record, timeproperty: str) -> str:
    if timeproperty == "observedAt":
        for key in ("observedAt", "deletedAt"):
            text = record.doc.get(key)
            if isinstance(text, str):
                return text
    return micros_to_iso(record.time)


def _by_dataset(records: Iterable[Record]) -> dict[str, list[Record]]:
    groups: dict[str, list[Record]] = {}
    for record in records:
        groups.setdefault(record.dataset_id, []).append(record)
    return groups


def _simplified(records: list[Record], timeproperty: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for dataset, group in _by_dataset(records).items():
        kind = str(group[-1].doc.get("type", PROPERTY))
        member, key = {
            RELATIONSHIP: ("objects", "object"),
            LANGUAGEPROPERTY: ("languageMaps", "languageMap"),
        }.get(kind, ("values", "value"))
        item: dict[str, Any] = {"type": kind, member: [[r.doc.get(key), _time(r, timeproperty)] for r in group]}
        if dataset:
            item["datasetId"] = dataset
        items.append(item)
    return items


def _aggregated(dataset: str, series: Series, methods: Iterable[str]) -> dict[str, Any]:
    """The aggregated values of one series: per method, ``[value, start, end]`` of each period that has a value
    (tuples, which orjson writes as arrays: a tuple of plain values soon leaves the garbage collector's care, a
    list would not, and thousands of them would make it run full collections)."""
    item: dict[str, Any] = {"type": PROPERTY}
    if dataset:
        item["datasetId"] = dataset
    starts = _isos(series.starts)
    if series.ends[:-1] == series.starts[1:]:  # consecutive periods: each one ends where the next starts
        ends = starts[1:] + _isos(series.ends[-1:])
    else:
        ends = _isos(series.ends)
    for method in methods:
        column = series.values[method]
        periods = zip(column, starts, ends, strict=True)
        item[method] = [p for p in periods if p[0] is not None] if None in column else list(periods)
    return item


_NAIVE_EPOCH = datetime(1970, 1, 1)
_DAY = 86_400_000_000


def _isos(micros: Iterable[int]) -> list[str]:
    """The text of each instant, as :func:`micros_to_iso` writes it, much faster for the bounds of periods, which
    come in time order: the date is made once a day, the time of day once."""
    out: list[str] = []
    low = high = 0
    date = ""
    for moment in micros:
        if not low <= moment < high:
            day = moment // _DAY
            low = day * _DAY
            high = low + _DAY
            date = _date(day)
        out.append(date + _TIMES[moment - low])
    return out


@lru_cache(maxsize=8192)
def _date(day: int) -> str:
    return (_NAIVE_EPOCH + timedelta(days=day)).date().isoformat()


class _TimesOfDay(dict[int, str]):
    """Microseconds into a day -> ``THH:MM:SS.ffffffZ``, made on first use (periods start at few times of day)."""

    def __missing__(self, micros: int) -> str:
        seconds, fraction = divmod(micros, 1_000_000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        text = f"T{hour:02d}:{minute:02d}:{second:02d}.{fraction:06d}Z"
        if len(self) < 8192:
            self[micros] = text
        return text


_TIMES = _TimesOfDay()
