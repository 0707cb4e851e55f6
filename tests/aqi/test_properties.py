"""Property tests (hypothesis): monotonicity, ranges, consistency of results, NowCast bounds, exact rounding."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from smartcity.aqi import (
    US_COLUMNS,
    VN_BREAKPOINTS,
    AqiResult,
    assess,
    epa_nowcast,
    max_rolling_8h,
    nowcast,
    round_half_up,
    us_category,
    us_sub_index,
    vn_category,
    vn_sub_index,
)

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PARAMETERS = ("pm25", "pm10", "o3", "co", "so2", "no2")
TOP = {"pm25": 600.0, "pm10": 700.0, "o3": 1500.0, "co": 180000.0, "so2": 3000.0, "no2": 4500.0}


def concentration(top: float) -> st.SearchStrategy[float]:
    """Floats as sensors give them: arbitrary, and one-decimal readings (which hit breakpoints exactly)."""
    return st.one_of(
        st.floats(min_value=0, max_value=top, allow_nan=False, allow_infinity=False),
        st.integers(min_value=0, max_value=int(top * 10)).map(lambda n: n / 10),
    )


def hour_series(top: float, max_size: int = 24) -> st.SearchStrategy[list[float | None]]:
    return st.lists(st.one_of(st.none(), concentration(top)), max_size=max_size)


@st.composite
def stations(draw: st.DrawFn) -> dict[str, list[float | None]]:
    keys = draw(st.lists(st.sampled_from(PARAMETERS), unique=True))
    return {k: draw(hour_series(TOP[k])) for k in keys}


def check_result(result: AqiResult) -> None:
    assert 0 <= result.value <= 500
    category = vn_category(result.value) if result.scale == "VN_AQI" else us_category(result.value)
    assert result.category == category
    assert category.low <= result.value <= category.high
    assert result.value == max(result.sub_indices.values())
    assert result.sub_indices[result.dominant] == result.value
    assert all(0 <= v <= 500 for v in result.sub_indices.values())


@PROPERTY
@given(st.sampled_from(sorted(VN_BREAKPOINTS)), st.data())
def test_vn_sub_index_is_monotonic_and_in_range(column: str, data: st.DataObject) -> None:
    top = 400.0 if column == "o3_8h" else VN_BREAKPOINTS[column][-1] * 1.2
    a = data.draw(concentration(top))
    b = data.draw(concentration(top))
    lo, hi = min(a, b), max(a, b)
    i_lo, i_hi = vn_sub_index(column, lo), vn_sub_index(column, hi)
    assert 0 <= i_lo <= i_hi <= 500


@PROPERTY
@given(st.sampled_from(sorted(US_COLUMNS)), st.data())
def test_us_sub_index_is_monotonic_and_in_range(column: str, data: st.DataObject) -> None:
    a = data.draw(concentration(5000.0))
    b = data.draw(concentration(5000.0))
    lo, hi = min(a, b), max(a, b)
    i_lo, i_hi = us_sub_index(column, lo), us_sub_index(column, hi)
    assume(i_lo is not None and i_hi is not None)  # outside a column's defined range (O3 8h > 0.2 ppm, ...)
    assert i_lo is not None and i_hi is not None
    assert 0 <= i_lo <= i_hi <= 500


@PROPERTY
@given(stations(), st.booleans())
def test_assess_results_are_consistent(hours: dict[str, list[float | None]], closes_day: bool) -> None:
    results = assess(hours, closes_day=closes_day)
    for result in results:
        check_result(result)
    assert len({(r.scale, r.period) for r in results}) == len(results)
    if not closes_day:
        assert all(r.period == "hourly" for r in results)


@PROPERTY
@given(hour_series(500.0, 12), st.floats(min_value=1.0, max_value=3.0))
def test_scaling_every_hour_up_never_lowers_the_index(values: list[float | None], factor: float) -> None:
    scaled = [None if v is None else v * factor for v in values]
    a, b = assess({"pm25": values}), assess({"pm25": scaled})
    assert [r.scale for r in a] == [r.scale for r in b]
    for before, after in zip(a, b, strict=True):
        assert before.value <= after.value


@PROPERTY
@given(hour_series(1000.0, 12))
def test_nowcast_bounds(values: list[float | None]) -> None:
    vn, epa = nowcast(values), epa_nowcast(values)
    assert (vn is None) == (epa is None)
    if vn is None or epa is None:
        return
    present = [v for v in values if v is not None]
    assert min(present) * (1 - 1e-12) <= epa <= max(present) * (1 + 1e-12)
    assert 0 <= vn <= max(present) * (1 + 1e-12)
    if max(present) > 0 and min(present) / max(present) > 0.5:
        assert abs(vn - epa) <= 1e-9 * max(1.0, epa)  # same formula when w > 1/2
    else:
        assert vn <= epa * (1 + 1e-12)  # the non-normalised VN sum never exceeds the normalised mean


@PROPERTY
@given(hour_series(500.0, 31))
def test_max_rolling_8h_matches_brute_force(values: list[float | None]) -> None:
    best = None
    for end in range(8, len(values) + 1):
        window = [v for v in values[end - 8 : end] if v is not None]
        if len(window) >= 6:
            mean = sum(window) / len(window)
            best = mean if best is None else max(best, mean)
    got = max_rolling_8h(values)
    if best is None:
        assert got is None
    else:
        assert got is not None and abs(got - best) <= 1e-9 * max(1.0, best)


@PROPERTY
@given(st.one_of(st.floats(min_value=0, max_value=1e6, allow_nan=False), st.integers(0, 10**7).map(lambda n: n / 2)))
def test_round_half_up_matches_decimal(x: float) -> None:
    assert round_half_up(x) == int(Decimal(repr(x)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
