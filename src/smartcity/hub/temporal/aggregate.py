"""Aggregated temporal values (clause 4.5.19): periods and methods computed by the database.

Each period is a bucket ``(t - origin) / period`` of integer microseconds (fixed-length durations), or, for
calendar durations (years, months), the index of the period among bound period starts; the database groups
the rows by bucket and computes, per method asked, the count, number of distinct values, sum, average,
minimum, maximum or sum of squares. Only the *sample*
standard deviation is finished here, per period, from the count, sum and sum of squares the database
computed: ``sqrt((sumsq - sum^2 / n) / (n - 1))`` (0 for a single value); SQLite has no function for it.

``sum``, ``avg``, ``min``, ``max``, ``stddev`` and ``sumsq`` use numbers (booleans count as 0 and 1); a
period without numbers has no entry for them. ``totalCount`` and ``distinctCount`` count every value.
Deletion instances are never aggregated. The origin is ``timeAt`` (``after``, ``between``), else the first
instance; without ``aggrPeriodDuration`` the whole window is one period, reported from its start (or first
instance) to its end (or last instance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import isodate  # type: ignore[import-untyped]

from smartcity.hub.errors import BadRequestData
from smartcity.hub.model import to_micros
from smartcity.hub.store.dialect import Fragment
from smartcity.hub.temporal.query import MAX_BUCKETS, MAX_CALENDAR_BUCKETS, Period, TemporalQuery
from smartcity.hub.temporal.reader import TemporalReader, calendar_bucket, fixed_bucket

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: method -> its SQL aggregate ({value}: the instance value; stddev: count, sum and sum of squares)
EXPRESSIONS: dict[str, tuple[str, ...]] = {
    "totalCount": ("COUNT(*)",),
    "distinctCount": ("COUNT(DISTINCT {value})",),
    "sum": ("SUM(num)",),
    "avg": ("AVG(num)",),
    "min": ("MIN(num)",),
    "max": ("MAX(num)",),
    "stddev": ("COUNT(num)", "SUM(num)", "SUM(num * num)"),
    "sumsq": ("SUM(num * num)",),
}


@dataclass(slots=True)
class Bucket:
    start: int
    end: int
    values: dict[str, Any]


#: (entity id, attribute, datasetId or '') -> periods in time order
Aggregates = dict[tuple[str, str, str], list[Bucket]]


def aggregate(reader: TemporalReader, ids: Sequence[str], tq: TemporalQuery) -> Aggregates:
    assert tq.aggregation is not None
    methods = tq.aggregation.methods
    period = tq.aggregation.period
    window = tq.window
    origin = window.time_at if window.timerel in ("after", "between") else None
    end = window.end
    out: Aggregates = {}
    if not ids:
        return out
    exprs: list[str] = []
    slots: list[tuple[str, int]] = []  # method -> position of its first expression in a row
    for method in methods:
        slots.append((method, 4 + len(exprs)))
        exprs += [e.format(value=reader.value_sql()) for e in EXPRESSIONS[method]]
    numbers_only = not ({"totalCount", "distinctCount"} & set(methods))
    if period is None:
        col = window.column
        span = len(exprs) + 4
        rows = reader.grouped(ids, tq, ("0", []), [*exprs, f"MIN({col})", f"MAX({col})"], numbers_only=numbers_only)
        for row in rows:
            start = origin if origin is not None else int(row[span])
            stop = end if end is not None else int(row[span + 1])
            out.setdefault((row[0], row[1], row[2]), []).append(Bucket(start, stop, _values(row, slots)))
        return out
    if origin is None or end is None:
        first_last = reader.span(ids, tq)
        if first_last is None:
            return out
        origin = first_last[0] if origin is None else origin
        end = first_last[1] + 1 if end is None else end
    bucket: Fragment
    if period.fixed:
        if (end - origin) // period.micros >= MAX_BUCKETS:
            raise BadRequestData(f"aggrPeriodDuration is too short: more than {MAX_BUCKETS} periods in the window")
        bucket = fixed_bucket(window, origin, period.micros)
        bounds = None
    else:
        bounds = calendar_bounds(origin, end, period)
        bucket = calendar_bucket(window, bounds[:-1])
    step = period.micros
    series: list[Bucket] | None = None
    key: tuple[str, str, str] | None = None
    for row in reader.grouped(ids, tq, bucket, exprs, numbers_only=numbers_only):
        if key != (row[0], row[1], row[2]):
            key = (row[0], row[1], row[2])
            series = out.setdefault(key, [])
        assert series is not None
        index = int(row[3])
        if bounds is None:
            start = origin + index * step
            series.append(Bucket(start, start + step, _values(row, slots)))
        else:
            series.append(Bucket(bounds[index], bounds[index + 1], _values(row, slots)))
    return out


def calendar_bounds(origin: int, end: int, period: Period) -> list[int]:
    """Period boundaries from ``origin`` until one at or past ``end`` (each one computed from the origin)."""
    base = _EPOCH + timedelta(microseconds=origin)
    bounds = [origin]
    k = 1
    while bounds[-1] < end:
        if k > MAX_CALENDAR_BUCKETS:
            raise BadRequestData(
                f"aggrPeriodDuration is too short: more than {MAX_CALENDAR_BUCKETS} calendar periods in the window"
            )
        moment = base + isodate.Duration(months=period.months * k) + timedelta(microseconds=period.micros * k)
        bounds.append(to_micros(moment))
        k += 1
    return bounds


def _values(row: tuple[Any, ...], slots: list[tuple[str, int]]) -> dict[str, Any]:
    """Method -> value of one period; a numeric method has no value in a period without numbers."""
    out: dict[str, Any] = {}
    for method, pos in slots:
        value = row[pos]
        if value is None:
            continue
        if method == "stddev":
            n = int(value)
            if n == 0:
                continue
            value = _stddev(n, float(row[pos + 1]), float(row[pos + 2]))
        out[method] = value
    return out


def _stddev(n: int, total: float, squares: float) -> float:
    if n < 2:
        return 0.0
    variance = (squares - total * total / n) / (n - 1)
    return math.sqrt(variance) if variance > 0 else 0.0
