"""History maintenance in the background: time partitions (PostgreSQL) and retention roll-ups.

Every ``retention_interval`` seconds the service keeps the monthly partitions of the previous month to two
months ahead ready, moves rows out of the DEFAULT partition, and, when ``history_raw_days > 0``, rolls up
the raw history older than the horizon (see :mod:`.partitions` and :mod:`.retention`). The database work runs
in a worker thread in short transactions, so API writes go on meanwhile; a failure is logged and the work
is tried again at the next run, never stopping the app.

Runs are incremental: a run looks at the rows since the cutoff of the previous complete run. A full run (all
rows before the cutoff, which also merges late arrivals into their roll-ups) is made at start-up and then
once a day. With several API processes on PostgreSQL, one of them at a time does the work (advisory lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI

from smartcity.hub.store import Store
from smartcity.hub.temporal import partitions, retention
from smartcity.settings import Settings
from smartcity.web import background

log = logging.getLogger(__name__)

SERVICE_NAME = "history-maintenance"
#: seconds between two full retention runs (the others only look at the rows since the previous cutoff)
FULL_RUN_EVERY = 86_400.0
#: months with more rows than this in the DEFAULT partition are not moved automatically (writers wait meanwhile)
AUTO_MOVE_MAX_ROWS = 1_000_000
#: pg_try_advisory_lock key: one process at a time runs the maintenance
RUN_LOCK_KEY = 0x5C17_7E02
#: seconds the app's shutdown waits for the chunk in progress
STOP_TIMEOUT = 30.0


class HistoryMaintenance:
    """The background service (see :mod:`smartcity.web.background`)."""

    name = SERVICE_NAME

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.runs = 0
        self.failures = 0
        self.last_report: retention.RetentionReport | None = None
        self._since: int | None = None  # cutoff of the last complete run
        self._last_full = 0.0
        self._halt = threading.Event()  # seen by the worker thread between two chunks
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._period_error: str | None = None
        try:
            retention.period_micros(settings.history_rollup)
        except ValueError as exc:
            self._period_error = str(exc)

    async def start(self) -> None:
        self._halt.clear()
        self._wake = asyncio.Event()
        if self._period_error and self.settings.history_raw_days > 0:
            log.error("history retention is off: %s", self._period_error)
        try:  # partitions for the writes of the coming weeks, before the app takes requests
            await asyncio.to_thread(partitions.ensure_current, self.store)
        except Exception:
            log.exception("history: could not prepare the time partitions; will retry")
        self._task = asyncio.create_task(self._loop(), name=SERVICE_NAME)

    async def stop(self) -> None:
        self._halt.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT)
        except TimeoutError:
            log.warning("history maintenance did not stop within %.0f s", STOP_TIMEOUT)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        if self.settings.history_raw_days <= 0:  # partitions were made at start-up; nothing else is due yet
            await self._sleep()
        while not self._halt.is_set():
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:
                self.failures += 1
                log.exception("history maintenance failed; will retry in %.0f s", self.settings.retention_interval)
            await self._sleep()

    async def _sleep(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.settings.retention_interval)

    def run_once(self) -> retention.RetentionReport | None:
        """One maintenance run (blocking: call it from a worker thread)."""
        with self._exclusive() as mine:
            if not mine:
                log.debug("history maintenance is running in another process")
                return None
            made = partitions.ensure_current(self.store)
            made += partitions.move_default_rows(self.store, max_rows=AUTO_MOVE_MAX_ROWS)
            if made:
                log.info("history: %d partitions created", len(made))
            report = self._retain()
        self.runs += 1
        return report

    def _retain(self) -> retention.RetentionReport | None:
        days = self.settings.history_raw_days
        if days <= 0 or self._period_error:
            return None
        now = time.monotonic()
        full = self._since is None or now - self._last_full >= FULL_RUN_EVERY
        report = retention.run_retention(
            self.store,
            raw_days=days,
            period=self.settings.history_rollup,
            since_us=None if full else self._since,
            stop=self._halt,
        )
        self.last_report = report
        if report.complete:
            self._since = report.cutoff
            if full:
                self._last_full = now
        if report.chunks:
            log.info(
                "history retention (%s run): %d raw rows -> %d roll-ups in %d chunks over %d attributes, %.1f s",
                "full" if full else "incremental",
                report.raw_rows,
                report.rollups,
                report.chunks,
                report.keys,
                report.seconds,
            )
        return report

    @contextmanager
    def _exclusive(self) -> Iterator[bool]:
        """True when this process may run the maintenance (PostgreSQL: a session advisory lock)."""
        if self.store.dialect.name != "postgresql":
            yield True
            return
        import psycopg

        url: str = getattr(self.store, "url", "")
        conn: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)
        try:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK_KEY]).fetchone()
            yield bool(row and row[0])
        finally:
            conn.close()  # ends the session, so releases the lock


def install(app: FastAPI) -> None:
    """Register the history maintenance service (once) with the app's background services."""
    services: list[Any] = app.state.services
    if any(getattr(s, "name", None) == SERVICE_NAME for s in services):
        return
    store: Store = app.state.store
    settings: Settings = app.state.settings
    background.register(app, HistoryMaintenance(store, settings))
