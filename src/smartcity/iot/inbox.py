"""The queue between the transports and the agent's batcher, on the event loop.

The MQTT client and the HTTP routes :meth:`~Inbox.put` decoded messages; the batcher takes everything waiting, up
to a batch, with :meth:`~Inbox.take`. The queue is bounded by the transports: MQTT by the number of
unacknowledged messages the broker may send (the agent acknowledges after writing), HTTP by its clients, which
wait for their answer (and are told to come back later when the backlog is too long).
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

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> None:
        self._items.append(item)
        self._ready.set()

    async def take(self, limit: int, wait: float | None = None) -> list[T]:
        """Up to ``limit`` waiting items, waiting for the first one (at most ``wait`` seconds: then [])."""
        while not self._items:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), wait)
            except TimeoutError:
                return []
        out: list[T] = []
        items = self._items
        while items and len(out) < limit:
            out.append(items.popleft())
        return out
