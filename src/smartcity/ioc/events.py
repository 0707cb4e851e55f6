"""Live events of the operations centre (alerts raised and acknowledged, incidents changed, reports received,
entities moving), for the dashboard's stream: published from any thread, read by asyncio subscribers.

Each event has a sequence number; the last :data:`KEEP` events are kept so that a client reconnecting with
``Last-Event-ID`` catches up on what it missed. A subscriber that falls more than its queue behind is cut off
(it reconnects and catches up) rather than slowing everyone else or growing memory without bound.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

KEEP = 2000


@dataclass(frozen=True)
class IocEvent:
    seq: int
    kind: str  # e.g. alert.raised, alert.updated, alert.acknowledged, alert.cleared, incident.opened, incident.changed,
    # report.received, entity.changed
    data: Mapping[str, Any]  # JSON-ready
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Subscription:
    """One subscriber's queue of events; iterate it in the subscriber's event loop."""

    def __init__(self, hub: EventHub, loop: asyncio.AbstractEventLoop, kinds: frozenset[str] | None, size: int):
        self._hub = hub
        self._loop = loop
        self._kinds = kinds
        self._queue: asyncio.Queue[IocEvent | None] = asyncio.Queue(maxsize=size)
        self.overflowed = False

    def wants(self, event: IocEvent) -> bool:
        return self._kinds is None or event.kind in self._kinds or event.kind.split(".", 1)[0] in self._kinds

    def _offer(self, event: IocEvent) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self._queue._queue.clear()  # type: ignore[attr-defined]  # the client catches up by reconnecting
            self._queue.put_nowait(None)

    def deliver(self, event: IocEvent) -> None:
        try:
            self._loop.call_soon_threadsafe(self._offer, event)
        except RuntimeError:  # the subscriber's loop has closed
            self.close()

    async def next(self) -> IocEvent | None:
        """The next event; None once this subscription has overflowed (the caller should end the stream)."""
        return await self._queue.get()

    async def __aiter__(self) -> AsyncIterator[IocEvent]:
        while (event := await self.next()) is not None:
            yield event

    def close(self) -> None:
        self._hub._remove(self)


class EventHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._recent: deque[IocEvent] = deque(maxlen=KEEP)
        self._subscribers: list[Subscription] = []

    def publish(self, kind: str, data: Mapping[str, Any]) -> IocEvent:
        """Publish an event to every subscriber (thread-safe; never blocks)."""
        with self._lock:
            event = IocEvent(next(self._seq), kind, data)
            self._recent.append(event)
            subscribers = list(self._subscribers)
        for sub in subscribers:
            if sub.wants(event):
                sub.deliver(event)
        return event

    def subscribe(self, kinds: frozenset[str] | None = None, *, size: int = 1000) -> Subscription:
        """A new subscription, bound to the running event loop; ``kinds`` filters by kind or kind prefix."""
        sub = Subscription(self, asyncio.get_running_loop(), kinds, size)
        with self._lock:
            self._subscribers.append(sub)
        return sub

    def since(self, seq: int) -> list[IocEvent]:
        """The kept events after ``seq`` (for a client reconnecting with Last-Event-ID)."""
        with self._lock:
            return [e for e in self._recent if e.seq > seq]

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)
