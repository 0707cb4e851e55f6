"""Each kind of rule, compiled against the hub's expanded names: what it watches, how it turns entity updates into
samples about its subjects, and what its timers do. The verdicts come from each rule's :class:`Tracker`.
"""

from __future__ import annotations

import operator
import re
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from smartcity.hub.model import Entity
from smartcity.ioc.rules.geo import Region, Wards, distance_m, point_of
from smartcity.ioc.rules.model import Condition, Part, RuleSpec
from smartcity.ioc.rules.reading import (
    LOCATION,
    Expand,
    attribute,
    default_instance,
    location_of,
    number,
    time_of,
    value_of,
)
from smartcity.ioc.rules.tracker import Sample, Tracker, Transition

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
Test = Callable[[Any], bool | None]  # None: the value cannot be tested (wrong kind)


@dataclass(frozen=True)
class Tests:
    holds: Test
    ended: Test


def tests_of(cond: Condition) -> Tests:
    """The condition as two tests of a value: does it hold, has it ended (past the hysteresis)."""
    op, threshold = cond.op, cond.value
    if op in _ORDER:
        compare = _ORDER[op]

        def holds(v: Any) -> bool | None:
            n = number(v)
            return None if n is None else compare(n, threshold)

        if cond.clear is None:

            def ended(v: Any) -> bool | None:
                h = holds(v)
                return None if h is None else not h

        else:
            clear = cond.clear
            past = operator.lt if op in (">", ">=") else operator.gt

            def ended(v: Any) -> bool | None:
                n = number(v)
                return None if n is None else past(n, clear)

        return Tests(holds, ended)
    if op in ("in", "notin"):
        members = set(threshold)
        inside = op == "in"

        def holds_in(v: Any) -> bool | None:
            if isinstance(v, dict | list):
                return None
            return (v in members) == inside

        return Tests(holds_in, lambda v: None if (h := holds_in(v)) is None else not h)
    equal = op == "=="

    def holds_plain(v: Any) -> bool | None:
        if isinstance(v, dict | list) or v is None:
            return None
        same = v == threshold and isinstance(v, bool) == isinstance(threshold, bool)
        return same == equal

    return Tests(holds_plain, lambda v: None if (h := holds_plain(v)) is None else not h)


_LITERAL = re.compile(r"\^?((?:[^\\.^$*+?{}\[\]|()]|\\[^A-Za-z0-9])+)\$")


def exact_id(pattern: str) -> str | None:
    """The id an ``idPattern`` matches, when it matches exactly one (a literal anchored at both ends, such as
    ``^urn:ngsi-ld:FloodMonitoring:g1$``); else None. The engine indexes such rules by entity id."""
    found = _LITERAL.fullmatch(pattern)
    return re.sub(r"\\(.)", r"\1", found.group(1)) if found is not None else None


def _peak_of(cond: Condition) -> str:
    return "max" if cond.op in (">", ">=") else "min" if cond.op in ("<", "<=") else "last"


