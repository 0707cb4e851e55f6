"""The map's live layers: which hub entity types they show and the compact view of one entity.

A layer is data (Home Assistant style): the entity type it shows and the attributes a map feature keeps. The same
compact view is what ``GET /ioc/map/layers`` lists and what an ``entity.changed`` event carries:
``{"id", "type", "attrs": {name: value}, "location": GeoJSON | None}``, names compacted with the NGSI-LD core
@context. A Property gives its ``value``, a Relationship its ``object``; the sub-properties a layer names (the
VN_AQI category and colour of ``airQualityIndex``) are lifted next to the attributes; ``observedAt`` is the
latest observation time among the kept attributes (else the entity's ``modifiedAt``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from smartcity.hub.model import Entity, Instance, find_instance, parse_time

LOCATION = "https://uri.etsi.org/ngsi-ld/location"


@dataclass(frozen=True)
class Layer:
    key: str  # the layer's name in the API and the page
    entity_type: str  # compact NGSI-LD type
    attrs: tuple[str, ...]
    lifted: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # attribute -> sub-properties kept


LAYERS: tuple[Layer, ...] = (
    Layer(
        "stations",
        "AirQualityObserved",
        ("name", "airQualityIndex", "airQualityLevel", "pm25", "pm10", "o3", "co", "no2", "so2", "temperature"),
        {"airQualityIndex": ("category", "categoryEn", "categoryKey", "colour", "dominantPollutant")},
    ),
    Layer("floods", "FloodMonitoring", ("name", "currentLevel", "floodLevelStatus", "alertLevel", "dangerLevel")),
    Layer("buses", "Vehicle", ("name", "routeNumber", "refPublicTransportRoute", "heading", "speed")),
    Layer("parking", "OffStreetParking", ("name", "availableSpotNumber", "totalSpotNumber", "occupancy")),
    Layer("traffic", "TrafficFlowObserved", ("name", "averageVehicleSpeed", "congested", "freeFlowSpeed")),
    Layer("weather", "WeatherObserved", ("name", "temperature", "relativeHumidity", "precipitation", "windSpeed")),
)
BY_TYPE: Mapping[str, Layer] = {layer.entity_type: layer for layer in LAYERS}


class Terms:
    """Expanded IRIs of the layers' types and attributes, and their compact names (one @context, resolved once)."""

    def __init__(self, expand: Callable[[str], str], compact: Callable[[str], str]) -> None:
        self.expand = expand
        self.compact = compact
        self.type_iris: dict[str, Layer] = {expand(layer.entity_type): layer for layer in LAYERS}
        self._iris: dict[str, str] = {}

    def iri(self, term: str) -> str:
        found = self._iris.get(term)
        if found is None:
            found = self._iris[term] = self.expand(term)
        return found

    def layer_of(self, entity: Entity) -> Layer | None:
        for type_iri in entity.types:
            layer = self.type_iris.get(type_iri)
            if layer is not None:
                return layer
        return None


def _default(instances: list[Instance] | None) -> Instance | None:
    if not instances:
        return None
    index = find_instance(instances, None)
    return instances[index if index is not None else 0]


def _value(instance: Instance) -> Any:
    if instance.get("type") == "Relationship":
        return instance.get("object")
    return instance.get("value")


def view(entity: Entity, layer: Layer, terms: Terms) -> dict[str, Any]:
    """The compact map view of one entity of ``layer``."""
    attrs: dict[str, Any] = {}
    latest: str | None = None
    for name in layer.attrs:
        instance = _default(entity.attrs.get(terms.iri(name)))
        if instance is None:
            continue
        attrs[name] = _value(instance)
        observed = instance.get("observedAt")
        if isinstance(observed, str) and (latest is None or observed > latest):
            latest = observed
        for sub in layer.lifted.get(name, ()):
            sub_instance = instance.get(terms.iri(sub))
            if isinstance(sub_instance, dict):
                attrs[sub] = _value(sub_instance)
    location = _default(entity.attrs.get(LOCATION))
    if location is not None:
        observed = location.get("observedAt")
        if isinstance(observed, str) and (latest is None or observed > latest):
            latest = observed
    attrs["observedAt"] = latest if latest is not None else entity.modified_at
    geometry = location.get("value") if location is not None else None
    return {
        "id": entity.id,
        "type": layer.entity_type,
        "attrs": attrs,
        "location": geometry if isinstance(geometry, dict) else None,
    }


def point_of(feature: Mapping[str, Any]) -> tuple[float, float] | None:
    """(lon, lat) of a feature located by a GeoJSON Point, else None."""
    geometry = feature.get("location")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return None
    coordinates = geometry.get("coordinates")
    if (
        isinstance(coordinates, list | tuple)
        and len(coordinates) >= 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates[:2])
    ):
        return float(coordinates[0]), float(coordinates[1])
    return None


def observed_at(feature: Mapping[str, Any]) -> Any:
    """The feature's latest observation time (datetime) or None."""
    return parse_time(feature.get("attrs", {}).get("observedAt"))
