"""The deliverer: a background service that empties the notification outbox, at least once, with retries.

Three tasks on the server's event loop:

* the claimer leases due rows in batches (oldest first) and hands them to the delivery lanes; it wakes up when
  the subscription matcher queued rows (:data:`smartcity.hub.notify.wakeup.outbox`), when results were recorded,
  and at least every ``idle`` seconds, so rows committed by another process or before a restart are found too;
  it renews the leases of the rows it holds and claims nothing more for receivers whose lane is full;
* the recorder writes the results in batches: delivered rows are deleted (only then), failed ones come back
  later with an exponential backoff; the counters of their subscriptions follow;
* the listener forwards the matcher's wake-ups to the claimer.

Database work runs in worker threads, one short transaction at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Sequence

from smartcity.hub.notify import wakeup
from smartcity.hub.notify.backoff import retry_delay
from smartcity.hub.notify.http_sender import HttpSender
from smartcity.hub.notify.lanes import Lanes
from smartcity.hub.notify.mqtt_sender import MqttSender
from smartcity.hub.notify.outbox import Outbox, OutboxRow, Outcome
from smartcity.hub.notify.sender import Sender
from smartcity.hub.store import Store

log = logging.getLogger(__name__)


def now_micros() -> int:
    return time.time_ns() // 1000


class Deliverer:
    name = "notification delivery"

    def __init__(
        self,
        store: Store,
        *,
        timeout: float,
        max_backoff: float,
        senders: Sequence[Sender] | None = None,
        batch: int = 500,
        max_held: int = 5000,
        per_lane: int = 16,
        total: int = 256,
        backlog: int = 64,
        idle: float = 0.5,
        flush_delay: float = 0.05,
        gather_delay: float = 0.05,
    ) -> None:
        self.outbox = Outbox(store)
        self.timeout = timeout
        self.max_backoff = max_backoff
        self.batch = batch
        self.max_held = max_held
        self.idle = idle
        self.flush_delay = flush_delay
        self.gather_delay = gather_delay  # after a wake-up, let more rows queue so one claim takes them all
        #: how long a claim holds a row: renewed at a third of it while the row waits in a lane
        self.lease = 3 * timeout + 10.0
        self._custom_senders = senders
        self._lane_options = {"per_lane": per_lane, "total": total, "backlog": backlog}
        self._hard_timeout = 3 * timeout + 5.0
        self._senders: Sequence[Sender] = ()
        self._lanes: Lanes | None = None
        self._held: dict[int, OutboxRow] = {}
        self._outcomes: list[Outcome] = []
        self._kick = asyncio.Event()
        self._ready = asyncio.Event()
        self._stopping = False
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        self._recorder: asyncio.Task[None] | None = None
        self._rng = random.Random()

    @property
    def held(self) -> int:
        """Rows claimed by this deliverer whose result is not recorded yet."""
        return len(self._held)

    async def start(self) -> None:
        defaults: tuple[Sender, ...] = (HttpSender(self.timeout), MqttSender(self.timeout))
        self._senders = self._custom_senders or defaults
        self._lanes = Lanes(self._senders, self._on_result, hard_timeout=self._hard_timeout, **self._lane_options)
        self._kick, self._ready, self._stopping, self._closing = asyncio.Event(), asyncio.Event(), False, False
        if not self.outbox.postgres:
            # SQLite: this process is the only deliverer; leases left by a killed one are void
            await asyncio.to_thread(self.outbox.release_all)
        wakeup.outbox.bind()
        self._recorder = asyncio.create_task(self._record_loop(), name="notify recorder")
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="notify claimer"),
            asyncio.create_task(self._listen(), name="notify listener"),
        ]
        log.info("notification delivery started (%s)", "PostgreSQL" if self.outbox.postgres else "SQLite")

    async def stop(self) -> None:
        self._closing = True  # the claimer ends after its current claim (so no claimed row goes untracked)
        self._kick.set()
        claimer, others = (self._tasks[0], self._tasks[1:]) if self._tasks else (None, [])
        for task in others:
            task.cancel()
        if claimer is not None:
            try:
                await asyncio.wait_for(claimer, 10.0)
            except TimeoutError:
                log.warning("the notification claimer did not stop in time")
        await asyncio.gather(*others, return_exceptions=True)
        self._tasks = []
        if self._lanes is not None:
            await self._lanes.close()
        if self._recorder is not None:
            self._stopping = True
            self._ready.set()
            try:
                await asyncio.wait_for(self._recorder, 10.0)
            except TimeoutError:
                log.warning("recording the last notification results took too long")
            self._recorder = None
        if self._held:  # claimed but not sent: let any deliverer take them again at once
            try:
                await asyncio.to_thread(self.outbox.release, list(self._held))
            except Exception:
                log.exception("releasing %d claimed notifications failed", len(self._held))
            self._held.clear()
        for sender in self._senders:
            await sender.close()
        wakeup.outbox.unbind()

    # -- the three tasks ---------------------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            if await wakeup.outbox.wait(60.0):
                self._kick.set()

    async def _claim_loop(self) -> None:
        renew_at = time.monotonic() + self.lease / 3
        while not self._closing:
            self._kick.clear()
            try:
                full = await self._claim()
                if time.monotonic() >= renew_at:
                    renew_at = time.monotonic() + self.lease / 3
                    await asyncio.to_thread(self.outbox.renew, list(self._held), now_micros() + self._lease_us())
            except Exception:
                log.exception("claiming notifications failed; trying again in a second")
                await asyncio.sleep(1.0)
                continue
            if full:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), self.idle)
                if not self._closing:
                    await asyncio.sleep(self.gather_delay)

    def _lease_us(self) -> int:
        return int(self.lease * 1_000_000)

    async def _claim(self) -> bool:
        """Claim one batch; True when it was full (more rows may be due)."""
        assert self._lanes is not None
        limit = min(self.batch, self.max_held - len(self._held))
        if limit <= 0:
            return False
        now = now_micros()
        skip = sorted({*self._lanes.saturated_endpoints(), *self._lanes.down_endpoints()})[:1000]
        rows = await asyncio.to_thread(self.outbox.claim, now, now + self._lease_us(), limit, skip)
        for row in rows:
            self._held[row.id] = row
            self._lanes.dispatch(row)
        return len(rows) == limit

    def _on_result(self, row: OutboxRow, error: str | None) -> None:
        at = now_micros()
        if error is None:
            self._outcomes.append(Outcome(row, at))
        else:
            delay = retry_delay(row.attempts + 1, self.max_backoff, self._rng)
            self._outcomes.append(Outcome(row, at, error, at + int(delay * 1_000_000)))
            log.debug("notification %d to %s failed (try %d): %s", row.id, row.endpoint, row.attempts + 1, error)
        self._ready.set()

    async def _record_loop(self) -> None:
        while True:
            await self._ready.wait()
            if not self._stopping and len(self._outcomes) < self.batch:
                await asyncio.sleep(self.flush_delay)  # let a few more results join this transaction
            self._ready.clear()
            outcomes, self._outcomes = self._outcomes, []
            if outcomes:
                try:
                    await asyncio.to_thread(self.outbox.record, outcomes)
                except Exception:
                    log.exception("recording %d notification results failed; trying again", len(outcomes))
                    self._outcomes[:0] = outcomes
                    if self._stopping:
                        return
                    self._ready.set()
                    await asyncio.sleep(1.0)
                    continue
                for outcome in outcomes:
                    self._held.pop(outcome.row.id, None)
                self._kick.set()
            if self._stopping and not self._outcomes:
                return