class Compiled:
    """A rule ready to evaluate, with its per-subject state and counters."""

    def __init__(self, spec: RuleSpec, version: int, expand: Expand, wards: Wards) -> None:
        self.spec = spec
        self.version = version
        self.expand = expand
        self.wards = wards
        self.tests = tests_of(spec.when)
        self.tracker = Tracker(spec.when.for_s, spec.when.clear_for_s, _peak_of(spec.when))
        self.name_iri = expand("name")
        target = spec.target
        self.type_iri = expand(target.type) if target is not None else ""
        self.attr_iri = expand(target.attribute) if target is not None and target.attribute else None
        self.per_iri = expand(target.per) if target is not None and target.per else None
        self._id_re = re.compile(target.id_pattern) if target is not None and target.id_pattern else None
        self._ids: dict[str, bool] = {}
        #: the one entity id the rule is about, when its idPattern names exactly one (``^urn:...:g1$``)
        self.exact_id = exact_id(target.id_pattern) if target is not None and target.id_pattern else None
        self.region = Region(target.area, wards) if target is not None and target.area is not None else None
        self._inside: dict[str, tuple[dict[str, Any] | None, int, bool]] = {}  # id -> (location, wards, inside)
        self.evaluations = 0
        self.signals = 0
        self.errors = 0
        self.last_signal_at: datetime | None = None

    # -- what the engine calls ---------------------------------------------------------------------------

    def watches(self) -> list[tuple[str, str | None]]:
        """(type IRI, attribute IRI or None for any update) pairs whose changes this rule evaluates."""
        return [(self.type_iri, self.attr_iri)]

    def observe(self, entity: Entity, received: datetime, arrived: datetime) -> list[Transition]:
        raise NotImplementedError

    def remove(self, entity_id: str, at: datetime) -> list[Transition]:
        t = self.tracker.end(entity_id, at)
        return [t] if t is not None else []

    def due(self, now: datetime) -> list[Transition]:
        return self.tracker.due(now)

    # -- helpers -----------------------------------------------------------------------------------------

    def admits(self, entity_id: str) -> bool:
        """Whether the rule's ``idPattern`` (if any) admits the id."""
        return self._id_re is None or self._id_re.match(entity_id) is not None

    def matches(self, entity: Entity) -> bool:
        if self._id_re is not None:
            hit = self._ids.get(entity.id)
            if hit is None:
                hit = self._ids[entity.id] = self._id_re.match(entity.id) is not None
            if not hit:
                return False
        if self.region is not None:
            location = location_of(entity)
            cached = self._inside.get(entity.id)
            if cached is not None and cached[0] == location and cached[1] == self.wards.version:
                return cached[2]
            point = point_of(location)
            inside = point is not None and self.region.contains(point)
            self._inside[entity.id] = (location, self.wards.version, inside)
            return inside
        return True

    def sample(self, entity: Entity, value: Any, at: datetime, arrived: datetime) -> Sample:
        name = attribute(entity, self.name_iri)
        return Sample(
            subject=entity.id,
            value=value,
            at=at,
            arrived=arrived,
            subject_type=self.spec.target.type if self.spec.target is not None else None,
            location=location_of(entity),
            name=name if isinstance(name, str) else None,
        )

    def feed(self, sample: Sample) -> list[Transition]:
        self.evaluations += 1
        holds = self.tests.holds(sample.value)
        if holds is None:
            ended = True if sample.value is None else None
            if ended is None:
                return []
            holds = False
        else:
            ended = bool(self.tests.ended(sample.value))
        t = self.tracker.update(sample, holds, ended)
        return [t] if t is not None else []


class ThresholdRule(Compiled):
    """``threshold`` and ``area``: one entity's attribute (optionally divided by another) against a value."""

    def observe(self, entity: Entity, received: datetime, arrived: datetime) -> list[Transition]:
        if not self.matches(entity):
            return self.remove(entity.id, received) if entity.id in self.tracker.states else []
        assert self.attr_iri is not None
        instance = default_instance(entity, self.attr_iri)
        if instance is None:
            return []
        value = value_of(instance)
        if self.per_iri is not None:
            total, part = number(attribute(entity, self.per_iri)), number(value)
            if total is None or part is None or total <= 0:
                return []
            value = part / total
        return self.feed(self.sample(entity, value, time_of(instance, received), arrived))


class RateRule(Compiled):
    """``rate``: the change per minute of an entity's attribute over a sliding window."""

    def __init__(self, spec: RuleSpec, version: int, expand: Expand, wards: Wards) -> None:
        super().__init__(spec, version, expand, wards)
        assert spec.window_s is not None
        self.window = timedelta(seconds=spec.window_s)
        self.history: dict[str, deque[tuple[datetime, float]]] = {}

    def observe(self, entity: Entity, received: datetime, arrived: datetime) -> list[Transition]:
        if not self.matches(entity):
            return []
        assert self.attr_iri is not None
        instance = default_instance(entity, self.attr_iri)
        value = number(value_of(instance))
        if value is None:
            return []
        at = time_of(instance, received)
        points = self.history.setdefault(entity.id, deque())
        if points and at <= points[-1][0]:
            return []  # not newer than what was seen
        points.append((at, value))
        while points and points[0][0] < at - self.window:
            points.popleft()
        span = (at - points[0][0]).total_seconds()
        if span < 60:
            return []
        rate = (value - points[0][1]) / (span / 60.0)
        return self.feed(self.sample(entity, round(rate, 6), at, arrived))

    def remove(self, entity_id: str, at: datetime) -> list[Transition]:
        self.history.pop(entity_id, None)
        return super().remove(entity_id, at)


