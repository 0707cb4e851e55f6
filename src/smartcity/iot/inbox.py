"""The queue between the transports and the agent's batcher.

The MQTT client runs in its own thread and hands messages over with :meth:`Inbox.put_threadsafe` (one wake-up
of the event loop per burst, not per message); HTTP routes use :meth:`Inbox.put` on the loop. The batcher takes
everything waiting, up to a batch, with :meth:`Inbox.take`. The queue is bounded by the transports: MQTT by the
number of unacknowledged messages the broker may send (the agent acknowledges after writing), HTTP by its
clients, which wait for their answer.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._ready = asyncio.Event()
        self._armed = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> None:
        """From the event loop's thread."""
        self._items.append(item)
        self._ready.set()

    def put_threadsafe(self, item: T) -> None:
        """From any thread."""
        self._items.append(item)
        if not self._armed and self._loop is not None:
            self._armed = True
            try:
                self._loop.call_soon_threadsafe(self._wake)
            except RuntimeError:  # the loop has closed: the agent is gone, the message will be redelivered
                self._armed = False

    def _wake(self) -> None:
        self._armed = False
        self._ready.set()

    async def take(self, limit: int, wait: float | None = None) -> list[T]:
        """Up to ``limit`` waiting items, waiting for the first one (at most ``wait`` seconds: then [])."""
        while not self._items:
            self._ready.clear()
            if self._items:
                break
            try:
                await asyncio.wait_for(self._ready.wait(), wait)
            except TimeoutError:
                return []
        out: list[T] = []
        items = self._items
        while items and len(out) < limit:
            out.append(items.popleft())
        return out
