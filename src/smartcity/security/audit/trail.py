"""The security log: audit records and security events, queued in memory and written in the background.

Request handlers call :meth:`SecurityLog.record` and :meth:`SecurityLog.emit`, which only append to a queue (any
thread, never waiting on the database). A flusher task writes what is queued every ``flush_interval`` (sooner once
``max_batch`` items wait) in one write transaction per batch, in a worker thread. When the database fails, the
items stay queued, in order, and the flusher retries with exponential backoff (0.2 s doubling up to 10 s).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections import deque

import orjson

from smartcity.hub.store import Store
from smartcity.security.audit.events import SecurityEvent, insert_events
from smartcity.security.audit.record import AuditRecord
from smartcity.security.audit.repository import append

log = logging.getLogger(__name__)
events_log = logging.getLogger("smartcity.security.events")

#: event kinds logged at INFO; every other kind is logged as a WARNING
ROUTINE_KINDS = frozenset({"auth.success", "token.issued"})
MIN_BACKOFF = 0.2
MAX_BACKOFF = 10.0


class SecurityLog:
    """A background service that stores audit records (hash-chained under ``key``) and security events."""

    name = "security-log"

    def __init__(
        self,
        store: Store,
        key: bytes | None,
        *,
        flush_interval: float = 0.2,
        max_batch: int = 2000,
        stop_timeout: float = 10.0,
    ) -> None:
        if flush_interval <= 0 or max_batch < 1:
            raise ValueError("flush_interval must be positive and max_batch at least 1")
        self.store = store
        self.key = key or None
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.stop_timeout = stop_timeout
        self._queue: deque[AuditRecord | SecurityEvent] = deque()
        self._queue_lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one writer at a time: items leave the queue only once written
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._woken = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._failures = 0

    # -- producers (any thread) ------------------------------------------------------------------------

    def record(self, rec: AuditRecord) -> None:
        """Queue an audit record."""
        self._put(rec)

    def emit(self, event: SecurityEvent) -> None:
        """Queue a security event and log it as one JSON line on ``smartcity.security.events``."""
        level = logging.INFO if event.kind in ROUTINE_KINDS else logging.WARNING
        if events_log.isEnabledFor(level):
            events_log.log(level, "%s", orjson.dumps(event.to_json(), option=orjson.OPT_SORT_KEYS).decode())
        self._put(event)

    def _put(self, item: AuditRecord | SecurityEvent) -> None:
        with self._queue_lock:
            self._queue.append(item)
            full = len(self._queue) >= self.max_batch and not self._woken
            if full:
                self._woken = True
        if full:
            self._signal()

    def _signal(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        try:
            loop.call_soon_threadsafe(wake.set)
        except RuntimeError:  # the loop has closed: stop() or flush() writes what is left
            log.debug("security log woken after its event loop closed")

    def pending(self) -> int:
        """How many records and events wait to be written."""
        with self._queue_lock:
            return len(self._queue)

    # -- writing ---------------------------------------------------------------------------------------

    def flush(self) -> int:
        """Write what is queued now, a batch per transaction; returns how many items were written.

        Raises the database's error when a write fails: that batch and everything after it stay queued.
        """
        written = 0
        with self._flush_lock:
            todo = self.pending()
            while written < todo:
                with self._queue_lock:
                    batch = list(itertools.islice(self._queue, min(self.max_batch, todo - written)))
                self._write(batch)
                with self._queue_lock:
                    for _ in batch:
                        self._queue.popleft()
                written += len(batch)
        return written

    def _write(self, batch: list[AuditRecord | SecurityEvent]) -> None:
        records = [item for item in batch if isinstance(item, AuditRecord)]
        events = [item for item in batch if isinstance(item, SecurityEvent)]
        with self.store.transaction(write=True) as db:
            append(db, records, self.key)
            insert_events(db, events)

    # -- background service ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop the flusher and write everything still queued (retrying for up to ``stop_timeout`` seconds)."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            try:
                await self._task
            except Exception:
                log.exception("the security log's flusher failed")
            self._task = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.stop_timeout
        delay = MIN_BACKOFF
        while self.pending():
            try:
                await asyncio.to_thread(self.flush)
            except Exception as exc:
                if loop.time() + delay > deadline:
                    log.error("%d audit records and security events could not be written: %s", self.pending(), exc)
                    return
                await asyncio.sleep(delay)
                delay = min(MAX_BACKOFF, delay * 2)

    async def _run(self) -> None:
        delay = 0.0
        while not self._stopping:
            await self._pause(delay or self.flush_interval, early=not delay)
            if self._stopping or not self.pending():
                continue
            try:
                await asyncio.to_thread(self.flush)
            except Exception as exc:
                self._failures += 1
                if self._failures == 1:
                    log.error(
                        "could not write the audit trail (%d items wait, retrying, nothing is lost): %s",
                        self.pending(),
                        exc,
                    )
                delay = min(MAX_BACKOFF, delay * 2) if delay else MIN_BACKOFF
                continue
            if self._failures:
                log.warning("audit trail writes resumed after %d failed attempts", self._failures)
                self._failures = 0
            delay = 0.0

    async def _pause(self, seconds: float, *, early: bool) -> None:
        """Wait ``seconds``; a wake-up ends it early when ``early`` (a full batch), and always when stopping."""
        wake = self._wake
        if wake is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._stopping:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                async with asyncio.timeout(remaining):
                    await wake.wait()
            except TimeoutError:
                return
            wake.clear()
            with self._queue_lock:
                self._woken = False
            if early:
                return
