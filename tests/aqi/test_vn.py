"""VN_AQI (Decision 1459/QĐ-TCMT): Table 2 sub-indices, the document's worked examples, hourly and daily AQI."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from smartcity.aqi import VN_BREAKPOINTS, vn_daily, vn_hourly, vn_sub_index
from smartcity.aqi.vn import VN_INDEX_BREAKPOINTS

DOC_PM25_C = [20.6, 19.6, 22.4, 20.3, 16.5, 19.0, 16.5, 19.5, 23.5, 20.5, 24.7, 26.9]  # c1 (20:00) first

TABLE_2 = {
    "o3_1h": [0, 160, 200, 300, 400, 800, 1000, 1200],
    "o3_8h": [0, 100, 120, 170, 210, 400],
    "co": [0, 10000, 30000, 45000, 60000, 90000, 120000, 150000],
    "so2": [0, 125, 350, 550, 800, 1600, 2100, 2630],
    "no2": [0, 100, 200, 700, 1200, 2350, 3100, 3850],
    "pm10": [0, 50, 150, 250, 350, 420, 500, 600],
    "pm25": [0, 25, 50, 80, 150, 250, 350, 500],
}


def test_table_2_transcribed() -> None:
    assert {k: list(v) for k, v in VN_BREAKPOINTS.items()} == TABLE_2
    assert VN_INDEX_BREAKPOINTS == (0, 50, 100, 150, 200, 300, 400, 500)


# --- sub-indices ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "bp", "index"),
    [(p, bp, VN_INDEX_BREAKPOINTS[i]) for p, bps in TABLE_2.items() for i, bp in enumerate(bps)],
)
def test_every_breakpoint_gives_its_index(parameter: str, bp: int, index: int) -> None:
    assert vn_sub_index(parameter, bp) == index
    assert vn_sub_index(parameter, float(bp)) == index


@pytest.mark.parametrize(
    ("parameter", "concentration", "expected"),
    [
        ("pm25", 24.9, 50),  # 49.8
        ("pm25", 25, 50),  # Tốt: the top of "good"
        ("pm25", 25.2, 50),  # 50.4
        ("pm25", 25.3, 51),  # 50.6 -> Trung bình
        ("pm25", 50.3, 101),  # 100.5 -> 101
        ("pm10", 50.5, 50),  # 50.25
        ("pm10", 51, 51),  # 50.5 -> 51
        ("no2", 201, 100),  # 100.1
        ("co", 10001, 50),
        ("so2", 125.1, 50),
        ("o3_8h", 100.5, 51),  # 51.25
        ("o3_1h", 160.5, 51),  # 50.625
    ],
)
def test_values_next_to_breakpoints(parameter: str, concentration: float, expected: int) -> None:
    assert vn_sub_index(parameter, concentration) == expected


def test_interpolation_formula_by_hand() -> None:
    # NO2 in 1200..2350 -> 200..300: (300 - 200) / (2350 - 1200) * (1500 - 1200) + 200 = 226.08...
    assert vn_sub_index("no2", 1500) == 226
    # PM10 in 420..500 -> 300..400: 100 / 80 * (460 - 420) + 300 = 350
    assert vn_sub_index("pm10", 460) == 350


# Worked examples of the decision -------------------------------------------------------------------------------


def test_document_hourly_sub_indices() -> None:
    assert vn_sub_index("o3_1h", 136.1) == 43  # 42.53
    assert vn_sub_index("pm25", 20.3) == 41  # 40.6
    # 118.7 -> 50 + 18.7 / 2 = 59.35 -> 59; the document prints 60 (an arithmetic slip): follow the formula.
    assert vn_sub_index("no2", 118.7) == 59


def test_document_daily_sub_indices() -> None:
    assert vn_sub_index("o3_8h", 89.3) == 45  # 44.65
    assert vn_sub_index("o3_1h", 114.6) == 36  # 35.81
    assert vn_sub_index("no2", 130.8) == 65  # 65.4
    assert vn_sub_index("pm25", 55.7) == 110  # exactly 109.5 -> half up


def test_half_up_not_bankers_rounding() -> None:
    # Exactly x.5 with an even x: round() would go down.
    assert vn_sub_index("no2", 121) == 61  # 60.5 -> 61 (round() gives 60)
    assert vn_sub_index("no2", 123) == 62  # 61.5 -> 62
    assert vn_sub_index("pm10", 53) == 52  # 51.5 -> 52


def test_half_up_survives_float_error() -> None:
    # O3 161.2: exactly 50 + 1.2 * 50/40 = 51.5 on paper, but naive floats give 51.49999999999998.
    naive = (100 - 50) / (200 - 160) * (161.2 - 160) + 50
    assert naive < 51.5
    assert math.floor(naive + 0.5) == 51
    assert vn_sub_index("o3_1h", 161.2) == 52


@pytest.mark.parametrize(
    ("parameter", "top"),
    [("o3_1h", 1200), ("co", 150000), ("so2", 2630), ("no2", 3850), ("pm10", 600), ("pm25", 500)],
)
def test_capped_at_500_above_the_last_breakpoint(parameter: str, top: int) -> None:
    assert vn_sub_index(parameter, top) == 500
    assert vn_sub_index(parameter, top + 0.1) == 500
    assert vn_sub_index(parameter, top * 10) == 500
    assert vn_sub_index(parameter, top * 0.99) < 500


def test_o3_8h_has_no_value_above_400() -> None:
    assert vn_sub_index("o3_8h", 400) == 300
    with pytest.raises(ValueError, match="above 400"):
        vn_sub_index("o3_8h", 400.1)


@pytest.mark.parametrize("bad", [-0.001, -5, math.nan, math.inf, -math.inf, "10", None, True])
def test_sub_index_rejects_bad_concentrations(bad: object) -> None:
    with pytest.raises(ValueError, match="pm25"):
        vn_sub_index("pm25", bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("parameter", ["o3", "PM25", "pm2.5", "nh3", ""])
def test_sub_index_rejects_unknown_parameters(parameter: str) -> None:
    with pytest.raises(ValueError, match="unknown VN_AQI parameter"):
        vn_sub_index(parameter, 10)


# --- hourly -----------------------------------------------------------------------------------------------------


def test_document_hourly_example() -> None:
    result = vn_hourly({"pm25": DOC_PM25_C, "o3": [136.1], "no2": [118.7]})
    assert result is not None
    assert (result.scale, result.period) == ("VN_AQI", "hourly")
    assert dict(result.sub_indices) == {"pm25": 41, "o3": 43, "no2": 59}
    assert result.value == 59
    assert result.dominant == "no2"
    assert result.category.name_vi == "Trung bình"
    assert result.concentrations["pm25"] == pytest.approx(20.2657650072368)
    assert result.concentrations["o3_1h"] == 136.1
    assert result.concentrations["no2"] == 118.7


def test_hourly_pm_only_and_pm10_only() -> None:
    pm25 = vn_hourly({"pm25": [30.0, 30.0, 30.0]})
    assert pm25 is not None and pm25.value == 60 and pm25.dominant == "pm25"
    pm10 = vn_hourly({"pm10": [100.0, 100.0]})
    assert pm10 is not None and pm10.value == 75 and dict(pm10.sub_indices) == {"pm10": 75}


def test_hourly_needs_pm() -> None:
    assert vn_hourly({"o3": [300.0], "no2": [500.0]}) is None
    assert vn_hourly({}) is None
    # PM present but without a NowCast (only 1 of the 3 most recent hours).
    assert vn_hourly({"pm25": [30.0, None, None, 30.0], "o3": [300.0]}) is None


def test_hourly_gas_uses_latest_hour_only() -> None:
    result = vn_hourly({"pm25": [10.0, 10.0], "so2": [None, 900.0], "co": [20000.0, 90000.0]})
    assert result is not None
    assert "so2" not in result.sub_indices  # latest SO2 hour missing: no fallback to older hours
    assert result.sub_indices["co"] == 75
    assert result.concentrations["co"] == 20000.0


def test_hourly_uses_first_twelve_values_of_longer_sequences() -> None:
    long = DOC_PM25_C + [500.0] * 12
    a, b = vn_hourly({"pm25": long}), vn_hourly({"pm25": DOC_PM25_C})
    assert a is not None and b is not None
    assert a.sub_indices == b.sub_indices
    assert a.concentrations == b.concentrations


def test_hourly_dominant_tie_prefers_pm() -> None:
    # PM2.5 30 -> 60 and NO2 120 -> 60.
    result = vn_hourly({"no2": [120.0], "pm25": [30.0, 30.0]})
    assert result is not None
    assert result.sub_indices == {"pm25": 60, "no2": 60}
    assert result.dominant == "pm25"


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"pm2.5": [10.0, 10.0]}, "unknown parameter"),
        ({"PM25": [10.0, 10.0]}, "unknown parameter"),
        ({"o3_1h": [10.0]}, "unknown parameter"),
        ({"pm25": [10.0, -1.0]}, r"vn_hourly\['pm25'\]\[1\]: negative"),
        ({"pm25": [math.nan, 1.0]}, "finite"),
        ({"pm25": [10.0, math.inf]}, "finite"),
        ({"pm25": 10.0}, "sequence"),
        ({"pm25": "10,10"}, "sequence"),
    ],
)
def test_hourly_bad_input(hours: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        vn_hourly(hours)  # type: ignore[arg-type]


def test_hourly_rejects_non_mapping() -> None:
    with pytest.raises(ValueError, match="mapping"):
        vn_hourly([("pm25", [1.0, 1.0])])  # type: ignore[arg-type]


# --- daily ------------------------------------------------------------------------------------------------------


def document_day() -> dict[str, list[float | None]]:
    """24 hourly means (01:00 .. 00:00) reproducing the decision's daily example."""
    # O3: one hour at 114.6 and the 8 hours ending with it summing to 714.4 (mean 89.3); elsewhere 20.
    o3: list[float | None] = [20.0] * 24
    o3[8:16] = [85.6, 85.7, 85.7, 85.7, 85.7, 85.7, 85.7, 114.6]
    no2: list[float | None] = [40.0] * 24
    no2[18] = 130.8
    return {"pm25": [55.7] * 24, "o3": o3, "no2": no2}


