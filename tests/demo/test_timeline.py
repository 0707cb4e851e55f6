"""The simulated clock and how a source's timeline is laid onto it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smartcity.demo.replay import ticks
from smartcity.demo.timeline import Series, SimClock, SourceLoop, Timeline, iso_utc, local_naive

HOUR = timedelta(hours=1)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_clock_runs_speed_times_faster_than_the_wall() -> None:
    wall = FakeMonotonic()
    clock = SimClock(datetime(2025, 7, 1, 3, tzinfo=UTC), 60.0, monotonic=wall)
    assert clock.now() == datetime(2025, 7, 1, 3, tzinfo=UTC)
    wall.now += 60  # one minute of wall time
    assert clock.now() == datetime(2025, 7, 1, 4, tzinfo=UTC)  # one hour of data
    assert not clock.live


def test_the_clock_catches_up_with_the_wall_clock_then_runs_live() -> None:
    wall = FakeMonotonic()
    now = datetime(2025, 7, 1, 3, 41, 12, tzinfo=UTC)  # 10:41 in Ho Chi Minh City
    clock = SimClock.from_now(61.0, timedelta(hours=24), now=now)
    clock.monotonic = wall
    clock.wall_start = wall.now
    # the HCMC midnight before a day ago: 30 June 00:00 local, a whole day before today
    assert clock.start == datetime(2025, 6, 29, 17, tzinfo=UTC)
    assert local_naive(clock.start) == datetime(2025, 6, 30)
    assert not clock.live
    # 34 h 41 min 12 s (124,872 s) behind, gaining 60 s per second: live after 2,081.2 s
    wall.now += 2081.0
    assert clock.now() < now + timedelta(seconds=2081) and not clock.live
    wall.now += 1.0
    assert clock.now() == now + timedelta(seconds=2082) and clock.live
    wall.now += 3600
    assert clock.now() == now + timedelta(seconds=2082 + 3600)  # the wall clock from now on: never in the future
    late = SimClock.from_now(60.0, timedelta(hours=24), now=datetime(2025, 7, 1, 16, 59, tzinfo=UTC))
    assert local_naive(late.start) == datetime(2025, 6, 30)  # 23:59 local: still yesterday's midnight
    assert local_naive(SimClock.from_now(60.0, timedelta(0), now=now).start) == datetime(2025, 7, 1)


def test_a_clock_needs_a_positive_speed_and_an_aware_start() -> None:
    with pytest.raises(ValueError, match="positive"):
        SimClock.from_now(0)
    with pytest.raises(ValueError, match="timezone"):
        SimClock(datetime(2025, 7, 1), 1.0)


def test_iso_utc_and_hcmc_local_time() -> None:
    moment = datetime(2025, 7, 1, 3, tzinfo=UTC)
    assert iso_utc(moment) == "2025-07-01T03:00:00Z"
    assert local_naive(moment) == datetime(2025, 7, 1, 10, 0)  # UTC+7


def test_a_loop_starts_at_the_first_full_day_and_covers_whole_weeks() -> None:
    loop = SourceLoop.covering(datetime(2021, 2, 23, 21), datetime(2022, 6, 21, 18))
    assert loop.day0 == datetime(2021, 2, 24) and loop.weekly
    assert loop.period == timedelta(weeks=68)
    week = SourceLoop.covering(datetime(2012, 3, 1), datetime(2012, 3, 8))
    assert week.day0 == datetime(2012, 3, 1) and week.period == timedelta(weeks=1)
    short = SourceLoop.covering(datetime(2020, 1, 1, 5), datetime(2020, 1, 4))
    assert (short.day0, short.period, short.weekly) == (datetime(2020, 1, 2), timedelta(days=2), False)
    with pytest.raises(ValueError, match="full day"):
        SourceLoop.covering(datetime(2020, 1, 1, 5), datetime(2020, 1, 1, 23))


def test_the_replay_keeps_the_weekday_and_the_time_of_day() -> None:
    loop = SourceLoop.covering(datetime(2012, 3, 1), datetime(2012, 3, 8))  # Thursday to Wednesday
    start = datetime(2025, 7, 1, 3, tzinfo=UTC)  # Tuesday 10:00 in Ho Chi Minh City
    line = Timeline(loop, start)
    source = line.source_time(start)
    assert source == datetime(2012, 3, 6, 10, 0) and source.weekday() == 1
    later = start + timedelta(days=3, hours=7, minutes=35)
    assert line.source_time(later).weekday() == local_naive(later).weekday()
    assert line.source_time(later).time() == local_naive(later).time()


def test_windows_split_where_the_source_loops() -> None:
    loop = SourceLoop.covering(datetime(2012, 3, 1), datetime(2012, 3, 8))
    start = datetime(2025, 7, 1, 3, tzinfo=UTC)
    line = Timeline(loop, start)
    windows = line.windows(start, start + 2 * HOUR)
    assert len(windows) == 1 and windows[0].src_from == datetime(2012, 3, 6, 10)
    assert windows[0].sim_time(datetime(2012, 3, 6, 11, 5)) == start + timedelta(hours=1, minutes=5)
    # Wednesday 23:00 local -> Thursday 01:00: the source's last hour then its first one
    wednesday = datetime(2025, 7, 2, 16, tzinfo=UTC)
    split = line.windows(wednesday, wednesday + 2 * HOUR)
    assert [(w.src_from, w.src_to) for w in split] == [
        (datetime(2012, 3, 7, 23), datetime(2012, 3, 8)),
        (datetime(2012, 3, 1), datetime(2012, 3, 1, 1)),
    ]
    assert split[1].sim_from == wednesday + HOUR
    assert line.windows(start, start) == []


def test_series_lookup_is_half_open() -> None:
    series = Series.of([(datetime(2020, 1, 1, h), h) for h in (3, 1, 2)])
    assert series.items == [1, 2, 3]
    assert series.between(datetime(2020, 1, 1, 1), datetime(2020, 1, 1, 3)) == [
        (datetime(2020, 1, 1, 1), 1),
        (datetime(2020, 1, 1, 2), 2),
    ]


def test_ticks_are_whole_multiples_of_the_step() -> None:
    start = datetime(2025, 7, 1, 3, 4, tzinfo=UTC)
    found = ticks(start, start + timedelta(minutes=30), timedelta(minutes=10))
    assert found == [datetime(2025, 7, 1, 3, m, tzinfo=UTC) for m in (10, 20, 30)]
    assert ticks(start, start, timedelta(minutes=10)) == []


def test_the_replay_begins_in_the_busiest_week() -> None:
    loop = SourceLoop.covering(datetime(2020, 1, 1), datetime(2020, 1, 29))  # four weeks from a Wednesday
    times = [datetime(2020, 1, 1, 5)] + [datetime(2020, 1, 15) + timedelta(hours=h) for h in range(10)]
    busy = loop.beginning_in_busiest_week(times)
    assert busy.first_week == 2 and busy.period == loop.period
    start = datetime(2025, 7, 1, 3, tzinfo=UTC)  # Tuesday 10:00 in HCMC
    source = Timeline(busy, start).source_time(start)
    assert source == datetime(2020, 1, 21, 10) and source.weekday() == 1  # the Tuesday of week 2
    # it loops over the whole source: four weeks later the same Tuesday comes round again
    assert Timeline(busy, start).source_time(start + timedelta(weeks=4)) == source
    assert Timeline(busy, start).source_time(start + timedelta(weeks=2)) == datetime(2020, 1, 7, 10)
