"""Periodic notifications (``timeInterval``): every interval, one notification with every matching entity.

A background service of the application: each tick it reads the active periodic subscriptions of every tenant
and, for each one that is due, records the firing (a conditional UPDATE of ``last_fired``, so several server
processes never fire the same period twice) and queues the notification in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from smartcity.hub.jsonld import ContextRegistry
from smartcity.hub.query import MAX_LIMIT
from smartcity.hub.store import EntityReader, Store, StoreQueryError
from smartcity.hub.subscriptions import notification, repository
from smartcity.hub.subscriptions.compiled import CompiledSubscription, compile_row
from smartcity.hub.subscriptions.matcher import now_micros

log = logging.getLogger(__name__)

#: at most this many entities per periodic firing
MAX_ENTITIES = 10_000


class PeriodicNotifier:
    name = "subscription periodic notifier"

    def __init__(self, store: Store, registry: ContextRegistry, *, tick: float = 0.25) -> None:
        self.store = store
        self.registry = registry
        self.tick = tick
        self._task: asyncio.Task[None] | None = None
        self._compiled: dict[tuple[int, str], CompiledSubscription] = {}

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:
                log.exception("periodic notifications failed; trying again")
            await asyncio.sleep(self.tick)

    def run_once(self, now: int | None = None) -> int:
        """Queue the notifications of every periodic subscription that is due; returns how many were queued."""
        moment = now_micros() if now is None else now
        with self.store.transaction(write=False) as db:
            rows = repository.periodic(db)
        queued = 0
        for tenant, row in rows:
            interval = row.time_interval
            if interval is None or (row.expires_at is not None and row.expires_at <= moment):
                continue
            gap = int(interval * 1_000_000)
            if row.last_fired is not None and moment - row.last_fired < gap:
                continue
            sub = self._compile(row)
            try:
                queued += self._fire(sub, tenant, moment, gap)
            except StoreQueryError as exc:
                log.warning("periodic subscription %s cannot be evaluated: %s", row.id, exc)
        if queued:
            notification.signal()
        return queued

    def _compile(self, row: repository.SubscriptionRow) -> CompiledSubscription:
        key = (row.tenant_id, row.id)
        sub = self._compiled.get(key)
        if sub is None or sub.doc_key != (row.doc_text, row.context_text):
            sub = self._compiled[key] = compile_row(row, self.registry)
        return sub

    def _fire(self, sub: CompiledSubscription, tenant: str, now: int, gap: int) -> int:
        with self.store.transaction(write=True) as db:
            if not repository.claim_firing(db, sub.tenant_id, sub.id, now, gap):
                return 0  # another process fired this period
            reader = EntityReader(db, sub.tenant_id)
            data: list[Any] = []
            offset = 0
            while offset < MAX_ENTITIES:
                entities, _ = reader.query(sub.entity_query(MAX_LIMIT, offset))
                data.extend(notification.render_entity(sub, e) for e in entities)
                if len(entities) < MAX_LIMIT:
                    break
                offset += MAX_LIMIT
            return notification.enqueue(db, sub, tenant, data, now)
