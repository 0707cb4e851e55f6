"""``GET /ioc/stream``: the operations centre's live events as Server-Sent Events (WHATWG HTML, 9.2).

Each event is ``id: <seq>``, ``event: <kind>``, ``data: <json>``. The stream opens with ``retry:`` (how long a
browser waits before reconnecting); a comment line every :data:`HEARTBEAT_S` keeps proxies from closing it and
lets the server notice a client that went away. A client that reconnects with ``Last-Event-ID`` first gets the
kept events it missed. A subscriber too slow to keep up is cut off (the stream ends): its browser reconnects and
catches up the same way. Without ``Accept: text/event-stream`` the route answers the kept events as one JSON
document at once (``{"lastEventId", "events": [{"id", "event", "data"}]}``), for scripts and probes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import orjson

from smartcity.hub.errors import BadRequestData
from smartcity.ioc.events import EventHub, IocEvent, Subscription

HEARTBEAT_S = 15.0
RETRY_MS = 2000
MAX_KINDS = 32


def parse_kinds(text: str | None) -> frozenset[str] | None:
    """``alert,incident.opened`` -> the kinds or kind prefixes wanted; None (everything) when absent or empty."""
    if text is None or not text.strip():
        return None
    kinds = frozenset(k.strip() for k in text.split(",") if k.strip())
    if len(kinds) > MAX_KINDS or any(len(k) > 64 or not all(c.isalnum() or c in "._-" for c in k) for k in kinds):
        raise BadRequestData("kinds must be a comma-separated list of event kinds such as alert,incident.opened")
    return kinds or None


def parse_last_id(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise BadRequestData("Last-Event-ID must be the id (a number) of an event of this stream") from None
    return max(value, 0)


def frame(event: IocEvent) -> bytes:
    """One event on the wire (the JSON has no newline, so it is one ``data:`` line)."""
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.seq, event.kind.encode(), orjson.dumps(event.data))


def wanted(events: Iterable[IocEvent], kinds: frozenset[str] | None) -> list[IocEvent]:
    return [e for e in events if kinds is None or e.kind in kinds or e.kind.split(".", 1)[0] in kinds]


async def frames(
    hub: EventHub,
    subscription: Subscription,
    last_id: int | None,
    kinds: frozenset[str] | None,
    heartbeat: float = HEARTBEAT_S,
) -> AsyncIterator[bytes]:
    """The stream's bytes; ``subscription`` is taken before the catch-up so that no event falls in between."""
    try:
        yield b"retry: %d\n\n" % RETRY_MS
        sent = last_id if last_id is not None else 0
        if last_id is not None:
            for missed in wanted(hub.since(last_id), kinds):
                yield frame(missed)
                sent = missed.seq
        while True:
            try:
                event = await asyncio.wait_for(subscription.next(), heartbeat)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if event is None:  # overflowed: end the stream; the client reconnects with Last-Event-ID
                return
            if event.seq > sent:
                sent = event.seq
                yield frame(event)
    finally:
        subscription.close()


def snapshot(hub: EventHub, last_id: int | None, kinds: frozenset[str] | None) -> dict[str, object]:
    """The kept events after ``last_id`` (all kept ones without it), as one JSON document."""
    events = wanted(hub.since(last_id or 0), kinds)
    last = events[-1].seq if events else last_id
    return {
        "lastEventId": last,
        "events": [{"id": e.seq, "event": e.kind, "data": e.data} for e in events],
    }
