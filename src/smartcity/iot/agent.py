"""The agent's batcher: decoded device messages in, entity updates out, one write transaction per batch.

Transports decode messages and put them in the :class:`~smartcity.iot.inbox.Inbox`. The batcher takes what has
arrived (up to :data:`MAX_BATCH` messages: under load a batch is whatever came while the previous one was being
written, so batches grow with the rate and latency stays one write), then:

1. finds the devices (:mod:`.directory`), maps each message (:mod:`.mapping`), adds the air-quality indices
   (:mod:`.airquality`);
2. writes the updates, the dead letters and the pending counters in one transaction (:mod:`.writer`), the way
   the hub groups its own writes: on SQLite inline in the event loop inside the loop turn's group commit, on
   PostgreSQL in the store's writer thread;
3. only then acknowledges the MQTT messages and answers the HTTP requests: a message is acknowledged once it is
   durable, as an update or as a dead letter, so a crash loses nothing the broker does not deliver again.

When the write fails because of the data (a value the database refuses), the batch is written again one message
at a time and the message that fails is kept as a dead letter (``store_rejected``); when the database itself is
unavailable, the batch is retried with a growing delay, unacknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg
import psycopg_pool

from smartcity.hub.service import Hub
from smartcity.hub.store import DEFAULT_TENANT, Store
from smartcity.iot import inbound as transport
from smartcity.iot.airquality import MODEL as AIR_QUALITY
from smartcity.iot.airquality import AirQuality
from smartcity.iot.directory import Directory, Unresolved
from smartcity.iot.inbound import Inbound
from smartcity.iot.inbox import Inbox
from smartcity.iot.mapping import map_message
from smartcity.iot.outcome import AGENT_ERROR, MALFORMED, STORE_REJECTED, UNKNOWN_APIKEY, Outcome
from smartcity.iot.stats import Counters, StatsKey
from smartcity.iot.writer import Writer, Written

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BATCH = 1000
#: seconds between flushes of the counters when no message arrives
FLUSH_EVERY = 1.0
MAX_RETRY_DELAY = 30.0
#: errors that mean the database is unreachable (retry), not that the batch holds something it refuses
OUTAGES: tuple[type[BaseException], ...] = (
    sqlite3.OperationalError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
    OSError,
    TimeoutError,
)

Scope = tuple[str, str]  # (tenant, service path) of an outcome


def now_micros() -> int:
    """The current time in microseconds since the epoch (as the history stores times)."""
    return time.time_ns() // 1000


class Agent:
    name = "iot.agent"

    def __init__(
        self,
        store: Store,
        hub: Hub,
        directory: Directory,
        airquality: AirQuality,
        *,
        inline: bool,
        max_future: float,
        deadletter_max: int,
    ) -> None:
        self.store = store
        self.directory = directory
        self.airquality = airquality
        self.inline = inline
        self.max_future = int(max_future * 1_000_000)
        self.inbox: Inbox[Inbound] = Inbox()
        self.counters = Counters()
        self.writer = Writer(hub, store, deadletter_max)
        #: messages processed since start by outcome (accepted, partial, rejected), and batches written
        self.totals: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self._flushed = time.monotonic()

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="iot-agent")

    async def stop(self) -> None:
        await self.drain()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.counters:
            try:
                await self._flush_counters()
            except Exception:
                log.exception("the IoT agent's last counters could not be saved")

    async def drain(self, within: float = 30.0) -> bool:
        """Wait until every message handed over so far is processed; False when ``within`` seconds ran out."""
        deadline = time.monotonic() + within
        while len(self.inbox) or self._busy:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    # -- input -----------------------------------------------------------------------------------------

    def submit(self, inbound: Inbound) -> None:
        """Hand over a decoded message (on the event loop)."""
        self.inbox.put(inbound)

    @property
    def backlog(self) -> int:
        return len(self.inbox)

    # -- the batcher -----------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            batch = await self.inbox.take(MAX_BATCH, wait=FLUSH_EVERY)
            if not batch:
                if self.counters:
                    try:
                        await self._flush_counters()
                    except Exception:
                        log.warning("the IoT agent's counters could not be saved yet", exc_info=True)
                continue
            self._busy = True
            try:
                await self._process(batch)
            except Exception:  # never lose the batcher: log, answer what waits, leave the rest for redelivery
                log.exception("the IoT agent failed on a batch of %d messages", len(batch))
                for inbound in batch:
                    if inbound.reply is not None and not inbound.reply.done():
                        inbound.reply.set_exception(RuntimeError("the IoT agent could not process the message"))
            finally:
                self._busy = False

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        if self.inline:
            return fn(*args)
        return await asyncio.to_thread(fn, *args)

    async def _grouped(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` in one write transaction, grouped as the hub groups its writes (SQLite: the loop turn's
        group commit, each write a savepoint of it; PostgreSQL: the store's writer thread)."""
        store = self.store
        if self.inline:
            with store.grouped():
                result = fn(*args)
            await store.settle()
            return result
        return await store.run_write(fn, *args)

    async def _process(self, batch: list[Inbound]) -> None:
        delay = 0.5
        while True:
            try:
                outcomes, scopes = await self._prepare(batch)
                break
            except OUTAGES as exc:
                log.warning("the IoT agent cannot read its registry (%s): retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
        try:
            await self._commit_retrying(outcomes, scopes)
            return
        except _Refused as refused:
            if len(outcomes) > 1:
                log.warning("a batch was refused by the store (%s): writing its messages one by one", refused.cause)
        for outcome, scope in zip(outcomes, scopes, strict=True):
            await self._commit_one(outcome, scope)

    async def _commit_retrying(self, outcomes: Sequence[Outcome], scopes: Sequence[Scope]) -> None:
        """Commit, waiting out database outages; _Refused when the store refuses the data itself."""
        delay = 0.5
        while True:
            try:
                await self._commit(outcomes, scopes)
                return
            except OUTAGES as exc:
                log.warning("the IoT agent cannot write (%s): retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
            except Exception as exc:
                raise _Refused(exc) from exc

    async def _commit_one(self, outcome: Outcome, scope: Scope) -> None:
        try:
            await self._commit_retrying([outcome], [scope])
            return
        except _Refused as refused:
            log.warning("a device message was refused by the store: %s", refused.cause)
            outcome.reject(STORE_REJECTED, f"the store refused the update: {refused.cause}")
        try:
            await self._commit_retrying([outcome], [scope])
        except _Refused as again:
            head = outcome.inbound.payload[:200]
            log.error("a device message cannot even be kept as a dead letter (%s); dropped: %r", again.cause, head)
            self._finish(outcome)

    async def _prepare(self, batch: list[Inbound]) -> tuple[list[Outcome], list[Scope]]:
        keys = {transport.key_of(i.address) for i in batch}
        resolved = await self._read(self.directory.resolve, keys)
        latest = now_micros() + self.max_future
        outcomes: list[Outcome] = []
        scopes: list[Scope] = []
        for inbound in batch:
            found = resolved[transport.key_of(inbound.address)]
            if isinstance(found, Unresolved):
                outcomes.append(Outcome(inbound).reject(found.reason, _unknown(found, inbound)))
                scopes.append((found.tenant, found.service_path))
                continue
            scopes.append((found.tenant, found.service_path))
            guessed = inbound.address.protocol is None and found.ultralight is not None
            if guessed and found.ultralight != (inbound.decoded_as == transport.UL):
                transport.decode(inbound, found.ultralight)  # the cache did not know the device yet
            if inbound.error is not None:
                outcomes.append(Outcome(inbound, found).reject(MALFORMED, str(inbound.error)))
                continue
            try:
                outcomes.append(map_message(inbound, found, latest))
            except Exception as exc:  # a bug must cost one message (kept as a dead letter), not the batch
                log.exception("mapping a message of device %s failed", inbound.address.device_id)
                outcomes.append(Outcome(inbound, found).reject(AGENT_ERROR, f"the agent failed on it: {exc!r}"))
        air = [o for outcome in outcomes for o in outcome.observations if o.binding.entity_type == AIR_QUALITY]
        if air:
            await self._read(self.airquality.enrich, air)
        return outcomes, scopes

    async def _commit(self, outcomes: Sequence[Outcome], scopes: Sequence[Scope], *, flush: bool = False) -> None:
        due = flush or time.monotonic() - self._flushed >= FLUSH_EVERY
        pending = self.counters.take() if due else {}
        try:
            written: Written = await self._grouped(self.writer.apply, outcomes, scopes, pending)
        except BaseException:
            self.counters.restore(pending)
            raise
        if due:
            self._flushed = time.monotonic()
        self.writer.confirm(written)
        if outcomes:
            self.totals["batches"] += 1
        for outcome, tenant_id in zip(outcomes, written.tenant_ids, strict=True):
            self._count(outcome, tenant_id)
            self._finish(outcome)

    async def _flush_counters(self) -> None:
        await self._commit([], [], flush=True)

    def _count(self, outcome: Outcome, tenant_id: int) -> None:
        address = outcome.inbound.address
        key: StatsKey = (tenant_id, address.apikey, address.device_id)
        if outcome.reason == UNKNOWN_APIKEY:
            key = (tenant_id, "", "")
        label = "partial" if outcome.partial else "accepted" if outcome.accepted else "rejected"
        self.totals[label] += 1
        self.counters.count(
            key,
            outcome.inbound.received_at,
            accepted=outcome.accepted,
            partial=outcome.partial,
            reasons=[p.reason for p in outcome.problems],
            error=outcome.summary() if outcome.problems else "",
        )

    @staticmethod
    def _finish(outcome: Outcome) -> None:
        inbound = outcome.inbound
        if inbound.ack is not None:
            try:
                inbound.ack()
            except Exception:
                log.warning("acknowledging an MQTT message failed (the broker will deliver it again)", exc_info=True)
        if inbound.reply is not None and not inbound.reply.done():
            inbound.reply.set_result(outcome)


class _Refused(Exception):
    """The store refused a batch because of what it holds (not because it is unreachable)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _unknown(found: Unresolved, inbound: Inbound) -> str:
    address = inbound.address
    if found.reason == UNKNOWN_APIKEY:
        return f"no config group has the apikey {address.apikey!r}"
    where = f"service {found.tenant or DEFAULT_TENANT!r}"
    return f"no device {address.device_id!r} is provisioned with apikey {address.apikey!r} in {where}"
