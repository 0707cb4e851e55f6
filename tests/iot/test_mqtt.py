"""Device messages over MQTT through the Mosquitto broker on 127.0.0.1:1883, end to end: the topics of the FIWARE
JSON and UltraLight agents, each message an update of the entity and its history; bad ones dead-lettered."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
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
from tests.iot.support import deadletters, device_stats, entity, history, provision, unit, wait_for
from tests.open_hub import open_settings
from tests.security.support import api_key, running

pytestmark = pytest.mark.mqtt


@dataclass
class Setup:
    client: TestClient
    headers: dict[str, str]
    json_key: str
    ul_key: str


@pytest.fixture
def mqtt_agent(store: Store) -> Iterator[Setup]:
    require_service(1883, "Mosquitto")
    client_id = unique_client_id()
    settings = open_settings(
        database_url="sqlite:///unused.db", mqtt_url="mqtt://127.0.0.1:1883", iot_mqtt_client_id=client_id
    )
    try:
        with running(store, settings) as client:
            runtime: IotRuntime = client.app.state.iot  # type: ignore[attr-defined]
            assert runtime.mqtt is not None
            assert client.portal.call(runtime.mqtt.wait_subscribed, 15), "the agent did not subscribe"
            headers = {"X-API-Key": api_key(client, Role.DATA_PUBLISHER)}
            tag = uuid.uuid4().hex[:8]
            setup = Setup(client, headers, f"json{tag}", f"ul{tag}")
            measures = [
                {"object_id": "t", "name": "temperature", "type": "Number", "metadata": unit("CEL")},
                {"object_id": "h", "name": "relativeHumidity", "type": "Number", "metadata": unit("P1")},
                {"object_id": "p", "name": "precipitation", "type": "Number", "metadata": unit("MMT")},
            ]
            groups = [
                {
                    "apikey": setup.json_key,
                    "resource": "/iot/json",
                    "entity_type": "WeatherObserved",
                    "attributes": measures,
                    "autoprovision": False,
                },
                {
                    "apikey": setup.ul_key,
                    "resource": "/iot/d",
                    "entity_type": "WeatherObserved",
                    "attributes": measures,
                },
            ]
            devices = [
                {
                    "device_id": "dj",
                    "entity_type": "WeatherObserved",
                    "apikey": setup.json_key,
                    "protocol": "IoTA-JSON",
                },
                {"device_id": "du", "entity_type": "WeatherObserved", "apikey": setup.ul_key},
            ]
            provision(client, groups, devices, headers)
            yield setup
    finally:
        forget_session(1883, client_id)


def _publish(messages: list[tuple[str, Any]]) -> None:
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=unique_client_id("test-pub"))
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    try:
        for topic, payload in messages:
            body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
            publisher.publish(topic, body, qos=1).wait_for_publish(10)
    finally:
        publisher.disconnect()
        publisher.loop_stop()


def test_every_measure_topic_reaches_the_entity_and_its_history(mqtt_agent: Setup) -> None:
    j, u = mqtt_agent.json_key, mqtt_agent.ul_key
    _publish(
        [
            (f"/{j}/dj/attrs", {"t": 21.5, "h": 60, "TimeInstant": "2026-11-24T01:00:00Z"}),
            (f"/json/{j}/dj/attrs", [{"t": 22.0, "TimeInstant": "2026-11-24T02:00:00Z"}, {"t": 22.5}]),
            (f"/json/{j}/dj/attrs/p", b"3.5"),
            (f"/ul/{u}/du/attrs", b"t|23.5|h|65"),
            (f"/{u}/du/attrs", b"2026-11-24T03:00:00Z|t|24.5#t|25.5"),  # plain topic: the group says UltraLight
            (f"/ul/{u}/du/attrs/h", b"66"),
        ]
    )
    client = mqtt_agent.client
    dj, du = "urn:ngsi-ld:WeatherObserved:dj", "urn:ngsi-ld:WeatherObserved:du"
    wait_for(lambda: len(history(client, dj, "temperature")) == 3, what="three temperatures of dj")
    wait_for(lambda: len(history(client, du, "temperature")) == 3, what="three temperatures of du")
    wait_for(lambda: len(history(client, du, "relativeHumidity")) == 2, what="two humidities of du")
    wait_for(lambda: "precipitation" in entity(client, dj), what="the single measure of dj")
    assert sorted(i["value"] for i in history(client, dj, "temperature")) == [21.5, 22.0, 22.5]
    assert sorted(i["value"] for i in history(client, du, "temperature")) == [23.5, 24.5, 25.5]
    assert entity(client, dj)["precipitation"]["value"] == 3.5
    assert entity(client, du)["relativeHumidity"]["value"] == 0.66
    stats = device_stats(client, "du", mqtt_agent.headers)
    assert stats["received"] == 3 and stats["accepted"] == 3


def test_bad_mqtt_messages_are_dead_letters_and_good_ones_still_pass(mqtt_agent: Setup) -> None:
    j = mqtt_agent.json_key
    _publish(
        [
            (f"/json/{j}/dj/attrs", b"{oops"),
            (f"/json/{j}/ghost/attrs", {"t": 1}),
            (f"/json/{j}/dj/attrs", {"t": 80}),
            (f"/json/{j}/dj/attrs", {"t": 20}),
        ]
    )
    client, headers = mqtt_agent.client, mqtt_agent.headers
    wait_for(lambda: len(deadletters(client, headers, apikey=j)) == 3, what="three dead letters")
    letters = {d["reason"]: d for d in deadletters(client, headers, apikey=j)}
    assert set(letters) == {"malformed_payload", "unknown_device", "implausible_value"}
    assert letters["malformed_payload"]["transport"] == "mqtt"
    assert letters["malformed_payload"]["topic"] == f"/json/{j}/dj/attrs"
    assert letters["unknown_device"]["device_id"] == "ghost"
    wait_for(lambda: entity(mqtt_agent.client, "urn:ngsi-ld:WeatherObserved:dj").get("temperature"), what="t = 20")
    assert entity(client, "urn:ngsi-ld:WeatherObserved:dj")["temperature"]["value"] == 20
    stats = device_stats(client, "dj", headers)
    assert (stats["received"], stats["accepted"], stats["rejected"]) == (3, 1, 2)
