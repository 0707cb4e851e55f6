"""Commands to devices (FIWARE IoT Agent JSON / UltraLight conventions): an NGSI-LD client updates the command
attribute of a device's entity in the hub; the agent sends the command over MQTT (real Mosquitto) or HTTP (a real
local receiver) and follows it through ``<cmd>_status`` (PENDING, OK, ERROR, EXPIRED) and ``<cmd>_info``."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
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
from tests.iot.broker import forget_session, free_port, unique_client_id
from tests.iot.support import count_rows, entity, provision, wait_for
from tests.open_hub import open_settings
from tests.security.support import api_key, running

LAMP = "urn:ngsi-ld:Streetlight:{}"


def _group(apikey: str, resource: str = "/iot/json") -> dict[str, Any]:
    return {"apikey": apikey, "resource": resource, "entity_type": "Streetlight"}


def _lamp(device_id: str, apikey: str, **extra: Any) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "entity_type": "Streetlight",
        "apikey": apikey,
        "commands": [{"name": "ping", "type": "command"}, {"name": "switch", "type": "command"}],
        **extra,
    }


def _trigger(client: TestClient, device_id: str, command: str, value: Any) -> None:
    body = {command: {"type": "Property", "value": value}}
    answer = client.patch(f"/ngsi-ld/v1/entities/{LAMP.format(device_id)}/attrs", json=body)
    assert answer.status_code == 204, answer.text


def _status(client: TestClient, device_id: str, command: str = "ping") -> tuple[Any, Any]:
    current = entity(client, LAMP.format(device_id))
    return current[f"{command}_status"]["value"], current[f"{command}_info"]["value"]


# -- MQTT ----------------------------------------------------------------------------------------------


@dataclass
class Device:
    """A device on the broker: it takes its commands and answers them when told to."""

    topic: str
    received: list[bytes] = field(default_factory=list)
    client: mqtt.Client | None = None

    def start(self) -> None:
        ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=unique_client_id("test-device"))
        self.client.on_message = lambda _c, _u, message: self.received.append(bytes(message.payload))
        self.client.on_subscribe = lambda *_args: ready.set()
        self.client.connect("127.0.0.1", 1883)
        self.client.loop_start()
        self.client.subscribe(self.topic, qos=1)
        assert ready.wait(10), "the test device did not subscribe"

    def answer(self, topic: str, payload: bytes) -> None:
        assert self.client is not None
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def stop(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()


@dataclass
class MqttSetup:
    client: TestClient
    key: str


@pytest.fixture
def mqtt_commands(store: Store) -> Iterator[MqttSetup]:
    require_service(1883, "Mosquitto")
    client_id = unique_client_id()
    settings = open_settings(
        database_url="sqlite:///unused.db",
        mqtt_url="mqtt://127.0.0.1:1883",
        iot_mqtt_client_id=client_id,
        iot_command_timeout=2.0,
    )
    try:
        with running(store, settings) as client:
            runtime: IotRuntime = client.app.state.iot  # type: ignore[attr-defined]
            assert runtime.mqtt is not None
            assert client.portal is not None
            assert client.portal.call(runtime.mqtt.wait_subscribed, 15)
            headers = {"X-API-Key": api_key(client, Role.DATA_PUBLISHER)}
            key = f"cmd{uuid.uuid4().hex[:8]}"
            devices = [
                _lamp("lampj", key, transport="MQTT", protocol="IoTA-JSON"),
                _lamp("lampu", key, transport="MQTT", protocol="IoTA-UL"),
            ]
            provision(client, [_group(key)], devices, headers)
            yield MqttSetup(client, key)
    finally:
        forget_session(1883, client_id)


@pytest.mark.mqtt
def test_a_json_command_goes_out_on_mqtt_and_its_answer_comes_back(mqtt_commands: MqttSetup) -> None:
    client, key = mqtt_commands.client, mqtt_commands.key
    assert _status(client, "lampj") == ("UNKNOWN", "")  # provisioning gave the entity its command attributes
    device = Device(f"/{key}/lampj/cmd")
    device.start()
    try:
        _trigger(client, "lampj", "ping", {"data": "22"})
        wait_for(lambda: device.received, what="the command on /<apikey>/<device>/cmd")
        assert orjson.loads(device.received[0]) == {"ping": {"data": "22"}}
        assert _status(client, "lampj")[0] == "PENDING"
        device.answer(f"/json/{key}/lampj/cmdexe", orjson.dumps({"ping": "pong 22"}))
        wait_for(lambda: _status(client, "lampj") == ("OK", "pong 22"), what="ping_status OK")
        # an unrelated update of the entity sends nothing
        answer = client.patch(
            f"/ngsi-ld/v1/entities/{LAMP.format('lampj')}/attrs",
            json={"switch_info": {"type": "Property", "value": "x"}},
        )
        assert answer.status_code == 204
        _trigger(client, "lampj", "switch", "on")
        wait_for(lambda: len(device.received) == 2, what="the second command")
        assert orjson.loads(device.received[1]) == {"switch": "on"}
        device.answer(f"/{key}/lampj/cmdexe", orjson.dumps({"switch": {"state": "on"}}))
        wait_for(lambda: _status(client, "lampj", "switch") == ("OK", {"state": "on"}), what="switch_status OK")
    finally:
        device.stop()


@pytest.mark.mqtt
def test_an_ultralight_command_and_one_that_expires(mqtt_commands: MqttSetup) -> None:
    client, key = mqtt_commands.client, mqtt_commands.key
    device = Device(f"/{key}/lampu/cmd")
    device.start()
    try:
        _trigger(client, "lampu", "ping", "hello")
        wait_for(lambda: device.received, what="the UltraLight command")
        assert device.received[0] == b"lampu@ping|hello"
        device.answer(f"/ul/{key}/lampu/cmdexe", b"lampu@ping|hello back")
        wait_for(lambda: _status(client, "lampu") == ("OK", "hello back"), what="ping_status OK")
        _trigger(client, "lampu", "switch", "off")  # the device never answers: expired after the timeout (2 s)
        # QoS 1 is at least once: on a loaded machine the first command may arrive twice
        wait_for(lambda: b"lampu@switch|off" in device.received, what="the second command")
        assert set(device.received) == {b"lampu@ping|hello", b"lampu@switch|off"}
        _status_value, info = wait_for(
            lambda: (s := _status(client, "lampu", "switch"))[0] == "EXPIRED" and s, timeout=15, what="EXPIRED"
        )
        assert "did not answer" in info
    finally:
        device.stop()


# -- HTTP ----------------------------------------------------------------------------------------------


class Receiver:
    """A device listening for HTTP commands on a local port; it answers with the status and body it is given."""

    def __init__(self, status: int = 200, body: bytes = b"") -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = status
        self.body = body
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, data))
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/commands"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    device = Receiver(200, orjson.dumps({"ping": "pong from http"}))
    yield device
    device.close()


def test_an_http_command_is_pushed_to_the_endpoint_and_the_answer_is_its_result(
    agent_client: TestClient, publisher: dict[str, str], receiver: Receiver, store: Store
) -> None:
    broken = Receiver(500, b'{"error": "relay stuck"}')
    try:
        headers = {**publisher, "Fiware-Service": "acme", "Fiware-ServicePath": "/lights"}
        devices = [
            _lamp("lamph", "hkey", transport="HTTP", endpoint=receiver.url),
            _lamp("lampx", "hkey", endpoint=broken.url),  # no transport: the endpoint makes it HTTP
        ]
        provision(agent_client, [_group("hkey")], devices, headers)
        tenant = {"NGSILD-Tenant": "acme"}
        body = {"ping": {"type": "Property", "value": "now"}}
        answer = agent_client.patch(f"/ngsi-ld/v1/entities/{LAMP.format('lamph')}/attrs", json=body, headers=tenant)
        assert answer.status_code == 204, answer.text

        def status(device_id: str) -> tuple[Any, Any]:
            current = entity(agent_client, LAMP.format(device_id), tenant)
            return current["ping_status"]["value"], current["ping_info"]["value"]

        wait_for(lambda: status("lamph") == ("OK", "pong from http"), what="ping_status OK over HTTP")
        sent_headers, sent = receiver.requests[0]
        assert orjson.loads(sent) == {"ping": "now"}
        assert sent_headers["fiware-service"] == "acme" and sent_headers["fiware-servicepath"] == "/lights"
        answer = agent_client.patch(f"/ngsi-ld/v1/entities/{LAMP.format('lampx')}/attrs", json=body, headers=tenant)
        assert answer.status_code == 204
        _state, info = wait_for(lambda: (s := status("lampx"))[0] == "ERROR" and s, what="ping_status ERROR")
        assert "500" in info
        assert count_rows(store, "iot_commands") == 2
    finally:
        broken.close()


def test_commands_are_validated_when_provisioned(agent_client: TestClient, publisher: dict[str, str]) -> None:
    provision(agent_client, [_group("vkey")], [], publisher)
    for bad in (
        {"commands": "ping"},
        {"commands": [{"name": "ping"}, {"name": "ping"}]},
        {"commands": [{"type": "command"}]},
        {"endpoint": "ftp://device"},
    ):
        answer = agent_client.post("/iot/devices", json={"devices": [_lamp("bad", "vkey") | bad]}, headers=publisher)
        assert answer.status_code == 400 and answer.json()["name"] == "WRONG_SYNTAX", (bad, answer.text)