class AbsenceRule(Compiled):
    """``absence``: no update from a matching entity for ``after`` (timers on the engine's clock)."""

    def __init__(self, spec: RuleSpec, version: int, expand: Expand, wards: Wards) -> None:
        super().__init__(spec, version, expand, wards)
        assert spec.after_s is not None
        self.after = timedelta(seconds=spec.after_s)
        self.tracker = Tracker(0.0, 0.0, "max")
        self.last_seen: dict[str, tuple[datetime, Sample]] = {}
        self.next_due: datetime | None = None

    def watches(self) -> list[tuple[str, str | None]]:
        return [(self.type_iri, self.attr_iri)]  # attribute None: any update of the entity

    def observe(self, entity: Entity, received: datetime, arrived: datetime) -> list[Transition]:
        if not self.matches(entity):
            return []
        self.evaluations += 1
        base = self.sample(entity, 0.0, received, arrived)
        self.last_seen[entity.id] = (arrived, base)
        deadline = arrived + self.after
        if self.next_due is None or deadline < self.next_due:
            self.next_due = deadline
        t = self.tracker.update(base, False, True)
        return [t] if t is not None else []

    def remove(self, entity_id: str, at: datetime) -> list[Transition]:
        self.last_seen.pop(entity_id, None)
        return super().remove(entity_id, at)

    def due(self, now: datetime) -> list[Transition]:
        if self.next_due is not None and now < self.next_due and not self.tracker.states:
            return []
        out: list[Transition] = []
        next_due: datetime | None = None
        for entity_id, (seen, base) in self.last_seen.items():
            deadline = seen + self.after
            if now >= deadline:
                silent = round((now - seen).total_seconds() / 60.0, 1)
                at = deadline if entity_id not in self.tracker.states else now
                sample = Sample(entity_id, silent, at, now, base.subject_type, base.location, base.ward, base.name)
                self.evaluations += 1
                t = self.tracker.update(sample, True, False)
                if t is not None:
                    out.append(t)
            elif next_due is None or deadline < next_due:
                next_due = deadline
        self.next_due = next_due
        return out


class _Group:
    __slots__ = ("arrived", "at", "counts", "location", "name", "samples", "subject", "subject_type", "total", "ward")

    def __init__(self, subject: str, subject_type: str | None, location: Any, ward: str | None, name: str | None):
        self.subject, self.subject_type, self.location, self.ward, self.name = (
            subject,
            subject_type,
            location,
            ward,
            name,
        )
        self.samples: deque[tuple[datetime, str, float]] = deque()
        self.total = 0.0
        self.counts: Counter[str] = Counter()
        self.at: datetime | None = None
        self.arrived: datetime | None = None


class AggregateRule(Compiled):
    """``aggregate``: mean/min/max/sum/count of an attribute over the entities of a type in one area, or in each
    ward (``groupBy: ward``), over a sliding window of observation time. The subject is the ward (or the area).
    ``count`` is the number of distinct entities that reported in the window."""

    def __init__(self, spec: RuleSpec, version: int, expand: Expand, wards: Wards) -> None:
        super().__init__(spec, version, expand, wards)
        assert spec.window_s is not None and spec.method is not None
        self.window = timedelta(seconds=spec.window_s)
        self.method = spec.method
        self.groups: dict[str, _Group] = {}
        self.member: dict[str, str] = {}  # entity id -> group subject

    def _group_of(self, entity: Entity) -> _Group | None:
        kind: str | None
        location: dict[str, Any] | None
        code: str | None
        name: str | None
        if self.spec.group_by == "ward":
            point = point_of(location_of(entity))
            ward = self.wards.ward_at(point) if point is not None else None
            if ward is None:
                return None
            key, kind, location, code, name = ward.entity_id, "AdministrativeArea", ward.centre, ward.code, ward.name
        else:
            assert self.region is not None
            if not self.matches(entity):
                return None
            key, kind, location = self.region.subject
            code = self.spec.target.area.ward if self.spec.target and self.spec.target.area else None
            ward = self.wards.get(code) if code else None
            name = ward.name if ward is not None else None
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(key, kind, location, code, name)
        return group

    def observe(self, entity: Entity, received: datetime, arrived: datetime) -> list[Transition]:
        if self._id_re is not None and not self._id_re.match(entity.id):
            return []
        if self.attr_iri is not None:
            instance = default_instance(entity, self.attr_iri)
            value = number(value_of(instance))
            if value is None:
                return []
            at = time_of(instance, received)
        else:
            value, at = 1.0, received
        group = self._group_of(entity)
        if group is None:
            return []
        self.member[entity.id] = group.subject
        group.samples.append((at, entity.id, value))
        group.total += value
        group.counts[entity.id] += 1
        if group.at is None or at >= group.at:
            group.at, group.arrived = at, arrived
        self._prune(group, group.at)
        return self._evaluate(group, arrived)

    def _prune(self, group: _Group, now: datetime) -> bool:
        horizon = now - self.window
        pruned = False
        while group.samples and group.samples[0][0] <= horizon:
            _, entity_id, value = group.samples.popleft()
            group.total -= value
            group.counts[entity_id] -= 1
            if group.counts[entity_id] <= 0:
                del group.counts[entity_id]
            pruned = True
        return pruned

    def _value(self, group: _Group) -> float | None:
        if not group.samples:
            return None
        if self.method == "mean":
            return round(group.total / len(group.samples), 6)
        if self.method == "sum":
            return round(group.total, 6)
        if self.method == "count":
            return float(len(group.counts))
        values = [s[2] for s in group.samples]
        return min(values) if self.method == "min" else max(values)

    def _evaluate(self, group: _Group, arrived: datetime) -> list[Transition]:
        assert group.at is not None
        sample = Sample(
            group.subject,
            self._value(group),
            group.at,
            arrived,
            group.subject_type,
            group.location,
            group.ward,
            group.name,
        )
        return self.feed(sample)

    def remove(self, entity_id: str, at: datetime) -> list[Transition]:
        return []  # its samples leave the window with time

    def due(self, now: datetime) -> list[Transition]:
        out = self.tracker.due(now)
        for group in self.groups.values():
            if group.at is None or group.arrived is None or not group.samples:
                continue
            virtual = group.at + (now - group.arrived)
            if self._prune(group, virtual):
                group.at, group.arrived = virtual, now
                out.extend(self._evaluate(group, now))
        return out


