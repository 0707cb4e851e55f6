"""What a temporal query asks for, independent of HTTP: the time window, lastN and the aggregation.

Times are integers, microseconds since the epoch (see :func:`smartcity.hub.model.to_micros`), as the history
stores them. The window follows ETSI GS CIM 009 clause 4.11: ``before`` is ``t < timeAt``, ``after`` is
``t > timeAt`` (strict, so that a client can continue from the end of a partial answer) and ``between`` is
``timeAt <= t < endTimeAt``; without ``timerel`` the whole history is selected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import isodate  # type: ignore[import-untyped]

from smartcity.hub.errors import BadRequestData
from smartcity.hub.model import iso_to_micros

TIMERELS = ("before", "after", "between")
#: timeproperty -> the temporal_instances column holding it
TIME_COLUMNS = {"observedAt": "ts", "createdAt": "created_at", "modifiedAt": "modified_at"}
AGGR_METHODS = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")
#: the most instances of one attribute in one answer (clause 6.3.10: more gives 206 Partial Content)
MAX_INSTANCES_PER_ATTRIBUTE = 1000
#: the most aggregation periods of one attribute in one answer (aggregated values are not paginated)
MAX_BUCKETS = 100_000
#: the most calendar (month/year) periods of one aggregation
MAX_CALENDAR_BUCKETS = 1200


@dataclass(frozen=True)
class TimeWindow:
    timerel: str | None = None
    time_at: int | None = None
    end_time_at: int | None = None
    timeproperty: str = "observedAt"

    @property
    def column(self) -> str:
        return TIME_COLUMNS[self.timeproperty]

    @property
    def start(self) -> int | None:
        """The first instant of the window (inclusive), when it has one."""
        if self.timerel == "between":
            return self.time_at
        if self.timerel == "after" and self.time_at is not None:
            return self.time_at + 1
        return None

    @property
    def end(self) -> int | None:
        """The instant the window stops at (exclusive), when it has one."""
        if self.timerel == "between":
            return self.end_time_at
        if self.timerel == "before":
            return self.time_at
        return None


@dataclass(frozen=True)
class Period:
    """An aggregation period: a fixed number of microseconds, or whole months (years are 12 months) plus that."""

    micros: int
    months: int = 0

    @property
    def fixed(self) -> bool:
        return self.months == 0


@dataclass(frozen=True)
class Aggregation:
    methods: tuple[str, ...]
    period: Period | None = None  # None: the whole window is one period


@dataclass(frozen=True)
class TemporalQuery:
    window: TimeWindow = TimeWindow()
    last_n: int | None = None
    aggregation: Aggregation | None = None
    attrs: tuple[str, ...] | None = None  # expanded attribute IRIs; None: every attribute
    instance_limit: int = MAX_INSTANCES_PER_ATTRIBUTE


def parse_window(
    timerel: str | None, time_at: str | None, end_time_at: str | None, timeproperty: str | None
) -> TimeWindow:
    """The window of the request parameters; BadRequestData names what is wrong."""
    prop = timeproperty if timeproperty is not None else "observedAt"
    if prop not in TIME_COLUMNS:
        raise BadRequestData(f"'timeproperty' must be one of {', '.join(TIME_COLUMNS)}, not {prop!r}")
    if timerel is None:
        if time_at is not None or end_time_at is not None:
            raise BadRequestData("'timeAt' and 'endTimeAt' need 'timerel'")
        return TimeWindow(timeproperty=prop)
    if timerel not in TIMERELS:
        raise BadRequestData(f"'timerel' must be one of {', '.join(TIMERELS)}, not {timerel!r}")
    if time_at is None:
        raise BadRequestData(f"timerel={timerel} needs 'timeAt'")
    start = _instant(time_at, "timeAt")
    end: int | None = None
    if timerel == "between":
        if end_time_at is None:
            raise BadRequestData("timerel=between needs 'endTimeAt'")
        end = _instant(end_time_at, "endTimeAt")
        if end <= start:
            raise BadRequestData("'endTimeAt' must be later than 'timeAt'")
    elif end_time_at is not None:
        raise BadRequestData("'endTimeAt' goes only with timerel=between")
    return TimeWindow(timerel, start, end, prop)


def _instant(text: str, name: str) -> int:
    micros = iso_to_micros(text)
    if micros is None:
        raise BadRequestData(f"'{name}' must be an ISO 8601 date-time with a timezone, not {text!r}")
    return micros


def parse_last_n(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError as exc:
        raise BadRequestData(f"'lastN' must be a positive integer, not {text!r}") from exc
    if value < 1:
        raise BadRequestData(f"'lastN' must be a positive integer, not {value}")
    return value


def parse_methods(text: str | None) -> tuple[str, ...]:
    if text is None or not text.strip():
        raise BadRequestData(f"options=aggregatedValues needs 'aggrMethods' (some of {', '.join(AGGR_METHODS)})")
    methods: list[str] = []
    for item in text.split(","):
        name = item.strip()
        if name not in AGGR_METHODS:
            raise BadRequestData(f"unknown aggregation method {name!r}: use {', '.join(AGGR_METHODS)}")
        if name not in methods:
            methods.append(name)
    return tuple(methods)


def parse_period(text: str | None) -> Period | None:
    """An ISO 8601 duration (``PT1H``, ``P1D``, ``P1M`` ...); years and months are calendar periods."""
    if text is None:
        return None
    try:
        parsed = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError, TypeError) as exc:
        raise BadRequestData(f"'aggrPeriodDuration' is not an ISO 8601 duration: {text!r}") from exc
    months = 0
    delta = parsed
    if isinstance(parsed, isodate.Duration):
        years, month_part = parsed.years, parsed.months
        if years != int(years) or month_part != int(month_part):
            raise BadRequestData("'aggrPeriodDuration' supports whole years and months only")
        months = int(years) * 12 + int(month_part)
        delta = parsed.tdelta
    if not isinstance(delta, timedelta):
        raise BadRequestData(f"'aggrPeriodDuration' is not an ISO 8601 duration: {text!r}")
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if months < 0 or micros < 0 or (months == 0 and micros <= 0):
        raise BadRequestData("'aggrPeriodDuration' must be a positive duration")
    return Period(micros, months)
