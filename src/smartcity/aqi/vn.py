"""VN_AQI: the Vietnamese air-quality index of Decision 1459/QĐ-TCMT (Vietnam Environment Administration, 12 Nov
2019; replaces Decision 878/QĐ-TCMT of 2011).

All concentrations are in µg/m³, CO included.

Sub-index (AQIx)
----------------
Linear interpolation over Table 2 of the decision (:data:`VN_BREAKPOINTS`)::

    AQIx = (I[i+1] - I[i]) / (BP[i+1] - BP[i]) * (C - BP[i]) + I[i],   BP[i] <= C < BP[i+1]

rounded half up to an integer (the decision's own example: 109.5 -> 110), exactly (no float error).

* A concentration at or above the last breakpoint (the "≥" cell of Table 2, e.g. PM2.5 ≥ 500) gives 500: the scale
  ends there, so the index is capped at 500.
* The O3 8-hour column ends at 400 µg/m³ (300); above that the decision uses the 1-hour index only, so
  :func:`vn_sub_index` raises :class:`ValueError` for ``o3_8h`` above 400.
* Negative, NaN or infinite concentrations raise :class:`ValueError`.

The AQI is the maximum of the rounded sub-indices; at least one of PM2.5 and PM10 must be available.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from smartcity.aqi._numeric import check_concentration, check_keys, check_series, interpolate, round_half_up
from smartcity.aqi.averaging import NOWCAST_HOURS, daily_series, vn_nowcast_exact
from smartcity.aqi.result import AqiResult, Period, build_result

__all__ = ["VN_BREAKPOINTS", "VN_INDEX_BREAKPOINTS", "VN_PARAMETERS", "vn_daily", "vn_hourly", "vn_sub_index"]

VN_PARAMETERS: tuple[str, ...] = ("pm25", "pm10", "o3", "co", "so2", "no2")
"""Input keys of :func:`vn_hourly` and :func:`vn_daily`."""

VN_INDEX_BREAKPOINTS: tuple[int, ...] = (0, 50, 100, 150, 200, 300, 400, 500)
"""I_i of Table 2."""

VN_BREAKPOINTS: Mapping[str, tuple[int, ...]] = {
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 120, 170, 210, 400),
    "co": (0, 10000, 30000, 45000, 60000, 90000, 120000, 150000),
    "so2": (0, 125, 350, 550, 800, 1600, 2100, 2630),
    "no2": (0, 100, 200, 700, 1200, 2350, 3100, 3850),
    "pm10": (0, 50, 150, 250, 350, 420, 500, 600),
    "pm25": (0, 25, 50, 80, 150, 250, 350, 500),
}
"""BP_i of Table 2 of Decision 1459/QĐ-TCMT, µg/m³, per column; entry i goes with ``VN_INDEX_BREAKPOINTS[i]``."""

O3_8H_LIMIT = 400
"""Above this max 8-hour mean (µg/m³) only the O3 1-hour index counts."""


def _vn_exact(column: str, c: Fraction) -> Fraction:
    """Unrounded AQIx of the validated concentration ``c`` over Table 2 column ``column``."""
    bps = VN_BREAKPOINTS[column]
    if c >= bps[-1]:
        if column == "o3_8h" and c > bps[-1]:
            raise ValueError(
                f"o3_8h: {float(c)} µg/m³ is above 400 µg/m³, where Table 2 has no 8-hour value; use the 1-hour index"
            )
        return Fraction(VN_INDEX_BREAKPOINTS[len(bps) - 1])
    i = max(k for k in range(len(bps) - 1) if bps[k] <= c)
    return interpolate(c, Fraction(bps[i]), Fraction(bps[i + 1]), VN_INDEX_BREAKPOINTS[i], VN_INDEX_BREAKPOINTS[i + 1])


def _vn_index(column: str, c: Fraction) -> int:
    return round_half_up(_vn_exact(column, c))


def vn_sub_index(parameter: str, concentration: float) -> int:
    """The rounded VN_AQI sub-index of one averaged concentration (µg/m³).

    ``parameter`` is a Table 2 column: ``o3_1h``, ``o3_8h``, ``co``, ``so2``, ``no2``, ``pm10``, ``pm25``.
    Capped at 500 at or above the last breakpoint; :class:`ValueError` for an unknown parameter, a bad
    concentration, or ``o3_8h`` above 400 µg/m³.
    """
    if parameter not in VN_BREAKPOINTS:
        raise ValueError(f"unknown VN_AQI parameter {parameter!r}; expected any of {', '.join(VN_BREAKPOINTS)}")
    return _vn_index(parameter, check_concentration(parameter, concentration))


def _result(period: Period, used: Mapping[str, Fraction], sub: dict[str, int]) -> AqiResult | None:
    if "pm25" not in sub and "pm10" not in sub:
        return None
    return build_result("VN_AQI", period, sub, {k: float(v) for k, v in used.items()})


def vn_hourly(hours: Mapping[str, Sequence[float | None]]) -> AqiResult | None:
    """Hourly VN_AQI (AQI^h) of one station.

    ``hours`` maps parameters (any of ``pm25``, ``pm10``, ``o3``, ``co``, ``so2``, ``no2``; others raise
    :class:`ValueError`) to their most recent hourly means in µg/m³, **most recent first** (index 0 = the hour that
    just ended); ``None`` marks a missing hour.  Only the first 12 values are used; longer sequences are accepted.

    * PM2.5, PM10: the VN NowCast of the first 12 values (:func:`smartcity.aqi.averaging.nowcast`).
    * O3 (1-hour breakpoints), CO, SO2, NO2: the latest 1-hour mean, i.e. index 0; if it is missing the parameter
      is left out (older hours are not substituted).

    Returns ``None`` when neither PM2.5 nor PM10 has a NowCast.  ``concentrations`` of the result are keyed by
    Table 2 column (``pm25``, ``pm10``, ``o3_1h``, ``co``, ``so2``, ``no2``).
    """
    mapping = check_keys(hours, VN_PARAMETERS, "vn_hourly")
    series = {k: check_series(f"vn_hourly[{k!r}]", v) for k, v in mapping.items()}
    used: dict[str, Fraction] = {}
    sub: dict[str, int] = {}
    for key, values in series.items():
        if key in ("pm25", "pm10"):
            c = vn_nowcast_exact(values[:NOWCAST_HOURS])
        else:
            c = values[0] if values else None
        if c is None:
            continue
        column = "o3_1h" if key == "o3" else key
        used[column] = c
        sub[key] = _vn_index(column, c)
    return _result("hourly", used, sub)


def vn_daily(hours: Mapping[str, Sequence[float | None]]) -> AqiResult | None:
    """Daily VN_AQI (AQI^d) of one station for one day.

    ``hours`` maps parameters (any of ``pm25``, ``pm10``, ``o3``, ``co``, ``so2``, ``no2``) to the day's 24 hourly
    means in µg/m³, **oldest first**: the hours ending 01:00, 02:00, ..., 23:00 and 00:00 of the next day
    (``None`` = missing).  ``o3`` may instead hold 31 values: the previous day's last 7 hours followed by the day's
    24, so that the 24 rolling 8-hour means ending at each hour of the day exist (with 24 values only the 17 windows
    inside the day are used).  Any other length raises :class:`ValueError`.

    * A parameter with fewer than 18 valid hours in the day is left out
      (:data:`~smartcity.aqi.averaging.DAILY_MIN_VALID_HOURS`).
    * PM2.5, PM10: the mean of the valid hours (24-hour mean).
    * SO2, NO2, CO: the day's maximum 1-hour mean.
    * O3: the larger of AQI(max 1-hour mean, 1-hour breakpoints) and AQI(max rolling 8-hour mean, 8-hour
      breakpoints); when the max 8-hour mean exceeds 400 µg/m³ (or no 8-hour window has 6 valid hours) only the
      1-hour index counts.

    Returns ``None`` when neither PM2.5 nor PM10 qualifies.  ``concentrations`` are keyed by Table 2 column
    (``o3_1h`` and ``o3_8h`` for ozone).
    """
    days = daily_series(hours, VN_PARAMETERS, ("o3",), "vn_daily")
    used: dict[str, Fraction] = {}
    sub: dict[str, int] = {}
    for key, day in days.items():
        if key in ("pm25", "pm10"):
            used[key] = day.mean()
            sub[key] = _vn_index(key, used[key])
        elif key == "o3":
            used["o3_1h"] = day.max_1h()
            sub["o3"] = _vn_index("o3_1h", used["o3_1h"])
            max_8h = day.max_8h()
            if max_8h is not None:
                used["o3_8h"] = max_8h
                if max_8h <= O3_8H_LIMIT:
                    sub["o3"] = max(sub["o3"], _vn_index("o3_8h", max_8h))
        else:
            used[key] = day.max_1h()
            sub[key] = _vn_index(key, used[key])
    return _result("daily", used, sub)
