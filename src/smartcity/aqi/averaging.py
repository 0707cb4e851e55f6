"""Averaging of hourly means: the VN NowCast, the EPA NowCasts, rolling 8-hour means and daily statistics.

Every function takes hourly means in µg/m³ (``None`` = missing hour), validates them (negative, NaN, infinite or
non-numeric values raise :class:`ValueError`) and computes exactly (see :mod:`smartcity.aqi._numeric`).

NowCast inputs are ordered **most recent first** (``values[0]`` is c1, the hour that just ended).

VN NowCast versus EPA NowCast
-----------------------------
Both use ``w* = c_min / c_max`` over the present values and require at least two of c1, c2, c3.  They differ when
``w* <= 1/2``:

* Decision 1459/QĐ-TCMT sets ``w = 1/2`` and then uses the *non-normalised* sum ``sum((1/2)**i * c_i)``, i = 1..12.
  With all 12 hours present this is the normalised mean times ``1 - 2**-12``, i.e. almost the same; with missing
  hours (weight 0) it is pulled down, since the weights no longer sum to about 1.
* The EPA (AirNow) always divides by the sum of the weights of the present hours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from smartcity.aqi._numeric import HALF, check_keys, check_series, max_rolling_mean

__all__ = [
    "DAILY_MIN_VALID_HOURS",
    "EIGHT_HOUR_MIN_VALID",
    "NOWCAST_HOURS",
    "OZONE_NOWCAST_HOURS",
    "DaySeries",
    "daily_series",
    "epa_nowcast",
    "epa_nowcast_exact",
    "epa_ozone_nowcast",
    "epa_ozone_nowcast_exact",
    "max_rolling_8h",
    "nowcast",
    "vn_nowcast_exact",
]

NOWCAST_HOURS = 12
OZONE_NOWCAST_HOURS = 8

EIGHT_HOUR_MIN_VALID = 6
"""A rolling 8-hour mean needs at least 6 of its 8 hourly means (75 %, the EPA's usual completeness criterion); it
is then the mean of the hours present."""

DAILY_MIN_VALID_HOURS = 18
"""A parameter takes part in a daily index only with at least 18 of the day's 24 hourly means (75 %).  Neither
Decision 1459/QĐ-TCMT nor the README fixes a completeness rule; 75 % is the common practice (EPA 40 CFR 50 App. N;
QCVN data-validity practice).  The 24-hour mean and the daily maxima are then taken over the hours present."""


def _enough_recent(values: Sequence[Fraction | None]) -> bool:
    """At least two of the three most recent hours are present."""
    return sum(v is not None for v in values[:3]) >= 2


def _normalised_weighted_mean(values: Sequence[Fraction | None], w: Fraction) -> Fraction:
    """``sum(w**(i-1) c_i) / sum(w**(i-1))`` over the present hours (i = 1 is the most recent).

    With ``w == 0`` every hour but the most recent present one has weight 0; that hour's value is returned (the
    limit of the formula as w -> 0, also when c1 itself is missing).
    """
    num = Fraction(0)
    den = Fraction(0)
    for i, c in enumerate(values):
        if c is not None:
            weight = w**i
            num += weight * c
            den += weight
    if den == 0:
        return next(c for c in values if c is not None)
    return num / den


def _weight_star(present: Sequence[Fraction]) -> Fraction | None:
    """``c_min / c_max``, or ``None`` when every value is 0 (the NowCast is then 0)."""
    c_max = max(present)
    return None if c_max == 0 else min(present) / c_max


def vn_nowcast_exact(values: Sequence[Fraction | None]) -> Fraction | None:
    """VN NowCast (Decision 1459/QĐ-TCMT) of up to 12 validated hourly means, most recent first."""
    cs = list(values[:NOWCAST_HOURS])
    if not _enough_recent(cs):
        return None
    present = [c for c in cs if c is not None]
    w_star = _weight_star(present)
    if w_star is None:
        return Fraction(0)
    if w_star <= HALF:
        # The decision's formula for w = 1/2: NOT normalised, missing hours simply contribute nothing.
        return sum((HALF ** (i + 1) * c for i, c in enumerate(cs) if c is not None), Fraction(0))
    return _normalised_weighted_mean(cs, w_star)


def _epa_exact(values: Sequence[Fraction | None], hours: int, min_weight: Fraction) -> Fraction | None:
    cs = list(values[:hours])
    if not _enough_recent(cs):
        return None
    present = [c for c in cs if c is not None]
    w_star = _weight_star(present)
    if w_star is None:
        return Fraction(0)
    return _normalised_weighted_mean(cs, max(w_star, min_weight))


def epa_nowcast_exact(values: Sequence[Fraction | None]) -> Fraction | None:
    """EPA PM NowCast (PM2.5 and PM10) of up to 12 validated hourly means, most recent first."""
    return _epa_exact(values, NOWCAST_HOURS, HALF)


def epa_ozone_nowcast_exact(values: Sequence[Fraction | None]) -> Fraction | None:
    """AirNow ozone NowCast (2016 method) of up to 8 validated hourly means, most recent first."""
    return _epa_exact(values, OZONE_NOWCAST_HOURS, Fraction(0))


def _as_float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def nowcast(values: Sequence[float | None]) -> float | None:
    """VN NowCast of PM2.5 or PM10 (Decision 1459/QĐ-TCMT), in µg/m³.

    ``values``: the last 12 hourly means c1..c12, **most recent first**; ``None`` (or a shorter sequence) marks
    missing hours, which get weight 0.  ``w* = c_min / c_max`` over the present values; if ``w* > 1/2`` the result is
    the normalised weighted mean ``sum(w*^(i-1) c_i) / sum(w*^(i-1))``; otherwise ``w = 1/2`` and the result is the
    decision's non-normalised ``sum((1/2)^i c_i)``.  If every present value is 0 the result is 0.

    Returns ``None`` unless at least 2 of c1, c2, c3 are present.  The value is not rounded (the decision's example
    prints 20.3 for 20.2658); the index is computed from the unrounded value.
    """
    return _as_float(vn_nowcast_exact(check_series("nowcast", values, max_len=NOWCAST_HOURS)))


def epa_nowcast(values: Sequence[float | None]) -> float | None:
    """EPA (AirNow) PM NowCast, in µg/m³: like :func:`nowcast` but with ``w = max(w*, 1/2)`` and always the
    normalised weighted mean over the present hours.  ``values``: up to 12 hourly means, most recent first.

    ``None`` unless at least 2 of the 3 most recent hours are present.  Not truncated here: the AQI lookup truncates
    (PM2.5 to 0.1 µg/m³, PM10 to 1 µg/m³).
    """
    return _as_float(epa_nowcast_exact(check_series("epa_nowcast", values, max_len=NOWCAST_HOURS)))


def epa_ozone_nowcast(values: Sequence[float | None]) -> float | None:
    """AirNow ozone NowCast as introduced on 21 Apr 2016: the last 8 hourly means, most recent first;
    ``w = c_min / c_max`` with **no** lower limit; normalised weighted mean; ``None`` unless 2 of the 3 most
    recent hours are present.  It estimates the current 8-hour average (looked up with the 8-hour breakpoints).

    AirNow has since (2019) moved to a site-specific regression trained on two weeks of data, which cannot be
    reproduced from the last hours alone; the 2016 method is the documented, self-contained one.
    """
    return _as_float(epa_ozone_nowcast_exact(check_series("epa_ozone_nowcast", values, max_len=OZONE_NOWCAST_HOURS)))


def max_rolling_8h(values: Sequence[float | None], *, min_valid: int = EIGHT_HOUR_MIN_VALID) -> float | None:
    """The largest rolling 8-hour mean of a series of hourly means (µg/m³), in either time order.

    Every run of 8 consecutive values lying inside ``values`` is one window (24 values give 17 windows, 31 values
    -- the previous day's last 7 hours plus the day -- give the 24 windows ending at each hour of the day).  A window
    counts if at least ``min_valid`` (default 6) of its hours are present; its mean is over those hours.  ``None``
    when no window counts.
    """
    return _as_float(max_rolling_mean(check_series("max_rolling_8h", values), 8, min_valid))


@dataclass(frozen=True)
class DaySeries:
    """One parameter's validated day: ``day`` holds the day's 24 hourly means (01:00 .. 00:00, oldest first);
    ``extended`` is ``day``, possibly preceded by the previous day's last 7 hours (for 8-hour windows)."""

    day: Sequence[Fraction | None]
    extended: Sequence[Fraction | None]

    def mean(self) -> Fraction:
        present = [v for v in self.day if v is not None]
        return sum(present, Fraction(0)) / len(present)

    def max_1h(self) -> Fraction:
        return max(v for v in self.day if v is not None)

    def max_8h(self) -> Fraction | None:
        return max_rolling_mean(self.extended, 8, EIGHT_HOUR_MIN_VALID)


def daily_series(
    hours: object, allowed: Sequence[str], extended_keys: Sequence[str], what: str
) -> dict[str, DaySeries]:
    """Validate a daily input mapping; keep the parameters with at least :data:`DAILY_MIN_VALID_HOURS` valid hours.

    Every sequence must hold exactly 24 hourly means, oldest first; those in ``extended_keys`` may hold 31 (the
    previous day's last 7 hours first).
    """
    mapping: Mapping[str, object] = check_keys(hours, allowed, what)
    result: dict[str, DaySeries] = {}
    for key, values in mapping.items():
        lengths = (24, 31) if key in extended_keys else (24,)
        series = check_series(f"{what}[{key!r}]", values, lengths=lengths)
        day = series[-24:]
        if sum(v is not None for v in day) >= DAILY_MIN_VALID_HOURS:
            result[key] = DaySeries(day, series)
    return result