def test_document_daily_example() -> None:
    day = document_day()
    assert sum(v for v in day["o3"][8:16] if v is not None) / 8 == pytest.approx(89.3)
    result = vn_daily(day)
    assert result is not None
    assert (result.scale, result.period) == ("VN_AQI", "daily")
    # O3: max(AQI 8h 89.3 -> 45, AQI 1h 114.6 -> 36) = 45; NO2 130.8 -> 65; PM2.5 55.7 -> 109.5 -> 110.
    assert dict(result.sub_indices) == {"pm25": 110, "o3": 45, "no2": 65}
    assert result.value == 110
    assert result.dominant == "pm25"
    assert result.category.name_vi == "Kém"
    assert result.concentrations["pm25"] == pytest.approx(55.7)
    assert result.concentrations["o3_8h"] == pytest.approx(89.3)
    assert result.concentrations["o3_1h"] == 114.6
    assert result.concentrations["no2"] == 130.8
    assert result.as_properties()["value"] == 110


def test_daily_pm_mean_is_exact() -> None:
    # 24 x 55.7 summed in floats is not exactly 24 x 55.7; the exact mean still gives 109.5 -> 110.
    result = vn_daily({"pm25": [55.7] * 24})
    assert result is not None and result.value == 110


def test_daily_gases_use_the_maximum_hour() -> None:
    so2 = [10.0] * 24
    so2[5] = 350.0
    co = [1000.0] * 24
    co[20] = 45000.0
    result = vn_daily({"pm10": [20.0] * 24, "so2": so2, "co": co})
    assert result is not None
    assert dict(result.sub_indices) == {"pm10": 20, "so2": 100, "co": 150}
    assert result.dominant == "co"


