"""The background service that runs the publications on their schedules (only with ``SMARTCITY_OPENDATA_PUBLISH``).

Every :data:`TICK` seconds it runs the publications that are due, one after the other, in a worker thread: a
publication never overlaps itself, a slow one delays the others rather than piling up runs, and a failing one is
recorded and tried again later without stopping the service or the app. At start, runs still recorded as running
were left by a process that stopped (they are marked failed); at stop, the publication under way may finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime

from starlette.concurrency import run_in_threadpool

from smartcity.opendata.publish.publisher import Publisher

log = logging.getLogger(__name__)

#: seconds between two looks at what is due
TICK = 30.0
#: seconds before the first round: the app is up and a demo has loaded its static layers
FIRST_AFTER = 60.0
#: seconds a publication under way may take to finish when the app stops
GRACE = 4.0


class PublicationService:
    name = "opendata-publish"

    def __init__(
        self, publisher: Publisher, *, tick: float = TICK, first_after: float = FIRST_AFTER, grace: float = GRACE
    ) -> None:
        self.publisher = publisher
        self.tick = tick
        self.first_after = first_after
        self.grace = grace
        self._task: asyncio.Task[None] | None = None
        self._stop = threading.Event()  # seen by the worker thread between two publications
        self._wake: asyncio.Event | None = None
        self._started_at: datetime | None = None
        self.rounds = 0

    async def start(self) -> None:
        self._stop.clear()
        self._wake = asyncio.Event()
        self._started_at = self.publisher.clock()
        self._task = asyncio.create_task(self._loop(), name="smartcity-opendata-publish")

    async def stop(self) -> None:
        """Let the publication under way finish (for ``grace`` seconds at most), then stop."""
        self._stop.set()
        if self._wake is not None:
            self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), self.grace)
        except TimeoutError:
            log.warning("a publication was still running at shutdown; it is recorded as failed at the next start")
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; True when the service is stopping."""
        assert self._wake is not None
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _loop(self) -> None:
        if await self._sleep(self.first_after):
            return
        await self._round(self._abandon)
        while not self._stop.is_set():
            await self._round(self._publish)
            self.rounds += 1
            if await self._sleep(self.tick):
                return

    async def _round(self, work: Callable[[], None]) -> None:
        try:
            await run_in_threadpool(work)
        except Exception:  # the service outlives any failure; the next round tries again
            log.exception("publication round failed")

    def _abandon(self) -> None:
        """Runs recorded as running when this process started were left by a process that stopped."""
        assert self._started_at is not None
        abandoned = self.publisher.log.abandon_running(self._started_at, self.publisher.clock())
        if abandoned:
            log.warning("%d publication run(s) left running by a stopped process were marked failed", abandoned)

    def _publish(self) -> None:
        outcomes = self.publisher.run_due(stop=self._stop)
        failed = [o.publication_id for o in outcomes if o.error is not None]
        if outcomes:
            log.info(
                "publications: %d run, %d failed%s",
                len(outcomes),
                len(failed),
                f" ({', '.join(failed)})" if failed else "",
            )
