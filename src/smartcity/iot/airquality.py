"""Air-quality indices on every AirQualityObserved update, computed with :func:`smartcity.aqi.assess`.

For a message observed at ``T``, the hourly means of each pollutant (``pm25``, ``pm10``, ``o3``, ``co``, ``so2``,
``no2``, µg/m³) over the 24 hours up to ``T`` come from the hub's history (sum and count per hour, computed by
the database), with the values of the message itself and of the earlier messages of the same batch added:
index 0 is the hour ``T`` falls in (the hour ending at the next full hour), index 1 the hour before, and so on.
The daily indices are computed when that hour ends at midnight in Ho Chi Minh City.

The results are written with the message, observed at ``T``:

* ``airQualityIndex`` (VN_AQI, hourly; the Smart Data Models attribute), with ``airQualityLevel`` its category;
* ``usAirQualityIndex`` (US EPA AQI, hourly);
* ``airQualityIndexDaily`` and ``usAirQualityIndexDaily`` when a day closes.

Each index carries ``scale``, ``period``, ``category`` (Vietnamese), ``categoryEn``, ``categoryKey``,
``colour``, ``dominantPollutant``, ``subIndices`` and ``concentrations`` (µg/m³, ``unitCode`` GQ) as
sub-properties.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from smartcity.aqi import AqiResult, assess
from smartcity.hub.model import Instance
from smartcity.hub.temporal.query import Period, TimeWindow
from smartcity.hub.temporal.service import TemporalService
from smartcity.iot.binding import Expand
from smartcity.iot.outcome import Observation

log = logging.getLogger(__name__)

MODEL = "AirQualityObserved"
POLLUTANTS = ("pm25", "pm10", "o3", "co", "so2", "no2")
HOURS = 24
HOUR = 3_600_000_000
CITY_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: (scale, period) -> attribute
ATTRIBUTES = {
    ("VN_AQI", "hourly"): "airQualityIndex",
    ("US_EPA_AQI", "hourly"): "usAirQualityIndex",
    ("VN_AQI", "daily"): "airQualityIndexDaily",
    ("US_EPA_AQI", "daily"): "usAirQualityIndexDaily",
}
LEVEL = "airQualityLevel"

Sums = dict[int, list[float]]  # hour start (µs) -> [sum, count]


def closes_day(hour_start: int) -> bool:
    """Whether the hour starting at ``hour_start`` ends at midnight, Ho Chi Minh City time."""
    end = _EPOCH + timedelta(microseconds=hour_start + HOUR)
    return end.astimezone(CITY_ZONE).hour == 0


class AirQuality:
    def __init__(self, temporal: TemporalService, expand: Expand) -> None:
        self.temporal = temporal
        self.expand = expand
        self._iris = {p: expand(p) for p in POLLUTANTS}

    def _history(self, tenant: str, entity_id: str, pollutant: str, start: int, end: int) -> Sums:
        window = TimeWindow(timerel="between", time_at=start, end_time_at=end)
        series = self.temporal.aggregate(
            tenant, entity_id, self._iris[pollutant], ("sum", "totalCount"), Period(HOUR), window
        )
        sums: Sums = {}
        for index, begin in enumerate(series.starts):
            total = series.values["sum"][index]
            count = series.values["totalCount"][index]
            if total is not None and count:
                sums[begin] = [float(total), float(count)]
        return sums

    def enrich(self, observations: Sequence[Observation]) -> None:
        """Add the indices to the AirQualityObserved observations (blocking: reads the history)."""
        by_entity: dict[tuple[str, str], list[Observation]] = defaultdict(list)
        for observation in observations:
            binding = observation.binding
            if binding.entity_type == MODEL and any(p in observation.values for p in POLLUTANTS):
                by_entity[(binding.tenant, binding.entity_id)].append(observation)
        for (tenant, entity_id), items in by_entity.items():
            try:
                self._enrich_entity(tenant, entity_id, sorted(items, key=lambda o: o.observed_at))
            except Exception:
                log.exception("air-quality indices of %s could not be computed", entity_id)

    def _enrich_entity(self, tenant: str, entity_id: str, items: list[Observation]) -> None:
        first = items[0].observed_at // HOUR * HOUR - (HOURS - 1) * HOUR
        last = items[-1].observed_at // HOUR * HOUR + HOUR
        measured = {p for o in items for p in POLLUTANTS if p in o.values}
        measured |= {p for p in POLLUTANTS if p in {s.name for s in items[0].binding.specs.values()}}
        sums = {p: self._history(tenant, entity_id, p, first, last) for p in sorted(measured)}
        for observation in items:
            hour = observation.observed_at // HOUR * HOUR
            for pollutant in POLLUTANTS:
                value = observation.values.get(pollutant)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    slot = sums.setdefault(pollutant, {}).setdefault(hour, [0.0, 0.0])
                    slot[0] += float(value)
                    slot[1] += 1.0
            series = {
                p: [_mean(hours.get(hour - k * HOUR)) for k in range(HOURS)] for p, hours in sums.items() if hours
            }
            series = {p: values for p, values in series.items() if any(v is not None for v in values)}
            if not series:
                continue
            try:
                results = assess(series, closes_day=closes_day(hour))
            except ValueError as exc:  # the history holds values the indices cannot use (negative ones)
                log.warning("air-quality indices of %s skipped: %s", entity_id, exc)
                continue
            observation.attrs.update(self.render(results, observation.observed_iso))

    def render(self, results: Sequence[AqiResult], observed: str) -> dict[str, list[Instance]]:
        """The index attributes (expanded) of ``results``."""
        out: dict[str, list[Instance]] = {}
        for result in results:
            name = ATTRIBUTES.get((result.scale, result.period))
            if name is None:
                continue
            out[self.expand(name)] = [self._instance(result, observed)]
            if name == "airQualityIndex":
                level: Instance = {"type": "Property", "value": result.category.key, "observedAt": observed}
                out[self.expand(LEVEL)] = [level]
        return out

    def _instance(self, result: AqiResult, observed: str) -> Instance:
        props: dict[str, Any] = result.as_properties()
        unit = props.pop("concentrationUnitCode", "GQ")
        inst: Instance = {"type": "Property", "value": props.pop("value"), "observedAt": observed}
        for key, value in props.items():
            sub: Instance = {"type": "Property", "value": value}
            if key == "concentrations":
                sub["unitCode"] = unit
            inst[self.expand(key)] = sub
        return inst


def _mean(slot: list[float] | None) -> float | None:
    if slot is None or slot[1] <= 0:
        return None
    return slot[0] / slot[1]
