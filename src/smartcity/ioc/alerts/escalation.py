"""Escalation: an active alert nobody acknowledged climbs its policy's levels as time passes.

The first policy (in creation order) whose matchers fit the alert applies. Level ``n`` (1-based) is reached
``levels[n-1].afterMinutes`` after the alert's escalation clock started (when it was raised, or when its
silence ended); each step raises ``escalationLevel``, records an ``escalated`` fact, publishes
``alert.escalated`` and queues a notification on the level's channels. Acknowledging stops it; silenced
alerts do not escalate. :class:`Escalator` ticks in the background with the manager's (injectable) clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from smartcity.hub.model import parse_time
from smartcity.ioc.alerts import model as m
from smartcity.ioc.alerts.manager import AlertManager
from smartcity.ioc.alerts.model import Fact, iso
from smartcity.ioc.alerts.silencing import reevaluate

log = logging.getLogger(__name__)


def escalate_due(manager: AlertManager) -> int:
    """Escalate every alert whose next level is due now; the number of steps taken."""
    steps = 0
    with manager._change() as (tx, fx):
        now = manager.clock()
        now_text = iso(now) or ""
        policies = tx.policies()
        for alert in tx.active():
            if alert.acknowledged or alert.silenced:
                continue
            policy = next((p for p in policies if p.applies_to(alert)), None)
            if policy is None:
                continue
            start = parse_time(alert.escalate_from)
            if start is None:
                continue
            stepped = False
            while alert.escalation_level < len(policy.levels):
                level = policy.levels[alert.escalation_level]
                if now - start < timedelta(minutes=level.after_minutes):
                    break
                alert.escalation_level += 1
                stepped = True
                steps += 1
                detail = {"level": alert.escalation_level, "policyId": policy.id, "channels": list(level.channels)}
                missing = manager.queue_on(
                    tx, fx, alert, level.channels, "escalated", level=alert.escalation_level, policyId=policy.id
                )
                if missing:
                    detail["unavailableChannels"] = missing
                    log.warning("escalation of alert %s: channels %s do not exist or are off", alert.id, missing)
                tx.add_fact(alert.id, Fact(now_text, m.ESCALATED, m.SYSTEM, detail))
                fx.announce("alert.escalated", alert)
            if stepped:
                alert.updated_at = now_text
                tx.save(alert)
    return steps


def tick(manager: AlertManager) -> int:
    """One round: silences that opened or closed by themselves, then escalations due."""
    reevaluate(manager)
    return escalate_due(manager)


class Escalator:
    """Background service: :func:`tick` every ``interval`` seconds (default 15)."""

    name = "IOC alert escalation"

    def __init__(
        self, manager: AlertManager, *, interval: float = 15.0, on_start: Callable[[], object] | None = None
    ) -> None:
        self.manager = manager
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._on_start = on_start

    async def start(self) -> None:
        if self._on_start is not None:
            try:
                await asyncio.to_thread(self._on_start)
            except Exception:
                log.exception("loading the alerts' start-up configuration failed")
        self._task = asyncio.create_task(self._run(), name="ioc escalation")

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(tick, self.manager)
            except Exception:
                log.exception("an escalation round failed; trying again at the next tick")
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
