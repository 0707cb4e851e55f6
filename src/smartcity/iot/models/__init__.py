"""The FIWARE Smart Data Models the agent writes: their JSON Schemas (copies, CC BY 4.0, see DATA_SOURCES.md)
and what each model needs from every update.

The schemas ``$ref`` shared definitions by URL (``common-schema.json`` and the repositories' base schemas);
:data:`DOCUMENTS` maps each of those URLs to its bundled copy, so a validator resolves them without network.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import orjson

#: the models of the platform's sensors
MODELS = (
    "AirQualityObserved",
    "WeatherObserved",
    "WaterObserved",
    "FloodMonitoring",
    "TrafficFlowObserved",
    "OffStreetParking",
    "ParkingSpot",
    "Vehicle",
)

#: model -> the attribute that carries the observation time (a date-time text), written with every update
OBSERVATION_TIME = {
    "AirQualityObserved": "dateObserved",
    "WeatherObserved": "dateObserved",
    "WaterObserved": "dateObserved",
    "TrafficFlowObserved": "dateObserved",
    "FloodMonitoring": "observationDateTime",
    "OffStreetParking": "observationDateTime",
    "Vehicle": "observationDateTime",
}

_COMMON = "https://smart-data-models.github.io/data-models/common-schema.json"
_ENVIRONMENT = "https://smart-data-models.github.io/dataModel.Environment/Environment-schema.json"
#: URL a schema refers to -> bundled file
DOCUMENTS = {
    _COMMON: "common-schema.json",
    _ENVIRONMENT: "Environment-schema.json",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/Environment-schema.json": (
        "Environment-schema.json"
    ),
    "https://smart-data-models.github.io/dataModel.Weather/weather-schema.json": "weather-schema.json",
}


def _read(relative: str) -> dict[str, Any]:
    folder = resources.files(__name__)
    for part in relative.split("/"):
        folder = folder.joinpath(part)
    document: dict[str, Any] = orjson.loads(folder.read_bytes())
    return document


def schema(model: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a model."""
    if model not in MODELS:
        raise KeyError(f"no bundled schema for {model!r}")
    return _read(f"{model}/schema.json")


def document(url: str) -> dict[str, Any]:
    """The bundled copy of a shared schema, by the URL the model schemas use."""
    return _read(DOCUMENTS[url])
