"""US EPA AQI with the 2024 PM2.5 breakpoints: table, truncation, conversions, O3/SO2 rules, hourly and daily."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from smartcity.aqi import US_COLUMNS, ugm3_to_ppb, ugm3_to_ppm, us_daily, us_epa, us_hourly, us_sub_index, vn_hourly
from smartcity.aqi._numeric import round_half_up

README_TABLE = {
    "pm25": ["0.0 9.0", "9.1 35.4", "35.5 55.4", "55.5 125.4", "125.5 225.4", "225.5 325.4"],
    "pm10": ["0 54", "55 154", "155 254", "255 354", "355 424", "425 604"],
    "o3_8h": ["0.000 0.054", "0.055 0.070", "0.071 0.085", "0.086 0.105", "0.106 0.200"],
    "o3_1h": ["0.125 0.164", "0.165 0.204", "0.205 0.404", "0.405 0.604"],
    "co_8h": ["0.0 4.4", "4.5 9.4", "9.5 12.4", "12.5 15.4", "15.5 30.4", "30.5 50.4"],
    "so2_1h": ["0 35", "36 75", "76 185", "186 304"],
    "so2_24h": ["305 604", "605 1004"],
    "no2_1h": ["0 53", "54 100", "101 360", "361 649", "650 1249", "1250 2049"],
}
AQI_ROWS = [(0, 50), (51, 100), (101, 150), (151, 200), (201, 300), (301, 500)]
FIRST_ROW = {"o3_1h": 2, "so2_24h": 4}  # the 1h O3 column starts at 101, the 24h SO2 rows at 201


def test_table_transcribed() -> None:
    for parameter, rows in README_TABLE.items():
        first = FIRST_ROW.get(parameter, 0)
        expected = [(Fraction(r.split()[0]), Fraction(r.split()[1]), *AQI_ROWS[first + i]) for i, r in enumerate(rows)]
        got = [(r.c_lo, r.c_hi, r.i_lo, r.i_hi) for r in US_COLUMNS[parameter].rows]
        assert got == expected, parameter


@pytest.mark.parametrize(
    ("parameter", "c", "index"),
    [
        (p, Fraction(row.split()[k]), AQI_ROWS[FIRST_ROW.get(p, 0) + i][k])
        for p, rows in README_TABLE.items()
        for i, row in enumerate(rows)
        for k in (0, 1)
    ],
)
def test_every_row_edge(parameter: str, c: Fraction, index: int) -> None:
    assert us_sub_index(parameter, float(c), native=True) == index


def epa(c: float, c_lo: float, c_hi: float, i_lo: int, i_hi: int) -> int:
    """Independent float version of the EPA formula (fine away from exact halves)."""
    return math.floor((i_hi - i_lo) / (c_hi - c_lo) * (c - c_lo) + i_lo + 0.5)


# --- PM2.5 2024 breakpoints, truncation --------------------------------------------------------------------------


def test_pm25_25_is_vn_50_but_us_81() -> None:
    # (100 - 51) / (35.4 - 9.1) * (25.0 - 9.1) + 51 = 80.62 -> 81.  (The README's "about 79" does not follow from
    # its own 2024 table; the pre-2024 breakpoints 12.1-35.4 would give 78.)
    assert us_sub_index("pm25", 25) == 81
    assert us_sub_index("pm25", 25) == epa(25.0, 9.1, 35.4, 51, 100)
    vn = vn_hourly({"pm25": [25.0, 25.0, 25.0]})
    assert vn is not None and vn.value == 50


@pytest.mark.parametrize(
    ("c", "expected"),
    [
        (9.0, 50),
        (9.09, 50),  # truncated to 9.0
        (9.1, 51),
        (12.0, 56),
        (35.4, 100),
        (35.49, 100),  # truncated to 35.4
        (35.5, 101),
        (55.4, 150),
        (55.49, 150),
        (55.5, 151),
        (125.49, 200),
        (125.5, 201),
        (225.4, 300),
        (225.5, 301),
        (325.4, 500),
        (325.5, 500),  # capped
        (1000.0, 500),
        (0.0, 0),
        (0.09, 0),
    ],
)
def test_pm25_truncation_and_edges(c: float, expected: int) -> None:
    assert us_sub_index("pm25", c) == expected


@pytest.mark.parametrize(("c", "expected"), [(54.9, 50), (55.0, 51), (154.99, 100), (155, 101), (604.9, 500)])
def test_pm10_truncated_to_integers(c: float, expected: int) -> None:
    assert us_sub_index("pm10", c) == expected


@pytest.mark.parametrize(
    ("parameter", "native", "expected"),
    [
        ("o3_8h", 0.0549, 50),  # -> 0.054
        ("o3_8h", 0.055, 51),
        ("o3_8h", 0.0709, 100),  # -> 0.070
        ("o3_8h", 0.2009, 300),  # -> 0.200
        ("o3_8h", 0.201, None),  # the 8-hour table stops at 0.200 ppm
        ("o3_1h", 0.1249, None),  # the 1-hour table starts at 0.125 ppm
        ("o3_1h", 0.125, 101),
        ("o3_1h", 0.6049, 500),
        ("o3_1h", 0.7, 500),  # capped
        ("co_8h", 4.49, 50),  # -> 4.4
        ("co_8h", 4.5, 51),
        ("co_8h", 50.5, 500),
        ("so2_1h", 35.9, 50),  # -> 35
        ("so2_1h", 36, 51),
        ("so2_1h", 304.9, 200),  # -> 304
        ("so2_1h", 305, None),  # 1-hour SO2 does not define indices above 200
        ("so2_24h", 304.9, None),
        ("so2_24h", 305, 201),
        ("so2_24h", 604.9, 300),
        ("so2_24h", 605, 301),
        ("so2_24h", 1005, 500),
        ("no2_1h", 53.9, 50),
        ("no2_1h", 54, 51),
        ("no2_1h", 2049, 500),
        ("no2_1h", 3000, 500),
    ],
)
def test_gas_truncation_and_edges(parameter: str, native: float, expected: int | None) -> None:
    assert us_sub_index(parameter, native, native=True) == expected


def test_formula_inside_rows() -> None:
    assert us_sub_index("no2_1h", 200, native=True) == epa(200, 101, 360, 101, 150)
    assert us_sub_index("co_8h", 7.0, native=True) == epa(7.0, 4.5, 9.4, 51, 100)
    assert us_sub_index("o3_8h", 0.080, native=True) == epa(0.080, 0.071, 0.085, 101, 150)
    assert us_sub_index("pm10", 300) == epa(300, 255, 354, 151, 200)


def test_us_index_half_up() -> None:
    # PM10 80 -> 49/99 * 25 + 51 = 63.37; NO2 ppb 77 -> 49/46 * 23 + 51 = 75.5 exactly -> 76.
    assert Fraction(49, 46) * 23 + 51 == Fraction(151, 2)
    assert us_sub_index("no2_1h", 77, native=True) == 76


# --- conversions ----------------------------------------------------------------------------------------------------


def test_conversions_at_25_degrees() -> None:
    assert ugm3_to_ppb("o3", 100) == pytest.approx(100 * 24.45 / 48.00, rel=1e-15)  # 50.9375
    assert ugm3_to_ppb("o3", 100) == 50.9375
    assert ugm3_to_ppb("no2", 100) == pytest.approx(100 * 24.45 / 46.01, rel=1e-15)
    assert ugm3_to_ppb("so2", 100) == pytest.approx(100 * 24.45 / 64.07, rel=1e-15)
    assert ugm3_to_ppb("co", 1000) == pytest.approx(1000 * 24.45 / 28.01, rel=1e-15)
    assert ugm3_to_ppm("co", 1000) == pytest.approx(24.45 / 28.01, rel=1e-15)  # 0.8729 ppm
    assert ugm3_to_ppm("o3", 137.4) == pytest.approx(0.069988125, rel=1e-12)


def test_conversion_errors() -> None:
    with pytest.raises(ValueError, match="no molar mass"):
        ugm3_to_ppb("pm25", 10)
    with pytest.raises(ValueError, match="negative"):
        ugm3_to_ppm("co", -1)


def test_sub_index_from_ugm3_converts_then_truncates() -> None:
    # O3 137.4 µg/m³ = 0.069988125 ppm -> 0.069 -> 51 + 49/15 * 0.014 = 96.7 -> 97 (8h).
    assert us_sub_index("o3_8h", 137.4) == 97
    # 320 µg/m³ is exactly 0.163 ppm: 1h 101 + 49/39 * 0.038 = 148.7 -> 149.
    assert us_sub_index("o3_1h", 320) == 149
    # NO2 920.2 µg/m³ is exactly 489 ppb: 151 + 49/288 * 128 = 172.8 -> 173.
    assert us_sub_index("no2_1h", 920.2) == 173
    # CO 10000 µg/m³ = 8.729 ppm -> 8.7 -> 51 + 49/4.9 * 4.2 = 93.
    assert us_sub_index("co_8h", 10000) == 93
    # SO2 200 µg/m³ = 76.32 ppb -> 76 -> 101.
    assert us_sub_index("so2_1h", 200) == 101


def test_sub_index_errors() -> None:
    with pytest.raises(ValueError, match="unknown US AQI parameter"):
        us_sub_index("o3", 10)
    with pytest.raises(ValueError, match="negative"):
        us_sub_index("pm25", -0.1)
    with pytest.raises(ValueError, match="finite"):
        us_sub_index("pm25", math.nan)


# --- us_epa: combination rules -------------------------------------------------------------------------------------

PPM_O3 = 48.00 / 24.45 * 1000  # µg/m³ per ppm of O3
PPB_SO2 = 64.07 / 24.45  # µg/m³ per ppb of SO2


def o3_ugm3(ppm: str) -> float:
    """µg/m³ that converts to a bit more than ``ppm`` (so truncation lands on it)."""
    return float(Fraction(ppm) * 1000 * Fraction("48.00") / Fraction("24.45")) * (1 + 1e-9)


def so2_ugm3(ppb: int) -> float:
    return float(Fraction(ppb) * Fraction("64.07") / Fraction("24.45")) * (1 + 1e-9)


def test_helpers_land_on_the_wanted_native_value() -> None:
    assert us_sub_index("o3_8h", o3_ugm3("0.070")) == 100
    assert us_sub_index("so2_1h", so2_ugm3(304)) == 200


def test_o3_8h_normally() -> None:
    r = us_epa({"o3_8h": o3_ugm3("0.060")})
    assert r is not None and r.sub_indices == {"o3": epa(0.060, 0.055, 0.070, 51, 100)}


def test_o3_1h_counts_when_higher_and_defined() -> None:
    r = us_epa({"o3_8h": o3_ugm3("0.060"), "o3_1h": o3_ugm3("0.170")})
    assert r is not None and r.sub_indices["o3"] == epa(0.170, 0.165, 0.204, 151, 200)
    # A 1-hour value below 0.125 ppm has no index: the 8-hour one stands.
    r = us_epa({"o3_8h": o3_ugm3("0.060"), "o3_1h": o3_ugm3("0.120")})
    assert r is not None and r.sub_indices["o3"] == epa(0.060, 0.055, 0.070, 51, 100)
    # The 8-hour index wins when higher.
    r = us_epa({"o3_8h": o3_ugm3("0.150"), "o3_1h": o3_ugm3("0.130")})
    assert r is not None and r.sub_indices["o3"] == epa(0.150, 0.106, 0.200, 201, 300)


def test_o3_above_the_8h_table_uses_1h() -> None:
    r = us_epa({"o3_8h": o3_ugm3("0.250"), "o3_1h": o3_ugm3("0.450")})
    assert r is not None and r.sub_indices["o3"] == epa(0.450, 0.405, 0.604, 301, 500)
    # Without a 1-hour value the 8-hour value is looked up in the 1-hour table (a lower bound).
    r = us_epa({"o3_8h": o3_ugm3("0.250")})
    assert r is not None and r.sub_indices["o3"] == epa(0.250, 0.205, 0.404, 201, 300)


def test_o3_1h_alone() -> None:
    assert us_epa({"o3_1h": o3_ugm3("0.100")}) is None
    r = us_epa({"o3_1h": o3_ugm3("0.200")})
    assert r is not None and r.sub_indices == {"o3": epa(0.200, 0.165, 0.204, 151, 200)}


def test_so2_rules() -> None:
    def so2(values: dict[str, float | None]) -> int | None:
        r = us_epa(values)
        return None if r is None else r.sub_indices.get("so2")

    assert so2({"so2_1h": so2_ugm3(100)}) == epa(100, 76, 185, 101, 150)
    assert so2({"so2_1h": so2_ugm3(304)}) == 200
    assert so2({"so2_1h": so2_ugm3(500)}) == 200  # above 304 ppb, no 24h mean: top of the 1h scale
    assert so2({"so2_1h": so2_ugm3(500), "so2_24h": so2_ugm3(200)}) == 200  # 24h below 305
    assert so2({"so2_1h": so2_ugm3(900), "so2_24h": so2_ugm3(400)}) == epa(400, 305, 604, 201, 300)
    assert so2({"so2_1h": so2_ugm3(100), "so2_24h": so2_ugm3(400)}) == epa(100, 76, 185, 101, 150)  # 1h rules
    assert so2({"so2_24h": so2_ugm3(700)}) == epa(700, 605, 1004, 301, 500)
    assert so2({"so2_24h": so2_ugm3(100)}) is None


def test_us_epa_result_shape() -> None:
    r = us_epa({"pm25": 40.0, "no2_1h": 100.0, "pm10": None}, period="daily")
    assert r is not None
    assert (r.scale, r.period) == ("US_EPA_AQI", "daily")
    assert dict(r.sub_indices) == {"pm25": epa(40.0, 35.5, 55.4, 101, 150), "no2": epa(53, 0, 53, 0, 50)}
    assert r.dominant == "pm25"
    assert r.category.name_en == "Unhealthy for Sensitive Groups"
    assert dict(r.concentrations) == {"pm25": 40.0, "no2_1h": 100.0}


def test_us_epa_empty_is_none() -> None:
    assert us_epa({}) is None
    assert us_epa({"pm25": None}) is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"o3": 10.0}, "unknown parameter"),
        ({"co": 10.0}, "unknown parameter"),
        ({"pm25": -1.0}, "pm25: negative"),
        ({"no2_1h": math.inf}, "finite"),
        ({"pm25": "12"}, "number"),
    ],
)
def test_us_epa_bad_input(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        us_epa(values)  # type: ignore[arg-type]


def test_us_epa_bad_period() -> None:
    with pytest.raises(ValueError, match="period"):
        us_epa({"pm25": 10.0}, period="weekly")  # type: ignore[arg-type]


# --- hourly ---------------------------------------------------------------------------------------------------------


def test_hourly_pm_uses_the_epa_nowcast_not_the_vn_one() -> None:
    hours = {"pm25": [40.0, None, 10.0]}
    us, vn = us_hourly(hours), vn_hourly(hours)
    assert us is not None and vn is not None
    assert us.concentrations["pm25"] == pytest.approx(34.0)  # (40 + 10/4) / (1 + 1/4)
    assert vn.concentrations["pm25"] == pytest.approx(21.25)  # 40/2 + 10/8
    assert us.value == epa(34.0, 9.1, 35.4, 51, 100)  # 97
    assert vn.value == 43  # 21.25 * 2 = 42.5 -> 43


def test_hourly_pm_nowcast_truncated_before_lookup() -> None:
    # A NowCast of exactly 35.45 truncates to 35.4 -> 100; 35.5 -> 101.
    low, high = us_hourly({"pm25": [35.45, 35.45]}), us_hourly({"pm25": [35.5, 35.5]})
    assert low is not None and low.value == 100
    assert high is not None and high.value == 101


def test_hourly_o3_uses_ozone_nowcast_and_latest_hour() -> None:
    o3 = [o3_ugm3("0.180")] + [o3_ugm3("0.040")] * 7
    r = us_hourly({"o3": o3})
    assert r is not None
    # Ozone NowCast in ppm, independently: w = 0.040 / 0.180 (no lower limit), normalised.
    w = 0.040 / 0.180
    nc = (0.180 + sum(0.040 * w**i for i in range(1, 8))) / sum(w**i for i in range(8))
    assert r.concentrations["o3_8h"] / PPM_O3 == pytest.approx(nc, rel=1e-6)
    nc_truncated = math.floor(nc * 1000) / 1000  # 0.148 ppm
    # 8-hour table: 245, above the 1-hour table's 170 for the latest hour (0.180 ppm).
    assert r.sub_indices["o3"] == epa(nc_truncated, 0.106, 0.200, 201, 300)
    assert r.sub_indices["o3"] > epa(0.180, 0.165, 0.204, 151, 200)
    assert r.concentrations["o3_1h"] == o3[0]
    steady = us_hourly({"o3": [o3_ugm3("0.060")] * 8})
    assert steady is not None and steady.sub_indices["o3"] == epa(0.060, 0.055, 0.070, 51, 100)


def test_hourly_o3_above_the_8h_table_uses_the_latest_hour() -> None:
    r = us_hourly({"o3": [o3_ugm3("0.300")] + [o3_ugm3("0.250")] * 7})
    assert r is not None
    assert r.sub_indices["o3"] == epa(0.300, 0.205, 0.404, 201, 300)


def test_hourly_co_needs_six_of_eight_hours() -> None:
    co = [10000.0] * 6 + [None, None]
    r = us_hourly({"co": co})
    assert r is not None and r.sub_indices["co"] == 93
    assert us_hourly({"co": [10000.0] * 5 + [None] * 3}) is None


def test_hourly_so2_24h_mean_from_the_last_24_hours() -> None:
    so2: list[float | None] = [so2_ugm3(700)] * 24
    r = us_hourly({"so2": so2})
    assert r is not None and r.sub_indices["so2"] == epa(700, 605, 1004, 301, 500)
    so2_short: list[float | None] = [so2_ugm3(700)] * 17
    r = us_hourly({"so2": so2_short})
    assert r is not None and r.sub_indices["so2"] == 200  # no 24h mean: capped at the 1h scale's top


def test_hourly_nothing_computable() -> None:
    assert us_hourly({}) is None
    assert us_hourly({"pm25": [None, None, 10.0], "no2": [None]}) is None


def test_hourly_bad_keys() -> None:
    with pytest.raises(ValueError, match="unknown parameter"):
        us_hourly({"pm2_5": [1.0, 1.0]})


# --- daily ----------------------------------------------------------------------------------------------------------


def test_daily_pm_mean_exact_at_a_truncation_edge() -> None:
    # 24 x 9.1 summed in floats gives 9.0999...96, which would truncate to 9.0 (-> 50); exactly it is 9.1 -> 51.
    naive = sum([9.1] * 24) / 24
    assert math.floor(naive * 10) == 90
    r = us_daily({"pm25": [9.1] * 24})
    assert r is not None and r.value == 51


def test_daily_all_parameters() -> None:
    o3 = [o3_ugm3("0.030")] * 24
    o3[10:18] = [o3_ugm3("0.080")] * 8
    co = [2000.0] * 24
    no2 = [50.0] * 24
    no2[3] = 400.0
    so2 = [20.0] * 24
    r = us_daily({"pm25": [20.0] * 24, "pm10": [60.0] * 24, "o3": o3, "co": co, "no2": no2, "so2": so2})
    assert r is not None
    assert r.period == "daily"
    expected_no2 = epa(math.floor(400 * 24.45 / 46.01), 101, 360, 101, 150)
    assert dict(r.sub_indices) == {
        "pm25": epa(20.0, 9.1, 35.4, 51, 100),
        "pm10": epa(60, 55, 154, 51, 100),
        "o3": epa(0.080, 0.071, 0.085, 101, 150),
        "no2": expected_no2,
        "so2": epa(math.floor(20 * 24.45 / 64.07), 0, 35, 0, 50),
        "co": epa(math.floor(2000 * 24.45 / 28.01 / 100) / 10, 0.0, 4.4, 0, 50),
    }
    assert r.dominant == "o3"


def test_daily_co_with_previous_day_hours() -> None:
    co = [20000.0] * 7 + [1000.0] * 24
    r = us_daily({"co": co})
    assert r is not None
    assert r.concentrations["co_8h"] == pytest.approx((7 * 20000 + 1000) / 8)


def test_daily_completeness_and_lengths() -> None:
    pm: list[float | None] = [None] * 7 + [20.0] * 17
    assert us_daily({"pm25": pm}) is None
    with pytest.raises(ValueError, match="expected 24 hourly means"):
        us_daily({"pm25": [20.0] * 12})
    with pytest.raises(ValueError, match="expected 24 or 31 hourly means"):
        us_daily({"co": [20.0] * 25})


def test_round_half_up_is_used() -> None:
    assert round_half_up(Fraction(151, 2)) == 76
