"""Matching every entity change against the subscriptions of its tenant, inside the write transaction.

:class:`Matcher` is the store's write hook. Per tenant it keeps an in-memory :class:`SubscriptionIndex` of the
on-change subscriptions, keyed by entity id (selectors with an ``id``) and by expanded entity type (the other
selectors: an entity can only match a type expression if it has one of the names the expression mentions), so a
change looks at a handful of candidates whatever the number of subscriptions.

Several server processes may share one PostgreSQL database, so the index cannot rely on being told about
changes: every transaction that changes a tenant's subscriptions bumps the tenant's counter in
``subscription_versions``, and the hook reads that counter (one primary-key lookup) on the connection of the
write transaction before matching. When it differs from the index's version, the index is rebuilt from the
table (rows whose document did not change keep their compiled form). A subscription committed before the write
transaction reads the counter is therefore always seen, whichever process created it.

A firing is queued in the same transaction: ``q`` is evaluated in SQL on the entity as the transaction left it
(one query per subscription for all the changes of the transaction), ``geoQ`` in Python on the entity's
GeoProperty; throttling is decided by a conditional UPDATE of the subscription's ``last_fired`` (exact between
transactions and processes, and undone with a rolled-back transaction).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from smartcity.hub import typesel
from smartcity.hub.jsonld import ContextRegistry
from smartcity.hub.model import Entity, Instance, dataset_of
from smartcity.hub.store.changes import Change, WriteContext
from smartcity.hub.store.qsql import compile_q
from smartcity.hub.store.sql import Db
from smartcity.hub.subscriptions import notification, repository
from smartcity.hub.subscriptions.compiled import CompiledSubscription, compile_row

log = logging.getLogger(__name__)


@dataclass
class SubscriptionIndex:
    """The on-change subscriptions of one tenant at one version of its subscriptions."""

    version: int
    compiled: dict[str, CompiledSubscription] = field(default_factory=dict)
    by_id: dict[str, list[CompiledSubscription]] = field(default_factory=dict)
    by_type: dict[str, list[CompiledSubscription]] = field(default_factory=dict)
    by_prefix: dict[str, list[CompiledSubscription]] = field(default_factory=dict)  # idPattern "^literal..."
    prefix_lengths: tuple[int, ...] = ()
    anywhere: list[CompiledSubscription] = field(default_factory=list)

    def add(self, sub: CompiledSubscription) -> None:
        self.compiled[sub.id] = sub
        if sub.time_interval is not None:
            return  # periodic subscriptions do not follow changes
        if sub.selectors is None:
            self.anywhere.append(sub)
            return
        for selector in sub.selectors:
            prefix = literal_prefix(selector.pattern.pattern) if selector.pattern is not None else ""
            if selector.id is not None:
                self.by_id.setdefault(selector.id, []).append(sub)
            elif prefix:
                self.by_prefix.setdefault(prefix, []).append(sub)
                if len(prefix) not in self.prefix_lengths:
                    self.prefix_lengths = tuple(sorted({*self.prefix_lengths, len(prefix)}))
            else:
                for name in typesel.names(selector.types):
                    self.by_type.setdefault(name, []).append(sub)

    @property
    def empty(self) -> bool:
        return not (self.by_id or self.by_type or self.by_prefix or self.anywhere)

    def candidates(self, entity_id: str, types: Sequence[str]) -> list[CompiledSubscription]:
        lists = [self.by_id.get(entity_id), *(self.by_type.get(name) for name in types), self.anywhere]
        for length in self.prefix_lengths:
            if length > len(entity_id):
                break
            lists.append(self.by_prefix.get(entity_id[:length]))
        found = [subs for subs in lists if subs]
        if len(found) == 1:
            return found[0]
        unique: dict[str, CompiledSubscription] = {}
        for subs in found:
            for sub in subs:
                unique.setdefault(sub.id, sub)
        return list(unique.values())


_META = set(".^$*+?{}[]\\|()")


def literal_prefix(pattern: str) -> str:
    """The literal text every match of an anchored pattern (``^urn:ngsi-ld:Vehicle:.*``) starts with, else ''.

    Conservative: any alternation, flag or construct it does not understand gives ''.
    """
    if not pattern.startswith("^") or "|" in pattern:
        return ""
    out: list[str] = []
    i = 1
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1].isalnum():
                break
            char, step = pattern[i + 1], 2
        elif char in _META:
            break
        else:
            step = 1
        following = pattern[i + step] if i + step < len(pattern) else ""
        if following in ("*", "?", "{"):
            break  # this character may be absent from a match
        out.append(char)
        i += step
    return "".join(out)


@dataclass
class _Firing:
    """What one subscription will notify for the changes of one transaction."""

    sub: CompiledSubscription
    items: list[tuple[Change, list[str]]] = field(default_factory=list)  # (change, attributes it deleted)


def now_micros() -> int:
    return time.time_ns() // 1000


class Matcher:
    """The write hook of subscriptions; one per application (thread-safe)."""

    def __init__(self, registry: ContextRegistry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._indexes: dict[int, SubscriptionIndex] = {}

    # -- the index ---------------------------------------------------------------------------------

    def index(self, db: Db, tenant_id: int) -> SubscriptionIndex:
        """The tenant's index, rebuilt when the tenant's subscription counter moved."""
        current = repository.version(db, tenant_id)
        cached = self._indexes.get(tenant_id)
        if cached is not None and cached.version == current:
            return cached
        rows = repository.all_of(db, tenant_id)
        fresh = SubscriptionIndex(current)
        previous = cached.compiled if cached is not None else {}
        for row in rows:
            old = previous.get(row.id)
            if old is not None and old.doc_key == (row.doc_text, row.context_text):
                fresh.add(old)
                continue
            try:
                fresh.add(compile_row(row, self.registry))
            except Exception:  # a row that cannot be compiled must not block every write of the tenant
                log.exception("subscription %s cannot be compiled; it is ignored", row.id)
        with self._lock:
            known = self._indexes.get(tenant_id)
            if known is None or known.version <= current:
                self._indexes[tenant_id] = fresh
        return fresh

    def reset(self) -> None:
        """Forget every index (they are rebuilt on the next write of each tenant)."""
        with self._lock:
            self._indexes.clear()

    # -- the hook ----------------------------------------------------------------------------------

    def __call__(self, context: WriteContext, changes: Sequence[Change]) -> None:
        index = self.index(context.db, context.tenant_id)
        if index.empty:
            return
        now = now_micros()
        firings: dict[str, _Firing] = {}
        for change in changes:
            shown = change.after if change.after is not None else change.before
            if shown is None:
                continue
            types = list(dict.fromkeys([*(change.before.types if change.before else []), *shown.types]))
            for sub in index.candidates(change.entity_id, types):
                if not sub.alive(now) or not sub.selects(change.entity_id, shown.types):
                    continue
                deleted = _fires(sub, change)
                if deleted is None or not sub.geo_matches(shown):
                    continue
                firings.setdefault(sub.id, _Firing(sub)).items.append((change, deleted))
        if not firings:
            return
        queued = 0
        for firing in firings.values():
            items = _q_filter(context, firing)
            if not items:
                continue
            sub = firing.sub
            if sub.throttling is not None and not repository.claim_firing(
                context.db, context.tenant_id, sub.id, now, int(sub.throttling * 1_000_000)
            ):
                continue
            data = [_render(sub, change, deleted) for change, deleted in items]
            queued += notification.enqueue(context.db, sub, context.tenant, data, now)
        if queued:  # once the rows are visible: a claim right after the signal finds them
            context.db.after_commit(notification.signal)


def _render(sub: CompiledSubscription, change: Change, deleted: list[str]) -> Any:
    if change.kind == "delete":
        assert change.before is not None
        return notification.render_deleted_entity(sub, change.before, change.at)
    assert change.after is not None
    return notification.render_entity(sub, change.after, deleted, change.at)


def _q_filter(context: WriteContext, firing: _Firing) -> list[tuple[Change, list[str]]]:
    """The firing's changes whose entity satisfies ``q`` now (a deleted entity is not tested: it is gone)."""
    sub = firing.sub
    if sub.q is None:
        return firing.items
    ids = sorted({change.entity_id for change, _ in firing.items if change.kind != "delete"})
    matched: set[str] = set()
    if ids:
        db = context.db
        q_sql, q_params = compile_q(sub.q, db.dialect)
        in_sql, in_params = db.dialect.in_list("e.id", ids)
        rows = db.run(
            f"SELECT e.id FROM entities e WHERE e.tenant_id = ? AND {in_sql} AND {q_sql}",  # noqa: S608 - fixed fragments
            [context.tenant_id, *in_params, *q_params],
        ).fetchall()
        matched = {r[0] for r in rows}
    return [(c, d) for c, d in firing.items if c.kind == "delete" or c.entity_id in matched]


