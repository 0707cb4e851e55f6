"""The HTTP and MQTT senders' edges: answers of every framing, stale connections, endpoint parsing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from smartcity.hub.notify.http_sender import HttpSender, parse_http, render_request
from smartcity.hub.notify.mqtt_sender import parse_mqtt, split_options
from smartcity.hub.notify.sender import DeliveryError
from tests.notify.receiver import free_port

Answer = Callable[[int], bytes]  # the raw answer to the n-th request


@asynccontextmanager
async def raw_server(answer: Answer, close_after: bool = False) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A raw HTTP/1.1 server: reads each request head and body, writes ``answer(n)`` verbatim."""
    seen: list[bytes] = []
    writers: list[asyncio.StreamWriter] = []
    handlers: list[asyncio.Task[None]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.append(task)
        writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                seen.append(head + await reader.readexactly(length))
                writer.write(answer(len(seen) - 1))
                await writer.drain()
                if close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, seen
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    ],
)
def test_every_framing_of_an_answer_is_read_and_the_connection_kept(answer: bytes) -> None:
    async def scenario() -> list[bytes]:
        async with raw_server(lambda _n: answer) as (port, seen):
            sender = HttpSender(2.0)
            for _ in range(3):
                await sender.send(f"http://127.0.0.1:{port}/n", {"Content-Type": "application/ld+json"}, b"{}")
            assert len(sender._idle[f"http://127.0.0.1:{port}"]) == 1  # one connection served all three
            await sender.close()
            return seen

    seen = asyncio.run(scenario())
    assert len(seen) == 3
    assert seen[0].startswith(b"POST /n HTTP/1.1\r\n")
    assert b"Content-Type: application/ld+json\r\n" in seen[0]


def test_an_answer_without_length_is_read_to_the_end_and_a_closed_connection_is_replaced() -> None:
    async def scenario() -> int:
        answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbye"
        async with raw_server(lambda _n: answer, close_after=True) as (port, seen):
            sender = HttpSender(2.0)
            for _ in range(3):
                await sender.send(f"http://127.0.0.1:{port}/", {}, b"{}")
            await sender.close()
            return len(seen)

    assert asyncio.run(scenario()) == 3


def test_a_kept_connection_the_server_dropped_is_retried_on_a_new_one() -> None:
    async def scenario() -> int:
        # the server says keep-alive but closes after each answer, as an idle timeout would
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        async with raw_server(lambda _n: answer, close_after=True) as (port, seen):
            sender = HttpSender(2.0)
            for _ in range(3):
                await sender.send(f"http://127.0.0.1:{port}/", {}, b"{}")
                await asyncio.sleep(0.05)
            await sender.close()
            return len(seen)

    assert asyncio.run(scenario()) == 3


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", "HTTP 500"),
        (b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n", "HTTP 302"),
        (b"SMTP ready\r\n\r\n", "malformed answer"),
    ],
)
def test_anything_but_2xx_is_a_failure(answer: bytes, error: str) -> None:
    async def scenario() -> None:
        async with raw_server(lambda _n: answer) as (port, _seen):
            sender = HttpSender(2.0)
            try:
                await sender.send(f"http://127.0.0.1:{port}/", {}, b"{}")
            finally:
                await sender.close()

    with pytest.raises(DeliveryError, match=error):
        asyncio.run(scenario())


def test_nothing_listening_is_unreachable() -> None:
    async def scenario() -> None:
        await HttpSender(2.0).send(f"http://127.0.0.1:{free_port()}/", {}, b"{}")

    with pytest.raises(DeliveryError, match="cannot connect") as caught:
        asyncio.run(scenario())
    assert caught.value.unreachable


def test_request_rendering_drops_injected_and_reserved_headers() -> None:
    target = parse_http("http://example.org:8080/a/b?c=1")
    request = render_request(
        target, {"X-Ok": "1", "X-Bad": "a\r\nInjected: yes", "Bad Name": "x", "Content-Length": "999"}, b"{}"
    )
    head = request.split(b"\r\n\r\n", 1)[0].decode()
    assert head.splitlines() == [
        "POST /a/b?c=1 HTTP/1.1",
        "Host: example.org:8080",
        "Content-Length: 2",
        "X-Ok: 1",
        "Content-Type: application/json",
    ]
    assert parse_http("https://example.org/").host_header == "example.org"
    assert parse_http("https://example.org/").port == 443
    with pytest.raises(DeliveryError):
        parse_http("ftp://example.org/")
    with pytest.raises(DeliveryError):
        parse_http("http:///nohost")


def test_mqtt_endpoints_and_options() -> None:
    target = parse_mqtt("mqtts://user:p%40ss@broker.example:8884/city/air%20quality")
    assert (target.host, target.port, target.username, target.password, target.topic) == (
        "broker.example",
        8884,
        "user",
        "p@ss",
        "city/air quality",
    )
    assert parse_mqtt("mqtt://broker/t").port == 1883
    for bad in ("mqtt://broker/", "mqtt://broker/a/#", "mqtt://broker/+/x", "http://broker/t"):
        with pytest.raises(DeliveryError):
            parse_mqtt(bad)
    metadata, qos, version = split_options({"Link": "<x>", "MQTT-QoS": "2", "MQTT-Version": "mqtt3.1.1"})
    assert (metadata, qos, version) == ({"Link": "<x>", "Content-Type": "application/json"}, 2, "mqtt3.1.1")
    assert split_options({})[1:] == (1, "mqtt5.0")
    with pytest.raises(DeliveryError):
        split_options({"MQTT-QoS": "3"})
