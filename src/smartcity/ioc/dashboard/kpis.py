"""Key figures of the operations centre, computed from the data at each request (never typed in).

* alerts (active, unacknowledged, by domain and severity, mean time to acknowledge and to clear) from the alert
  manager's :meth:`~smartcity.ioc.contracts.AlertsView.summary`, incidents (open, by department and domain, mean
  time to resolve, SLA breaches) and citizen reports (answered on time) from the incident desk's
  :meth:`~smartcity.ioc.contracts.IncidentDesk.summary`; ``null`` when that part is not running;
* from the hub: VN_AQI by ward (mean and maximum of the stations inside each ward), flooded points, free parking
  spaces and buses in service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from smartcity.hub.model import format_time
from smartcity.ioc.dashboard.layers import observed_at, point_of
from smartcity.ioc.dashboard.wards import WardMap

Feature = Mapping[str, Any]
#: a bus reporting within this window is in service
IN_SERVICE = timedelta(minutes=10)
FLOODED_STATUSES = frozenset({"alert", "danger"})


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def aqi_by_ward(stations: Sequence[Feature], wards: WardMap) -> list[dict[str, Any]]:
    """Per ward with at least one station reporting VN_AQI: its stations' mean and maximum index (worst first)."""
    values: dict[str, list[float]] = {}
    for station in stations:
        aqi = _number(station["attrs"].get("airQualityIndex"))
        point = point_of(station)
        if aqi is None or point is None:
            continue
        ward = wards.locate(*point)
        if ward is not None:
            values.setdefault(ward.code, []).append(aqi)
    names = {w.code: w for w in wards.wards}
    out = [
        {
            "ward": code,
            "name": names[code].name,
            "nameEn": names[code].name_en,
            "stations": len(found),
            "mean": round(sum(found) / len(found), 1),
            "max": max(found),
        }
        for code, found in values.items()
    ]
    return sorted(out, key=lambda row: (-row["max"], row["ward"]))


def is_flooded(gauge: Feature) -> bool:
    """Above its alert threshold: ``floodLevelStatus`` alert or danger, or ``currentLevel`` at or above
    ``alertLevel`` (whichever the gauge reports; either is enough)."""
    attrs = gauge["attrs"]
    status = attrs.get("floodLevelStatus")
    if isinstance(status, str) and status.lower() in FLOODED_STATUSES:
        return True
    level, threshold = _number(attrs.get("currentLevel")), _number(attrs.get("alertLevel"))
    return level is not None and threshold is not None and level >= threshold


def flooding(gauges: Sequence[Feature]) -> dict[str, Any]:
    flooded = [g for g in gauges if is_flooded(g)]
    return {
        "gauges": len(gauges),
        "flooded": len(flooded),
        "points": [
            {
                "id": g["id"],
                "name": g["attrs"].get("name"),
                "level": g["attrs"].get("currentLevel"),
                "status": g["attrs"].get("floodLevelStatus"),
            }
            for g in sorted(flooded, key=lambda g: -(_number(g["attrs"].get("currentLevel")) or 0.0))
        ],
    }


def parking(car_parks: Sequence[Feature]) -> dict[str, Any]:
    free = [_number(p["attrs"].get("availableSpotNumber")) for p in car_parks]
    total = [_number(p["attrs"].get("totalSpotNumber")) for p in car_parks]
    return {
        "carParks": len(car_parks),
        "reporting": sum(1 for f in free if f is not None),
        "free": int(sum(f for f in free if f is not None)),
        "total": int(sum(t for t in total if t is not None)),
    }


def buses(vehicles: Sequence[Feature], now: datetime) -> dict[str, Any]:
    """Buses whose latest report is less than :data:`IN_SERVICE` old (a report from the future counts)."""
    since = now - IN_SERVICE
    serving = 0
    for vehicle in vehicles:
        seen = observed_at(vehicle)
        if seen is not None and seen >= since:
            serving += 1
    return {"vehicles": len(vehicles), "inService": serving, "windowMinutes": int(IN_SERVICE.total_seconds() // 60)}


def reports_of(incidents: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if incidents is None:
        return None
    return {"total": incidents.get("reportsTotal"), "onTimeShare": incidents.get("reportsOnTimeShare")}


def compute(
    layers: Mapping[str, Sequence[Feature]],
    wards: WardMap,
    now: datetime,
    alerts: Mapping[str, Any] | None,
    incidents: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The KPI document (``GET /ioc/kpis``)."""
    return {
        "at": format_time(now),
        "alerts": dict(alerts) if alerts is not None else None,
        "incidents": dict(incidents) if incidents is not None else None,
        "reports": reports_of(incidents),
        "air": {"stations": len(layers.get("stations", ())), "wards": aqi_by_ward(layers.get("stations", ()), wards)},
        "flood": flooding(layers.get("floods", ())),
        "parking": parking(layers.get("parking", ())),
        "buses": buses(layers.get("buses", ()), now),
    }
