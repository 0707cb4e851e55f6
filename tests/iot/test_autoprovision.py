"""Autoprovisioning (FIWARE's default: a measure of a device that is not provisioned creates it from its group)
and several config groups sharing one API key with different resources, over HTTP and MQTT."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from smartcity.hub.store import Store
from smartcity.iot.runtime import IotRuntime
from smartcity.security.roles import Role
from tests.conftest import require_service
from tests.iot.broker import forget_session, unique_client_id
from tests.iot.support import deadletters, device_stats, entity, provision, unit, wait_for, weather_group
from tests.open_hub import open_settings
from tests.security.support import api_key, running


def _thermo_group(apikey: str, resource: str, entity_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "apikey": apikey,
        "resource": resource,
        "entity_type": entity_type,
        "attributes": [{"object_id": "t", "name": "temperature", "type": "Number", "metadata": unit("CEL")}],
        "static_attributes": [{"name": "category", "type": "Text", "value": resource}],
        **extra,
    }


def test_a_measure_of_an_unknown_device_creates_it_with_its_groups_mapping(
    agent_client: TestClient, publisher: dict[str, str]
) -> None:
    group = weather_group(
        static_attributes=[
            {"name": "location", "type": "geo:json", "value": {"type": "Point", "coordinates": [106.7, 10.78]}}
        ]
    )
    provision(agent_client, [group], [], publisher)
    answer = agent_client.post("/iot/json", params={"k": "wkey", "i": "auto1"}, json={"t": 30.5, "h": 70})
    assert answer.status_code == 200, answer.text
    current = entity(agent_client, "urn:ngsi-ld:WeatherObserved:auto1")
    assert current["temperature"]["value"] == 30.5 and current["relativeHumidity"]["value"] == 0.7
    assert current["location"]["value"]["coordinates"] == [106.7, 10.78]  # the group's static attribute
    device = agent_client.get("/iot/devices/auto1", headers=publisher).json()
    assert device["entity_name"] == "urn:ngsi-ld:WeatherObserved:auto1"
    assert device["apikey"] == "wkey" and device["entity_type"] == "WeatherObserved"
    assert device["stats"]["accepted"] == 1
    # UltraLight on the same group (a group of /iot/json still takes /iot/d when it is the only one)
    assert agent_client.post("/iot/d", params={"k": "wkey", "i": "auto1"}, content=b"t|31").status_code == 200
    assert entity(agent_client, "urn:ngsi-ld:WeatherObserved:auto1")["temperature"]["value"] == 31
    assert agent_client.get("/iot/devices", headers=publisher).json()["count"] == 1
    assert deadletters(agent_client, publisher) == []


def test_autoprovision_false_keeps_refusing_unknown_devices(
    agent_client: TestClient, publisher: dict[str, str]
) -> None:
    provision(agent_client, [weather_group(autoprovision=False)], [], publisher)
    answer = agent_client.post("/iot/json", params={"k": "wkey", "i": "ghost"}, json={"t": 1})
    assert answer.status_code == 404 and answer.json()["name"] == "DEVICE_NOT_FOUND"
    assert [d["reason"] for d in deadletters(agent_client, publisher)] == ["unknown_device"]
    assert agent_client.get("/iot/devices", headers=publisher).json()["count"] == 0
    bad = agent_client.post(
        "/iot/services", json={"services": [weather_group("k2", autoprovision="no")]}, headers=publisher
    )
    assert bad.status_code == 400 and bad.json()["name"] == "WRONG_SYNTAX"


def test_groups_sharing_an_apikey_are_told_apart_by_resource(
    agent_client: TestClient, publisher: dict[str, str]
) -> None:
    json_group = _thermo_group("shared", "/iot/json", "ThermoJson")
    ul_group = _thermo_group("shared", "/iot/d", "ThermoUl")
    provision(agent_client, [json_group, ul_group], [], publisher)
    again = agent_client.post("/iot/services", json={"services": [json_group]}, headers=publisher)
    assert again.status_code == 409 and again.json()["name"] == "DUPLICATE_GROUP"
    listed = agent_client.get("/iot/services", headers=publisher).json()
    assert listed["count"] == 2
    assert agent_client.post("/iot/json", params={"k": "shared", "i": "a"}, json={"t": 20}).status_code == 200
    assert agent_client.post("/iot/d", params={"k": "shared", "i": "b"}, content=b"t|21").status_code == 200
    a = entity(agent_client, "urn:ngsi-ld:ThermoJson:a")
    b = entity(agent_client, "urn:ngsi-ld:ThermoUl:b")
    assert (a["temperature"]["value"], a["category"]["value"]) == (20, "/iot/json")
    assert (b["temperature"]["value"], b["category"]["value"]) == (21, "/iot/d")
    # the resource names the group to change or remove; without it, two groups are ambiguous
    ambiguous = agent_client.put(
        "/iot/services", params={"apikey": "shared"}, json={"timezone": "UTC"}, headers=publisher
    )
    assert ambiguous.status_code == 400, ambiguous.text
    changed = agent_client.put(
        "/iot/services", params={"apikey": "shared", "resource": "/iot/d"}, json={"timezone": "UTC"}, headers=publisher
    )
    assert changed.status_code == 204
    groups = {g["resource"]: g for g in agent_client.get("/iot/services", headers=publisher).json()["services"]}
    assert groups["/iot/d"]["timezone"] == "UTC" and "timezone" not in groups["/iot/json"]
    removed = agent_client.delete("/iot/services", params={"apikey": "shared", "resource": "/iot/d"}, headers=publisher)
    assert removed.status_code == 204
    assert [g["resource"] for g in agent_client.get("/iot/services", headers=publisher).json()["services"]] == [
        "/iot/json"
    ]


@pytest.mark.mqtt
def test_mqtt_autoprovisions_and_picks_the_group_by_topic(store: Store) -> None:
    require_service(1883, "Mosquitto")
    client_id = unique_client_id()
    settings = open_settings(
        database_url="sqlite:///unused.db", mqtt_url="mqtt://127.0.0.1:1883", iot_mqtt_client_id=client_id
    )
    key = f"shared{uuid.uuid4().hex[:8]}"
    try:
        with running(store, settings) as client:
            runtime: IotRuntime = client.app.state.iot  # type: ignore[attr-defined]
            assert runtime.mqtt is not None
            assert client.portal is not None
            assert client.portal.call(runtime.mqtt.wait_subscribed, 15)
            headers = {"X-API-Key": api_key(client, Role.DATA_PUBLISHER)}
            groups = [_thermo_group(key, "/iot/json", "ThermoJson"), _thermo_group(key, "/iot/d", "ThermoUl")]
            provision(client, groups, [], headers)
            _publish([(f"/json/{key}/m1/attrs", orjson.dumps({"t": 25})), (f"/ul/{key}/m2/attrs", b"t|26")])
            wait_for(lambda: _value(client, "urn:ngsi-ld:ThermoJson:m1") == 25, what="m1 autoprovisioned (JSON)")
            wait_for(lambda: _value(client, "urn:ngsi-ld:ThermoUl:m2") == 26, what="m2 autoprovisioned (UltraLight)")
            # a plain topic of a device now provisioned: its registered apikey, the first group of the key
            _publish([(f"/{key}/m1/attrs", orjson.dumps({"t": 27}))])
            wait_for(lambda: _value(client, "urn:ngsi-ld:ThermoJson:m1") == 27, what="m1 on the plain topic")
            assert device_stats(client, "m2", headers)["accepted"] == 1
    finally:
        forget_session(1883, client_id)


def _value(client: TestClient, entity_id: str) -> Any:
    answer = client.get(f"/ngsi-ld/v1/entities/{entity_id}")
    return answer.json().get("temperature", {}).get("value") if answer.status_code == 200 else None


def _publish(messages: list[tuple[str, bytes]]) -> None:
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=unique_client_id("test-pub"))
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    try:
        for topic, payload in messages:
            publisher.publish(topic, payload, qos=1).wait_for_publish(10)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
