"""The MQTT southbound: the agent subscribes to the device topics of a broker (``smartcity serve --mqtt URL``).

Nothing a device published with QoS 1 is lost, whatever stops:

* **a persistent session**: MQTT 5 with a stable client id (``SMARTCITY_IOT_MQTT_CLIENT_ID``), clean start off
  and a session that outlives the connection (:data:`SESSION_EXPIRY`), so the broker keeps the messages
  published while the agent is away and delivers them when it is back;
* **acknowledgement after the write**: a message is acknowledged (PUBACK) only once the agent has written it
  (or kept it as a dead letter); until then the broker holds it and delivers it again after a reconnection. The
  agent announces a receive maximum (:data:`RECEIVE_MAXIMUM`) large enough for the broker to keep sending while
  a batch is written;
* **reconnection**: the client reconnects by itself, with a delay doubling from 1 s to 30 s, when the broker
  restarts or the network fails, and subscribes again;
* **redeliveries**: a message the broker delivers again (DUP flag) that the agent already has on its way is
  dropped (its acknowledgement will follow); one already written is acknowledged again and not written twice.

The broker must keep the queued messages of the offline session: with Mosquitto set ``max_queued_messages``
(default 1000) high enough, or 0, and ``persistence true`` so that they also survive a restart of the broker.

The client runs on the event loop (no thread: the agent's batcher and it never compete for the interpreter) and
speaks the subset of MQTT 5 a QoS 1 subscriber needs (:mod:`.mqtt_wire`): it reads the socket in large chunks and
writes the acknowledgements of a batch in one go. paho-mqtt processed each message in Python in its own thread,
which capped the whole agent near 4,500 messages/s on two cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from smartcity.iot import inbound as transport
from smartcity.iot import mqtt_wire as wire
from smartcity.iot.agent import Agent, now_micros
from smartcity.iot.directory import Directory
from smartcity.iot.inbound import Address, Inbound

log = logging.getLogger(__name__)

#: unacknowledged messages the broker may have in flight to the agent (MQTT 5 Receive Maximum)
RECEIVE_MAXIMUM = 5000
#: seconds the broker keeps the agent's session (and queues its messages) after it disconnected: one week
SESSION_EXPIRY = 7 * 24 * 3600
KEEPALIVE = 30
CONNECT_TIMEOUT = 10.0
RECONNECT_MIN = 1.0
RECONNECT_MAX = 30.0
READ_SIZE = 256 * 1024
#: messages remembered as written, to recognise their redeliveries
DONE_WINDOW = 100_000
SUBSCRIPTION_ID = 1

MessageKey = tuple[int, str, int]  # (packet id, topic, hash of the payload)


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def parse_broker(url: str) -> Broker:
    """``mqtt://[user[:password]@]host[:port]`` (or ``mqtts://``); ValueError says what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid MQTT broker URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("mqtt", "mqtts") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ValueError(f"an MQTT broker URL looks like mqtt://host:1883 (or mqtts://), not {url!r}")
    return Broker(
        parts.hostname,
        port or (8883 if scheme == "mqtts" else 1883),
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        scheme == "mqtts",
    )


