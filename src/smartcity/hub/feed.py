"""The hub's change feed: what each committed write transaction changed, for in-process listeners.

Write hooks (:mod:`smartcity.hub.store.changes`) run *inside* a transaction, before it commits; they are for work
that must commit or roll back with the change (history, queued notifications). The feed is for everything that
follows the city's data without being part of the write: rules, publications, live dashboard streams. A batch is
published once its transaction (or the group commit it joined) has committed, and never for a rolled-back one.

Listeners are called in the committing thread, so they must be quick and thread-safe; :class:`FeedQueue` hands
batches over to one asyncio consumer, in commit order, without dropping any. In one process the feed is in
memory; several API processes on one PostgreSQL each see only their own writes (a bus across processes, such as
LISTEN/NOTIFY, is the scale-out step).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from smartcity.hub.store.changes import Change

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChangeBatch:
    """The changes one committed transaction made in one tenant ('' is the default tenant)."""

    tenant: str
    changes: tuple[Change, ...]


Listener = Callable[[ChangeBatch], None]


class ChangeFeed:
    """Publishes committed changes to its listeners."""

    def __init__(self) -> None:
        self._listeners: tuple[Listener, ...] = ()
        self._lock = threading.Lock()
        self.published = 0

    @property
    def active(self) -> bool:
        """Whether anyone listens (writes skip the feed's bookkeeping when nobody does)."""
        return bool(self._listeners)

    @property
    def listeners(self) -> tuple[Listener, ...]:
        return self._listeners

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every committed batch from now on; returns the function that stops it."""
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def stop() -> None:
            with self._lock:
                self._listeners = tuple(x for x in self._listeners if x is not listener)

        return stop

    def publish(self, batch: ChangeBatch) -> None:
        self.published += 1
        for listener in self._listeners:
            try:
                listener(batch)
            except Exception:
                log.exception("a change-feed listener failed; the write itself is committed")


class FeedQueue:
    """The feed's batches for one asyncio consumer: in commit order, unbounded, never dropped.

    Create it on the event loop that consumes it; :meth:`close` stops listening.
    """

    def __init__(self, feed: ChangeFeed) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[ChangeBatch] = asyncio.Queue()
        self._stop = feed.listen(self._offer)
        self._closed = False

    def _offer(self, batch: ChangeBatch) -> None:
        if self._closed:
            return
        try:
            if threading.get_ident() == getattr(self._loop, "_thread_id", None):
                self._queue.put_nowait(batch)
            else:
                self._loop.call_soon_threadsafe(self._queue.put_nowait, batch)
        except RuntimeError:  # the consumer's loop has closed
            self.close()

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    async def get(self) -> ChangeBatch:
        return await self._queue.get()

    def get_nowait(self) -> ChangeBatch | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def close(self) -> None:
        self._closed = True
        self._stop()