class CompositeRule(Compiled):
    """``composite``: all (or any) of named conditions, each about any entity of its type (one holding entity is
    enough for a condition). The subject is ``composite.subject`` or the rule itself."""

    def __init__(self, spec: RuleSpec, version: int, expand: Expand, wards: Wards) -> None:
        super().__init__(spec, version, expand, wards)
        self.parts = [
            (part, expand(part.type), expand(part.attribute), tests_of(part.condition), _compile(part))
            for part in spec.parts
        ]
        self.status: list[dict[str, tuple[bool, Any, datetime]]] = [{} for _ in self.parts]
        self.subject = spec.subject or f"urn:ngsi-ld:IocRule:{spec.id}"
        self.at: datetime | None = None
        self.arrived: datetime | None = None

    def watches(self) -> list[tuple[str, str | None]]:
        return list(dict.fromkeys((type_iri, attr_iri) for _, type_iri, attr_iri, _, _ in self.parts))

    def observe(self, entity: Entity, received: datetime, arrived: datetime) -> list[Transition]:
        touched = False
        for index, (_, type_iri, attr_iri, tests, id_re) in enumerate(self.parts):
            if type_iri not in entity.types or (id_re is not None and not id_re.match(entity.id)):
                continue
            instance = default_instance(entity, attr_iri)
            if instance is None:
                continue
            value = value_of(instance)
            at = time_of(instance, received)
            self.status[index][entity.id] = (bool(tests.holds(value)), value, at)
            touched = True
            if self.at is None or at >= self.at:
                self.at, self.arrived = at, arrived
        if not touched or self.at is None:
            return []
        return self._evaluate(self.at, arrived)

    def _evaluate(self, now: datetime, arrived: datetime) -> list[Transition]:
        verdicts: list[bool] = []
        shown: Any = None
        for index, (part, _, _, _, _) in enumerate(self.parts):
            horizon = now - timedelta(seconds=part.max_age_s) if part.max_age_s is not None else None
            fresh = [s for s in self.status[index].values() if horizon is None or s[2] >= horizon]
            holding = [s[1] for s in fresh if s[0]]
            verdicts.append(bool(holding))
            if index == 0:
                shown = holding[0] if holding else (fresh[0][1] if fresh else None)
        holds = all(verdicts) if self.spec.mode == "all" else any(verdicts)
        self.evaluations += 1
        sample = Sample(self.subject, number(shown), now, arrived, None, None, None, self.spec.name.en)
        t = self.tracker.update(sample, holds, not holds)
        return [t] if t is not None else []

    def remove(self, entity_id: str, at: datetime) -> list[Transition]:
        for status in self.status:
            status.pop(entity_id, None)
        if self.at is None or self.arrived is None:
            return []
        return self._evaluate(self.at, self.arrived)

    def due(self, now: datetime) -> list[Transition]:
        out = self.tracker.due(now)
        if self.at is not None and self.arrived is not None and any(p.max_age_s for p, *_ in self.parts):
            out.extend(self._evaluate(self.at + (now - self.arrived), now))
        return out