class MqttSouthbound:
    name = "iot.mqtt"

    def __init__(self, url: str, client_id: str, agent: Agent, directory: Directory) -> None:
        self.broker = parse_broker(url)
        self.client_id = client_id
        self.agent = agent
        self.directory = directory
        self.connections = 0  # successful connections so far
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._closing = False
        self._subscribed = asyncio.Event()
        self._acks: list[bytes] = []
        self._flush_scheduled = False
        self._pending: dict[MessageKey, int] = {}
        self._done: set[MessageKey] = set()
        self._done_order: deque[MessageKey] = deque()
        #: counts the sessions the broker started anew: packet ids of an earlier session mean nothing in this one
        self._session_number = 0
        self._next_packet_id = SUBSCRIPTION_ID
        #: takes command results (``.../cmdexe``): (address, payload); acknowledged once it returns
        self.on_result: Callable[[Address, bytes], Awaitable[None]] | None = None
        self._results: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        return self._writer is not None

    async def wait_subscribed(self, timeout: float) -> bool:  # noqa: ASYNC109 - a plain bounded wait
        """Wait until the agent is connected and subscribed; False after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="iot-mqtt")
        log.info("IoT agent: MQTT southbound on %s:%d as %s", self.broker.host, self.broker.port, self.client_id)

    async def stop(self) -> None:
        self._closing = True  # messages from now on stay with the broker, for the next session
        if not await self.agent.drain():
            log.warning("IoT agent: stopping with messages not written yet (the broker will deliver them again)")
        writer = self._writer
        if writer is not None:
            self._flush_acks()
            with contextlib.suppress(OSError):
                writer.write(wire.DISCONNECT_PACKET)
                await writer.drain()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def publish(self, topic: str, payload: bytes) -> bool:
        """Publish a command to a device (QoS 1); False when the agent is not connected."""
        writer = self._writer
        if writer is None:
            return False
        self._next_packet_id = self._next_packet_id % 65535 + 1
        if self._next_packet_id == SUBSCRIPTION_ID:
            self._next_packet_id += 1
        writer.write(wire.publish(topic, payload, self._next_packet_id))
        await writer.drain()
        return True

    # -- the connection --------------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = RECONNECT_MIN
        while not self._closing:
            try:
                await self._session()
                delay = RECONNECT_MIN
            except (OSError, EOFError, TimeoutError, wire.ProtocolError) as exc:
                if not self._closing:
                    log.warning("IoT agent: MQTT broker %s:%d: %s", self.broker.host, self.broker.port, exc)
            except Exception:  # never give up the connection for good: log it and connect again
                log.exception("IoT agent: the MQTT client failed")
            if self._closing:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX)

    async def _session(self) -> None:
        broker = self.broker
        context = ssl.create_default_context() if broker.tls else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(broker.host, broker.port, ssl=context), CONNECT_TIMEOUT
        )
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        packets = wire.PacketReader()
        keepalive: asyncio.Task[None] | None = None
        try:
            writer.write(
                wire.connect(
                    self.client_id,
                    keepalive=KEEPALIVE,
                    session_expiry=SESSION_EXPIRY,
                    receive_maximum=RECEIVE_MAXIMUM,
                    username=broker.username,
                    password=broker.password,
                )
            )
            await writer.drain()
            first = await asyncio.wait_for(self._first(reader, packets), CONNECT_TIMEOUT)
            resumed = wire.parse_connack(first[0])
            if not resumed:  # a new session (first connection, or the broker lost it): forget the old packet ids
                self._session_number += 1
                self._pending.clear()
                self._done.clear()
                self._done_order.clear()
            writer.write(wire.subscribe(SUBSCRIPTION_ID, transport.TOPIC_FILTERS))
            self._writer = writer
            self.connections += 1
            log.info("IoT agent: connected to the MQTT broker (session present: %s)", resumed)
            keepalive = asyncio.create_task(self._ping(writer))
            for packet in first[1:]:  # a resumed session's messages may follow the CONNACK at once
                self._handle(packet)
            while True:
                data = await asyncio.wait_for(reader.read(READ_SIZE), KEEPALIVE * 1.5)
                if not data:
                    raise EOFError("the broker closed the connection")
                for packet in packets.feed(data):
                    self._handle(packet)
        finally:
            self._writer = None
            self._subscribed.clear()
            self._acks.clear()  # acknowledgements of this connection are void: the broker delivers again
            if keepalive is not None:
                keepalive.cancel()
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    @staticmethod
    async def _first(reader: asyncio.StreamReader, packets: wire.PacketReader) -> list[wire.Packet]:
        """The packets of the first read that completes one (the CONNACK, maybe followed by others)."""
        while True:
            data = await reader.read(READ_SIZE)
            if not data:
                raise EOFError("the broker closed the connection")
            found = packets.feed(data)
            if found:
                return found

    @staticmethod
    async def _ping(writer: asyncio.StreamWriter) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE / 2)
            writer.write(wire.PINGREQ_PACKET)

    def _handle(self, packet: wire.Packet) -> None:
        if packet.kind == wire.PUBLISH:
            message = wire.parse_publish(packet)
            if message.qos > 1:
                raise wire.ProtocolError("the broker sent QoS 2 although the subscriptions allow QoS 1 at most")
            self._on_publish(message)
        elif packet.kind == wire.SUBACK:
            refused = [code for code in wire.parse_suback(packet) if code >= 0x80]
            if refused:
                raise wire.ProtocolError(f"the broker refused the subscriptions (reason codes {refused})")
            self._subscribed.set()
        elif packet.kind == wire.DISCONNECT:
            reason = packet.body[0] if packet.body else 0
            raise EOFError(f"the broker disconnected the agent (reason code 0x{reason:02x})")

    # -- messages --------------------------------------------------------------------------------------

    def _on_publish(self, message: wire.Publish) -> None:
        if self._closing:
            return
        address = transport.parse_topic(message.topic)
        if address is None:
            result = transport.parse_cmdexe(message.topic)
            if result is not None and self.on_result is not None:
                task = asyncio.create_task(self._result(result, message))
                self._results.add(task)
                task.add_done_callback(self._results.discard)
                return
            self._ack_now(message)
            return
        key: MessageKey = (message.packet_id, message.topic, hash(message.payload))
        if message.dup:
            if key in self._pending:
                return  # on its way already: its acknowledgement will answer this delivery too
            if key in self._done:
                self._ack_now(message)
                return
        inbound = Inbound("mqtt", address, message.topic, message.payload, now_micros())
        transport.decode(inbound, self.directory.hint(address.apikey, address.device_id))
        if message.qos:
            self._pending[key] = self._pending.get(key, 0) + 1
            packet_id = message.packet_id
            session = self._session_number

            def acknowledge() -> None:
                if session == self._session_number:  # else the packet id now names another message
                    self._acknowledge(key, packet_id)

            inbound.ack = acknowledge
        self.agent.submit(inbound)

    async def _result(self, address: Address, message: wire.Publish) -> None:
        assert self.on_result is not None
        try:
            await self.on_result(address, message.payload)
        except Exception:
            log.exception("IoT agent: a command result from %s could not be taken", message.topic)
        self._ack_now(message)

    def _ack_now(self, message: wire.Publish) -> None:
        if message.qos:
            self._queue_ack(message.packet_id)

    def _acknowledge(self, key: MessageKey, packet_id: int) -> None:
        """After the message is written: remember it as written and acknowledge it."""
        left = self._pending.get(key, 1) - 1
        if left > 0:
            self._pending[key] = left
        else:
            self._pending.pop(key, None)
        if key not in self._done:
            self._done.add(key)
            self._done_order.append(key)
            if len(self._done_order) > DONE_WINDOW:
                self._done.discard(self._done_order.popleft())
        self._queue_ack(packet_id)

    def _queue_ack(self, packet_id: int) -> None:
        if self._writer is None:
            return  # no connection: the broker delivers the message again and it is acknowledged then
        self._acks.append(wire.puback(packet_id))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_acks)

    def _flush_acks(self) -> None:
        """The acknowledgements of a batch in one write."""
        self._flush_scheduled = False
        acks, self._acks = self._acks, []
        writer = self._writer
        if acks and writer is not None:
            try:
                writer.write(b"".join(acks))
            except OSError as exc:
                log.warning("IoT agent: acknowledgements lost with the connection (%s): they come again", exc)
