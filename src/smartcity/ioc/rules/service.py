"""The live rules service: the hub's change feed and a timer into the engine, the engine's signals to the alerts.

At start it subscribes to the feed first (no change is missed), loads the rule files of ``SMARTCITY_IOC_RULES``,
the stored rules, the wards, and the watched entities as they are now (their ``modifiedAt`` seeds the absence
timers, so a device silent across a restart is still noticed), and takes up the subjects that were firing. It
never dies on a bad rule or value: failures are logged, counted and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from smartcity.hub.errors import NonexistentTenant
from smartcity.hub.feed import ChangeFeed, FeedQueue
from smartcity.hub.model import Entity
from smartcity.hub.query import MAX_LIMIT, EntityQuery
from smartcity.hub.service import Hub
from smartcity.hub.typesel import TypeName
from smartcity.ioc.contracts import Signal
from smartcity.ioc.rules.engine import Engine
from smartcity.ioc.rules.files import load_directory
from smartcity.ioc.rules.model import RuleSpec, parse_rule
from smartcity.ioc.rules.reading import modified_of
from smartcity.ioc.runtime import IocRuntime

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
TICK_SECONDS = 1.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class RulesService:
    """The background service (start/stop) and the live engine the API reloads after each change."""

    name = "ioc-rules"

    def __init__(
        self,
        runtime: IocRuntime,
        book: Any,  # smartcity.ioc.rules.repository.RuleBook
        hub: Hub,
        feed: ChangeFeed,
        engine: Engine,
        *,
        rules_dir: str = "",
        clock: Clock = utc_now,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self.runtime = runtime
        self.book = book
        self.hub = hub
        self.feed = feed
        self.engine = engine
        self.rules_dir = rules_dir
        self.clock = clock
        self.tick_seconds = tick_seconds
        self.tenant = runtime.tenant
        self.queue: FeedQueue | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._no_sink_logged = False
        self.sent = 0
        self.send_failures = 0
        self.ready: asyncio.Event | None = None  # made in start (bound to the running loop), set once prepared
        self._firing: set[tuple[str, str]] = set()

    # -- life cycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.queue = FeedQueue(self.feed)
        self.ready = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._run(), name="ioc-rules-feed"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self.queue is not None:
            self.queue.close()
            self.queue = None

    async def _run(self) -> None:
        try:
            await self._prepare()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the rules could not be loaded at start; the engine runs with what it has")
        finally:
            assert self.ready is not None
            self.ready.set()
        timer = asyncio.create_task(self._timer(), name="ioc-rules-timer")
        self._tasks.append(timer)
        await self._consume()

    async def _prepare(self) -> None:
        if self.rules_dir:
            await asyncio.to_thread(self._load_files, Path(self.rules_dir))
        await self.reload()
        for firing in await asyncio.to_thread(self.book.firing):
            if self.engine.restore(firing.rule_id, firing.subject, firing.subject_type, firing.fired_at, self.clock()):
                self._firing.add((firing.rule_id, firing.subject))
        entities = await asyncio.to_thread(self._current_entities)
        now = self.clock()
        for entity in entities:
            try:
                seen = modified_of(entity, now)
                await self._send(self.engine.observe(entity, seen, seen))
            except Exception:
                log.exception("seeding the rules with %s failed", entity.id)
        log.info("rules engine: %d rules active, seeded with %d entities", len(self.engine.rules), len(entities))

    def _load_files(self, directory: Path) -> None:
        if not directory.is_dir():
            log.warning("SMARTCITY_IOC_RULES=%s is not a directory: no rule files loaded", directory)
            return
        stored = {r.rule_id: r for r in self.book.all()}
        for file_name, spec in load_directory(directory):
            current = stored.get(spec.id)
            if current is not None and not current.updated_by.startswith("file:"):
                log.info("rule %s was changed through the API: %s leaves it as it is", spec.id, file_name)
                continue
            self.book.put(spec.doc, f"file:{file_name}")

    def _current_entities(self) -> list[Entity]:
        out: list[Entity] = []
        types = sorted(self.engine.types | {self.engine.expand("AdministrativeArea")})
        for type_iri in types:
            out.extend(self._entities_of(type_iri))
        return out

    def _entities_of(self, type_iri: str) -> Iterator[Entity]:
        offset = 0
        while True:
            try:
                page, _ = self.hub.query_entities(
                    self.tenant or None, EntityQuery(types=TypeName(type_iri), limit=MAX_LIMIT, offset=offset)
                )
            except NonexistentTenant:
                return
            yield from page
            if len(page) < MAX_LIMIT:
                return
            offset += MAX_LIMIT

    async def reload(self) -> None:
        """Load the stored rules into the engine (after any change through the API or the files)."""
        stored = await asyncio.to_thread(self.book.all)
        specs: list[tuple[RuleSpec, int]] = []
        for rule in stored:
            try:
                specs.append((parse_rule(rule.doc), rule.version))
            except Exception:
                log.exception("stored rule %s no longer validates: it is not evaluated", rule.rule_id)
        before = set(self.engine.rules)
        await self._send(self.engine.load(specs, self.clock()))
        added = [r for r in self.engine.rules.values() if r.spec.id not in before]
        if added and self.ready is not None and self.ready.is_set():
            await self._seed(added)

    async def _seed(self, rules: Sequence[Any]) -> None:
        types = sorted({t for rule in rules for t, _ in rule.watches()})
        entities = await asyncio.to_thread(lambda: [e for t in types for e in self._entities_of(t)])
        now = self.clock()
        for entity in entities:
            seen = modified_of(entity, now)
            for rule in rules:
                try:
                    for t in rule.observe(entity, seen, seen):
                        await self._send([self.engine._signal(rule, t)])
                except Exception:
                    log.exception("seeding rule %s with %s failed", rule.spec.id, entity.id)

    # -- the loops -------------------------------------------------------------------------------------

    async def _consume(self) -> None:
        assert self.queue is not None
        while True:
            batch = await self.queue.get()
            if batch.tenant != self.tenant:
                continue
            try:
                signals = self.engine.apply(batch.changes, self.clock())
            except Exception:
                log.exception("a change batch could not be evaluated; the rules go on with the next")
                continue
            await self._send(signals)

    async def _timer(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            try:
                await self._send(self.engine.tick(self.clock()))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the rules' timers failed once; they go on")

    async def _send(self, signals: Sequence[Signal]) -> None:
        if not signals:
            return
        episodes: list[tuple[str, str, str | None, datetime, bool]] = []
        sink = self.runtime.alerts
        for signal in signals:
            if sink is None:
                if not self._no_sink_logged:
                    self._no_sink_logged = True
                    log.warning("no alert manager is installed: rule signals are dropped")
            else:
                try:
                    await sink.signal(signal)
                    self.sent += 1
                except Exception:
                    self.send_failures += 1
                    log.exception("the alert manager refused a signal of rule %s", signal.rule_id)
            key = (signal.rule_id, signal.subject)
            if signal.firing != (key in self._firing):  # an episode starts or ends (refreshes change nothing)
                (self._firing.add if signal.firing else self._firing.discard)(key)
                episodes.append((signal.rule_id, signal.subject, signal.subject_type, signal.at, signal.firing))
        if episodes:
            try:
                await asyncio.to_thread(self.book.record, episodes)
            except Exception:
                log.exception("the firing state of rules could not be saved")

    def stats(self, rule_id: str) -> dict[str, Any] | None:
        found = self.engine.stats(rule_id)
        return dict(found) if found is not None else None
