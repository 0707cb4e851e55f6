"""The SLA watch: a background service that announces, once each, every incident's SLA warning (at 80 % of its
span) and breach (past its deadline), as timeline entries and ``incident.sla_warning`` / ``incident.sla_breached``
events. The decisions are the desk's (:meth:`IncidentDesk.check_sla`, driven by the desk's clock); this service
only calls it every :data:`INTERVAL` seconds, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from smartcity.ioc.incidents.desk import IncidentDesk

log = logging.getLogger(__name__)

#: seconds between two checks (an announcement is at most this late)
INTERVAL = 30.0


class SlaWatch:
    name = "ioc-incident-sla"

    def __init__(self, desk: IncidentDesk, interval: float = INTERVAL) -> None:
        self.desk = desk
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        return await asyncio.to_thread(self.desk.check_sla)

    async def _loop(self) -> None:
        while True:
            try:
                moved = await self.run_once()
                if moved:
                    log.info("SLA watch: %d incident(s) reached a warning or a breach", moved)
            except Exception:
                log.exception("the SLA watch failed; it tries again in %s s", self.interval)
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
