"""The privacy rules as pure functions: rounding, dropped keys, the delayed history window, group sizes, coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from smartcity.opendata.publish.build import computed
from smartcity.opendata.publish.definition import GroupRule, History, Privacy
from smartcity.opendata.publish.privacy import (
    bbox,
    floor_period,
    history_window,
    large_enough,
    positions,
    round_geometry,
    without_keys,
)

HOURLY = History(timedelta(hours=1), lookback=timedelta(hours=6), backfill=timedelta(days=2))
NOW = datetime(2026, 3, 2, 10, 20, tzinfo=UTC)


def test_geometries_are_rounded_at_every_depth() -> None:
    polygon = {"type": "MultiPolygon", "coordinates": [[[[106.123456, 10.987654], [106.1, 10.9], [106.2, 10.95]]]]}
    assert round_geometry(polygon, 2)["coordinates"] == [[[[106.12, 10.99], [106.1, 10.9], [106.2, 10.95]]]]
    collection = {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1.23456, 2.5]}]}
    assert round_geometry(collection, 1)["geometries"][0]["coordinates"] == [1.2, 2.5]
    assert round_geometry(polygon, None) is polygon and polygon["coordinates"][0][0][0] == [106.123456, 10.987654]


def test_dropped_keys_leave_structured_values() -> None:
    address = {"streetAddress": "1 Lê Lợi", "addressLocality": "Bến Thành"}
    assert without_keys(address, ("streetAddress",)) == {"addressLocality": "Bến Thành"}
    assert without_keys("text", ("streetAddress",)) == "text"


def test_periods_start_at_midnight_in_ho_chi_minh_city() -> None:
    assert floor_period(NOW, timedelta(hours=1)) == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert floor_period(NOW, timedelta(days=1)) == datetime(2026, 3, 1, 17, tzinfo=UTC)  # 00:00 UTC+7


def test_the_history_window_is_complete_delayed_periods() -> None:
    none = Privacy()
    assert history_window(NOW, HOURLY, none, None) == (datetime(2026, 2, 28, 10, tzinfo=UTC), NOW.replace(minute=0))
    delayed = Privacy(delay=timedelta(hours=1))
    _, end = history_window(NOW, HOURLY, delayed, None)
    assert end == datetime(2026, 3, 2, 9, tzinfo=UTC) and end <= NOW - delayed.delay
    # later runs re-publish the lookback before what was published, never before the backfill
    until = datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert history_window(NOW, HOURLY, none, until) == (until - HOURLY.lookback, NOW.replace(minute=0))
    long_ago = datetime(2026, 1, 1, tzinfo=UTC)
    assert history_window(NOW, HOURLY, none, long_ago)[0] == NOW.replace(minute=0) - HOURLY.backfill
    # the clock went back: nothing after the end is re-published
    assert history_window(NOW, HOURLY, none, NOW + timedelta(days=1))[1] == NOW.replace(minute=0)


@given(
    minutes=st.integers(0, 60 * 24 * 400),
    delay=st.integers(0, 600),
    published=st.none() | st.integers(-60 * 24 * 5, 60 * 24 * 5),
)
def test_a_window_never_reaches_into_the_delay_and_is_whole_periods(
    minutes: int, delay: int, published: int | None
) -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    privacy = Privacy(delay=timedelta(minutes=delay))
    until = None if published is None else now + timedelta(minutes=published)
    start, end = history_window(now, HOURLY, privacy, until)
    assert start <= end <= now - privacy.delay
    assert floor_period(start, HOURLY.period) == start and floor_period(end, HOURLY.period) == end
    assert end - start <= HOURLY.backfill


def test_small_groups_are_left_out() -> None:
    rule = Privacy(aggregate=GroupRule("routeNumber", min_group_size=3))
    assert not large_enough(2, rule) and large_enough(3, rule) and large_enough(1, Privacy())


def test_coverage_is_a_rounded_box() -> None:
    assert bbox(None, 2) is None
    assert bbox((106.7012, 10.7712, 106.7012, 10.7712), 2) == {"type": "Point", "coordinates": [106.7, 10.77]}
    box = bbox((106.6, 10.7, 106.8, 10.9), None)
    assert box is not None and box["coordinates"][0][2] == [106.8, 10.9]


COORD = st.floats(-180, 180, allow_nan=False)


@given(points=st.lists(st.tuples(COORD, COORD), min_size=1, max_size=20), decimals=st.integers(0, 6))
def test_rounding_keeps_the_shape_and_every_position(points: list[tuple[float, float]], decimals: int) -> None:
    geometry: dict[str, Any] = {"type": "LineString", "coordinates": [list(p) for p in points]}
    rounded = round_geometry(geometry, decimals)
    found = positions(rounded)
    assert len(found) == len(points)
    assert all(abs(a - round(b, decimals)) < 1e-9 for (a, _), (b, _) in zip(found, points, strict=True))


def test_computed_numbers_lose_floating_point_noise() -> None:
    assert computed(15.299999999999992) == 15.3 and computed(1e-15 / 3) == float(f"{1e-15 / 3:.12g}")
    assert computed(7) == 7 and computed(None) is None
