"""Air-quality indices for Ho Chi Minh City: VN_AQI (Decision 1459/QĐ-TCMT) and the US EPA AQI (2024 PM2.5
breakpoints, 89 FR 16202).

Pure domain code: no I/O.  Concentrations are hourly means in µg/m³ (CO included); calculations are exact
(fractions), indices are rounded half up.  Always publish the scale with a number: PM2.5 = 25 µg/m³ is VN_AQI 50
but US AQI 81.

* :func:`assess` -- the IoT agent's entry point (hourly and, at day end, daily indices on both scales).
* :func:`vn_hourly`, :func:`vn_daily`, :func:`vn_sub_index`, :func:`nowcast` -- VN_AQI.
* :func:`us_hourly`, :func:`us_daily`, :func:`us_epa`, :func:`us_sub_index`, :func:`epa_nowcast`,
  :func:`epa_ozone_nowcast`, :func:`ugm3_to_ppb`, :func:`ugm3_to_ppm` -- US EPA AQI.
* :class:`AqiResult`, :class:`Category`, :func:`vn_category`, :func:`us_category`, :func:`round_half_up`.
"""

from smartcity.aqi._numeric import round_half_up, round_half_up_to
from smartcity.aqi.assess import assess
from smartcity.aqi.averaging import (
    DAILY_MIN_VALID_HOURS,
    EIGHT_HOUR_MIN_VALID,
    epa_nowcast,
    epa_ozone_nowcast,
    max_rolling_8h,
    nowcast,
)
from smartcity.aqi.categories import US_CATEGORIES, VN_CATEGORIES, Category, Scale, us_category, vn_category
from smartcity.aqi.result import DOMINANCE_ORDER, AqiResult, Period
from smartcity.aqi.us import US_COLUMNS, ugm3_to_ppb, ugm3_to_ppm, us_daily, us_epa, us_hourly, us_sub_index
from smartcity.aqi.vn import VN_BREAKPOINTS, vn_daily, vn_hourly, vn_sub_index

__all__ = [
    "DAILY_MIN_VALID_HOURS",
    "DOMINANCE_ORDER",
    "EIGHT_HOUR_MIN_VALID",
    "US_CATEGORIES",
    "US_COLUMNS",
    "VN_BREAKPOINTS",
    "VN_CATEGORIES",
    "AqiResult",
    "Category",
    "Period",
    "Scale",
    "assess",
    "epa_nowcast",
    "epa_ozone_nowcast",
    "max_rolling_8h",
    "nowcast",
    "round_half_up",
    "round_half_up_to",
    "ugm3_to_ppb",
    "ugm3_to_ppm",
    "us_category",
    "us_daily",
    "us_epa",
    "us_hourly",
    "us_sub_index",
    "vn_category",
    "vn_daily",
    "vn_hourly",
    "vn_sub_index",
]
