"""Helpers of the rules tests: expanded entities, changes, a controlled clock and a recording alert sink."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from smartcity.hub.jsonld import ContextRegistry
from smartcity.hub.model import Entity, format_time
from smartcity.hub.store.changes import Change
from smartcity.ioc.contracts import Signal
from smartcity.ioc.rules.engine import Engine
from smartcity.ioc.rules.model import parse_rule

EXPAND = ContextRegistry(fetch_timeout=1.0, hosted=lambda url: None).resolve(None).expand_term
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def entity(eid: str, etype: str, modified: datetime | None = None, **attrs: Any) -> Entity:
    """An entity with Property attributes (a dict value with "coordinates": a GeoProperty; "urn:" text: a
    Relationship); every instance observed at ``modified``."""
    out: dict[str, list[dict[str, Any]]] = {}
    observed = format_time(modified) if modified is not None else None
    for name, value in attrs.items():
        if isinstance(value, dict) and "coordinates" in value:
            inst: dict[str, Any] = {"type": "GeoProperty", "value": value}
        elif isinstance(value, str) and value.startswith("urn:"):
            inst = {"type": "Relationship", "object": value}
        else:
            inst = {"type": "Property", "value": value}
        if observed is not None and name != "location":
            inst["observedAt"] = observed
        out[EXPAND(name)] = [inst]
    return Entity(eid, [EXPAND(etype)], out, modified_at=observed)


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def change(after: Entity | None, before: Entity | None = None, when: datetime | None = None) -> Change:
    kind = "delete" if after is None else "create" if before is None else "update"
    eid = (after or before).id  # type: ignore[union-attr]
    return Change(kind, eid, before, after, format_time(when or T0))


def engine_with(*docs: dict[str, Any]) -> Engine:
    engine = Engine(EXPAND)
    engine.load([(parse_rule(doc), 1) for doc in docs], T0)
    return engine


def rule(rule_id: str, kind: str = "threshold", **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": rule_id,
        "name": {"vi": f"Luật {rule_id}", "en": f"Rule {rule_id}"},
        "severity": "major",
        "labels": {"domain": "flood"},
        "kind": kind,
        "message": {"vi": "Giá trị {value} tại {name}", "en": "Value {value} at {name}"},
    }
    doc.update(fields)
    return doc


class Feed:
    """Feeds one entity's successive values to an engine, as the hub's change feed would."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.last: dict[str, Entity] = {}
        self.signals: list[Signal] = []

    def put(self, e: Entity, when: datetime) -> list[Signal]:
        before = self.last.get(e.id)
        self.last[e.id] = e
        out = self.engine.apply([change(e, before, when)], when)
        self.signals.extend(out)
        return out

    def delete(self, eid: str, when: datetime) -> list[Signal]:
        before = self.last.pop(eid)
        out = self.engine.apply([change(None, before, when)], when)
        self.signals.extend(out)
        return out

    def tick(self, when: datetime) -> list[Signal]:
        out = self.engine.tick(when)
        self.signals.extend(out)
        return out


class Recorder:
    """An alert sink (contracts.AlertSink) that keeps what it receives."""

    def __init__(self) -> None:
        self.signals: list[Signal] = []

    async def signal(self, signal: Signal) -> None:
        self.signals.append(signal)
