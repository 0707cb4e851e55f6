"""Each Smart Data Model the agent writes: a device provisioned as FIWARE documents it sends a message, the entity
gets the model's attributes in the model's units with ``observedAt`` and ``unitCode``, and the entity, read in
key-values form, validates against the model's JSON Schema (draft 2020-12; the schemas' ``$ref`` to
common-schema.json and the base schemas resolved to the bundled copies, without network).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from smartcity.iot import models
from tests.iot.support import entity, provision, unit

T = "2026-11-24T08:00:00Z"
HCMC = {"type": "Point", "coordinates": [106.6980, 10.7769]}


def _validator(model: str) -> Draft202012Validator:
    registry: Registry[Any] = Registry()
    for url in models.DOCUMENTS:
        registry = registry.with_resource(url, Resource.from_contents(models.document(url)))
    return Draft202012Validator(
        models.schema(model), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _attr(object_id: str, name: str, kind: str = "Number", code: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"object_id": object_id, "name": name, "type": kind}
    if code is not None:
        out["metadata"] = unit(code)
    return out


def _static(name: str, kind: str, value: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


@dataclass
class Case:
    model: str
    attributes: list[dict[str, Any]]
    statics: list[dict[str, Any]]
    message: dict[str, Any] | bytes  # JSON measures, or an UltraLight payload
    expected: dict[str, tuple[Any, str | None]]  # attribute -> (value, unitCode)
    observation_time: str | None = "dateObserved"
    extra: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case(
        "AirQualityObserved",
        [
            _attr("pm25", "pm25", code="GQ"),
            _attr("pm10", "pm10", code="GQ"),
            _attr("co", "co", code="GP"),
            _attr("tsp", "tsp", code="GQ"),
            _attr("t", "temperature", code="CEL"),
            _attr("rh", "relativeHumidity", code="P1"),
        ],
        [_static("location", "geo:json", HCMC), _static("typeofLocation", "Text", "outdoor")],
        {"pm25": 35.2, "pm10": "48", "co": 0.8, "tsp": 73.4, "t": 31.5, "rh": 75, "TimeInstant": T},
        {
            "pm25": (35.2, "GQ"),
            "pm10": (48, "GQ"),
            "co": (800.0, "GQ"),
            "tsp": (73, "GQ"),
            "temperature": (31.5, "CEL"),
            "relativeHumidity": (0.75, "C62"),
        },
    ),
    Case(
        "WeatherObserved",
        [
            _attr("t", "temperature", code="CEL"),
            _attr("h", "relativeHumidity", code="P1"),
            _attr("ws", "windSpeed", code="KMH"),
            _attr("wd", "windDirection", code="DD"),
            _attr("p", "precipitation", code="MMT"),
            _attr("ap", "atmosphericPressure", code="KPA"),
        ],
        [_static("location", "geo:json", HCMC), _static("name", "Text", "Tan Son Nhat")],
        b"2026-11-24T15:00:00+07:00|t|30.1|h|68|ws|18|wd|225|p|2.4|ap|100.9",
        {
            "temperature": (30.1, "CEL"),
            "relativeHumidity": (0.68, "C62"),
            "windSpeed": (5.0, "MTS"),
            "windDirection": (225, "DD"),
            "precipitation": (2.4, "MMT"),
            "atmosphericPressure": (1009.0, "A97"),
        },
    ),
    Case(
        "WaterObserved",
        [_attr("lvl", "waterLevel", code="CMT"), _attr("q", "flow", code="MQS")],
        [_static("location", "geo:json", HCMC)],
        {"lvl": 152, "q": 310.5, "TimeInstant": T},
        {"waterLevel": (1.52, "MTR"), "flow": (310.5, "MQS")},
    ),
    Case(
        "FloodMonitoring",
        [_attr("lvl", "currentLevel", code="MTR"), _attr("st", "floodLevelStatus", "Text")],
        [
            _static("location", "geo:json", HCMC),
            _static("alertLevel", "Number", 0.3),
            _static("dangerLevel", "Number", 0.5),
            _static("stationID", "Text", "NKKN-01"),
        ],
        {"lvl": "0.42", "st": "alert", "TimeInstant": T},
        {"currentLevel": (0.42, "MTR"), "floodLevelStatus": ("alert", None)},
        observation_time="observationDateTime",
    ),
    Case(
        "TrafficFlowObserved",
        [
            _attr("i", "intensity", "Integer"),
            _attr("o", "occupancy", code="P1"),
            _attr("v", "averageVehicleSpeed", code="MTS"),
            _attr("c", "congested", "Boolean"),
        ],
        [
            _static("location", "geo:json", HCMC),
            _static("laneId", "Integer", 1),
            _static("laneDirection", "Text", "forward"),
        ],
        b"2026-11-24T08:00:00Z|i|42|o|35|v|12.5|c|true",
        {
            "intensity": (42, None),
            "occupancy": (0.35, "C62"),
            "averageVehicleSpeed": (45.0, "KMH"),
            "congested": (True, None),
        },
    ),
    Case(
        "OffStreetParking",
        [_attr("free", "availableSpotNumber", "Integer"), _attr("occ", "occupiedSpotNumber", "Integer")],
        [
            _static("location", "geo:json", HCMC),
            _static("name", "Text", "Ben Thanh car park"),
            _static("totalSpotNumber", "Integer", 200),
            _static("category", "StructuredValue", ["public", "feeCharged"]),
        ],
        {"free": 57, "occ": 143, "TimeInstant": T},
        {"availableSpotNumber": (57, None), "occupiedSpotNumber": (143, None)},
        observation_time="observationDateTime",
    ),
    Case(
        "ParkingSpot",
        [_attr("s", "status", "Text")],
        [
            _static("location", "geo:json", HCMC),
            _static("category", "StructuredValue", ["onStreet"]),
            _static("refParkingSite", "Relationship", "urn:ngsi-ld:OffStreetParking:HCMC:benthanh"),
        ],
        {"s": "occupied", "TimeInstant": T},
        {"status": ("occupied", None)},
        observation_time=None,
    ),
    Case(
        "Vehicle",
        [
            _attr("loc", "location", "geo:point"),
            _attr("spd", "speed", code="KMH"),
            _attr("hdg", "heading", code="DD"),
            _attr("st", "serviceStatus", "Text"),
        ],
        [
            _static("vehicleType", "Text", "bus"),
            _static("category", "StructuredValue", ["public", "tracked"]),
            _static("refVehicleModel", "Relationship", "urn:ngsi-ld:VehicleModel:bus-80"),
        ],
        {"loc": "10.7769, 106.6980", "spd": 32.5, "hdg": 90, "st": "onRoute", "TimeInstant": T},
        {"speed": (32.5, "KMH"), "heading": (90, "DD"), "serviceStatus": ("onRoute", None)},
        observation_time="observationDateTime",
    ),
]


def _send(client: TestClient, apikey: str, device_id: str, message: dict[str, Any] | bytes) -> None:
    if isinstance(message, bytes):
        answer = client.post("/iot/d", params={"k": apikey, "i": device_id}, content=message)
    else:
        answer = client.post("/iot/json", params={"k": apikey, "i": device_id}, json=message)
    assert answer.status_code == 200, answer.text
    assert not answer.content, answer.text  # nothing dropped


@pytest.mark.parametrize("case", CASES, ids=[c.model for c in CASES])
def test_each_model_maps_and_validates(agent_client: TestClient, publisher: dict[str, str], case: Case) -> None:
    apikey = f"key-{case.model.lower()}"
    group = {"apikey": apikey, "resource": "/iot/json", "entity_type": case.model, "attributes": case.attributes}
    device = {"device_id": "dev1", "entity_type": case.model, "static_attributes": case.statics}
    provision(agent_client, [group], [device], publisher)
    _send(agent_client, apikey, "dev1", case.message)
    entity_id = f"urn:ngsi-ld:{case.model}:dev1"
    normalized = entity(agent_client, entity_id)
    assert normalized["type"] == case.model
    observed = normalized[next(iter(case.expected))]["observedAt"]
    for name, (value, code) in case.expected.items():
        attribute = normalized[name]
        assert attribute["value"] == pytest.approx(value), name
        assert attribute.get("unitCode") == code, name
        assert attribute["observedAt"] == observed
    assert observed.startswith("2026-11-24T08:00:00")
    if case.observation_time is not None:
        assert normalized[case.observation_time]["value"] == observed
    key_values = entity(agent_client, entity_id, options="keyValues")
    errors = sorted(_validator(case.model).iter_errors(key_values), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_a_vehicle_position_becomes_a_geojson_point(agent_client: TestClient, publisher: dict[str, str]) -> None:
    case = CASES[-1]
    group = {"apikey": "veh", "entity_type": "Vehicle", "attributes": case.attributes}
    provision(agent_client, [group], [{"device_id": "bus1", "entity_type": "Vehicle"}], publisher)
    _send(agent_client, "veh", "bus1", {"loc": "10.7769, 106.6980"})
    _send(agent_client, "veh", "bus1", {"loc": [106.70, 10.78]})
    location = entity(agent_client, "urn:ngsi-ld:Vehicle:bus1")["location"]
    assert location["type"] == "GeoProperty"
    assert location["value"] == {"type": "Point", "coordinates": [106.70, 10.78]}