# -- triggers ----------------------------------------------------------------------------------------


def _instances(entity: Entity | None, name: str) -> dict[str | None, Instance]:
    if entity is None:
        return {}
    return {dataset_of(inst): inst for inst in entity.attrs.get(name, [])}


def attribute_events(change: Change) -> dict[str, set[str]]:
    """attribute IRI -> what the change did to it (attributeCreated / attributeUpdated / attributeDeleted)."""
    names = set(change.before.attrs if change.before else ()) | set(change.after.attrs if change.after else ())
    events: dict[str, set[str]] = {}
    for name in names:
        old = _instances(change.before, name)
        new = _instances(change.after, name)
        found: set[str] = set()
        for key, inst in new.items():
            if key not in old:
                found.add("attributeCreated")
            elif old[key] != inst:
                found.add("attributeUpdated")
        if any(key not in new for key in old):
            found.add("attributeDeleted")
        if found:
            events[name] = found
    return events


def _fires(sub: CompiledSubscription, change: Change) -> list[str] | None:
    """None when the change does not trigger ``sub``; else the attributes it deleted that the notification shows."""
    triggers = sub.triggers
    watched = sub.watched
    if change.kind == "create":
        assert change.after is not None
        # without watchedAttributes the creation itself counts, even of an entity without attributes
        present = watched is None or bool(set(change.after.attrs) & watched)
        return [] if present and triggers & {"attributeCreated", "entityCreated"} else None
    if change.kind == "delete":
        assert change.before is not None
        present = watched is None or bool(set(change.before.attrs) & watched)
        return [] if present and triggers & {"attributeDeleted", "entityDeleted"} else None
    events = attribute_events(change)
    relevant = {n: e for n, e in events.items() if watched is None or n in watched}
    if not relevant:
        return None
    happened = set().union(*relevant.values())
    if not (happened & triggers) and "entityUpdated" not in triggers:
        return None
    after = change.after
    assert after is not None
    if "attributeDeleted" in triggers:
        return sorted(n for n, e in relevant.items() if "attributeDeleted" in e and n not in after.attrs)
    return []
