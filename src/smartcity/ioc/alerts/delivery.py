"""The alerts' outbox deliverer: sends queued notifications at least once, retries with backoff, and records
failures where operators see them (``GET /ioc/channels/{id}/deliveries``, the alert's timeline).

Rows are queued in the transaction of the alert change that caused them, so a crash loses none; a row is
marked ``sent`` only after its receiver confirmed it. After :data:`MAX_ATTEMPTS` failed tries it is marked
``failed`` (never deleted) and the alert's timeline says so. Sending never blocks signal handling: it runs
in this service's own task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

import orjson

from smartcity.hub.model import to_micros
from smartcity.hub.notify.backoff import retry_delay
from smartcity.hub.notify.sender import DeliveryError
from smartcity.ioc.alerts import model as m
from smartcity.ioc.alerts.manager import AlertManager
from smartcity.ioc.alerts.model import Fact, iso
from smartcity.ioc.alerts.policies import Channel
from smartcity.ioc.alerts.repository import Delivery
from smartcity.ioc.alerts.senders import Senders

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BATCH = 50


class Deliverer:
    name = "IOC alert notifications"

    def __init__(
        self,
        manager: AlertManager,
        senders: Senders,
        *,
        idle: float = 5.0,
        max_backoff: float = 300.0,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.manager = manager
        self.senders = senders
        self.idle = idle
        self.max_backoff = max_backoff
        self.max_attempts = max_attempts
        self._kick: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._rng = random.Random()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._kick = asyncio.Event()
        self.manager.wake = self.wake
        self._task = asyncio.create_task(self._run(), name="ioc alert delivery")

    def wake(self) -> None:
        """Called from any thread when rows were queued."""
        loop, kick = self._loop, self._kick
        if loop is None or kick is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(kick.set)

    async def stop(self) -> None:
        self.manager.wake = lambda: None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.senders.close()

    async def _run(self) -> None:
        assert self._kick is not None
        while True:
            self._kick.clear()
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("delivering alert notifications failed; trying again shortly")
                sent = 0
            if sent >= BATCH:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), self.idle)

    async def run_once(self) -> int:
        """Send the rows due now; the number tried."""
        now = to_micros(self.manager.clock())
        rows, channels = await asyncio.to_thread(self._due, now)
        if not rows:
            return 0
        results = await asyncio.gather(*(self._send(row, channels.get(row.channel_id)) for row in rows))
        await asyncio.to_thread(self._record, list(zip(rows, results, strict=True)))
        return len(rows)

    def _due(self, now: int) -> tuple[list[Delivery], dict[str, Channel]]:
        with self.manager.tables.read() as tx:
            return tx.due(now, BATCH), {c.id: c for c in tx.channels()}

    async def _send(self, row: Delivery, channel: Channel | None) -> str | None:
        if channel is None:
            return "the channel no longer exists"
        try:
            await self.senders.send(channel, row.payload)
        except DeliveryError as exc:
            return str(exc)
        except Exception as exc:  # a sender's bug fails one notification, never the deliverer
            log.exception("sending alert notification %d failed unexpectedly", row.id)
            return f"internal error: {exc!r}"
        return None

    def _record(self, results: list[tuple[Delivery, str | None]]) -> None:
        moment = self.manager.clock()
        now, now_us = iso(moment) or "", to_micros(moment)
        with self.manager._lock, self.manager.tables.write() as tx:
            for row, error in results:
                attempts = row.attempts + 1
                detail = {"channelId": row.channel_id, "reason": row.reason, "deliveryId": row.id}
                if error is None:
                    tx.record(row.id, "sent", attempts, row.next_at, None, now)
                    if row.alert_id is not None:
                        tx.add_fact(row.alert_id, Fact(now, m.NOTIFIED, m.SYSTEM, detail))
                elif attempts >= self.max_attempts or error == "the channel no longer exists":
                    tx.record(row.id, "failed", attempts, row.next_at, error, now)
                    log.warning(
                        "alert notification %d to channel %s failed for good: %s", row.id, row.channel_id, error
                    )
                    if row.alert_id is not None:
                        tx.add_fact(row.alert_id, Fact(now, m.NOTIFY_FAILED, m.SYSTEM, {**detail, "error": error}))
                else:
                    delay = retry_delay(attempts, self.max_backoff, self._rng)
                    tx.record(row.id, "pending", attempts, now_us + int(delay * 1_000_000), error, None)
                    log.info(
                        "alert notification %d to channel %s failed (try %d): %s",
                        row.id,
                        row.channel_id,
                        attempts,
                        error,
                    )


def test_message(channel: Channel, by: str) -> bytes:
    """The body of ``POST /ioc/channels/{id}/test``."""
    return orjson.dumps(
        {
            "reason": "test",
            "channel": channel.view(),
            "requestedBy": by,
            "alert": {
                "id": "test",
                "ruleName": "test",
                "subject": "test",
                "severity": "info",
                "summary": {"vi": "Tin nhắn thử của kênh thông báo", "en": "Test message of a notification channel"},
            },
        }
    )
