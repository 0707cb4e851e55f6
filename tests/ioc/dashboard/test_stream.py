"""The live stream: SSE framing, catch-up with Last-Event-ID, overflow, and the real server with a session."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from smartcity.app import create_app
from smartcity.hub.errors import BadRequestData
from smartcity.hub.store import Store, open_store
from smartcity.ioc.dashboard import stream
from smartcity.ioc.events import EventHub
from smartcity.security.credentials import Credentials
from smartcity.security.passwords import Passwords
from tests.ioc.dashboard import city as data
from tests.ioc.dashboard.server import serving
from tests.security.support import PASSWORD, production


def test_kinds_and_last_event_id_are_parsed_or_refused_clearly() -> None:
    assert stream.parse_kinds(None) is None and stream.parse_kinds(" ") is None
    assert stream.parse_kinds("alert, incident.opened") == frozenset({"alert", "incident.opened"})
    with pytest.raises(BadRequestData):
        stream.parse_kinds("alert;drop")
    assert stream.parse_last_id("42") == 42 and stream.parse_last_id(None) is None
    with pytest.raises(BadRequestData):
        stream.parse_last_id("abc")


async def _collect(gen: Any, count: int) -> list[bytes]:
    out = []
    async for chunk in gen:
        out.append(chunk)
        if len(out) == count:
            break
    await gen.aclose()
    return out


def test_frames_catch_up_after_the_last_event_id_then_follow_live_events_without_duplicates() -> None:
    async def scenario() -> tuple[list[bytes], int]:
        hub = EventHub()
        for n in range(3):
            hub.publish("alert.raised", {"n": n})
        hub.publish("entity.changed", {"n": 99})
        subscription = hub.subscribe(frozenset({"alert"}))
        gen = stream.frames(hub, subscription, 1, frozenset({"alert"}), heartbeat=5.0)
        task = asyncio.create_task(_collect(gen, 4))
        await asyncio.sleep(0.05)
        hub.publish("alert.acknowledged", {"n": 3})
        chunks = await asyncio.wait_for(task, 5)
        return chunks, hub.subscribers

    chunks, left = asyncio.run(scenario())
    assert chunks[0] == b"retry: 2000\n\n"
    assert chunks[1:] == [
        b'id: 2\nevent: alert.raised\ndata: {"n":1}\n\n',
        b'id: 3\nevent: alert.raised\ndata: {"n":2}\n\n',
        b'id: 5\nevent: alert.acknowledged\ndata: {"n":3}\n\n',
    ]
    assert left == 0  # the subscription is closed with the stream


def test_a_quiet_stream_sends_heartbeats_and_an_overflowed_one_ends() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        hub = EventHub()
        quiet = await _collect(stream.frames(hub, hub.subscribe(), None, None, heartbeat=0.01), 3)
        slow = hub.subscribe(size=2)
        for n in range(5):
            hub.publish("alert.raised", {"n": n})
        await asyncio.sleep(0.05)
        ended = [chunk async for chunk in stream.frames(hub, slow, None, None, heartbeat=5.0)]
        return quiet, ended

    quiet, ended = asyncio.run(scenario())
    assert quiet == [b"retry: 2000\n\n", b": keep-alive\n\n", b": keep-alive\n\n"]
    assert ended == [b"retry: 2000\n\n"]  # cut off: the browser reconnects with Last-Event-ID


@pytest.fixture
def live_store(tmp_path: Any) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path}/stream.db")
    yield store
    store.close()


def _next_event(lines: Iterator[str]) -> dict[str, Any]:
    """The next complete event of an SSE line stream (comments and retry lines skipped)."""
    event: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "event" in event:
                return event
            event = {}
        elif line.startswith("id: "):
            event["id"] = int(line[4:])
        elif line.startswith("event: "):
            event["event"] = line[7:]
        elif line.startswith("data: "):
            event["data"] = orjson.loads(line[6:])
    raise AssertionError("the stream ended before an event")


def test_a_signed_in_browser_session_follows_hub_changes_live(live_store: Store) -> None:
    settings = production()
    app = create_app(settings, store=live_store)
    app.state.security.credentials = Credentials.from_settings(live_store, settings, passwords=Passwords.fast())
    app.state.security.credentials.add_user("operator", PASSWORD, "ioc_operator")
    data.load(app.state.hub, [data.gauge("g1", 0.05, "normal")])
    with serving(app) as base, httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/ioc/stream", headers={"Accept": "text/event-stream"}).status_code == 401
        internal = app.state.ioc.events.subscribers  # the platform's own listeners (Open311 follows incidents)
        login = client.post("/auth/login", json={"username": "operator", "password": PASSWORD})
        assert login.status_code == 200
        csrf = login.json()["csrfToken"]
        with client.stream("GET", "/ioc/stream?kinds=entity", headers={"Accept": "text/event-stream"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.iter_lines()
            assert next(lines) == "retry: 2000"  # subscribed: what follows is live
            patch = client.patch(
                "/ngsi-ld/v1/entities/urn:ngsi-ld:FloodMonitoring:test:g1/attrs",
                json={
                    "currentLevel": {"type": "Property", "value": 0.42},
                    "floodLevelStatus": {"type": "Property", "value": "danger"},
                },
                headers={"X-CSRF-Token": csrf},
            )
            assert patch.status_code == 204, patch.text
            event = _next_event(lines)  # within the client's 10 s read timeout
        assert event["event"] == "entity.changed"
        assert event["data"]["id"] == "urn:ngsi-ld:FloodMonitoring:test:g1"
        assert event["data"]["attrs"]["currentLevel"] == 0.42
        assert event["data"]["attrs"]["floodLevelStatus"] == "danger"
        # the client went away: its subscription is released (at the latest at the next heartbeat or event)
        deadline = time.monotonic() + 20
        while app.state.ioc.events.subscribers > internal and time.monotonic() < deadline:
            app.state.ioc.events.publish("entity.ping", {})
            time.sleep(0.1)
        assert app.state.ioc.events.subscribers == internal
        # a plain client gets the kept events as one JSON document
        kept = client.get(f"/ioc/stream?kinds=entity&lastEventId={event['id'] - 1}").json()
        assert kept["events"][0]["data"]["id"] == "urn:ngsi-ld:FloodMonitoring:test:g1"
