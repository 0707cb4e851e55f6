"""The demo's side of the IoT agent's interfaces: provisioning (northbound) and device messages (southbound).

Provisioning follows the FIWARE IoT Agent API: ``POST /iot/services`` creates the service groups (one API key per
kind of sensor) and ``POST /iot/devices`` the devices with their attribute mappings, with the replayer's API key
(role ``data_publisher``) in ``X-API-Key``. A device message is what a real sensor sends: over HTTP
``POST /iot/json?k=<apikey>&i=<device_id>`` with a JSON object of ``object_id -> value``, or over MQTT to the topic
``/<apikey>/<device_id>/attrs`` with the same JSON. The measurement time travels as the ``TimeInstant`` measure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import orjson

from smartcity.demo.client import Answer, HttpClient, HttpError
from smartcity.demo.devices import RESOURCE, Device, Message, ServiceGroup
from smartcity.demo.timeline import iso_utc

log = logging.getLogger(__name__)

JSON = {"Content-Type": "application/json"}
DEVICE_CHUNK = 100


class ProvisioningError(Exception):
    """The IoT agent refused the demo's service groups or devices."""


def payload(message: Message) -> dict[str, Any]:
    """The JSON a device sends: its measures and the observation time."""
    body = dict(message.measures)
    body["TimeInstant"] = iso_utc(message.at)
    return body


def _explain(answer: Answer) -> str:
    return answer.body[:300].decode("utf-8", "replace")


def _dropped(body: bytes) -> list[str]:
    """The measures the IoT agent dropped from an accepted message (its 200 answer lists them)."""
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return []
    dropped = answer.get("dropped") if isinstance(answer, dict) else None
    if not isinstance(dropped, list):
        return []
    return [str(item.get("detail", item)) if isinstance(item, dict) else str(item) for item in dropped]


class Provisioner:
    """Registers the demo's service groups and devices with the IoT agent. On a database that has them already
    (a second ``smartcity demo``), they are updated to the demo's current definitions instead (``PUT``)."""

    def __init__(self, client: HttpClient, api_key: str) -> None:
        self.client = client
        self.headers = {**JSON, "X-API-Key": api_key, "Fiware-ServicePath": "/"}

    async def _send(self, method: str, path: str, body: dict[str, Any]) -> Answer:
        return await self.client.request(method, path, orjson.dumps(body), self.headers)

    async def groups(self, groups: Sequence[ServiceGroup]) -> int:
        """Create (or update) each group; returns how many were new."""
        created = 0
        for group in groups:
            answer = await self._send("POST", "/iot/services", {"services": [group.provisioning()]})
            if answer.ok:
                created += 1
                continue
            if answer.status == 409:
                target = f"/iot/services?resource={quote(RESOURCE)}&apikey={quote(group.apikey)}"
                answer = await self._send("PUT", target, group.provisioning())
            if not answer.ok:
                raise ProvisioningError(f"service group {group.apikey}: HTTP {answer.status} {_explain(answer)}")
        return created

    async def devices(self, devices: Sequence[Device]) -> int:
        """Create the devices in chunks; a chunk refused as a duplicate is sent one device at a time, and
        devices that exist are updated. Returns how many were new."""
        created = 0
        for start in range(0, len(devices), DEVICE_CHUNK):
            chunk = devices[start : start + DEVICE_CHUNK]
            answer = await self._send("POST", "/iot/devices", {"devices": [d.provisioning() for d in chunk]})
            if answer.ok:
                created += len(chunk)
                continue
            if answer.status != 409:
                raise ProvisioningError(f"devices: HTTP {answer.status} {_explain(answer)}")
            for device in chunk:
                single = await self._send("POST", "/iot/devices", {"devices": [device.provisioning()]})
                if single.ok:
                    created += 1
                    continue
                if single.status == 409:
                    single = await self._send("PUT", f"/iot/devices/{quote(device.device_id)}", device.provisioning())
                if not single.ok:
                    raise ProvisioningError(f"device {device.device_id}: HTTP {single.status} {_explain(single)}")
        return created


@dataclass(frozen=True)
class Delivery:
    """What became of one device message: accepted (perhaps with some measures dropped) or refused, and why."""

    accepted: bool
    dropped: int = 0
    problem: str | None = None


ACCEPTED = Delivery(True)


async def dead_letters(client: HttpClient, api_key: str) -> int | None:
    """How many refused device messages the IoT agent keeps (``GET /iot/deadletters``), None when unknown."""
    try:
        answer = await client.request("GET", "/iot/deadletters?limit=1", None, {"X-API-Key": api_key})
    except HttpError:
        return None
    if not answer.ok:
        return None
    try:
        count = orjson.loads(answer.body).get("count")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return count if isinstance(count, int) else None


class Southbound(Protocol):
    """Where device messages go."""

    async def send(self, message: Message) -> Delivery: ...

    async def close(self) -> None: ...


class HttpSouthbound:
    """Device messages over HTTP, as ``POST /iot/json?k=<apikey>&i=<device_id>``."""

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    async def send(self, message: Message) -> Delivery:
        target = f"/iot/json?k={quote(message.group.apikey)}&i={quote(message.device_id)}"
        body = orjson.dumps(payload(message))
        for attempt in range(6):
            try:
                answer = await self.client.request("POST", target, body, JSON)
            except HttpError as exc:
                return Delivery(False, problem=str(exc))
            if answer.status not in (429, 503):
                break
            await asyncio.sleep(0.2 * (attempt + 1))  # rate limit or a busy agent: wait and send it again
        if not answer.ok:
            return Delivery(False, problem=f"HTTP {answer.status} {_explain(answer)}")
        if not answer.body:
            return ACCEPTED
        dropped = _dropped(answer.body)
        return Delivery(True, len(dropped), "; ".join(dropped[:3]) or None)

    async def close(self) -> None:
        await self.client.close()


class MqttSouthbound:
    """Device messages over MQTT, to ``/<apikey>/<device_id>/attrs`` (QoS 1) on the broker of ``url``."""

    def __init__(self, url: str) -> None:
        import aiomqtt

        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ValueError(f"an MQTT broker URL looks like mqtt://host:1883, not {url!r}")
        self.url = url
        self._client = aiomqtt.Client(
            parts.hostname,
            parts.port or 1883,
            username=parts.username,
            password=parts.password,
            identifier=f"smartcity-demo-replayer-{os.getpid()}",
        )
        self._connected = False
        self._connecting = asyncio.Lock()

    async def _connect(self) -> None:
        async with self._connecting:  # the replay sends from several tasks; one connection for all
            if not self._connected:
                await self._client.__aenter__()
                self._connected = True

    async def send(self, message: Message) -> Delivery:
        """Published (QoS 1) is accepted: what the IoT agent then refuses shows in its dead-letter store."""
        import aiomqtt

        topic = f"/{message.group.apikey}/{message.device_id}/attrs"
        try:
            await self._connect()
            await self._client.publish(topic, orjson.dumps(payload(message)), qos=1)
        except aiomqtt.MqttError as exc:
            await self.close()  # the next message reconnects
            return Delivery(False, problem=f"MQTT {self.url}: {exc}")
        return ACCEPTED

    async def close(self) -> None:
        if self._connected:
            self._connected = False
            with contextlib.suppress(Exception):
                await self._client.__aexit__(None, None, None)
