"""The demo's data files (shipped gzip-compressed in ``smartcity/demo/data``) and the provenance it attaches.

Every entity the demo writes says where its values come from: ``dataProvider`` (who published the data),
``source`` (the public repository the file was copied from) and ``modelled`` (true when a value is computed by the
demo, rescaled from another city, or placed at an approximate position). ``DATA_SOURCES.md`` lists each file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from datetime import timedelta, timezone
from importlib import resources
from typing import Any

#: Ho Chi Minh City time: UTC+7 all year (no daylight saving since 1975), so a fixed offset is exact
HCMC_TZ = timezone(timedelta(hours=7), "ICT")

AIR_QUALITY = "hcmc_healthyair_hourly.csv.gz"
WEATHER = "hcmc_openmeteo_weather_hourly.csv.gz"
WARDS = "hcmc_wards_2025.geojson.gz"
BUS_STOPS = "hcmc_bus_stops_unique.csv.gz"
BUS_ROUTE_VARS = "ebms_route_vars.jsonl.gz"
BUS_PATHS = "ebms_paths_by_routevar.jsonl.gz"
BUS_STOPS_BY_VAR = "ebms_stops_by_routevar.jsonl.gz"
TRAFFIC = "los_loop_speed_12.csv.gz"
PARKING = "birmingham_parking.csv.gz"

#: the public repositories the files were copied from (commits in DATA_SOURCES.md)
REPO_HEALTHYAIR = "https://github.com/br1an-nguyen/HCMC-Air-Quality-Analysis-_-Final-DV"
REPO_OPENMETEO = "https://github.com/mtue04/HCMC-WAQ-Analysis"
REPO_WARDS = "https://github.com/thanglequoc/vietnamese-provinces-database"
REPO_BUS = "https://github.com/PhKhang/HCMC-Bus-Routes"
REPO_LOS_LOOP = "https://github.com/lehaifeng/T-GCN"
REPO_BIRMINGHAM = "https://github.com/ZCHILLAXY/Birmingham-Parking-Prediction"


def data_bytes(name: str) -> bytes:
    """The uncompressed bytes of one shipped file."""
    packed = resources.files("smartcity.demo").joinpath("data", name).read_bytes()
    return gzip.decompress(packed) if name.endswith(".gz") else packed


def text_of(name: str) -> str:
    return data_bytes(name).decode("utf-8")


def csv_rows(name: str) -> Iterator[dict[str, str]]:
    yield from csv.DictReader(io.StringIO(text_of(name), newline=""))


def json_lines(name: str) -> Iterator[Any]:
    for line in text_of(name).splitlines():
        if line.strip():
            yield json.loads(line)


def provenance(provider: str, source: str, *, modelled: bool, description: str) -> dict[str, Any]:
    """The attributes every demo entity carries about where its data come from."""
    return {
        "dataProvider": {"type": "Property", "value": provider},
        "source": {"type": "Property", "value": source},
        "modelled": {"type": "Property", "value": modelled},
        "description": {"type": "Property", "value": description},
    }


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}
