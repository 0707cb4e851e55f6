"""Aggregated temporal values (clause 4.5.19): periods and methods computed by the database.

Each period is a bucket ``(t - origin) / period`` of integer microseconds (fixed-length durations), or, for
calendar durations (years, months), the index of the period among bound period starts; the database groups
the rows by bucket and computes, per method asked, the count, number of distinct values, sum, average,
minimum, maximum or sum of squares. Only the *sample* standard deviation is finished here, per period, from the
count, sum and sum of squares the database computed: ``sqrt((sumsq - sum^2 / n) / (n - 1))`` (0 for a single
value); SQLite has no function for it.

``sum``, ``avg``, ``min``, ``max``, ``stddev`` and ``sumsq`` use numbers (booleans count as 0 and 1); a
period without numbers has no entry for them. ``totalCount`` and ``distinctCount`` count every value.
Deletion instances are never aggregated. The origin is ``timeAt`` (``after``, ``between``), else the first
instance; without ``aggrPeriodDuration`` the whole window is one period, reported from its start (or first
instance) to its end (or last instance).

How the database is asked (see :class:`TemporalReader`): the attributes of one entity are aggregated one by one,
each grouped by period alone when it has no datasetId but the default one. PostgreSQL hashes the periods. SQLite
has no hash aggregation and would sort every instance by period, so an attribute with :data:`DENSE` instances per
period or more is read period by period instead (one index range each, in order: nothing to sort), judged on its
first :data:`SAMPLE` instances. Several entities are aggregated by one grouped query. The result is columns
(:class:`Series`), not an object per period: a year of hourly periods would otherwise make the garbage collector
run full collections.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import isodate  # type: ignore[import-untyped]

from smartcity.hub.errors import BadRequestData
from smartcity.hub.model import to_micros
from smartcity.hub.store.dialect import Fragment
from smartcity.hub.temporal.query import MAX_BUCKETS, MAX_CALENDAR_BUCKETS, Period, TemporalQuery, TimeWindow
from smartcity.hub.temporal.reader import Probe, SeriesKey, TemporalReader, calendar_bucket, fixed_bucket

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
#: PostgreSQL's AVG of double precision also sums the squares (for the variance), which takes time and overflows
#: on values beyond about 1e154; its value is the same running sum divided by the count, so this is the same
#: number
POSTGRES_EXPRESSIONS = EXPRESSIONS | {"avg": ("SUM(num) / COUNT(num)",)}


@dataclass(slots=True)
class Bucket:
    """One period: from ``start`` to ``end``, method -> value."""

    start: int
    end: int
    values: dict[str, Any]


@dataclass(slots=True)
class Series:
    """The periods of one attribute series that hold instances, in time order, column by column: period ``i``
    runs from ``starts[i]`` to ``ends[i]``; ``values[method][i]`` is its value (None: the period has none, as a
    numeric method in a period without numbers). Columns of plain values: reading and rendering thousands of
    periods makes no object per period that the garbage collector would have to track."""

    starts: list[int]
    ends: list[int]
    values: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.starts)

    def buckets(self) -> list[Bucket]:
        """The periods one by one."""
        columns = list(self.values.items())
        return [
            Bucket(start, end, {method: column[i] for method, column in columns if column[i] is not None})
            for i, (start, end) in enumerate(zip(self.starts, self.ends, strict=True))
        ]


#: (entity id, attribute, datasetId or '') -> its periods
Aggregates = dict[SeriesKey, Series]
#: SQLite reads a series period by period (an index seek each, see TemporalReader.periods) rather than sorting its
#: instances by period when it has at least this many instances per period: on a year of 5-minute data, a seek
#: costs about as much as sorting 6 instances
DENSE = 8
#: instances of a series its density is judged on, at most
SAMPLE = 512


@dataclass(frozen=True, slots=True)
class _Periods:
    """The periods of an aggregation: fixed (``origin + k * step``), calendar (from ``bounds[k]`` to
    ``bounds[k + 1]``), or ``whole``: the window is one period, from ``origin`` (or the first instance) to
    ``end`` (or the last one)."""

    origin: int | None
    end: int | None
    step: int
    bounds: list[int] | None
    whole: bool = False

    def index(self, t: int) -> int:
        """The period holding instant ``t``."""
        assert self.origin is not None and not self.whole
        if self.bounds is None:
            return (t - self.origin) // self.step
        return bisect.bisect_right(self.bounds, t) - 1

    def count(self) -> int:
        assert self.origin is not None and self.end is not None and not self.whole
        if self.bounds is None:
            return (self.end - self.origin + self.step - 1) // self.step
        return len(self.bounds) - 1

    def bucket(self, window: TimeWindow) -> Fragment | None:
        """SQL of the period of an instance."""
        if self.whole:
            return None
        assert self.origin is not None
        if self.bounds is None:
            return fixed_bucket(window, self.origin, self.step)
        return calendar_bucket(window, self.bounds[:-1])

    def bounds_sql(self) -> tuple[Fragment, Fragment]:
        """SQL of the start and of the end of period ``{k}``."""
        if self.bounds is None:
            return ("(? + {k} * ?)", [self.origin, self.step]), ("(? + ({k} + 1) * ?)", [self.origin, self.step])
        return _pick("{k}", self.bounds, 0), _pick("{k}", self.bounds, 1)

    def spans(self, rows: Sequence[Sequence[Any]], times: int) -> tuple[list[int], list[int]]:
        """The start and the end of the period of each row (its first column; the whole window: columns
        ``times`` and ``times + 1`` hold its first and last instant)."""
        if self.whole:
            starts = [self.origin if self.origin is not None else int(r[times]) for r in rows]
            return starts, [self.end if self.end is not None else int(r[times + 1]) for r in rows]
        if self.bounds is None:
            origin, step = self.origin, self.step
            assert origin is not None
            starts = [origin + r[0] * step for r in rows]
            return starts, [s + step for s in starts]
        bounds = self.bounds
        return [bounds[r[0]] for r in rows], [bounds[r[0] + 1] for r in rows]


def aggregate(reader: TemporalReader, ids: Sequence[str], tq: TemporalQuery) -> Aggregates:
    assert tq.aggregation is not None
    methods = tq.aggregation.methods
    window = tq.window
    out: Aggregates = {}
    if not ids:
        return out
    exprs: list[str] = []
    slots: list[tuple[str, int]] = []  # method -> position of its first expression in a row (after the period)
    for method in methods:
        slots.append((method, 1 + len(exprs)))
        exprs += [
            e.format(value=reader.value_sql()) for e in (POSTGRES_EXPRESSIONS if reader.pg else EXPRESSIONS)[method]
        ]
    numbers_only = not ({"totalCount", "distinctCount"} & set(methods))
    periods = _periods(reader, ids, tq)
    if periods is None:
        return out
    times = 1 + len(exprs)  # the whole window: the first and last instant follow the aggregates
    if periods.whole:
        exprs += [f"MIN({window.column})", f"MAX({window.column})"]
    bucket = periods.bucket(window)

    def add(key: SeriesKey, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            starts, ends = periods.spans(rows, times)
            out[key] = Series(starts, ends, _columns(rows, slots))

    if len(ids) != 1:
        for key, rows in reader.grouped(ids, tq, bucket, exprs, numbers_only=numbers_only, times=periods.whole).items():
            add(key, rows)
        return out
    # one entity: each attribute series on its own (on SQLite, period by period when it is dense)
    for name, datasets in reader.attributes(ids[0], tq.attrs):
        probe = None if datasets or periods.whole else reader.probe(ids[0], name, window, SAMPLE)
        if probe is not None and probe.count == 0:
            continue
        dense = None if probe is None else _dense(probe, periods)
        if dense is not None:
            rows = reader.periods(ids[0], name, window, *dense, periods.bounds_sql(), exprs, numbers_only=numbers_only)
            add((ids[0], name, ""), rows)
            continue
        one = replace(tq, attrs=(name,))
        found = reader.grouped(
            ids, one, bucket, exprs, numbers_only=numbers_only, datasets=datasets, times=periods.whole
        )
        for key, rows in found.items():
            add(key, rows)
    return out


def _periods(reader: TemporalReader, ids: Sequence[str], tq: TemporalQuery) -> _Periods | None:
    """The periods of the aggregation; None when the window holds no instance to aggregate."""
    assert tq.aggregation is not None
    period = tq.aggregation.period
    window = tq.window
    origin = window.time_at if window.timerel in ("after", "between") else None
    end = window.end
    if period is None:
        return _Periods(origin, end, 0, None, whole=True)
    if origin is None or end is None:
        first_last = reader.span(ids, tq)
        if first_last is None:
            return None
        origin = first_last[0] if origin is None else origin
        end = first_last[1] + 1 if end is None else end
    if period.fixed:
        if (end - origin) // period.micros >= MAX_BUCKETS:
            raise BadRequestData(f"aggrPeriodDuration is too short: more than {MAX_BUCKETS} periods in the window")
        return _Periods(origin, end, period.micros, None)
    return _Periods(origin, end, 0, calendar_bounds(origin, end, period))


def _dense(probe: Probe, periods: _Periods) -> tuple[int, int] | None:
    """The first period and the one after the last to read a series period by period, when it has DENSE
    instances per period or more (all of them counted, or its first SAMPLE ones)."""
    first = max(0, periods.index(probe.first))
    stop = min(periods.count(), periods.index(probe.last) + 1)
    if stop <= first:
        return None
    if probe.nth is None:  # the whole series was counted
        return (first, stop) if probe.count >= DENSE * (stop - first) else None
    return (first, stop) if probe.count >= DENSE * (periods.index(probe.nth) - first + 1) else None


def _pick(k: str, values: Sequence[int], offset: int) -> Fragment:
    """SQL of ``values[k + offset]``: a balanced CASE on ``k``."""

    def node(low: int, high: int) -> Fragment:  # k + offset in [low, high)
        if high - low <= 1:
            return "?", [values[low]]
        mid = (low + high) // 2
        left, lp = node(low, mid)
        right, rp = node(mid, high)
        return f"(CASE WHEN {k} < ? THEN {left} ELSE {right} END)", [mid - offset, *lp, *rp]

    return node(offset, len(values))


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


def _columns(rows: Sequence[Sequence[Any]], slots: list[tuple[str, int]]) -> dict[str, list[Any]]:
    """Method -> its value in each row (the standard deviation finished here)."""
    out: dict[str, list[Any]] = {}
    for method, pos in slots:
        if method == "stddev":
            out[method] = [
                None if not r[pos] else _stddev(int(r[pos]), float(r[pos + 1]), float(r[pos + 2])) for r in rows
            ]
        else:
            out[method] = [r[pos] for r in rows]
    return out


def _stddev(n: int, total: float, squares: float) -> float:
    if n < 2:
        return 0.0
    variance = (squares - total * total / n) / (n - 1)
    return math.sqrt(variance) if variance > 0 else 0.0
