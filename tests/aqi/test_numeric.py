"""Exact arithmetic helpers: half-up rounding, truncation, validation."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from smartcity.aqi import round_half_up, round_half_up_to
from smartcity.aqi._numeric import (
    check_concentration,
    check_keys,
    check_series,
    exact,
    interpolate,
    max_rolling_mean,
    mean_if_enough,
    truncate,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (109.5, 110),  # the decision's own example
        (0.5, 1),
        (1.5, 2),
        (2.5, 3),  # round() gives 2 (banker's rounding)
        (108.5, 109),
        (109.49, 109),
        (109.4999999, 109),
        (0.0, 0),
        (0, 0),
        (500, 500),
        (Fraction(1003, 2), 502),
        (Fraction(-1, 2), 0),  # halves go up, also below zero
    ],
)
def test_round_half_up(value: float | Fraction, expected: int) -> None:
    assert round_half_up(value) == expected


def test_round_half_up_differs_from_builtin_round() -> None:
    assert round(2.5) == 2
    assert round_half_up(2.5) == 3
    assert round(110.5) == 110
    assert round_half_up(110.5) == 111


def test_round_half_up_to_decimals_is_exact() -> None:
    # The classic float trap: 2.675 is stored as 2.67499999..., so round() goes down.
    assert round(2.675, 2) == 2.67
    assert round_half_up_to(2.675, 2) == 2.68
    assert round_half_up_to(20.2657650072368, 1) == 20.3
    assert round_half_up_to(0.05, 1) == 0.1
    assert round_half_up_to(1.25, 1) == 1.3
    assert round_half_up_to(7, 0) == 7.0
    with pytest.raises(ValueError, match="ndigits"):
        round_half_up_to(1.0, -1)


def test_exact_reads_the_shortest_decimal() -> None:
    assert exact(0.1) == Fraction(1, 10)
    assert exact(55.7) == Fraction(557, 10)
    assert exact(1e-05) == Fraction(1, 100000)
    assert exact(1e16) == Fraction(10**16)
    assert exact(3) == Fraction(3)
    with pytest.raises(ValueError, match="finite"):
        exact(math.nan)
    with pytest.raises(ValueError, match="finite"):
        round_half_up(math.inf)


def test_truncate() -> None:
    assert truncate(Fraction("35.49"), 1) == Fraction("35.4")
    assert truncate(Fraction("35.5"), 1) == Fraction("35.5")
    assert truncate(Fraction("0.0709999"), 3) == Fraction("0.070")
    assert truncate(Fraction("54.99"), 0) == 54
    assert truncate(Fraction(0), 3) == 0


def test_interpolate_is_the_aqi_formula() -> None:
    # PM2.5 55.7 on the VN 50..80 -> 100..150 segment: exactly 109.5.
    assert interpolate(Fraction("55.7"), Fraction(50), Fraction(80), 100, 150) == Fraction(219, 2)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-0.1, "negative"),
        (-1, "negative"),
        (math.nan, "finite"),
        (math.inf, "finite"),
        (-math.inf, "finite"),
        ("12", "expected a concentration as a number"),
        (True, "expected a concentration as a number"),
        (None, "expected a concentration as a number"),
        (Fraction(1, 3), "expected a concentration as a number"),
    ],
)
def test_check_concentration_rejects(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        check_concentration("pm25", value)
    assert "pm25" in str(info.value)


def test_check_concentration_accepts_ints_floats_and_zero() -> None:
    assert check_concentration("x", 0) == 0
    assert check_concentration("x", 12.5) == Fraction(25, 2)


def test_check_series() -> None:
    assert check_series("s", [1.5, None, 2]) == [Fraction(3, 2), None, Fraction(2)]
    assert check_series("s", ()) == []
    with pytest.raises(ValueError, match="sequence"):
        check_series("s", "1.0, 2.0")
    with pytest.raises(ValueError, match="sequence"):
        check_series("s", 3.0)
    with pytest.raises(ValueError, match="sequence"):
        check_series("s", {1.0, 2.0})
    with pytest.raises(ValueError, match="at most 2"):
        check_series("s", [1, 2, 3], max_len=2)
    with pytest.raises(ValueError, match="expected 24 or 31"):
        check_series("s", [1] * 25, lengths=(24, 31))
    with pytest.raises(ValueError, match=r"s\[1\]: negative"):
        check_series("s", [1, -2])
    with pytest.raises(ValueError, match=r"s\[0\].*finite"):
        check_series("s", [math.nan])


def test_check_keys() -> None:
    assert check_keys({"a": 1}, ("a", "b"), "f") == {"a": 1}
    with pytest.raises(ValueError, match=r"f: unknown parameter\(s\) 'pm2.5'; expected any of a, b"):
        check_keys({"pm2.5": 1}, ("a", "b"), "f")
    with pytest.raises(ValueError, match="mapping"):
        check_keys([("a", 1)], ("a",), "f")


def test_mean_if_enough() -> None:
    assert mean_if_enough([Fraction(1), None, Fraction(2)], 2) == Fraction(3, 2)
    assert mean_if_enough([Fraction(1), None, None], 2) is None
    assert mean_if_enough([], 0) is None


def test_max_rolling_mean_bounds() -> None:
    with pytest.raises(ValueError, match="min_valid"):
        max_rolling_mean([Fraction(1)] * 8, 8, 0)
    with pytest.raises(ValueError, match="min_valid"):
        max_rolling_mean([Fraction(1)] * 8, 8, 9)
    assert max_rolling_mean([Fraction(1)] * 7, 8, 6) is None