def _compile(part: Part) -> re.Pattern[str] | None:
    return re.compile(part.id_pattern) if part.id_pattern else None


class ProximityRule(Compiled):
    """``proximity``: two entities of the type in the same group (``groupBy``: a relationship such as
    ``refPublicTransportRoute``) closer than the distance: bus bunching. The subject is the group (the route);
    the value is the smallest distance (m) between two of its entities seen within ``maxAge``."""

    def __init__(self, spec: RuleSpec, version: int, expand: Expand, wards: Wards) -> None:
        super().__init__(spec, version, expand, wards)
        assert spec.group_by is not None and spec.max_age_s is not None
        self.group_iri = expand(spec.group_by)
        self.max_age = timedelta(seconds=spec.max_age_s)
        self.positions: dict[str, dict[str, tuple[tuple[float, float], datetime]]] = {}
        #: group -> (entity, entity) -> distance (m): an update computes only the distances of the moved entity
        self.pairs: dict[str, dict[tuple[str, str], float]] = {}
        self.group_of: dict[str, str] = {}
        self.latest: dict[str, tuple[datetime, datetime]] = {}  # group -> (event time, arrived)

    def watches(self) -> list[tuple[str, str | None]]:
        return [(self.type_iri, None)]

    def observe(self, entity: Entity, received: datetime, arrived: datetime) -> list[Transition]:
        if not self.matches(entity):
            return self.remove(entity.id, received)
        group = attribute(entity, self.group_iri)
        instance = default_instance(entity, LOCATION)
        point = point_of(value_of(instance))
        out: list[Transition] = []
        previous = self.group_of.get(entity.id)
        if previous is not None and previous != group:
            out.extend(self.remove(entity.id, received))
        if not isinstance(group, str) or point is None:
            return out
        at = time_of(instance, received)
        self.group_of[entity.id] = group
        members = self.positions.setdefault(group, {})
        known = members.get(entity.id)
        members[entity.id] = (point, at)
        if known is None or known[0] != point:
            pairs = self.pairs.setdefault(group, {})
            for other, (where, _) in members.items():
                if other != entity.id:
                    pairs[_pair(entity.id, other)] = distance_m(point, where)
        seen = self.latest.get(group)
        if seen is None or at >= seen[0]:
            self.latest[group] = (at, arrived)
        out.extend(self._evaluate(group, self.latest[group][0], arrived))
        return out

    def _evaluate(self, group: str, now: datetime, arrived: datetime) -> list[Transition]:
        members = self.positions.get(group, {})
        horizon = now - self.max_age
        fresh = {entity_id for entity_id, (_, at) in members.items() if at >= horizon}
        best: tuple[float, tuple[float, float], tuple[float, float]] | None = None
        for (a, b), d in self.pairs.get(group, {}).items():
            if (best is None or d < best[0]) and a in fresh and b in fresh:
                best = (d, members[a][0], members[b][0])
        if best is None:
            value: float | None = None
            location = None
        else:
            value = round(best[0], 1)
            mid = ((best[1][0] + best[2][0]) / 2, (best[1][1] + best[2][1]) / 2)
            location = {"type": "Point", "coordinates": [round(mid[0], 6), round(mid[1], 6)]}
        sample = Sample(group, value, now, arrived, "PublicTransportRoute", location, None, None)
        return self.feed(sample)

    def remove(self, entity_id: str, at: datetime) -> list[Transition]:
        group = self.group_of.pop(entity_id, None)
        if group is None:
            return []
        members = self.positions.get(group, {})
        members.pop(entity_id, None)
        pairs = self.pairs.get(group, {})
        for other in members:
            pairs.pop(_pair(entity_id, other), None)
        seen = self.latest.get(group)
        if seen is None:
            return []
        return self._evaluate(group, seen[0], seen[1])

    def due(self, now: datetime) -> list[Transition]:
        out = self.tracker.due(now)
        for group in list(self.tracker.states):
            seen = self.latest.get(group)
            if seen is not None:
                out.extend(self._evaluate(group, seen[0] + (now - seen[1]), now))
        return out


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


KIND_CLASSES: dict[str, type[Compiled]] = {
    "threshold": ThresholdRule,
    "area": ThresholdRule,
    "rate": RateRule,
    "absence": AbsenceRule,
    "aggregate": AggregateRule,
    "composite": CompositeRule,
    "proximity": ProximityRule,
}


def compile_rule(spec: RuleSpec, version: int, expand: Expand, wards: Wards) -> Compiled:
    return KIND_CLASSES[spec.kind](spec, version, expand, wards)