def test_daily_o3_1h_wins_when_higher() -> None:
    o3 = [20.0] * 24
    o3[12] = 400.0  # 1h -> 200; best 8h mean = (400 + 7 x 20) / 8 = 67.5 -> 34
    result = vn_daily({"pm25": [10.0] * 24, "o3": o3})
    assert result is not None
    assert result.sub_indices["o3"] == 200
    assert result.concentrations["o3_8h"] == pytest.approx(67.5)


def test_daily_o3_8h_above_400_only_1h_counts() -> None:
    # Every hour 450: 8h mean 450 exceeds 400 (no 8h value) -> the 1h index 200 + 50/400 * 100 = 212.5 -> 213.
    result = vn_daily({"pm25": [10.0] * 24, "o3": [450.0] * 24})
    assert result is not None
    assert result.sub_indices["o3"] == 213
    assert result.concentrations["o3_8h"] == 450.0


def test_daily_o3_8h_exactly_400_still_counts() -> None:
    result = vn_daily({"pm25": [10.0] * 24, "o3": [400.0] * 24})
    assert result is not None
    assert result.sub_indices["o3"] == 300  # 8h: 300 > 1h: 200


def test_daily_o3_with_previous_day_hours() -> None:
    # The previous evening was high: with 31 values the windows ending at 01:00 .. 07:00 include those hours.
    previous = [300.0] * 7
    day = [20.0] * 24
    only_day = vn_daily({"pm25": [10.0] * 24, "o3": day})
    with_previous = vn_daily({"pm25": [10.0] * 24, "o3": previous + day})
    assert only_day is not None and with_previous is not None
    assert only_day.concentrations["o3_8h"] == 20.0
    assert with_previous.concentrations["o3_8h"] == pytest.approx((7 * 300 + 20) / 8)
    assert with_previous.concentrations["o3_1h"] == 20.0  # the 1h maximum is over the day only
    # 8h mean 265 -> 200 + (265 - 210) * 100 / 190 = 228.9 -> 229; the day alone: 8h 20 -> 10, 1h 20 -> 6.
    assert with_previous.sub_indices["o3"] == 229
    assert only_day.sub_indices["o3"] == 10


