"""One call for the IoT agent: every AQI the platform publishes for a station, from its recent hourly means."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from smartcity.aqi._numeric import check_keys, check_series
from smartcity.aqi.result import AqiResult
from smartcity.aqi.us import us_daily, us_hourly
from smartcity.aqi.vn import VN_PARAMETERS, vn_daily, vn_hourly

__all__ = ["ASSESS_HOURS", "assess"]

ASSESS_HOURS = 24
"""Hours of history :func:`assess` takes per parameter."""


def assess(hours: Mapping[str, Sequence[float | None]], *, closes_day: bool = False) -> list[AqiResult]:
    """Compute the hourly VN_AQI and US AQI of one station, plus the daily ones when a day has just closed.

    Input contract
    --------------
    ``hours`` maps parameter keys to hourly means of **one station**:

    * keys: any of ``"pm25"``, ``"pm10"``, ``"o3"``, ``"co"``, ``"so2"``, ``"no2"`` (an unknown key raises
      :class:`ValueError`; an absent key means the station does not measure it);
    * values: sequences of at most 24 hourly means in **µg/m³** (CO too, not mg/m³), **most recent first**:
      index 0 is the mean of the hour that has just ended, index 1 the hour before, and so on.  Each value is an
      hourly mean labelled by the end of its hour (the 01:00 value covers 00:00-01:00).  ``None`` marks a missing
      or invalid hour; a sequence shorter than 24 means the older hours are missing;
    * every value must be a finite, non-negative number (or ``None``); anything else raises :class:`ValueError`;
    * ``closes_day``: pass ``True`` when index 0 is the hour ending at 00:00 local time (Asia/Ho_Chi_Minh), i.e. the
      24 values are exactly the day 01:00 .. 00:00 that has just ended.

    Output
    ------
    A list, in this order, of whichever results can be computed:

    1. VN_AQI hourly (:func:`smartcity.aqi.vn.vn_hourly`): needs a PM2.5 or PM10 NowCast, i.e. at least two of the
       three most recent PM hours;
    2. US EPA AQI hourly (:func:`smartcity.aqi.us.us_hourly`);
    3. only with ``closes_day=True``: VN_AQI daily (:func:`smartcity.aqi.vn.vn_daily`), which needs PM2.5 or PM10
       with at least 18 valid hours in the day;
    4. only with ``closes_day=True``: US EPA AQI daily (:func:`smartcity.aqi.us.us_daily`).

    For the daily results the sequences are padded with ``None`` to 24 hours and reversed to oldest first; the
    8-hour windows are then the 17 lying inside the day.  An empty list means no index could be computed.
    """
    mapping = check_keys(hours, VN_PARAMETERS, "assess")
    series = {k: check_series(f"assess[{k!r}]", v, max_len=ASSESS_HOURS) for k, v in mapping.items()}
    recent: dict[str, list[float | None]] = {
        k: [None if c is None else float(c) for c in values] for k, values in series.items()
    }
    results = [r for r in (vn_hourly(recent), us_hourly(recent)) if r is not None]
    if closes_day:
        day = {k: list(reversed(v + [None] * (ASSESS_HOURS - len(v)))) for k, v in recent.items()}
        results.extend(r for r in (vn_daily(day), us_daily(day)) if r is not None)
    return results
