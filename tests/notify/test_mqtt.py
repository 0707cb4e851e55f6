"""Delivery over MQTT to a real subscriber of the Mosquitto broker on 127.0.0.1:1883."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from tests.conftest import require_service
from tests.notify.receiver import free_port
from tests.notify.support import add_subscription, numbers_of, outbox, queue, status, wait_for

pytestmark = pytest.mark.mqtt
SUB = "urn:ngsi-ld:Subscription:mqtt"


class Subscriber:
    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.messages: list[mqtt.MQTTMessage] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_args: self._subscribed.set()
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        client.subscribe(self.topic, qos=1)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def received(self) -> list[mqtt.MQTTMessage]:
        with self._lock:
            return list(self.messages)


@contextmanager
def subscribed(topic: str) -> Iterator[Subscriber]:
    require_service(1883, "Mosquitto")
    subscriber = Subscriber(topic)
    subscriber.client.connect("127.0.0.1", 1883)
    subscriber.client.loop_start()
    try:
        assert subscriber._subscribed.wait(10), "the test subscriber could not subscribe"
        yield subscriber
    finally:
        subscriber.client.loop_stop()
        subscriber.client.disconnect()


@pytest.mark.parametrize("version", ["mqtt5.0", "mqtt3.1.1"])
def test_notifications_are_published_to_the_topic_of_an_mqtt_endpoint(
    client: TestClient, store: Store, version: str
) -> None:
    topic = f"smartcity/test/{uuid.uuid4().hex}/notify"
    add_subscription(store, SUB)
    headers = {
        "Content-Type": "application/json",
        "Link": '<https://example.org/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context"',
        "X-Receiver": "ops-centre",
        "MQTT-Version": version,
    }
    with subscribed(topic) as subscriber:
        queue(store, SUB, f"mqtt://127.0.0.1:1883/{topic}", range(4), headers)
        wait_for(lambda: len(subscriber.received()) >= 4, what="4 MQTT messages")
        wait_for(lambda: not outbox(store), what="an empty outbox")
    messages = subscriber.received()
    assert all(m.topic == topic for m in messages)
    assert all(m.qos == 1 for m in messages)  # at least once: QoS 1 unless the subscription asks otherwise
    payloads = [orjson.loads(m.payload) for m in messages]
    assert numbers_of([orjson.dumps(p["body"]) for p in payloads]) == [0, 1, 2, 3]
    metadata = payloads[0]["metadata"]
    assert metadata == {"Content-Type": "application/json", "Link": headers["Link"], "X-Receiver": "ops-centre"}
    assert payloads[0]["body"]["subscriptionId"] == SUB
    state = wait_for(lambda: (s := status(store, SUB))["times_sent"] == 4 and s, what="times_sent == 4")
    assert state["times_failed"] == 0


def test_mqtt_qos_asked_by_the_subscription_is_used(client: TestClient, store: Store) -> None:
    topic = f"smartcity/test/{uuid.uuid4().hex}"
    add_subscription(store, SUB)
    with subscribed(topic) as subscriber:
        queue(store, SUB, f"mqtt://127.0.0.1/{topic}", [1], {"Content-Type": "application/json", "MQTT-QoS": "0"})
        wait_for(lambda: subscriber.received(), what="the MQTT message")
        wait_for(lambda: not outbox(store), what="an empty outbox")
    assert subscriber.received()[0].qos == 0


def test_an_unreachable_broker_keeps_the_notification_queued(client: TestClient, store: Store) -> None:
    add_subscription(store, SUB)
    queue(store, SUB, f"mqtt://127.0.0.1:{free_port()}/nowhere", [1])
    row = wait_for(lambda: [r for r in outbox(store) if r["attempts"] >= 1], what="a failed attempt")[0]
    assert "cannot connect to MQTT broker" in row["last_error"]
    assert status(store, SUB)["times_failed"] >= 1
