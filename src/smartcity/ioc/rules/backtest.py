"""Back-tests: how often would a rule have fired over a past period? The hub's history is replayed, oldest first,
through a fresh :class:`~smartcity.ioc.rules.engine.Engine` holding only that rule: the same code as live, with
the history's observation times as the clock (timers run between instances, so absences and ``for`` durations
are found where they fall).

Each entity of the rule's types is taken as it is now (its static attributes: location, name, totals) and each
watched attribute's instances in the period are laid over it in time order. Entities deleted since are not
replayed.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from smartcity.hub.errors import NonexistentTenant
from smartcity.hub.model import Entity, Instance, format_time, to_micros
from smartcity.hub.query import MAX_LIMIT, EntityQuery
from smartcity.hub.service import Hub
from smartcity.hub.temporal.query import TimeWindow
from smartcity.hub.temporal.service import TemporalService
from smartcity.hub.typesel import TypeName
from smartcity.ioc.contracts import Signal
from smartcity.ioc.rules.engine import Engine
from smartcity.ioc.rules.geo import Wards
from smartcity.ioc.rules.kinds import AbsenceRule, Compiled, ProximityRule
from smartcity.ioc.rules.model import RuleSpec
from smartcity.ioc.rules.reading import LOCATION, Expand, default_instance

DEFAULT_DAYS = 30
MAX_DAYS = 366
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Episode:
    subject: str
    start: datetime
    end: datetime | None = None
    peak: float | None = None

    def view(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "start": _iso(self.start),
            "end": _iso(self.end) if self.end is not None else None,
            "peak": self.peak,
        }


@dataclass
class Outcome:
    start: datetime
    end: datetime
    episodes: list[Episode] = field(default_factory=list)
    instances: int = 0

    def view(self) -> dict[str, Any]:
        return {
            "from": _iso(self.start),
            "to": _iso(self.end),
            "fired": len(self.episodes),
            "episodes": [e.view() for e in self.episodes],
            "instancesEvaluated": self.instances,
        }


def _iso(moment: datetime) -> str:
    return format_time(moment).replace(".000000Z", "Z")


class Backtest:
    def __init__(self, hub: Hub, temporal: TemporalService, tenant: str, expand: Expand, wards: Wards) -> None:
        self.hub = hub
        self.temporal = temporal
        self.tenant = tenant
        self.expand = expand
        self.wards = wards

    def run(self, spec: RuleSpec, start: datetime, end: datetime) -> Outcome:
        """Replay ``spec`` (enabled or not) over [start, end]."""
        engine = Engine(self.expand, self.wards)
        engine.load([(_enabled(spec), 0)], start)
        rule = engine.rules[spec.id]
        outcome = Outcome(start, end)
        open_episodes: dict[str, Episode] = {}

        def take(signals: list[Signal]) -> None:
            for s in signals:
                episode = open_episodes.get(s.subject)
                if s.firing:
                    if episode is None:
                        episode = open_episodes[s.subject] = Episode(s.subject, s.at, peak=s.value)
                        outcome.episodes.append(episode)
                    elif s.value is not None and (episode.peak is None or _higher(rule, s.value, episode.peak)):
                        episode.peak = s.value
                elif episode is not None:
                    episode.end = s.at
                    if s.value is not None:
                        episode.peak = s.value
                    del open_episodes[s.subject]

        window = TimeWindow(timerel="between", time_at=to_micros(start), end_time_at=to_micros(end))
        for moment, entity in self._timeline(rule, window):
            outcome.instances += 1
            take(engine.tick(moment))
            take(engine.observe(entity, moment, moment))
        take(engine.tick(end))
        outcome.episodes.sort(key=lambda e: (e.start, e.subject))
        return outcome

    def _timeline(self, rule: Compiled, window: TimeWindow) -> Iterator[tuple[datetime, Entity]]:
        """(time, the entity as of that time) for every instance of the watched attributes, oldest first."""
        streams: list[Iterator[tuple[datetime, int, Entity]]] = []
        serial = 0
        for type_iri, attrs in _needs(rule).items():
            for base in self._entities(type_iri):
                names = attrs if attrs else [a for a in base.attrs if a != LOCATION]
                serial += 1
                streams.append(self._entity_stream(base, names, window, serial))
        for moment, _, entity in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
            yield moment, entity

    def _entity_stream(
        self, base: Entity, names: list[str], window: TimeWindow, serial: int
    ) -> Iterator[tuple[datetime, int, Entity]]:
        points: list[tuple[int, str, Any]] = []
        for name in names:
            for micros, value in self.temporal.series(self.tenant or None, base.id, name, window):
                points.append((micros, name, value))
        points.sort(key=lambda p: p[0])
        current = base.copy()
        index = 0
        while index < len(points):
            micros = points[index][0]
            while index < len(points) and points[index][0] == micros:
                _, name, value = points[index]
                current.attrs[name] = [_instance(default_instance(base, name), value, micros)]
                index += 1
            moment = _EPOCH + timedelta(microseconds=micros)
            yield moment, serial, current.copy()

    def _entities(self, type_iri: str) -> Iterator[Entity]:
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


def _enabled(spec: RuleSpec) -> RuleSpec:
    if spec.enabled:
        return spec
    from dataclasses import replace

    return replace(spec, enabled=True)


def _needs(rule: Compiled) -> dict[str, list[str]]:
    """type IRI -> the attributes whose history drives the rule (empty: every attribute, for absences)."""
    needs: dict[str, list[str]] = {}
    for type_iri, attr_iri in rule.watches():
        names = needs.setdefault(type_iri, [])
        if attr_iri is not None and attr_iri not in names:
            names.append(attr_iri)
    if isinstance(rule, ProximityRule):
        needs[rule.type_iri] = [LOCATION, rule.group_iri]
    elif isinstance(rule, AbsenceRule) and rule.attr_iri is None:
        needs[rule.type_iri] = []
    if rule.per_iri is not None:
        needs.setdefault(rule.type_iri, []).append(rule.per_iri)
    return needs


def _instance(template: Instance | None, value: Any, micros: int) -> Instance:
    kind = template.get("type") if template is not None else None
    observed = format_time(_EPOCH + timedelta(microseconds=micros))
    if kind == "Relationship":
        return {"type": "Relationship", "object": value, "observedAt": observed}
    if kind == "GeoProperty" or (isinstance(value, dict) and "coordinates" in value):
        return {"type": "GeoProperty", "value": value, "observedAt": observed}
    return {"type": "Property", "value": value, "observedAt": observed}


def _higher(rule: Compiled, new: float, old: float) -> bool:
    op = rule.spec.when.op
    return new < old if op in ("<", "<=") else new > old
