"""NowCast (VN and EPA), ozone NowCast and rolling 8-hour means."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from smartcity.aqi import epa_nowcast, epa_ozone_nowcast, max_rolling_8h, nowcast, round_half_up_to

# Decision 1459/QĐ-TCMT worked example: PM2.5 hourly means 09:00 ... 20:00; c1 is 20:00.
DOC_HOURS_OLDEST_FIRST = [26.9, 24.7, 20.5, 23.5, 19.5, 16.5, 19.0, 16.5, 20.3, 22.4, 19.6, 20.6]
DOC_C = DOC_HOURS_OLDEST_FIRST[::-1]


def weighted(values: Sequence[float | None], w: float) -> float:
    """Independent float implementation of the normalised weighted mean, for cross-checking."""
    num = sum(w**i * c for i, c in enumerate(values) if c is not None)
    den = sum(w**i for i, c in enumerate(values) if c is not None)
    return num / den


# --- VN NowCast ------------------------------------------------------------------------------------------------


def test_document_example_nowcast_is_20_3() -> None:
    value = nowcast(DOC_C)
    assert value is not None
    assert round_half_up_to(value, 1) == 20.3
    # w* = 16.5 / 26.9 = 0.613... > 1/2: the normalised weighted mean.
    assert value == pytest.approx(weighted(DOC_C, 16.5 / 26.9), rel=1e-12)
    assert value == pytest.approx(20.2657650072368, rel=1e-12)


def test_w_above_half_is_normalised() -> None:
    c = [30.0, 20.0, 25.0, 28.0]
    assert nowcast(c) == pytest.approx(weighted(c, 20 / 30), rel=1e-12)


def test_w_exactly_half_uses_the_non_normalised_formula() -> None:
    # c_min / c_max = 20 / 40 = 1/2 -> w = 1/2 and NowCast = sum((1/2)^i c_i), i = 1..12.
    c = [40.0] + [20.0] * 11
    expected = 40 / 2 + sum(20 / 2**i for i in range(2, 13))
    assert nowcast(c) == pytest.approx(expected, rel=1e-12)
    assert nowcast(c) == pytest.approx(30 - 20 / 4096, rel=1e-12)


def test_w_below_half_uses_w_half_non_normalised() -> None:
    c = [100.0, 10.0, 10.0]
    assert nowcast(c) == pytest.approx(100 / 2 + 10 / 4 + 10 / 8, rel=1e-12)  # 53.75


def test_w_half_with_missing_hours_is_not_renormalised() -> None:
    c: list[float | None] = [40.0, None, 10.0]
    # VN: 40/2 + 10/8 = 21.25; the EPA renormalises: (40 + 10/4) / (1 + 1/4) = 34.
    assert nowcast(c) == pytest.approx(21.25, rel=1e-12)
    assert epa_nowcast(c) == pytest.approx(34.0, rel=1e-12)


def test_vn_and_epa_agree_when_w_above_half() -> None:
    assert nowcast(DOC_C) == pytest.approx(epa_nowcast(DOC_C), rel=1e-12)


def test_vn_and_epa_differ_slightly_at_w_half_with_all_hours() -> None:
    c = [40.0] + [20.0] * 11
    vn, epa = nowcast(c), epa_nowcast(c)
    assert vn is not None and epa is not None
    assert epa == pytest.approx(weighted(c, 0.5), rel=1e-12)
    assert vn == pytest.approx(epa * (1 - 2**-12), rel=1e-12)  # the non-normalised sum misses 1 - 2^-12
    assert vn < epa


def test_missing_values_get_weight_zero() -> None:
    c: list[float | None] = [20.0, 18.0, None, 16.0, None, None, 15.0, None, None, None, None, 14.0]
    present = [x for x in c if x is not None]
    w = min(present) / max(present)
    assert w > 0.5
    assert nowcast(c) == pytest.approx(weighted(c, w), rel=1e-12)


def test_shorter_sequence_means_older_hours_missing() -> None:
    assert nowcast([20.0, 18.0]) == nowcast([20.0, 18.0] + [None] * 10)


@pytest.mark.parametrize(
    "c",
    [
        [10.0, None, None, 10.0, 10.0],
        [None, None, 10.0, 10.0],
        [None, 10.0, None, 10.0],
        [10.0],
        [],
        [None] * 12,
    ],
)
def test_fewer_than_two_of_the_three_most_recent_hours_give_none(c: list[float | None]) -> None:
    assert nowcast(c) is None
    assert epa_nowcast(c) is None
    assert epa_ozone_nowcast(c[:8]) is None


@pytest.mark.parametrize("c", [[10.0, 10.0], [None, 10.0, 10.0], [10.0, None, 10.0]])
def test_two_of_three_recent_hours_suffice(c: list[float | None]) -> None:
    assert nowcast(c) == pytest.approx(10.0)
    assert epa_nowcast(c) == pytest.approx(10.0)


def test_all_zero_hours_give_zero() -> None:
    assert nowcast([0.0] * 12) == 0
    assert nowcast([0.0, None, 0.0]) == 0
    assert epa_nowcast([0.0] * 12) == 0
    assert epa_ozone_nowcast([0.0] * 8) == 0


def test_constant_hours_give_that_value() -> None:
    assert nowcast([17.3] * 12) == pytest.approx(17.3)
    assert epa_nowcast([17.3] * 12) == pytest.approx(17.3)


def test_nowcast_accepts_at_most_twelve_hours() -> None:
    with pytest.raises(ValueError, match="at most 12"):
        nowcast([1.0] * 13)
    with pytest.raises(ValueError, match="at most 12"):
        epa_nowcast([1.0] * 13)
    with pytest.raises(ValueError, match="at most 8"):
        epa_ozone_nowcast([1.0] * 9)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, "5"])
def test_nowcast_rejects_bad_values(bad: object) -> None:
    with pytest.raises(ValueError, match=r"nowcast\[1\]"):
        nowcast([1.0, bad, 2.0])  # type: ignore[list-item]


# --- EPA NowCasts ----------------------------------------------------------------------------------------------


def test_epa_nowcast_w_star_below_half_is_clamped_to_half_and_normalised() -> None:
    c = [100.0, 10.0, 10.0, 10.0]
    assert epa_nowcast(c) == pytest.approx(weighted(c, 0.5), rel=1e-12)


def test_epa_ozone_nowcast_airnow_example() -> None:
    # AirNow's published ozone example (ppb, 8 hours, one missing): range 80 - 22, w = 1 - 58/80 = 0.275.
    c: list[float | None] = [63, 69, 80, 74, 60, None, 35, 22]
    assert epa_ozone_nowcast(c) == pytest.approx(weighted(c, 0.275), rel=1e-12)
    assert epa_ozone_nowcast(c) == pytest.approx(65.27, abs=0.005)  # numerator 89.925 as in the example


def test_epa_ozone_nowcast_has_no_minimum_weight() -> None:
    c = [100.0, 10.0, 10.0]
    assert epa_ozone_nowcast(c) == pytest.approx(weighted(c, 0.1), rel=1e-12)
    assert epa_ozone_nowcast(c) != pytest.approx(weighted(c, 0.5))


def test_epa_ozone_nowcast_with_weight_zero() -> None:
    # c_min = 0 -> w = 0: only the most recent present hour counts (the limit of the formula).
    assert epa_ozone_nowcast([30.0, 0.0, 50.0]) == 30.0
    assert epa_ozone_nowcast([None, 30.0, 0.0, 50.0]) == 30.0


def test_epa_ozone_nowcast_uses_eight_hours() -> None:
    assert epa_ozone_nowcast([40.0] * 8) == pytest.approx(40.0)


# --- rolling 8-hour means --------------------------------------------------------------------------------------


def brute_force_max_8h(values: Sequence[float | None], min_valid: int = 6) -> float | None:
    best = None
    for end in range(8, len(values) + 1):
        window = [v for v in values[end - 8 : end] if v is not None]
        if len(window) >= min_valid:
            mean = sum(window) / len(window)
            best = mean if best is None or mean > best else best
    return best


# A day of O3 (µg/m³, 01:00 ... 00:00) whose largest 8-hour mean is 74.4, like the decision's 8-hour example:
# the hours ending 10:00 ... 17:00 sum to 595.2.
O3_DAY = [
    21.0, 18.5, 15.2, 14.0, 16.8, 22.3, 35.6, 48.9, 59.9,  # 01:00 - 09:00
    66.0, 72.5, 78.0, 84.2, 86.1, 80.4, 68.0, 60.0,  # 10:00 - 17:00 (sum 595.2)
    41.2, 33.0, 28.4, 25.1, 23.0, 22.2, 21.5,  # 18:00 - 00:00
]  # fmt: skip


def test_max_rolling_8h_example_is_74_4() -> None:
    assert len(O3_DAY) == 24
    assert sum(O3_DAY[9:17]) == pytest.approx(595.2)
    assert max_rolling_8h(O3_DAY) == pytest.approx(74.4, abs=1e-9)
    assert max_rolling_8h(O3_DAY) == pytest.approx(brute_force_max_8h(O3_DAY), rel=1e-12)


def test_max_rolling_8h_matches_brute_force_with_gaps() -> None:
    values: list[float | None] = [float((i * 37) % 91) for i in range(31)]
    for i in (3, 4, 11, 20, 21, 22):
        values[i] = None
    assert max_rolling_8h(values) == pytest.approx(brute_force_max_8h(values), rel=1e-12)
    assert max_rolling_8h(values, min_valid=8) == pytest.approx(brute_force_max_8h(values, 8), rel=1e-12)


def test_max_rolling_8h_window_needs_six_valid_hours() -> None:
    # Only one window; with 2 missing it counts, with 3 missing it does not.
    assert max_rolling_8h([10.0, 20.0, None, None, 30.0, 40.0, 50.0, 60.0]) == pytest.approx(35.0)
    assert max_rolling_8h([10.0, 20.0, None, None, None, 40.0, 50.0, 60.0]) is None
    assert max_rolling_8h([10.0, 20.0, None, None, None, 40.0, 50.0, 60.0], min_valid=5) == pytest.approx(36.0)


def test_max_rolling_8h_needs_eight_hours() -> None:
    assert max_rolling_8h([50.0] * 7) is None
    assert max_rolling_8h([]) is None
    assert max_rolling_8h([50.0] * 8) == 50.0


def test_max_rolling_8h_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="min_valid"):
        max_rolling_8h([1.0] * 8, min_valid=0)
    with pytest.raises(ValueError, match=r"max_rolling_8h\[2\]: negative"):
        max_rolling_8h([1.0, 1.0, -1.0])
