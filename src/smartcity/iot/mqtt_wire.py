"""The part of the MQTT 5.0 wire format (OASIS Standard, 7 March 2019) a QoS 1 subscriber needs.

Encoders for CONNECT, SUBSCRIBE, PUBLISH (QoS 1: the commands to devices), PUBACK, PINGREQ and DISCONNECT; an
incremental :class:`PacketReader` that cuts a byte stream into packets; decoders for CONNACK, SUBACK and PUBLISH.
Properties the agent does not use are skipped. Every malformed input raises :class:`ProtocolError`.
"""

from __future__ import annotations

from typing import NamedTuple

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREL, SUBSCRIBE, SUBACK = 1, 2, 3, 4, 6, 8, 9
PINGREQ, PINGRESP, DISCONNECT, AUTH = 12, 13, 14, 15
#: CONNECT properties (section 3.1.2.11)
SESSION_EXPIRY_INTERVAL = 0x11
RECEIVE_MAXIMUM = 0x21
#: subscription options (3.8.3.1): maximum QoS 1, retained messages only when the subscription is new
QOS1_RETAIN_IF_NEW = 0x01 | (1 << 4)
MAX_PACKET = 268_435_455  # the largest remaining length the variable byte integer can express


class ProtocolError(Exception):
    """The broker sent something this client cannot take (or refused it)."""


def varint(value: int) -> bytes:
    """A Variable Byte Integer (1.5.5)."""
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    return len(data).to_bytes(2, "big") + data


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + varint(len(body)) + body


def connect(
    client_id: str,
    *,
    keepalive: int,
    session_expiry: int,
    receive_maximum: int,
    username: str | None = None,
    password: str | None = None,
) -> bytes:
    """CONNECT with clean start off: the broker resumes the session of ``client_id`` when it has one."""
    flags = (0x80 if username is not None else 0) | (0x40 if password is not None else 0)
    properties = bytes([SESSION_EXPIRY_INTERVAL]) + session_expiry.to_bytes(4, "big")
    properties += bytes([RECEIVE_MAXIMUM]) + receive_maximum.to_bytes(2, "big")
    header = _text("MQTT") + bytes([5, flags]) + keepalive.to_bytes(2, "big") + varint(len(properties)) + properties
    payload = _text(client_id)
    if username is not None:
        payload += _text(username)
    if password is not None:
        secret = password.encode("utf-8")
        payload += len(secret).to_bytes(2, "big") + secret
    return _packet(CONNECT << 4, header + payload)


def subscribe(packet_id: int, filters: tuple[str, ...], options: int = QOS1_RETAIN_IF_NEW) -> bytes:
    body = packet_id.to_bytes(2, "big") + varint(0)
    for topic_filter in filters:
        body += _text(topic_filter) + bytes([options])
    return _packet((SUBSCRIBE << 4) | 0x02, body)


def publish(topic: str, payload: bytes, packet_id: int) -> bytes:
    """PUBLISH at QoS 1 (the agent's commands to devices), no properties."""
    body = _text(topic) + packet_id.to_bytes(2, "big") + varint(0) + payload
    return _packet((PUBLISH << 4) | 0x02, body)


def puback(packet_id: int) -> bytes:
    """PUBACK, success (the reason code may be left out, 3.4.2.1)."""
    return b"\x40\x02" + packet_id.to_bytes(2, "big")


PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"  # normal disconnection; the session stays for its expiry interval


class Packet(NamedTuple):
    kind: int
    flags: int
    body: bytes


class Publish(NamedTuple):
    topic: str
    payload: bytes
    qos: int
    packet_id: int
    dup: bool
    retain: bool


class PacketReader:
    """Cuts a byte stream into MQTT packets: ``feed`` the bytes read, get the packets they complete."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Packet]:
        buffer = self._buffer
        buffer += data
        packets: list[Packet] = []
        start = 0
        end = len(buffer)
        while end - start >= 2:
            length = 0
            shift = 0
            pos = start + 1
            complete = False
            while pos < end:
                byte = buffer[pos]
                pos += 1
                length |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    complete = True
                    break
                shift += 7
                if shift > 21:
                    raise ProtocolError("malformed remaining length")
            if not complete or end - pos < length:
                break
            first = buffer[start]
            packets.append(Packet(first >> 4, first & 0x0F, bytes(buffer[pos : pos + length])))
            start = pos + length
        del buffer[:start]
        return packets


def _skip_properties(body: bytes, pos: int) -> int:
    length = 0
    shift = 0
    while True:
        if pos >= len(body):
            raise ProtocolError("truncated properties")
        byte = body[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift > 21:
            raise ProtocolError("malformed property length")
    if pos + length > len(body):
        raise ProtocolError("truncated properties")
    return pos + length


def parse_connack(packet: Packet) -> bool:
    """Whether the broker resumed the session; ProtocolError when it refused the connection."""
    if packet.kind != CONNACK or len(packet.body) < 2:
        raise ProtocolError(f"expected CONNACK, got packet type {packet.kind}")
    if packet.body[1] >= 0x80:
        raise ProtocolError(f"the broker refused the connection (reason code 0x{packet.body[1]:02x})")
    return bool(packet.body[0] & 0x01)


def parse_suback(packet: Packet) -> list[int]:
    """The reason code of each filter (0, 1 or 2: granted QoS; 0x80 and above: refused)."""
    if len(packet.body) < 3:
        raise ProtocolError("truncated SUBACK")
    pos = _skip_properties(packet.body, 2)
    return list(packet.body[pos:])


def parse_publish(packet: Packet) -> Publish:
    body = packet.body
    qos = (packet.flags >> 1) & 0x03
    if qos == 3 or len(body) < 2:
        raise ProtocolError("malformed PUBLISH")
    size = int.from_bytes(body[0:2], "big")
    pos = 2 + size
    if pos > len(body):
        raise ProtocolError("truncated PUBLISH topic")
    try:
        topic = body[2:pos].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("a PUBLISH topic is not UTF-8") from None
    packet_id = 0
    if qos:
        if pos + 2 > len(body):
            raise ProtocolError("truncated PUBLISH packet identifier")
        packet_id = int.from_bytes(body[pos : pos + 2], "big")
        pos += 2
    pos = _skip_properties(body, pos)
    return Publish(topic, body[pos:], qos, packet_id, bool(packet.flags & 0x08), bool(packet.flags & 0x01))
