"""A process-wide signal that the notification outbox has new rows (set from any thread, awaited on the loop).

Coalesced: once set, further calls cost a flag test until the waiter has taken the signal, so a burst of writes
wakes the event loop once (each wake-up from a worker thread is a write to the loop's self-pipe and a turn of
the loop)."""

from __future__ import annotations

import asyncio
import threading


class Wakeup:
    """Thread-safe: :meth:`set` may be called from worker threads; :meth:`wait` runs on one event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._pending = False  # set and not yet taken by the waiter

    def bind(self) -> None:
        """Bind to the running loop (the deliverer calls this when it starts)."""
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._event = asyncio.Event()
            self._pending = False

    def unbind(self) -> None:
        with self._lock:
            self._loop = None
            self._event = None
            self._pending = False

    def set(self) -> None:
        if self._pending:  # already signalled: the waiter will look at the outbox anyway
            return
        with self._lock:
            loop, event = self._loop, self._event
            if loop is None or event is None or loop.is_closed():
                return
            self._pending = True
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
        else:
            loop.call_soon_threadsafe(event.set)

    async def wait(self, seconds: float) -> bool:
        """Wait until set or ``seconds`` pass pass; True when set. Clears the signal."""
        event = self._event
        if event is None:
            await asyncio.sleep(seconds)
            return False
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        # cleared before the rows are looked at: a later set() signals again
        self._pending = False
        event.clear()
        return True


#: the outbox signal of this process
outbox = Wakeup()
