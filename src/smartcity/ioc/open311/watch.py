"""Background service: follows the incidents of citizen reports on the event hub and announces ``report.changed``
(data: the report's published view) when one of them changes."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.concurrency import run_in_threadpool

from smartcity.ioc.events import EventHub
from smartcity.ioc.open311.reports import CitizenReports

log = logging.getLogger(__name__)


class ReportWatch:
    name = "open311-report-watch"

    def __init__(self, events: EventHub, reports: CitizenReports) -> None:
        self._events = events
        self._reports = reports
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:  # a subscription that overflowed ends: take a new one
            subscription = self._events.subscribe(frozenset({"incident.changed"}))
            try:
                async for event in subscription:
                    try:
                        await run_in_threadpool(self._reports.on_incident, event.kind, event.data)
                    except Exception:
                        log.exception("announcing the change of a citizen report failed")
            finally:
                subscription.close()
