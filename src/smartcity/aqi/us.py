"""US EPA AQI (40 CFR Part 58, Appendix G) with the PM2.5 breakpoints revised in 2024 (89 FR 16202, in force
6 May 2024).

Inputs are in µg/m³ (CO too) and converted at 25 °C and 1 atm: ``ppb = µg/m³ * 24.45 / M`` with M = 48.00 (O3),
46.01 (NO2), 64.07 (SO2), 28.01 (CO); ``ppm = ppb / 1000``.  Each concentration is then truncated to the
resolution of its column (O3 to 0.001 ppm, PM2.5 and CO to 0.1, PM10, SO2 and NO2 to integers), the row with
``BP_lo <= C <= BP_hi`` is found and ``(I_hi - I_lo) / (BP_hi - BP_lo) * (C - BP_lo) + I_lo`` is rounded half up to
an integer.  All of it exactly (see :mod:`smartcity.aqi._numeric`).

Decisions (where the EPA rules need more than the table)
--------------------------------------------------------
* Above the last row (e.g. PM2.5 > 325.4 µg/m³) the index is capped at 500, the top of the scale.
* O3: the 8-hour breakpoints are the normal ones.  The 8-hour table stops at 0.200 ppm (AQI 300): above it the
  1-hour breakpoints are used (EPA: "AQI values of 301 or higher are calculated with 1-hour O3").  When a 1-hour
  value of at least 0.125 ppm (where the 1-hour table starts) is also given, the larger of the two indices is
  reported (EPA Appendix G, footnote 1: the more precautionary 1-hour index "may be calculated, and the maximum of
  the two values reported").  If the 8-hour value exceeds 0.200 ppm and no 1-hour value is given, the 8-hour value
  itself is looked up in the 1-hour table: the hours of that window include a 1-hour mean at least that high, so
  this is a lower bound.
* SO2: the 1-hour breakpoints stop at 304 ppb (AQI 200); above, the EPA uses 24-hour averages.  With a 1-hour value
  above 304 ppb the 24-hour mean (``so2_24h``) is looked up in the 24-hour rows (305-604 -> 201-300,
  605-1004 -> 301-500) if it is given and at least 305 ppb; otherwise the index is 200 (the top of the 1-hour scale,
  which the 1-hour value has reached).  A 24-hour mean alone only gives an index from 305 ppb on.
* CO: the table is for 8-hour means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from smartcity.aqi._numeric import (
    check_concentration,
    check_keys,
    check_series,
    interpolate,
    mean_if_enough,
    round_half_up,
    truncate,
)
from smartcity.aqi.averaging import (
    DAILY_MIN_VALID_HOURS,
    EIGHT_HOUR_MIN_VALID,
    NOWCAST_HOURS,
    OZONE_NOWCAST_HOURS,
    daily_series,
    epa_nowcast_exact,
    epa_ozone_nowcast_exact,
)
from smartcity.aqi.result import AqiResult, Period, build_result

__all__ = [
    "MOLAR_MASSES",
    "MOLAR_VOLUME",
    "US_COLUMNS",
    "US_EPA_INPUTS",
    "US_PARAMETERS",
    "UsColumn",
    "ugm3_to_ppb",
    "ugm3_to_ppm",
    "us_daily",
    "us_epa",
    "us_hourly",
    "us_sub_index",
]

MOLAR_VOLUME = Fraction("24.45")
"""Litres per mole of an ideal gas at 25 °C and 1 atm."""

MOLAR_MASSES: Mapping[str, Fraction] = {
    "o3": Fraction("48.00"),
    "no2": Fraction("46.01"),
    "so2": Fraction("64.07"),
    "co": Fraction("28.01"),
}
"""g/mol."""

US_PARAMETERS: tuple[str, ...] = ("pm25", "pm10", "o3", "co", "so2", "no2")
"""Input keys of :func:`us_hourly` and :func:`us_daily` (hourly means in µg/m³)."""


@dataclass(frozen=True)
class _Row:
    c_lo: Fraction
    c_hi: Fraction
    i_lo: int
    i_hi: int


@dataclass(frozen=True)
class UsColumn:
    """One column of the EPA table: its pollutant, native unit, truncation and rows."""

    parameter: str
    unit: Literal["µg/m³", "ppm", "ppb"]
    decimals: int
    rows: tuple[_Row, ...]


def _column(parameter: str, unit: Literal["µg/m³", "ppm", "ppb"], decimals: int, *rows: str) -> UsColumn:
    """Rows as ``"C_lo C_hi I_lo I_hi"`` strings, exactly as the table prints them."""
    parsed = []
    for row in rows:
        c_lo, c_hi, i_lo, i_hi = row.split()
        parsed.append(_Row(Fraction(c_lo), Fraction(c_hi), int(i_lo), int(i_hi)))
    return UsColumn(parameter, unit, decimals, tuple(parsed))


US_COLUMNS: Mapping[str, UsColumn] = {
    "pm25": _column(
        "pm25",
        "µg/m³",
        1,
        "0.0 9.0 0 50",
        "9.1 35.4 51 100",
        "35.5 55.4 101 150",
        "55.5 125.4 151 200",
        "125.5 225.4 201 300",
        "225.5 325.4 301 500",
    ),
    "pm10": _column(
        "pm10",
        "µg/m³",
        0,
        "0 54 0 50",
        "55 154 51 100",
        "155 254 101 150",
        "255 354 151 200",
        "355 424 201 300",
        "425 604 301 500",
    ),
    "o3_8h": _column(
        "o3",
        "ppm",
        3,
        "0.000 0.054 0 50",
        "0.055 0.070 51 100",
        "0.071 0.085 101 150",
        "0.086 0.105 151 200",
        "0.106 0.200 201 300",
    ),
    "o3_1h": _column(
        "o3",
        "ppm",
        3,
        "0.125 0.164 101 150",
        "0.165 0.204 151 200",
        "0.205 0.404 201 300",
        "0.405 0.604 301 500",
    ),
    "co_8h": _column(
        "co",
        "ppm",
        1,
        "0.0 4.4 0 50",
        "4.5 9.4 51 100",
        "9.5 12.4 101 150",
        "12.5 15.4 151 200",
        "15.5 30.4 201 300",
        "30.5 50.4 301 500",
    ),
    "so2_1h": _column("so2", "ppb", 0, "0 35 0 50", "36 75 51 100", "76 185 101 150", "186 304 151 200"),
    "so2_24h": _column("so2", "ppb", 0, "305 604 201 300", "605 1004 301 500"),
    "no2_1h": _column(
        "no2",
        "ppb",
        0,
        "0 53 0 50",
        "54 100 51 100",
        "101 360 101 150",
        "361 649 151 200",
        "650 1249 201 300",
        "1250 2049 301 500",
    ),
}
"""The EPA breakpoint table (2024 PM2.5 rows), one column per averaging period, in native units."""

US_EPA_INPUTS: tuple[str, ...] = tuple(US_COLUMNS)
"""Keys of :func:`us_epa`: averaged concentrations in µg/m³ for each column of the table."""


def _ppb(pollutant: str, ugm3: Fraction) -> Fraction:
    return ugm3 * MOLAR_VOLUME / MOLAR_MASSES[pollutant]


def _check_gas(pollutant: str) -> None:
    if pollutant not in MOLAR_MASSES:
        raise ValueError(f"no molar mass for {pollutant!r}; expected any of {', '.join(MOLAR_MASSES)}")


def ugm3_to_ppb(pollutant: str, ugm3: float) -> float:
    """µg/m³ -> ppb at 25 °C: ``ugm3 * 24.45 / M`` (``pollutant``: ``o3``, ``no2``, ``so2`` or ``co``)."""
    _check_gas(pollutant)
    return float(_ppb(pollutant, check_concentration(pollutant, ugm3)))


def ugm3_to_ppm(pollutant: str, ugm3: float) -> float:
    """µg/m³ -> ppm at 25 °C: :func:`ugm3_to_ppb` / 1000."""
    _check_gas(pollutant)
    return float(_ppb(pollutant, check_concentration(pollutant, ugm3)) / 1000)


def _to_native(column: UsColumn, ugm3: Fraction) -> Fraction:
    if column.unit == "µg/m³":
        return ugm3
    ppb = _ppb(column.parameter, ugm3)
    return ppb / 1000 if column.unit == "ppm" else ppb


def _index_native(column: UsColumn, native: Fraction) -> int | None:
    """Index of a native-unit concentration; ``None`` where the column has no row (see :func:`us_sub_index`)."""
    c = truncate(native, column.decimals)
    rows = column.rows
    if c < rows[0].c_lo:
        return None
    if c > rows[-1].c_hi:
        return 500 if rows[-1].i_hi == 500 else None
    row = [r for r in rows if r.c_lo <= c][-1]
    return round_half_up(interpolate(c, row.c_lo, row.c_hi, row.i_lo, row.i_hi))


def us_sub_index(parameter: str, concentration: float, *, native: bool = False) -> int | None:
    """The US AQI sub-index of one averaged concentration.

    ``parameter`` is a column of :data:`US_COLUMNS` (``pm25``, ``pm10``, ``o3_8h``, ``o3_1h``, ``co_8h``,
    ``so2_1h``, ``so2_24h``, ``no2_1h``).  ``concentration`` is in µg/m³, or, with ``native=True``, already in the
    column's unit (µg/m³ for PM, ppm for O3 and CO, ppb for SO2 and NO2).  It is truncated, then interpolated.

    Returns ``None`` where the column defines no value: ``o3_8h`` above 0.200 ppm, ``o3_1h`` below 0.125 ppm,
    ``so2_1h`` above 304 ppb, ``so2_24h`` below 305 ppb.  Other columns cap at 500 above their last row.
    """
    if parameter not in US_COLUMNS:
        raise ValueError(f"unknown US AQI parameter {parameter!r}; expected any of {', '.join(US_COLUMNS)}")
    column = US_COLUMNS[parameter]
    c = check_concentration(parameter, concentration)
    return _index_native(column, c if native else _to_native(column, c))


def _index(parameter: str, ugm3: Fraction) -> int | None:
    column = US_COLUMNS[parameter]
    return _index_native(column, _to_native(column, ugm3))


def _o3_index(o3_8h: Fraction | None, o3_1h: Fraction | None) -> int | None:
    i_8h = None if o3_8h is None else _index("o3_8h", o3_8h)
    i_1h = None if o3_1h is None else _index("o3_1h", o3_1h)
    if o3_8h is not None and i_8h is None and o3_1h is None:
        i_1h = _index("o3_1h", o3_8h)  # 8-hour mean above 0.200 ppm, no 1-hour value: a lower bound
    candidates = [i for i in (i_8h, i_1h) if i is not None]
    return max(candidates) if candidates else None


def _so2_index(so2_1h: Fraction | None, so2_24h: Fraction | None) -> int | None:
    i_24h = None if so2_24h is None else _index("so2_24h", so2_24h)
    if so2_1h is None:
        return i_24h
    i_1h = _index("so2_1h", so2_1h)
    if i_1h is not None:
        return i_1h
    return 200 if i_24h is None else i_24h


def us_epa(concentrations_ugm3: Mapping[str, float | None], *, period: Period = "hourly") -> AqiResult | None:
    """US EPA AQI from already averaged concentrations in µg/m³.

    Keys (all optional, ``None`` = not available; others raise :class:`ValueError`):
    ``pm25``, ``pm10`` (the NowCast for an hourly AQI, the 24-hour mean for a daily one), ``o3_8h`` (8-hour mean
    or ozone NowCast), ``o3_1h``, ``co_8h``, ``so2_1h``, ``so2_24h``, ``no2_1h``.  ``period`` labels the result.
    O3 and SO2 are combined as the module docstring describes.  Returns ``None`` if no sub-index can be computed.
    ``concentrations`` of the result keep these keys.
    """
    mapping = check_keys(concentrations_ugm3, US_EPA_INPUTS, "us_epa")
    if period not in ("hourly", "daily"):
        raise ValueError(f"period must be 'hourly' or 'daily', got {period!r}")
    return _us_epa_exact({k: check_concentration(k, v) for k, v in mapping.items() if v is not None}, period)


def _us_epa_exact(averages: Mapping[str, Fraction | None], period: Period) -> AqiResult | None:
    c = {k: v for k, v in averages.items() if v is not None}
    sub: dict[str, int | None] = {
        "pm25": _index("pm25", c["pm25"]) if "pm25" in c else None,
        "pm10": _index("pm10", c["pm10"]) if "pm10" in c else None,
        "o3": _o3_index(c.get("o3_8h"), c.get("o3_1h")),
        "no2": _index("no2_1h", c["no2_1h"]) if "no2_1h" in c else None,
        "so2": _so2_index(c.get("so2_1h"), c.get("so2_24h")),
        "co": _index("co_8h", c["co_8h"]) if "co_8h" in c else None,
    }
    present = {k: v for k, v in sub.items() if v is not None}
    if not present:
        return None
    return build_result("US_EPA_AQI", period, present, {k: float(v) for k, v in c.items()})


def us_hourly(hours: Mapping[str, Sequence[float | None]]) -> AqiResult | None:
    """Hourly ("current") US AQI of one station, in the AirNow manner.

    ``hours`` maps parameters (``pm25``, ``pm10``, ``o3``, ``co``, ``so2``, ``no2``) to their most recent hourly
    means in µg/m³, **most recent first** (``None`` = missing); sequences of any length, of which:

    * PM2.5, PM10: the EPA NowCast of the first 12 (:func:`~smartcity.aqi.averaging.epa_nowcast`).
    * O3: ``o3_8h`` = the ozone NowCast of the first 8 (:func:`~smartcity.aqi.averaging.epa_ozone_nowcast`),
      ``o3_1h`` = the latest hour.
    * CO: ``co_8h`` = the mean of the first 8 if at least 6 are present.
    * SO2: ``so2_1h`` = the latest hour; ``so2_24h`` = the mean of the first 24 if at least 18 are present.
    * NO2: ``no2_1h`` = the latest hour.

    Returns ``None`` if nothing can be computed.
    """
    mapping = check_keys(hours, US_PARAMETERS, "us_hourly")
    s = {k: check_series(f"us_hourly[{k!r}]", v) for k, v in mapping.items()}

    def latest(key: str) -> Fraction | None:
        values = s.get(key, [])
        return values[0] if values else None

    averages: dict[str, Fraction | None] = {
        "pm25": epa_nowcast_exact(s["pm25"][:NOWCAST_HOURS]) if "pm25" in s else None,
        "pm10": epa_nowcast_exact(s["pm10"][:NOWCAST_HOURS]) if "pm10" in s else None,
        "o3_8h": epa_ozone_nowcast_exact(s["o3"][:OZONE_NOWCAST_HOURS]) if "o3" in s else None,
        "o3_1h": latest("o3"),
        "co_8h": mean_if_enough(s["co"][:8], EIGHT_HOUR_MIN_VALID) if "co" in s else None,
        "so2_1h": latest("so2"),
        "so2_24h": mean_if_enough(s["so2"][:24], DAILY_MIN_VALID_HOURS) if "so2" in s else None,
        "no2_1h": latest("no2"),
    }
    return _us_epa_exact(averages, "hourly")


def us_daily(hours: Mapping[str, Sequence[float | None]]) -> AqiResult | None:
    """Daily US AQI of one station for one day.

    Same input contract as :func:`smartcity.aqi.vn.vn_daily`: the day's 24 hourly means per parameter in µg/m³,
    **oldest first**, ``None`` = missing; ``o3`` and ``co`` may hold 31 values (previous day's last 7 hours first)
    for the 8-hour windows; a parameter with fewer than 18 valid hours in the day is left out.

    PM: 24-hour mean.  O3: max rolling 8-hour mean (``o3_8h``) and max 1-hour mean (``o3_1h``).  CO: max rolling
    8-hour mean.  SO2: max 1-hour mean and 24-hour mean.  NO2: max 1-hour mean.  Returns ``None`` if nothing can be
    computed.
    """
    days = daily_series(hours, US_PARAMETERS, ("o3", "co"), "us_daily")
    averages: dict[str, Fraction | None] = {}
    for key, day in days.items():
        if key in ("pm25", "pm10"):
            averages[key] = day.mean()
        elif key == "o3":
            averages["o3_8h"] = day.max_8h()
            averages["o3_1h"] = day.max_1h()
        elif key == "co":
            averages["co_8h"] = day.max_8h()
        elif key == "so2":
            averages["so2_1h"] = day.max_1h()
            averages["so2_24h"] = day.mean()
        else:
            averages["no2_1h"] = day.max_1h()
    return _us_epa_exact(averages, "daily")
