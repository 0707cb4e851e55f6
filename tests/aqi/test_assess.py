"""assess(): the IoT agent's entry point."""

from __future__ import annotations

import math

import pytest

from smartcity.aqi import assess, us_daily, us_hourly, vn_daily, vn_hourly

# 24 hours, most recent first (index 0 = the hour that has just ended).
PM25 = [20.6, 19.6, 22.4, 20.3, 16.5, 19.0, 16.5, 19.5, 23.5, 20.5, 24.7, 26.9] + [30.0] * 12
O3 = [136.1] * 4 + [90.0] * 20
NO2 = [118.7] + [60.0] * 23


def station() -> dict[str, list[float | None]]:
    return {"pm25": list(PM25), "o3": list(O3), "no2": list(NO2)}


def test_hourly_only_by_default() -> None:
    results = assess(station())
    assert [(r.scale, r.period) for r in results] == [("VN_AQI", "hourly"), ("US_EPA_AQI", "hourly")]
    assert results[0] == vn_hourly(station())
    assert results[1] == us_hourly(station())
    assert dict(results[0].sub_indices) == {"pm25": 41, "o3": 43, "no2": 59}


def test_daily_results_when_the_day_closes() -> None:
    results = assess(station(), closes_day=True)
    assert [(r.scale, r.period) for r in results] == [
        ("VN_AQI", "hourly"),
        ("US_EPA_AQI", "hourly"),
        ("VN_AQI", "daily"),
        ("US_EPA_AQI", "daily"),
    ]
    oldest_first = {k: v[::-1] for k, v in station().items()}
    assert results[2] == vn_daily(oldest_first)
    assert results[3] == us_daily(oldest_first)
    assert results[2].concentrations["pm25"] == pytest.approx((sum(PM25[:12]) + 360) / 24)


def test_short_sequences_are_padded_with_missing_hours() -> None:
    hours = {"pm25": [30.0] * 20}
    results = assess(hours, closes_day=True)
    assert [(r.scale, r.period) for r in results] == [
        ("VN_AQI", "hourly"),
        ("US_EPA_AQI", "hourly"),
        ("VN_AQI", "daily"),
        ("US_EPA_AQI", "daily"),
    ]
    # Only 17 hours: no daily result.
    assert len(assess({"pm25": [30.0] * 17}, closes_day=True)) == 2


def test_no_pm_gives_us_only() -> None:
    results = assess({"o3": [100.0] * 8, "no2": [50.0]})
    assert [r.scale for r in results] == ["US_EPA_AQI"]


def test_nothing_computable() -> None:
    assert assess({}) == []
    assert assess({"pm25": [None, None, 12.0]}, closes_day=True) == []


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"pm25": [10.0] * 25}, "at most 24"),
        ({"pm2.5": [10.0]}, "unknown parameter"),
        ({"temperature": [30.0]}, "unknown parameter"),
        ({"pm25": [10.0, -3.0]}, r"assess\['pm25'\]\[1\]: negative"),
        ({"pm25": [math.nan]}, "finite"),
        ({"pm25": [math.inf]}, "finite"),
        ({"pm25": 10.0}, "sequence"),
        ({"pm25": ["10"]}, "number"),
    ],
)
def test_bad_input(hours: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        assess(hours)  # type: ignore[arg-type]
