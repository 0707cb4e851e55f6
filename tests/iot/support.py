"""Helpers of the IoT agent's tests: provisioning payloads (FIWARE IoT Agent API), calls and polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.testclient import TestClient

from smartcity.hub.store import Store

T = TypeVar("T")
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"


def unit(code: str) -> dict[str, Any]:
    return {"unitCode": {"type": "Text", "value": code}}


def weather_group(apikey: str = "wkey", **extra: Any) -> dict[str, Any]:
    """A config group of weather stations, as FIWARE documents it (object_id -> name, type, unit metadata)."""
    return {
        "apikey": apikey,
        "resource": "/iot/json",
        "entity_type": "WeatherObserved",
        "cbroker": "http://orion:1026",  # accepted and ignored: the hub is the broker
        "attributes": [
            {"object_id": "t", "name": "temperature", "type": "Number", "metadata": unit("CEL")},
            {"object_id": "h", "name": "relativeHumidity", "type": "Number", "metadata": unit("P1")},
            {"object_id": "ws", "name": "windSpeed", "type": "Number", "metadata": unit("KMH")},
            {"object_id": "p", "name": "precipitation", "type": "Number", "metadata": unit("MMT")},
        ],
        "lazy": [{"name": "status", "type": "Boolean"}],  # stored, not acted on
        **extra,
    }


def weather_device(device_id: str = "ws1", apikey: str = "wkey", **extra: Any) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "entity_name": f"urn:ngsi-ld:WeatherObserved:{device_id}",
        "entity_type": "WeatherObserved",
        "apikey": apikey,
        "protocol": "IoTA-JSON",
        "transport": "MQTT",
        "timezone": "Asia/Ho_Chi_Minh",
        "static_attributes": [
            {"name": "location", "type": "geo:json", "value": {"type": "Point", "coordinates": [106.70, 10.78]}},
            {"name": "name", "type": "Text", "value": f"Station {device_id}"},
        ],
        **extra,
    }


def provision(
    client: TestClient,
    groups: list[dict[str, Any]],
    devices: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
) -> None:
    headers = headers or {}
    if groups:
        answer = client.post("/iot/services", json={"services": groups}, headers=headers)
        assert answer.status_code == 201, answer.text
    if devices:
        answer = client.post("/iot/devices", json={"devices": devices}, headers=headers)
        assert answer.status_code == 201, answer.text


def entity(client: TestClient, entity_id: str, headers: dict[str, str] | None = None, **params: str) -> Any:
    answer = client.get(f"/ngsi-ld/v1/entities/{entity_id}", params=params, headers=headers or {})
    assert answer.status_code == 200, answer.text
    return answer.json()


def history(client: TestClient, entity_id: str, attr: str, headers: dict[str, str] | None = None) -> list[Any]:
    """Every temporal instance of one attribute (paged through)."""
    out: list[Any] = []
    params = {"attrs": attr, "lastN": "1000"}
    answer = client.get(f"/ngsi-ld/v1/temporal/entities/{entity_id}", params=params, headers=headers or {})
    if answer.status_code == 404:
        return out
    assert answer.status_code in (200, 206), answer.text
    found = answer.json().get(attr, [])
    return found if isinstance(found, list) else [found]


def deadletters(client: TestClient, headers: dict[str, str] | None = None, **params: str) -> list[dict[str, Any]]:
    answer = client.get("/iot/deadletters", params={"limit": "1000", **params}, headers=headers or {})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["deadletters"]
    return items


def device_stats(client: TestClient, device_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    answer = client.get(f"/iot/devices/{device_id}", headers=headers or {})
    assert answer.status_code == 200, answer.text
    stats: dict[str, Any] = answer.json()["stats"]
    return stats


def wait_for(probe: Callable[[], T], timeout: float = 20.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last value {value!r})")
        time.sleep(0.02)


def count_rows(store: Store, table: str) -> int:
    with store.transaction(write=False) as db:
        return int(db.run(f"SELECT count(*) FROM {table}").fetchone()[0])
