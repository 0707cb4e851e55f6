"""``entity.changed`` events: the hub's committed changes to the map's layers, throttled per entity.

A background service follows the hub's change feed (:class:`smartcity.hub.feed.FeedQueue`) for the watched tenant
and publishes the compact view (:func:`smartcity.ioc.dashboard.layers.view`) of each changed entity of a layer
type on the operations centre's event hub. An entity is published at most once per :data:`EVERY_S`: a change
inside that second waits, and only the latest one is published when the second is over (the map always ends on
the entity's last state). A ward change makes the ward map be rebuilt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from smartcity.hub.feed import ChangeBatch, ChangeFeed, FeedQueue
from smartcity.hub.store.changes import Change
from smartcity.ioc.dashboard.city import City
from smartcity.ioc.dashboard.layers import Terms, view
from smartcity.ioc.events import EventHub

log = logging.getLogger(__name__)

EVERY_S = 1.0
TICK_S = 0.2
KIND = "entity.changed"


class Throttle:
    """At most one item per key per ``every`` seconds, the latest item winning (trailing edge)."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._last: dict[str, float] = {}
        self._pending: dict[str, Mapping[str, Any]] = {}

    def offer(self, key: str, item: Mapping[str, Any], now: float) -> Mapping[str, Any] | None:
        """The item when it may go now; otherwise it is kept (replacing an older pending one) for :meth:`due`."""
        last = self._last.get(key)
        if last is None or now - last >= self.every:
            self._last[key] = now
            self._pending.pop(key, None)
            return item
        self._pending[key] = item
        return None

    def due(self, now: float) -> list[Mapping[str, Any]]:
        """The pending items whose key's second is over (and forget keys quiet for a long time)."""
        out = []
        for key in [k for k in self._pending if now - self._last[k] >= self.every]:
            out.append(self._pending.pop(key))
            self._last[key] = now
        if len(self._last) > 10_000:
            self._last = {k: t for k, t in self._last.items() if now - t < 60 * self.every or k in self._pending}
        return out

    @property
    def pending(self) -> int:
        return len(self._pending)


class EntityEvents:
    """Turns change batches into ``entity.changed`` payloads (pure: the clock is the caller's)."""

    def __init__(self, tenant: str, terms: Terms, throttle: Throttle, on_wards: Callable[[], None]) -> None:
        self.tenant = tenant
        self.terms = terms
        self.throttle = throttle
        self.on_wards = on_wards
        self._ward_type = terms.iri("AdministrativeArea")

    def batch(self, batch: ChangeBatch, now: float) -> list[Mapping[str, Any]]:
        if batch.tenant != self.tenant:
            return []
        out = []
        for change in batch.changes:
            item = self._item(change)
            if item is not None:
                ready = self.throttle.offer(change.entity_id, item, now)
                if ready is not None:
                    out.append(ready)
        return out

    def _item(self, change: Change) -> Mapping[str, Any] | None:
        entity = change.after if change.after is not None else change.before
        if entity is None:
            return None
        if self._ward_type in entity.types:
            self.on_wards()
            return None
        layer = self.terms.layer_of(entity)
        if layer is None:
            return None
        if change.after is None:
            return {"id": entity.id, "type": layer.entity_type, "attrs": {}, "location": None, "deleted": True}
        return view(change.after, layer, self.terms)


class LiveService:
    """The background service publishing ``entity.changed`` events from the hub's change feed."""

    name = "ioc-dashboard-live"

    def __init__(
        self, feed: ChangeFeed, events: EventHub, city: City, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.feed = feed
        self.events = events
        self.converter = EntityEvents(city.tenant, city.terms, Throttle(EVERY_S), city.forget_wards)
        self.monotonic = monotonic
        self._queue: FeedQueue | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._queue = FeedQueue(self.feed)
        self._task = asyncio.create_task(self._run(self._queue), name=self.name)

    async def stop(self) -> None:
        if self._queue is not None:
            self._queue.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _publish(self, items: list[Mapping[str, Any]]) -> None:
        for item in items:
            self.events.publish(KIND, item)

    async def _run(self, queue: FeedQueue) -> None:
        while True:
            try:
                try:
                    batch = await asyncio.wait_for(queue.get(), TICK_S)
                except TimeoutError:
                    batch = None
                now = self.monotonic()
                if batch is not None:
                    self._publish(self.converter.batch(batch, now))
                    while (more := queue.get_nowait()) is not None:
                        self._publish(self.converter.batch(more, now))
                self._publish(self.converter.throttle.due(now))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the dashboard's live entity events failed on a batch; going on")
