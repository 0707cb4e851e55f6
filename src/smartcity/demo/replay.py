"""The replay engine: the demo's sources as device messages, sent as the simulated clock reaches them.

Each turn the engine takes the span of simulated time since the last turn, asks every feed for the messages that
fall in it (stamped with their own simulated instant), sends them in time order through the southbound, a few at a
time and at most ``max_rate`` a second, then sleeps until the next turn. When sending falls behind the clock, the
next span is simply longer: nothing is skipped except bus positions, of which only the latest is sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from smartcity.demo import fleet
from smartcity.demo.devices import Message
from smartcity.demo.flood import FloodModel
from smartcity.demo.southbound import Delivery, Southbound
from smartcity.demo.timeline import Series, SimClock, Timeline, Window
from smartcity.demo.weather import WeatherReading

log = logging.getLogger(__name__)

T = TypeVar("T")
HOUR = timedelta(hours=1)


class Feed(Protocol):
    name: str

    def messages(self, sim_from: datetime, sim_to: datetime) -> list[Message]: ...


@dataclass
class SeriesFeed(Generic[T]):
    """A recorded source: its records in ``[sim_from, sim_to)`` once laid onto the simulated clock."""

    name: str
    timeline: Timeline
    series: Series[T]
    to_messages: Callable[[Window, list[tuple[datetime, T]]], list[Message]]

    def messages(self, sim_from: datetime, sim_to: datetime) -> list[Message]:
        out: list[Message] = []
        for window in self.timeline.windows(sim_from, sim_to):
            out.extend(self.to_messages(window, self.series.between(window.src_from, window.src_to)))
        return out


def ticks(sim_from: datetime, sim_to: datetime, step: timedelta) -> list[datetime]:
    """The multiples of ``step`` (counted from the Unix epoch) in ``[sim_from, sim_to)``."""
    epoch = datetime(1970, 1, 1, tzinfo=sim_from.tzinfo)
    first = epoch + -((epoch - sim_from) // step) * step
    out = []
    moment = first
    while moment < sim_to:
        out.append(moment)
        moment += step
    return out


@dataclass
class FloodFeed:
    """The flood model, stepped every ``model.step`` of simulated time with the replayed rain."""

    model: FloodModel
    weather: Timeline
    rain: Series[WeatherReading]
    name: str = "flood"

    def rain_at(self, sim: datetime) -> float:
        """The rain rate (mm/h) replayed around ``sim``: the hourly total of the hour that ends at or after it."""
        source = self.weather.source_time(sim)
        hour_end = source.replace(minute=0, second=0, microsecond=0)
        if hour_end < source:
            hour_end += HOUR
        found = self.rain.between(hour_end, hour_end + timedelta(seconds=1))
        return found[0][1].rain_mm if found else 0.0

    def warm_up(self, sim_start: datetime, hours: int = 48) -> None:
        """Run the model over the rain of the ``hours`` before the start, so the replay does not begin dry."""
        for moment in ticks(sim_start - timedelta(hours=hours), sim_start, self.model.step):
            self.model.advance(self.rain_at(moment), self.model.step)

    def messages(self, sim_from: datetime, sim_to: datetime) -> list[Message]:
        out: list[Message] = []
        for moment in ticks(sim_from, sim_to, self.model.step):
            self.model.advance(self.rain_at(moment), self.model.step)
            out.extend(self.model.messages(moment))
        return out


@dataclass
class BusFeed:
    """Bus positions every ``every_s`` seconds of wall-clock time, at the simulated instant the clock reached
    (so as often at 3600x as live); a turn sends each bus's latest position only."""

    buses: list[fleet.Bus]
    every_s: float
    monotonic: Callable[[], float] = time.monotonic
    name: str = "buses"
    _last: float | None = None

    def messages(self, sim_from: datetime, sim_to: datetime) -> list[Message]:
        now = self.monotonic()
        if sim_to <= sim_from or (self._last is not None and now - self._last < self.every_s):
            return []
        self._last = now
        return fleet.messages(self.buses, sim_to)


@dataclass
class Stats:
    sent: int = 0  # accepted by the IoT agent
    rejected: int = 0  # refused as a whole
    dropped: int = 0  # measures dropped from accepted messages
    by_feed: Counter[str] = field(default_factory=Counter)
    last_problem: str | None = None
    behind_s: float = 0.0  # wall seconds the last turn's sending took beyond its turn


class Replay:
    """Runs the feeds on the clock until stopped."""

    def __init__(
        self,
        clock: SimClock,
        feeds: list[Feed],
        southbound: Southbound,
        *,
        turn_s: float = 0.5,
        concurrency: int = 8,
        max_rate: float = 400.0,
    ) -> None:
        self.clock = clock
        self.feeds = feeds
        self.southbound = southbound
        self.turn_s = turn_s
        self.concurrency = concurrency
        self.max_rate = max_rate
        self.stats = Stats()
        self.position = clock.start  # the simulated instant up to which messages were sent

    async def run(self) -> None:
        while True:
            began = time.monotonic()
            await self.turn()
            spent = time.monotonic() - began
            self.stats.behind_s = max(0.0, spent - self.turn_s)
            await asyncio.sleep(max(0.0, self.turn_s - spent))

    async def turn(self) -> int:
        """Send what the clock reached since the last turn; returns how many messages."""
        until = self.clock.now()
        batch: list[tuple[str, Message]] = []
        for feed in self.feeds:
            batch.extend((feed.name, m) for m in feed.messages(self.position, until))
        self.position = until
        batch.sort(key=lambda pair: pair[1].at)
        await self._send(batch)
        return len(batch)

    async def _send(self, batch: list[tuple[str, Message]]) -> None:
        queue: asyncio.Queue[tuple[str, Message]] = asyncio.Queue()
        for item in batch:
            queue.put_nowait(item)
        interval = self.concurrency / self.max_rate if self.max_rate > 0 else 0.0

        async def worker() -> None:
            while not queue.empty():
                feed, message = queue.get_nowait()
                began = time.monotonic()
                self._count(feed, await self.southbound.send(message))
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(batch)))))

    def _count(self, feed: str, delivery: Delivery) -> None:
        self.stats.by_feed[feed] += 1
        if delivery.accepted:
            self.stats.sent += 1
            self.stats.dropped += delivery.dropped
        else:
            self.stats.rejected += 1
        problem = delivery.problem
        if problem is not None and problem != self.stats.last_problem:
            what = "had measures dropped" if delivery.accepted else "was refused"
            log.info("a %s message %s: %s", feed, what, problem)
            self.stats.last_problem = problem
