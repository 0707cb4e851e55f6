"""HCMC HealthyAir stations: six real monitoring stations, hourly, 2021-02-23 to 2022-06-21.

The file's columns are ``date`` (``dd-mm-YYYY HH:MM``, local time), ``Station_No`` and TSP, PM2.5, O3, CO, NO2,
SO2 (µg/m³, as published, CO included: its median of about 800 µg/m³ is a plausible urban CO level in µg/m³),
Temperature (°C) and Humidity (%). Values are sent as published, outliers included, with their units in the
provisioning (``unitCode``; the IoT agent writes relative humidity as the model's fraction); the IoT agent rejects
impossible values into its dead-letter store. Empty cells are skipped (the message leaves that measure out).
TSP (total suspended particles) is not PM10 and is reported as its own attribute ``tsp``, never as ``pm10``.

The dataset has station numbers but no coordinates: the positions below are approximate, chosen at well-known
places to spread the stations over the city, and every station entity says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from smartcity.demo import sources
from smartcity.demo.devices import (
    CELSIUS,
    MICROGRAM_PER_M3,
    PERCENT,
    Device,
    Measure,
    Message,
    ServiceGroup,
    statics,
)
from smartcity.demo.timeline import Series, Window

#: source column -> object_id in the device message (values are sent as published, in the units provisioned)
COLUMNS: dict[str, str] = {
    "PM2.5": "pm25",
    "TSP": "tsp",
    "O3": "o3",
    "CO": "co",
    "NO2": "no2",
    "SO2": "so2",
    "Temperature": "t",
    "Humidity": "rh",
}

GROUP = ServiceGroup(
    apikey="hcmc-healthyair",
    entity_type="AirQualityObserved",
    measures=(
        Measure("pm25", "pm25", unit=MICROGRAM_PER_M3),
        Measure("tsp", "tsp", unit=MICROGRAM_PER_M3),
        Measure("o3", "o3", unit=MICROGRAM_PER_M3),
        Measure("co", "co", unit=MICROGRAM_PER_M3),
        Measure("no2", "no2", unit=MICROGRAM_PER_M3),
        Measure("so2", "so2", unit=MICROGRAM_PER_M3),
        Measure("t", "temperature", unit=CELSIUS),
        Measure("rh", "relativeHumidity", unit=PERCENT),  # the IoT agent writes the model's fraction
    ),
    label="air-quality stations",
)


@dataclass(frozen=True)
class Station:
    number: int
    site: str
    lon: float
    lat: float


#: approximate positions, not from the dataset (see the module docstring)
STATIONS = (
    Station(1, "Saigon Zoo and Botanical Garden (former District 1)", 106.7050, 10.7877),
    Station(2, "Thống Nhất Hospital, Lý Thường Kiệt Street (former Tân Bình District)", 106.6530, 10.7916),
    Station(3, "Hồng Bàng Street, Chợ Lớn (former District 5)", 106.6590, 10.7544),
    Station(4, "Quang Trung Software City (former District 12)", 106.6286, 10.8536),
    Station(5, "Võ Văn Ngân Street (former Thủ Đức City)", 106.7700, 10.8500),
    Station(6, "Phú Mỹ Hưng (former District 7)", 106.7187, 10.7295),
)


@dataclass(frozen=True)
class AirReading:
    time: datetime  # naive local time (Asia/Ho_Chi_Minh)
    station: int
    measures: dict[str, float]  # object_id -> value; empty cells left out


def parse_time(text: str) -> datetime:
    return datetime.strptime(text.strip(), "%d-%m-%Y %H:%M")


def read(rows: Iterable[dict[str, str]]) -> list[AirReading]:
    """Every row as a reading; a row whose cells are all empty still counts (with no measures)."""
    out: list[AirReading] = []
    for row in rows:
        measures: dict[str, float] = {}
        for column, object_id in COLUMNS.items():
            cell = (row.get(column) or "").strip()
            if cell:
                measures[object_id] = float(cell)
        out.append(AirReading(parse_time(row["date"]), int(row["Station_No"]), measures))
    return out


def load() -> Series[AirReading]:
    return Series.of([(r.time, r) for r in read(sources.csv_rows(sources.AIR_QUALITY))])


def device_id(station: int) -> str:
    return f"healthyair-{station}"


def entity_id(station: int) -> str:
    return f"urn:ngsi-ld:AirQualityObserved:HCMC:HealthyAir:{station}"


def devices() -> list[Device]:
    out = []
    for s in STATIONS:
        static = statics(
            ("name", f"HealthyAir station {s.number}"),
            ("location", sources.point(s.lon, s.lat)),
            ("areaServed", s.site),
            ("typeofLocation", "outdoor"),
            ("stationCode", str(s.number)),
            ("positionNote", "approximate position, not from the dataset (the dataset gives station numbers only)"),
            provenance=sources.provenance(
                "HealthyAir dataset: outdoor air quality in Ho Chi Minh City",
                sources.REPO_HEALTHYAIR,
                modelled=False,
                description="Real hourly measurements (2021-2022) replayed on the demo clock; TSP is not PM10; "
                "units µg/m³ as published; the station position is approximate.",
            ),
        )
        out.append(Device(device_id(s.number), entity_id(s.number), GROUP, static))
    return out


def messages(window: Window, readings: list[tuple[datetime, AirReading]]) -> list[Message]:
    return [
        Message(GROUP, device_id(r.station), window.sim_time(t), dict(r.measures)) for t, r in readings if r.measures
    ]
