"""Open-Meteo hourly weather for Ho Chi Minh City (reanalysis: modelled, not a station), 2022-10 to 2024-09.

Columns used: ``date_time`` (UTC), ``temperature_2m`` (°C), ``relative_humidity_2m`` (%), ``dew_point_2m`` (°C),
``precipitation`` (mm over the preceding hour), ``wind_speed_10m`` (km/h, Open-Meteo's default unit) and
``wind_direction_10m`` (°). Values are sent as published with their units in the provisioning (``unitCode``);
the IoT agent writes humidity as a fraction and wind speed in m/s (the Smart Data Models units). The rain also
drives the flood gauges' model (:mod:`.flood`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from smartcity.demo import sources
from smartcity.demo.devices import (
    CELSIUS,
    DEGREE,
    KM_PER_HOUR,
    MILLIMETRE,
    PERCENT,
    Device,
    Measure,
    Message,
    ServiceGroup,
)
from smartcity.demo.devices import statics as static_attrs
from smartcity.demo.timeline import Series, Window

#: source column -> object_id (values sent as published, in the units provisioned)
COLUMNS: dict[str, str] = {
    "temperature_2m": "t",
    "relative_humidity_2m": "rh",
    "dew_point_2m": "dp",
    "precipitation": "p",
    "wind_speed_10m": "ws",
    "wind_direction_10m": "wd",
}

GROUP = ServiceGroup(
    apikey="hcmc-weather",
    entity_type="WeatherObserved",
    measures=(
        Measure("t", "temperature", unit=CELSIUS),
        Measure("rh", "relativeHumidity", unit=PERCENT),
        Measure("dp", "dewPoint", unit=CELSIUS),
        Measure("p", "precipitation", unit=MILLIMETRE),
        Measure("ws", "windSpeed", unit=KM_PER_HOUR),
        Measure("wd", "windDirection", unit=DEGREE),
    ),
    label="weather (Open-Meteo)",
)

DEVICE_ID = "openmeteo-hcmc"
ENTITY_ID = "urn:ngsi-ld:WeatherObserved:HCMC:OpenMeteo"
#: the grid point's position is not in the file: the usual city-centre coordinates, labelled approximate
LON, LAT = 106.6297, 10.8231


@dataclass(frozen=True)
class WeatherReading:
    time: datetime  # naive local time (UTC+7)
    measures: dict[str, float]

    @property
    def rain_mm(self) -> float:
        return self.measures.get("p", 0.0)


def parse_time(text: str) -> datetime:
    """``2022-10-01 00:00:00+00:00`` as naive Ho Chi Minh City time."""
    return datetime.fromisoformat(text.strip()).astimezone(sources.HCMC_TZ).replace(tzinfo=None)


def read(rows: Iterable[dict[str, str]]) -> list[WeatherReading]:
    out = []
    for row in rows:
        measures = {}
        for column, object_id in COLUMNS.items():
            cell = (row.get(column) or "").strip()
            if cell:
                measures[object_id] = float(cell)
        out.append(WeatherReading(parse_time(row["date_time"]), measures))
    return out


def load() -> Series[WeatherReading]:
    return Series.of([(r.time, r) for r in read(sources.csv_rows(sources.WEATHER))])


def devices() -> list[Device]:
    static = static_attrs(
        ("name", "Open-Meteo reanalysis, Ho Chi Minh City"),
        ("location", sources.point(LON, LAT)),
        ("positionNote", "approximate position of the model grid point (not in the source file)"),
        provenance=sources.provenance(
            "Open-Meteo (reanalysis, CC BY 4.0)",
            sources.REPO_OPENMETEO,
            modelled=True,
            description="Modelled hourly weather (reanalysis, not a weather station), 2022-2024, replayed on the "
            "demo clock.",
        ),
    )
    return [Device(DEVICE_ID, ENTITY_ID, GROUP, static)]


def messages(window: Window, readings: list[tuple[datetime, WeatherReading]]) -> list[Message]:
    return [Message(GROUP, DEVICE_ID, window.sim_time(t), dict(r.measures)) for t, r in readings if r.measures]
