"""Delivery lanes: one per receiver (HTTP origin, MQTT broker), each with its own bounded concurrency.

A slow or dead receiver only ever occupies the workers of its own lane, while a global bound caps the sends
in flight over all lanes. A lane whose receiver could not be reached at all is marked down for a moment:
the notifications queued behind the failed one fail at once (and are rescheduled) instead of each waiting
for its own connection timeout, and the deliverer claims no rows for its endpoints until the moment is over.
The moment doubles with each failed probe (up to ``max_down_seconds``), so a receiver that stays dead costs the
database almost nothing, and resets at the first success. Notifications are handed to the lanes in outbox
order; with several workers per lane, two notifications of one subscription may overtake each other (each
carries notifiedAt).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence

from smartcity.hub.notify.outbox import OutboxRow
from smartcity.hub.notify.sender import DeliveryError, Sender

log = logging.getLogger(__name__)

#: a result: the row and None once delivered, else why it failed
Report = Callable[[OutboxRow, str | None], None]


class Lane:
    def __init__(self, key: str, sender: Sender) -> None:
        self.key = key
        self.sender = sender
        self.queue: deque[OutboxRow] = deque()
        self.workers = 0
        self.held = 0  # rows queued or being sent
        self.endpoints: Counter[str] = Counter()
        self.down_until = 0.0
        self.down_error = ""


class Lanes:
    def __init__(
        self,
        senders: Sequence[Sender],
        report: Report,
        *,
        per_lane: int = 16,
        total: int = 256,
        backlog: int = 64,
        down_seconds: float = 2.0,
        max_down_seconds: float = 60.0,
        hard_timeout: float = 60.0,
    ) -> None:
        self._senders = {scheme: sender for sender in senders for scheme in sender.schemes}
        self._report = report
        self.per_lane = per_lane
        self.backlog = backlog
        self.down_seconds = down_seconds
        self.max_down_seconds = max(max_down_seconds, down_seconds)
        #: receivers that could not be reached: lane key -> (down until, their endpoints, failed probes in a row)
        self._down: dict[str, tuple[float, set[str], int]] = {}
        self.hard_timeout = hard_timeout  # a safety net above the senders' own timeouts
        self._total = asyncio.Semaphore(total)
        self._lanes: dict[str, Lane] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def dispatch(self, row: OutboxRow) -> None:
        """Queue ``row`` on its lane; the result is reported later (at once for an unusable endpoint)."""
        sender = self._senders.get(row.endpoint.split(":", 1)[0].lower())
        if sender is None:
            self._report(row, f"unsupported notification endpoint {row.endpoint!r}")
            return
        try:
            key = sender.lane_of(row.endpoint)
        except DeliveryError as exc:
            self._report(row, str(exc))
            return
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = Lane(key, sender)
            down = self._down.get(key)
            if down is not None:
                lane.down_until = down[0]
        lane.queue.append(row)
        lane.held += 1
        lane.endpoints[row.endpoint] += 1
        if lane.workers < self.per_lane:
            lane.workers += 1
            task = asyncio.create_task(self._work(lane), name=f"notify {key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def saturated_endpoints(self, limit: int = 1000) -> list[str]:
        """Endpoints whose lanes hold a full backlog: the deliverer claims no more rows for them for now."""
        out: list[str] = []
        for lane in self._lanes.values():
            if lane.held >= self.backlog:
                out.extend(lane.endpoints)
        return out[:limit]

    def down_endpoints(self, limit: int = 1000) -> list[str]:
        """Endpoints of receivers that were unreachable a moment ago: no rows are claimed for them meanwhile."""
        now = time.monotonic()
        out: list[str] = []
        for until, endpoints, _ in self._down.values():
            if until > now:
                out.extend(endpoints)
        return out[:limit]

    def _mark_down(self, lane: Lane, endpoint: str, error: str) -> None:
        now = time.monotonic()
        previous = self._down.get(lane.key)
        if previous is not None and previous[0] > now:
            return  # already down: a notification that was in flight failed too
        strikes = (previous[2] + 1) if previous is not None else 1
        until = now + min(self.down_seconds * 2 ** (strikes - 1), self.max_down_seconds)
        endpoints = (previous[1] if previous is not None else set()) | {endpoint}
        self._down[lane.key] = (until, endpoints, strikes)
        lane.down_until = until
        lane.down_error = error

    async def _work(self, lane: Lane) -> None:
        try:
            while lane.queue:
                row = lane.queue.popleft()
                error = await self._send(lane, row)
                lane.held -= 1
                lane.endpoints[row.endpoint] -= 1
                if lane.endpoints[row.endpoint] <= 0:
                    del lane.endpoints[row.endpoint]
                self._report(row, error)
        finally:
            lane.workers -= 1
            if lane.workers == 0 and not lane.queue and self._lanes.get(lane.key) is lane:
                del self._lanes[lane.key]

    async def _send(self, lane: Lane, row: OutboxRow) -> str | None:
        if lane.down_until > time.monotonic():
            return f"{lane.down_error} (not tried: the receiver was unreachable a moment ago)"
        async with self._total:
            try:
                async with asyncio.timeout(self.hard_timeout):
                    await lane.sender.send(row.endpoint, row.headers, row.body)
            except DeliveryError as exc:
                if exc.unreachable:
                    if lane.down_until <= time.monotonic():
                        log.warning("notification receiver %s is unreachable: %s", lane.key, exc)
                    self._mark_down(lane, row.endpoint, str(exc))
                return str(exc)
            except TimeoutError:
                return f"not confirmed within {self.hard_timeout:g} s"
            except Exception as exc:  # a sender's bug must fail one notification, never stop the lane
                log.exception("sending a notification to %s failed unexpectedly", lane.key)
                return f"internal error: {exc!r}"
        self._down.pop(lane.key, None)
        return None

    async def close(self) -> None:
        """Stop every send in progress (their rows stay in the outbox and are sent again later)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._lanes.clear()
