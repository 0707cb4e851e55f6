"""The rules engine: entity changes in, :class:`~smartcity.ioc.contracts.Signal`s out. Pure and synchronous: the
caller gives every time (the live service its clock, the back-test the history's times), so live evaluation and
back-tests run the same code.

Rules are indexed by entity type and attribute, so a change evaluates only the rules that can care about it (an
attribute whose instance did not change is not evaluated again); rules about one entity (an ``idPattern`` that
names exactly one id) are indexed by that id as well, so per-site rules cost nothing to the other sites'
updates. A failing rule is logged, counted and skipped; it never stops the others.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from smartcity.hub.model import Entity
from smartcity.hub.store.changes import Change
from smartcity.ioc.contracts import Signal
from smartcity.ioc.rules.geo import Wards, point_of
from smartcity.ioc.rules.kinds import Compiled, compile_rule
from smartcity.ioc.rules.model import RuleSpec
from smartcity.ioc.rules.reading import LOCATION, Expand, attribute, location_of, modified_of, parse_changed_at
from smartcity.ioc.rules.tracker import Sample, Transition

log = logging.getLogger(__name__)

ALERT_TYPE = "Alert"
#: what a kind of rule has learnt from the data, kept when the rule changes but keeps its kind and target
_KIND_STATE = (
    "last_seen",
    "next_due",
    "history",
    "groups",
    "member",
    "status",
    "at",
    "arrived",
    "positions",
    "pairs",
    "group_of",
    "latest",
)
WARD_TYPE = "AdministrativeArea"
#: entries of the per-entity memory of which rules' idPatterns admit an entity (emptied when full)
MAX_ADMITTED = 200_000


class _Admitted:
    """Which rules of one index entry can care about one entity (see :meth:`Engine._admitted`)."""

    __slots__ = ("inside", "location", "placed", "rules", "wards")

    def __init__(self, rules: list[Compiled], placed: list[Compiled]) -> None:
        self.rules = rules  # admitted by their idPattern, with no area
        self.placed = placed  # admitted by their idPattern, with an area
        self.inside: list[Compiled] = []  # those of ``placed`` whose area holds the entity's location
        self.location: Any = None
        self.wards = -1


class Engine:
    def __init__(self, expand: Expand, wards: Wards | None = None) -> None:
        self.expand = expand
        self.wards = wards if wards is not None else Wards()
        self.rules: dict[str, Compiled] = {}
        self._index: dict[str, dict[str | None, list[Compiled]]] = {}
        self._by_id: dict[str, dict[str, dict[str | None, list[Compiled]]]] = {}  # rules about one entity
        self._admits: dict[tuple[str, str, str | None], _Admitted] = {}
        self._alert_iri = expand(ALERT_TYPE)
        self._ward_iri = expand(WARD_TYPE)
        self._code_iri = expand("code")
        self._name_iri = expand("name")
        self.changes = 0
        self.evaluations_failed = 0
        self.signals = 0

    # -- the rule set -------------------------------------------------------------------------------------

    def load(self, specs: Iterable[tuple[RuleSpec, int]], now: datetime) -> list[Signal]:
        """Replace the rule set. Rules that are gone or switched off end their firing subjects (firing=False);
        a changed rule of the same kind and target type keeps its subjects' state."""
        wanted = {spec.id: (spec, version) for spec, version in specs if spec.enabled}
        out: list[Signal] = []
        rules: dict[str, Compiled] = {}
        for rule_id, old in self.rules.items():
            if rule_id not in wanted:
                out.extend(self._signal(old, t) for t in old.tracker.end_all(now))
        for rule_id, (spec, version) in wanted.items():
            previous = self.rules.get(rule_id)
            if previous is not None and previous.version == version:
                rules[rule_id] = previous
                continue
            rule = compile_rule(spec, version, self.expand, self.wards)
            if previous is not None:
                same = previous.spec.kind == spec.kind and previous.spec.target == spec.target
                if same and previous.spec.parts == spec.parts:
                    rule.tracker.states = previous.tracker.states
                    rule.tracker.timed = previous.tracker.timed
                    rule.evaluations, rule.signals = previous.evaluations, previous.signals
                    for name in _KIND_STATE:
                        if hasattr(previous, name):
                            setattr(rule, name, getattr(previous, name))
                else:
                    out.extend(self._signal(previous, t) for t in previous.tracker.end_all(now))
            rules[rule_id] = rule
        self.rules = rules
        self._reindex()
        return out

    def _reindex(self) -> None:
        index: dict[str, dict[str | None, list[Compiled]]] = {}
        by_id: dict[str, dict[str, dict[str | None, list[Compiled]]]] = {}
        for rule in self.rules.values():
            into = index if rule.exact_id is None else by_id.setdefault(rule.exact_id, {})
            for type_iri, attr_iri in rule.watches():
                into.setdefault(type_iri, {}).setdefault(attr_iri, []).append(rule)
        self._index = index
        self._by_id = by_id
        self._admits.clear()

    @property
    def types(self) -> set[str]:
        """The entity types (IRIs) the rules watch."""
        return set(self._index).union(*self._by_id.values())

    # -- data in ------------------------------------------------------------------------------------------

    def apply(self, changes: Sequence[Change], arrived: datetime) -> list[Signal]:
        """One committed batch of the hub's changes, received at ``arrived`` (the engine's clock)."""
        out: list[Signal] = []
        for change in changes:
            self.changes += 1
            entity = change.after if change.after is not None else change.before
            if entity is None or self._alert_iri in entity.types:
                continue
            if self._ward_iri in entity.types:
                self._ward(change)
            received = parse_changed_at(change.at, arrived)
            if change.after is None:
                out.extend(self._removed(entity, received))
            else:
                out.extend(self._evaluate(change.after, change.before, received, arrived))
        return out

    def observe(self, entity: Entity, received: datetime, arrived: datetime) -> list[Signal]:
        """One entity as it is now (seeding at start, back-tests): every rule of its types evaluates it."""
        if self._ward_iri in entity.types:
            self._put_ward(entity)
        return self._evaluate(entity, None, received, arrived)

    def _evaluate(self, after: Entity, before: Entity | None, received: datetime, arrived: datetime) -> list[Signal]:
        hits: dict[Compiled, None] = {}
        own = self._by_id.get(after.id)
        for index in (self._index, own) if own is not None else (self._index,):
            for type_iri in after.types:
                by_attr = index.get(type_iri)
                if by_attr is None:
                    continue
                for attr_iri, rules in by_attr.items():
                    if attr_iri is not None:
                        now = after.attrs.get(attr_iri)
                        if now is None or (before is not None and before.attrs.get(attr_iri) == now):
                            continue
                    if index is self._index:
                        rules = self._admitted(after, type_iri, attr_iri, rules)
                    hits.update(dict.fromkeys(rules))
        out: list[Signal] = []
        for rule in hits:
            try:
                transitions = rule.observe(after, received, arrived)
            except Exception:
                self._failed(rule, after.id)
                continue
            out.extend(self._signal(rule, t) for t in transitions)
        return out

    def _admitted(self, entity: Entity, type_iri: str, attr_iri: str | None, rules: list[Compiled]) -> list[Compiled]:
        """The rules of an index entry that can care about the entity: their ``idPattern`` admits it (remembered
        per entity) and the entity is inside their area (remembered while its location and the wards stay the
        same). A rule the entity has just left is still given the change, to end what it was firing about."""
        key = (entity.id, type_iri, attr_iri)
        found = self._admits.get(key)
        if found is None:
            if len(self._admits) >= MAX_ADMITTED:
                self._admits.clear()
            admitted = [rule for rule in rules if rule.admits(entity.id)]
            found = self._admits[key] = _Admitted(
                [r for r in admitted if r.region is None], [r for r in admitted if r.region is not None]
            )
        if not found.placed:
            return found.rules
        location = location_of(entity)
        if found.wards != self.wards.version or location != found.location:
            left = found.inside
            found.location, found.wards = location, self.wards.version
            found.inside = [rule for rule in found.placed if rule.matches(entity)]
            if left:
                return found.rules + list(dict.fromkeys(left + found.inside))
        return found.rules + found.inside if found.inside else found.rules

    def _removed(self, entity: Entity, at: datetime) -> list[Signal]:
        out: list[Signal] = []
        seen: set[int] = set()
        indexes = (self._index, self._by_id.get(entity.id, {}))
        for type_iri, index in ((t, i) for t in entity.types for i in indexes):
            for rules in index.get(type_iri, {}).values():
                for rule in rules:
                    if id(rule) in seen:
                        continue
                    seen.add(id(rule))
                    try:
                        out.extend(self._signal(rule, t) for t in rule.remove(entity.id, at))
                    except Exception:
                        self._failed(rule, entity.id)
        return out

    def tick(self, now: datetime) -> list[Signal]:
        """Timers: absences, ``for`` and ``clearFor`` durations that complete with no new data, windows that
        empty."""
        out: list[Signal] = []
        for rule in self.rules.values():
            try:
                transitions = rule.due(now)
            except Exception:
                self._failed(rule, "(timer)")
                continue
            out.extend(self._signal(rule, t) for t in transitions)
        return out

    def restore(self, rule_id: str, subject: str, subject_type: str | None, fired_at: datetime, now: datetime) -> bool:
        """A subject that was firing when the platform stopped: its end will be noticed and signalled."""
        rule = self.rules.get(rule_id)
        if rule is None:
            return False
        rule.tracker.restore(Sample(subject, None, fired_at, now, subject_type), fired_at)
        return True

    def _failed(self, rule: Compiled, entity_id: str) -> None:
        rule.errors += 1
        self.evaluations_failed += 1
        if rule.errors <= 3 or rule.errors % 1000 == 0:
            log.exception(
                "rule %s failed on %s (%d failures so far); it keeps running", rule.spec.id, entity_id, rule.errors
            )

    # -- the wards ----------------------------------------------------------------------------------------

    def _ward(self, change: Change) -> None:
        if change.after is None:
            self.wards.remove(change.entity_id)
        else:
            self._put_ward(change.after)

    def _put_ward(self, entity: Entity) -> None:
        code = attribute(entity, self._code_iri)
        geometry = attribute(entity, LOCATION)
        name = attribute(entity, self._name_iri)
        if isinstance(code, str | int) and isinstance(geometry, dict):
            self.wards.put(entity.id, str(code), name if isinstance(name, str) else str(code), geometry)

    # -- signals out --------------------------------------------------------------------------------------

    def _signal(self, rule: Compiled, t: Transition) -> Signal:
        spec, sample = rule.spec, t.sample
        rule.signals += 1
        rule.last_signal_at = t.at
        self.signals += 1
        ward_code = sample.ward
        ward_name: str | None = None
        if ward_code is None:
            point = point_of(sample.location)
            ward = self.wards.ward_at(point) if point is not None else None
            if ward is not None:
                ward_code, ward_name = ward.code, ward.name
        else:
            found = self.wards.get(ward_code)
            ward_name = found.name if found is not None else None
        labels = dict(spec.labels)
        if ward_code is not None:
            labels["ward"] = ward_code
        shown = t.sample.value if t.firing else t.peak
        value = shown if isinstance(shown, int | float) and not isinstance(shown, bool) else None
        fields = {
            "value": _format(shown),
            "subject": sample.subject,
            "name": sample.name or sample.subject.rsplit(":", 1)[-1],
            "ward": ward_name or ward_code or "",
            "rule": spec.name.en,
        }
        return Signal(
            rule_id=spec.id,
            rule_version=rule.version,
            rule_name=spec.name.en,
            subject=sample.subject,
            subject_type=sample.subject_type,
            firing=t.firing,
            severity=spec.severity,
            at=t.at,
            labels=labels,
            value=float(value) if value is not None else None,
            summary_vi=_render(spec.message.vi, fields),
            summary_en=_render(spec.message.en, fields),
            location=sample.location,
        )

    def stats(self, rule_id: str) -> Mapping[str, Any] | None:
        rule = self.rules.get(rule_id)
        if rule is None:
            return None
        last = rule.last_signal_at
        return {
            "active": True,
            "version": rule.version,
            "ruleEvaluations": rule.evaluations,
            "signals": rule.signals,
            "errors": rule.errors,
            "firing": rule.tracker.firing,
            "lastSignalAt": last.isoformat().replace("+00:00", "Z") if last is not None else None,
        }


def _format(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.0f}"
    return str(value)


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _render(template: str, fields: Mapping[str, str]) -> str:
    try:
        return string.Formatter().vformat(template, (), _Fields(fields))
    except (ValueError, IndexError, KeyError):
        return template


def seed_time(entity: Entity, fallback: datetime) -> datetime:
    """When the hub last heard of an entity (for absence timers after a restart)."""
    return modified_of(entity, fallback)
