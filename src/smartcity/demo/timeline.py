"""How the demo's simulated clock runs and how each source's timeline is laid onto it.

The simulated clock starts at the Ho Chi Minh City midnight before ``now - backfill`` (default 24 hours: the
replay begins with yesterday, 24 to 48 hours of data, so at least one whole day and its daily indices) and runs
``speed`` times faster than the wall clock (``--speed 60``: one hour of data per minute) until it reaches the
wall clock; from then on it *is* the wall clock. Every measurement is stamped with the simulated instant it is
replayed at (``observedAt``), so the platform first fills the last day of history as a time-lapse and then shows a
live city, and no observation is ever stamped in the future (the IoT agent refuses those).

Each source is replayed from the week with the most records (so the city starts complete: the first weeks of the
air-quality data have whole stations missing), at the same weekday and local time of day as the simulated clock
(rush hours stay at rush hour, night at night), and loops over the whole weeks it covers from its first full day.
A source value is never moved to another time of day, interpolated or invented: a record is sent when the
simulated clock reaches its (shifted) time, and a gap in the source is a gap in the replay.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from smartcity.demo.sources import HCMC_TZ

T = TypeVar("T")

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def local_naive(moment: datetime) -> datetime:
    """An aware instant as Ho Chi Minh City wall-clock time (naive)."""
    return moment.astimezone(HCMC_TZ).replace(tzinfo=None)


def iso_utc(moment: datetime) -> str:
    """An aware instant as the ISO 8601 UTC text the platform stores (``2025-07-01T03:00:00Z``)."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


@dataclass
class SimClock:
    """The simulated instant: ``start`` when the clock is made, then ``speed`` times the wall clock, never past
    ``live_from`` plus the wall-clock time elapsed (the wall clock itself, when ``live_from`` is the time the clock
    was made); ``live_from`` None lets it run ahead."""

    start: datetime
    speed: float
    live_from: datetime | None = None
    monotonic: Callable[[], float] = time.monotonic
    wall_start: float = field(default=0.0)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("the simulated clock needs a timezone-aware start")
        if self.speed <= 0:
            raise ValueError("the replay speed must be positive")
        self.wall_start = self.monotonic()

    @classmethod
    def from_now(
        cls, speed: float, backfill: timedelta = timedelta(hours=24), *, now: datetime | None = None
    ) -> SimClock:
        """A clock starting at the Ho Chi Minh City midnight before ``now - backfill`` (so whole days are
        replayed: the daily air-quality index needs one) and catching up with the wall clock."""
        wall = now or datetime.now(UTC)
        local = (wall - backfill).astimezone(HCMC_TZ)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        return cls(start, speed, live_from=wall)

    def now(self) -> datetime:
        elapsed = self.monotonic() - self.wall_start
        fast = self.start + timedelta(seconds=elapsed * self.speed)
        if self.live_from is None:
            return fast
        return min(fast, self.live_from + timedelta(seconds=elapsed))

    @property
    def live(self) -> bool:
        """Whether the clock has caught up with the wall clock."""
        elapsed = self.monotonic() - self.wall_start
        return self.live_from is not None and self.start + timedelta(seconds=elapsed * self.speed) >= (
            self.live_from + timedelta(seconds=elapsed)
        )


@dataclass(frozen=True)
class Window:
    """Source records with ``src_from <= time < src_to`` are replayed at ``sim_from + (time - src_from)``."""

    src_from: datetime
    src_to: datetime
    sim_from: datetime

    def sim_time(self, source_time: datetime) -> datetime:
        return self.sim_from + (source_time - self.src_from)


@dataclass(frozen=True)
class SourceLoop:
    """A source's local timeline: its first full day, the length of the loop (whole weeks, or days) and the week
    the replay begins in (``first_week`` weeks after ``day0``)."""

    day0: datetime  # naive local midnight
    period: timedelta
    weekly: bool
    first_week: int = 0

    @classmethod
    def covering(cls, first: datetime, end: datetime) -> SourceLoop:
        """The loop for records from ``first`` up to ``end`` (exclusive), naive local times."""
        day0 = first.replace(hour=0, minute=0, second=0, microsecond=0)
        if day0 < first:
            day0 += DAY
        span = end - day0
        weeks = span // WEEK
        if weeks >= 1:
            return cls(day0, weeks * WEEK, weekly=True)
        days = span // DAY
        if days < 1:
            raise ValueError(f"a source needs at least one full day of records, not {span}")
        return cls(day0, days * DAY, weekly=False)

    def beginning_in_busiest_week(self, times: list[datetime]) -> SourceLoop:
        """The same loop, the replay beginning in the week with the most records (the earliest of equals)."""
        if not self.weekly:
            return self
        weeks = self.period // WEEK
        counts = [0] * weeks
        for moment in times:
            index = (moment - self.day0) // WEEK
            if 0 <= index < weeks:
                counts[index] += 1
        return replace(self, first_week=counts.index(max(counts)))


@dataclass(frozen=True)
class Timeline:
    """One source laid onto the simulated clock that started at ``sim_start``."""

    loop: SourceLoop
    sim_start: datetime

    @property
    def _shift(self) -> timedelta:
        if not self.loop.weekly:
            return timedelta(0)
        weekday = (local_naive(self.sim_start).weekday() - self.loop.day0.weekday()) % 7
        return self.loop.first_week * WEEK + weekday * DAY

    def offset(self, sim: datetime) -> timedelta:
        """Where in the loop the simulated instant ``sim`` falls."""
        local = local_naive(sim)
        midnight0 = local_naive(self.sim_start).replace(hour=0, minute=0, second=0, microsecond=0)
        return (local - midnight0 + self._shift) % self.loop.period

    def source_time(self, sim: datetime) -> datetime:
        """The source's local time replayed at the simulated instant ``sim``."""
        return self.loop.day0 + self.offset(sim)

    def windows(self, sim_from: datetime, sim_to: datetime) -> list[Window]:
        """The source spans replayed while the simulated clock runs over ``[sim_from, sim_to)``."""
        length = sim_to - sim_from
        if length <= timedelta(0):
            return []
        if length > self.loop.period:  # the replay fell a whole loop behind: replay the latest loop only
            sim_from = sim_to - self.loop.period
            length = self.loop.period
        start = self.offset(sim_from)
        first_len = min(length, self.loop.period - start)
        out = [Window(self.loop.day0 + start, self.loop.day0 + start + first_len, sim_from)]
        if first_len < length:
            out.append(Window(self.loop.day0, self.loop.day0 + (length - first_len), sim_from + first_len))
        return out


@dataclass(frozen=True)
class Series(Generic[T]):
    """Records in time order (naive local source times), looked up by half-open time span."""

    times: list[datetime]
    items: list[T]

    @classmethod
    def of(cls, pairs: list[tuple[datetime, T]]) -> Series[T]:
        ordered = sorted(pairs, key=lambda pair: pair[0])
        return cls([t for t, _ in ordered], [item for _, item in ordered])

    def between(self, start: datetime, end: datetime) -> list[tuple[datetime, T]]:
        lo = bisect_left(self.times, start)
        hi = bisect_left(self.times, end)
        return list(zip(self.times[lo:hi], self.items[lo:hi], strict=True))

    def first(self) -> datetime:
        return self.times[0]

    def last(self) -> datetime:
        return self.times[-1]

    def __len__(self) -> int:
        return len(self.times)