def test_daily_completeness_18_of_24() -> None:
    pm: list[float | None] = [30.0] * 24
    for i in range(6):
        pm[i * 4] = None
    result = vn_daily({"pm25": pm})
    assert result is not None and result.sub_indices["pm25"] == 60
    pm[1] = None
    assert vn_daily({"pm25": pm}) is None  # 17 valid hours: PM2.5 left out, no PM -> no AQI


def test_daily_incomplete_gas_is_left_out() -> None:
    no2: list[float | None] = [None] * 7 + [500.0] * 17
    result = vn_daily({"pm25": [10.0] * 24, "no2": no2})
    assert result is not None
    assert "no2" not in result.sub_indices


def test_daily_mean_over_valid_hours() -> None:
    pm: list[float | None] = [None] * 6 + [40.0] * 9 + [60.0] * 9
    result = vn_daily({"pm25": pm})
    assert result is not None
    assert result.concentrations["pm25"] == 50.0
    assert result.sub_indices["pm25"] == 100


def test_daily_needs_pm() -> None:
    assert vn_daily({"o3": [100.0] * 24}) is None
    assert vn_daily({}) is None


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"pm25": [10.0] * 23}, "expected 24 hourly means, got 23"),
        ({"pm25": [10.0] * 31}, "expected 24 hourly means, got 31"),
        ({"o3": [10.0] * 30, "pm25": [10.0] * 24}, "expected 24 or 31 hourly means, got 30"),
        ({"pm10": [10.0] * 24, "nh3": [1.0] * 24}, "unknown parameter"),
        ({"pm25": [10.0] * 23 + [-1.0]}, r"vn_daily\['pm25'\]\[23\]: negative"),
        ({"pm25": [10.0] * 23 + [math.nan]}, "finite"),
    ],
)
def test_daily_bad_input(hours: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        vn_daily(hours)  # type: ignore[arg-type]


def test_exactness_of_the_daily_mean() -> None:
    # Fractions, not floats: mean of 0.1 and 0.2 repeated is exactly 0.15.
    result = vn_daily({"pm25": [0.1, 0.2] * 12})
    assert result is not None
    assert Fraction(repr(result.concentrations["pm25"])) == Fraction(15, 100)
