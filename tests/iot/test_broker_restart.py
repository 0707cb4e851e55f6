"""No QoS 1 message is lost when the broker restarts: a private Mosquitto (persistence on) is stopped and started
again, twice, while a device publishes; the agent reconnects by itself, resumes its persistent session and the hub
ends up holding every message, each once in the history."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from smartcity.hub.store import Store
from smartcity.hub.temporal.service import TemporalService
from smartcity.iot.runtime import IotRuntime
from smartcity.security.roles import Role
from tests.iot.broker import PrivateBroker, private_broker, unique_client_id
from tests.iot.support import provision, unit, wait_for
from tests.open_hub import open_settings
from tests.security.support import api_key, running

pytestmark = pytest.mark.mqtt

MESSAGES = 1200
DEVICES = 4
RATE = 300.0  # messages per second: the publication lasts 4 s


def _publisher(port: int) -> mqtt.Client:
    """A device with a persistent session: what it could not hand over before the restart it sends after."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=unique_client_id("device"), protocol=mqtt.MQTTv311, clean_session=False
    )
    client.reconnect_delay_set(1, 2)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def _held(client: TestClient) -> set[float]:
    temporal: TemporalService = client.app.state.temporal  # type: ignore[attr-defined]
    iri = client.app.state.contexts.resolve(None).expand_term("temperature")  # type: ignore[attr-defined]
    values: list[float] = []
    for d in range(DEVICES):
        values += [v for _, v in temporal.series(None, f"urn:ngsi-ld:WeatherObserved:r{d}", iri)]
    return set(values) if len(values) == len(set(values)) else set()  # a duplicate would fail the count


def _restart(broker: PrivateBroker, down: float) -> None:
    broker.stop()
    time.sleep(down)
    broker.start()


def test_a_broker_restart_loses_no_qos1_message(store: Store, tmp_path: Path) -> None:
    with private_broker(tmp_path) as broker:
        settings = open_settings(
            database_url="sqlite:///unused.db", mqtt_url=broker.url, iot_mqtt_client_id=unique_client_id("agent")
        )
        with running(store, settings) as client:
            runtime: IotRuntime = client.app.state.iot  # type: ignore[attr-defined]
            assert runtime.mqtt is not None and client.portal.call(runtime.mqtt.wait_subscribed, 15)
            headers = {"X-API-Key": api_key(client, Role.DATA_PUBLISHER)}
            group = {
                "apikey": "rkey",
                "entity_type": "WeatherObserved",
                "attributes": [{"object_id": "t", "name": "temperature", "type": "Number", "metadata": unit("CEL")}],
            }
            provision(
                client,
                [group],
                [{"device_id": f"r{d}", "entity_type": "WeatherObserved"} for d in range(DEVICES)],
                headers,
            )
            device = _publisher(broker.port)

            def publish() -> None:
                start = time.monotonic()
                for n in range(MESSAGES):
                    body = orjson.dumps(
                        {"t": n / 100, "TimeInstant": f"2026-11-24T00:{n // 60 % 60:02d}:{n % 60:02d}Z"}
                    )
                    device.publish(f"/json/rkey/r{n % DEVICES}/attrs", body, qos=1)
                    time.sleep(max(0.0, start + (n + 1) / RATE - time.monotonic()))

            sender = threading.Thread(target=publish)
            sender.start()
            time.sleep(1.0)
            _restart(broker, down=1.0)  # while the device publishes: it and the agent reconnect by themselves
            time.sleep(1.0)
            _restart(broker, down=0.5)
            sender.join()
            expected = {n / 100 for n in range(MESSAGES)}
            try:
                wait_for(lambda: _held(client) == expected, timeout=60, what=f"all {MESSAGES} messages in the history")
            finally:
                device.disconnect()
                device.loop_stop()
            # reconnected at least once (two quick restarts may fall within one reconnection delay)
            assert runtime.mqtt.connections >= 2 and runtime.mqtt.connected
            assert runtime.agent.totals["rejected"] == 0
