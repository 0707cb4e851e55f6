"""Notifications over MQTT (NGSI-LD MQTT notification binding): one persistent connection per broker.

The endpoint is ``mqtt[s]://[user[:password]@]host[:port]/topic``. The message is the JSON object
``{"metadata": {...}, "body": <notification>}`` where ``metadata`` holds what HTTP would send as headers
(Content-Type, Link, the receiverInfo entries). The notifierInfo options travel in the outbox row's headers
too and are taken out of the metadata: ``MQTT-Version`` (``mqtt5.0``, the default, or ``mqtt3.1.1``) and
``MQTT-QoS``. The specification's default QoS is 0, which no broker acknowledges; this platform promises
delivery at least once, so it publishes with QoS 1 unless the subscription asks for a QoS explicitly, and a
notification counts as delivered once the broker acknowledged it (PUBACK, or PUBCOMP for QoS 2).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import aiomqtt
import orjson

from smartcity.hub.notify.sender import DeliveryError

log = logging.getLogger(__name__)

DEFAULT_QOS = 1
VERSIONS = {"mqtt5.0": aiomqtt.ProtocolVersion.V5, "mqtt3.1.1": aiomqtt.ProtocolVersion.V311}
DEFAULT_VERSION = "mqtt5.0"
#: publications awaiting their acknowledgement on one connection at most
MAX_INFLIGHT = 256


@dataclass(frozen=True)
class MqttTarget:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    topic: str

    def broker(self, version: str) -> str:
        secret = hashlib.sha256((self.password or "").encode()).hexdigest()[:12] if self.password else ""
        user = f"{self.username}:{secret}@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}#{version}"


@lru_cache(maxsize=4096)
def parse_mqtt(endpoint: str) -> MqttTarget:
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError as exc:
        raise DeliveryError(f"invalid endpoint {endpoint!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    topic = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    wildcard = "+" in topic or "#" in topic or "#" in endpoint
    if scheme not in ("mqtt", "mqtts") or not parts.hostname or not topic or wildcard:
        raise DeliveryError(f"invalid MQTT endpoint {endpoint!r} (mqtt[s]://host[:port]/topic)")
    return MqttTarget(
        scheme,
        parts.hostname,
        port or (8883 if scheme == "mqtts" else 1883),
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        topic,
    )


def split_options(headers: Mapping[str, str]) -> tuple[dict[str, str], int, str]:
    """The message metadata, the QoS and the MQTT version from a row's headers."""
    metadata: dict[str, str] = {}
    qos, version = DEFAULT_QOS, DEFAULT_VERSION
    for name, value in headers.items():
        lower = name.lower()
        if lower == "mqtt-qos":
            if value.strip() not in ("0", "1", "2"):
                raise DeliveryError(f"invalid MQTT-QoS {value!r}")
            qos = int(value)
        elif lower == "mqtt-version":
            if value not in VERSIONS:
                raise DeliveryError(f"unsupported MQTT-Version {value!r}")
            version = value
        else:
            metadata[name] = value
    metadata.setdefault("Content-Type", "application/json")
    return metadata, qos, version


class _Broker:
    """One connection to one broker, opened on first use and again after it failed."""

    def __init__(self, target: MqttTarget, version: str, timeout: float) -> None:
        self.target = target
        self.version = version
        self.timeout = timeout
        self._client: aiomqtt.Client | None = None
        self._lock = asyncio.Lock()

    async def _connected(self) -> aiomqtt.Client:
        client = self._client
        if client is not None:
            return client
        async with self._lock:
            if self._client is None:
                target = self.target
                fresh = aiomqtt.Client(
                    target.host,
                    target.port,
                    username=target.username,
                    password=target.password,
                    identifier=f"smartcity-notify-{uuid.uuid4().hex[:12]}",
                    protocol=VERSIONS[self.version],
                    timeout=self.timeout,
                    tls_context=ssl.create_default_context() if target.scheme == "mqtts" else None,
                    max_inflight_messages=MAX_INFLIGHT,
                )
                fresh.pending_calls_threshold = MAX_INFLIGHT  # ours are bounded by the lane already
                try:
                    await fresh.__aenter__()
                except (aiomqtt.MqttError, OSError) as exc:
                    where = f"{target.host}:{target.port}"
                    raise DeliveryError(f"cannot connect to MQTT broker {where}: {exc}", unreachable=True) from exc
                log.info("connected to MQTT broker %s:%s", target.host, target.port)
                self._client = fresh
            return self._client

    async def publish(self, topic: str, payload: bytes, qos: int) -> None:
        client = await self._connected()
        try:
            await client.publish(topic, payload, qos=qos, timeout=self.timeout)
        except aiomqtt.MqttError as exc:
            await self._drop(client)
            raise DeliveryError(f"MQTT publish failed: {exc}") from exc

    async def _drop(self, client: aiomqtt.Client) -> None:
        async with self._lock:
            if self._client is not client:
                return
            self._client = None
        await _disconnect(client)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _disconnect(client)


async def _disconnect(client: aiomqtt.Client) -> None:
    try:
        await client.__aexit__(None, None, None)
    except (aiomqtt.MqttError, OSError, RuntimeError) as exc:
        log.debug("closing an MQTT connection: %s", exc)


class MqttSender:
    schemes: tuple[str, ...] = ("mqtt", "mqtts")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._brokers: dict[str, _Broker] = {}

    def lane_of(self, endpoint: str) -> str:
        return parse_mqtt(endpoint).broker("")

    async def send(self, endpoint: str, headers: Mapping[str, str], body: bytes) -> None:
        target = parse_mqtt(endpoint)
        metadata, qos, version = split_options(headers)
        key = target.broker(version)
        broker = self._brokers.get(key)
        if broker is None:
            broker = self._brokers[key] = _Broker(target, version, self.timeout)
        payload = orjson.dumps({"metadata": metadata, "body": orjson.Fragment(body)})
        await broker.publish(target.topic, payload, qos)

    async def close(self) -> None:
        brokers, self._brokers = self._brokers, {}
        for broker in brokers.values():
            await broker.close()
