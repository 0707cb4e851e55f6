"""The agent's MQTT 5 subscriber without a broker: the wire format, the stream cut into packets however it is
read, and the handling of redeliveries and acknowledgements."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcity.iot import mqtt_wire as wire
from smartcity.iot.inbound import Inbound
from smartcity.iot.mqtt import MqttSouthbound

PROPERTY = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _publish(
    topic: str, payload: bytes, qos: int = 1, packet_id: int = 7, dup: bool = False, props: bytes = b""
) -> bytes:
    body = len(topic.encode()).to_bytes(2, "big") + topic.encode()
    if qos:
        body += packet_id.to_bytes(2, "big")
    body += wire.varint(len(props)) + props + payload
    first = (wire.PUBLISH << 4) | (qos << 1) | (0x08 if dup else 0)
    return bytes([first]) + wire.varint(len(body)) + body


def test_connect_and_subscribe_as_the_standard_writes_them() -> None:
    packet = wire.connect(
        "agent", keepalive=30, session_expiry=604800, receive_maximum=5000, username="u", password="p"
    )
    assert packet[0] == 0x10
    body = packet[2:]
    assert body[:7] == b"\x00\x04MQTT\x05" and body[7] == 0xC0  # MQTT 5, username and password, clean start off
    assert body[8:10] == (30).to_bytes(2, "big")
    # properties: session expiry 604800 s, receive maximum 5000; then the client id, username and password
    assert body[10:19] == b"\x08\x11\x00\x09\x3a\x80\x21\x13\x88"
    assert body[19:] == b"\x00\x05agent\x00\x01u\x00\x01p"
    subscribe = wire.subscribe(1, ("/+/+/attrs",))
    assert subscribe[0] == 0x82 and subscribe.endswith(b"/+/+/attrs\x11")
    assert wire.puback(258) == b"\x40\x02\x01\x02"
    assert wire.varint(0) == b"\x00" and wire.varint(127) == b"\x7f" and wire.varint(16384) == b"\x80\x80\x01"


def test_publish_packets_are_parsed_with_their_properties_skipped() -> None:
    reader = wire.PacketReader()
    props = b"\x01\x01" + b"\x03" + (4).to_bytes(2, "big") + b"json"  # payload format, content type
    stream = _publish("/k/d/attrs", b'{"t":1}', props=props) + _publish("/k/d/attrs", b"x", qos=0)
    packets = reader.feed(stream)
    first, second = (wire.parse_publish(p) for p in packets)
    assert first == wire.Publish("/k/d/attrs", b'{"t":1}', 1, 7, False, False)
    assert second.qos == 0 and second.packet_id == 0 and second.payload == b"x"
    dup = wire.parse_publish(reader.feed(_publish("/t", b"", dup=True))[0])
    assert dup.dup
    assert wire.parse_connack(wire.Packet(wire.CONNACK, 0, b"\x01\x00\x00")) is True
    with pytest.raises(wire.ProtocolError, match="refused"):
        wire.parse_connack(wire.Packet(wire.CONNACK, 0, b"\x00\x87\x00"))
    assert wire.parse_suback(wire.Packet(wire.SUBACK, 0, b"\x00\x01\x00\x01\x80")) == [1, 0x80]


@PROPERTY
@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=30), st.binary(max_size=300), st.integers(0, 1)), max_size=8),
    st.lists(st.integers(1, 400), max_size=20),
)
def test_the_stream_is_cut_into_the_same_packets_however_it_is_read(
    messages: list[tuple[str, bytes, int]], cuts: list[int]
) -> None:
    stream = b"".join(_publish(t, p, qos, packet_id=n + 1) for n, (t, p, qos) in enumerate(messages))
    reader = wire.PacketReader()
    found: list[wire.Packet] = []
    position = 0
    for size in cuts:
        found += reader.feed(stream[position : position + size])
        position += size
    found += reader.feed(stream[position:])
    parsed = [wire.parse_publish(p) for p in found]
    assert [(p.topic, p.payload, p.qos) for p in parsed] == messages


@PROPERTY
@given(st.binary(max_size=600))
def test_arbitrary_bytes_give_packets_or_a_protocol_error(data: bytes) -> None:
    try:
        for packet in wire.PacketReader().feed(data):
            if packet.kind == wire.PUBLISH:
                wire.parse_publish(packet)
    except wire.ProtocolError:
        pass


class FakeAgent:
    def __init__(self) -> None:
        self.submitted: list[Inbound] = []

    def submit(self, inbound: Inbound) -> None:
        self.submitted.append(inbound)


class FakeWriter:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data


class FakeDirectory:
    def hint(self, apikey: str, device_id: str) -> bool | None:
        return None


def test_redeliveries_are_written_once_and_acknowledged_after_the_write() -> None:
    async def scenario() -> None:
        agent = FakeAgent()
        client = MqttSouthbound("mqtt://127.0.0.1:1", "test", agent, FakeDirectory())  # type: ignore[arg-type]
        writer = FakeWriter()
        client._writer = writer  # type: ignore[assignment]
        message = wire.Publish("/json/k/d/attrs", b'{"t": 1}', 1, 42, False, False)
        client._on_publish(message)
        assert len(agent.submitted) == 1 and writer.written == b""  # not acknowledged before it is written
        client._on_publish(message._replace(dup=True))  # delivered again while on its way: dropped
        assert len(agent.submitted) == 1
        ack: Any = agent.submitted[0].ack
        ack()  # written
        await asyncio.sleep(0)
        assert writer.written == wire.puback(42)
        client._on_publish(message._replace(dup=True))  # delivered again after it was written: acknowledged only
        await asyncio.sleep(0)
        assert len(agent.submitted) == 1 and writer.written == wire.puback(42) * 2
        client._on_publish(wire.Publish("/json/k/d/attrs", b'{"t": 2}', 1, 42, False, False))  # a new message
        assert len(agent.submitted) == 2
        client._on_publish(wire.Publish("/other/topic", b"", 1, 43, False, False))  # not a measure topic
        await asyncio.sleep(0)
        assert writer.written.endswith(wire.puback(43)) and len(agent.submitted) == 2

    asyncio.run(scenario())
