"""One batch of device messages written through the hub, with its dead letters and counters, in one transaction.

Each observation (measure group) is its own update of its entity, so each reaches the history as its own
instances and is matched against the subscriptions, even when a batch holds several for one entity: the hub's
batch upsert applies the updates of an entity that exists one after the other. An entity it has to create would
absorb the later updates of the same call into its creation, so the later updates of an entity this process has
not written yet go in a second call (in observation order); once the entities are known (the steady state),
a batch is one hub call per tenant. (Should someone delete an entity behind the agent's back while its device
sends several messages within one batch, those messages are written as one creation: the agent logs it.)

When a batch holds several updates of one entity, the model's observation-time attribute (``dateObserved``) is
written with the latest of them only: every measure keeps its own ``observedAt``, and the entity's
``dateObserved`` is the time of its latest observation, as with one update per message.

Static attributes are written with the first update of an entity this process makes (and again when they change,
or when the entity had been deleted and the update created it again), not with every update: they would add a
history instance per message.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from smartcity.hub.model import Entity, Instance
from smartcity.hub.service import MAX_BATCH, Hub
from smartcity.hub.store import Store
from smartcity.iot import deadletters, registry, stats
from smartcity.iot.model import Device
from smartcity.iot.outcome import Observation, Outcome

log = logging.getLogger(__name__)

EntityKey = tuple[str, str]  # (tenant, entity id)
CHUNK = MAX_BATCH // 2
#: entities remembered as written (the memory is emptied when it is full: they are then written as new once more)
MAX_KNOWN = 500_000


@dataclass
class Written:
    """What a committed batch did: the tenant id of each outcome, and the entities now known, with the digest
    of the static attributes they carry."""

    tenant_ids: list[int] = field(default_factory=list)
    known: dict[EntityKey, str] = field(default_factory=dict)
    provisioned: set[tuple[str, str]] = field(default_factory=set)  # autoprovisioned devices registered


@dataclass
class _Call:
    """One hub batch upsert: its entities, and (first updates) the observations to check re-creations with."""

    tenant: str
    entities: list[Entity]
    per_entity: dict[str, list[Observation]] | None


def _copy(attrs: dict[str, list[Instance]]) -> dict[str, list[Instance]]:
    """A copy the hub may stamp (it sets createdAt/modifiedAt in the instances it writes)."""
    return {name: [dict(inst) for inst in instances] for name, instances in attrs.items()}


def _chunks(items: list[Entity]) -> list[list[Entity]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


class Writer:
    def __init__(self, hub: Hub, store: Store, deadletter_max: int) -> None:
        self.hub = hub
        self.store = store
        self.deadletter_max = deadletter_max
        #: entities this process has written -> the digest of the static attributes written with them
        self._known: dict[EntityKey, str] = {}
        #: autoprovisioned devices this process has registered (apikey, device id)
        self._provisioned: set[tuple[str, str]] = set()

    def confirm(self, written: Written) -> None:
        """After the commit: remember the entities written."""
        if len(self._known) + len(written.known) > MAX_KNOWN:
            self._known.clear()
        self._known.update(written.known)
        if len(self._provisioned) > MAX_KNOWN:
            self._provisioned.clear()
        self._provisioned.update(written.provisioned)

    def apply(
        self, outcomes: Sequence[Outcome], scopes: Sequence[tuple[str, str]], pending: dict[stats.StatsKey, Any]
    ) -> Written:
        """Write a batch inside a write transaction: the observations of ``outcomes``, the dead letters of those
        with problems (``scopes``: the tenant and service path of each outcome) and the ``pending`` counters.

        A batch that needs several hub calls (several tenants, new entities with several updates) runs them in
        one more savepoint, so that a refusal leaves nothing of it; the usual batch is one call, atomic itself
        (SQLite slows down over time with every further savepoint level, so none is added then). The dead
        letters and counters follow: they cannot fail on the data they hold."""
        written = Written()
        by_tenant: dict[str, list[Observation]] = defaultdict(list)
        for outcome in outcomes:
            for observation in outcome.observations:
                by_tenant[observation.binding.tenant].append(observation)
        calls: list[_Call] = []
        for tenant, observations in by_tenant.items():
            calls += self._plan(tenant, observations, written)
        if len(calls) > 1:
            with self.store.transaction(write=True):
                self._run(calls)
        else:
            self._run(calls)
        rows = []
        for outcome, (tenant, service_path) in zip(outcomes, scopes, strict=True):
            tenant_id = self.store.tenant(tenant, create=True).tenant_id
            written.tenant_ids.append(tenant_id)
            if outcome.problems:
                rows.append(deadletters.row(tenant_id, service_path, outcome))
        fresh = self._fresh_devices(outcomes)
        if rows or pending or fresh:
            with self.store.transaction(write=True) as db:
                deadletters.insert(db, rows, self.deadletter_max)
                if pending:
                    stats.flush(db, pending)
                if fresh:
                    registry.insert_autoprovisioned(db, list(fresh.values()))
                    written.provisioned.update(fresh)
        return written

    def _fresh_devices(self, outcomes: Sequence[Outcome]) -> dict[tuple[str, str], tuple[int, Device]]:
        """Autoprovisioned devices whose first measures this batch writes: registered with them."""
        fresh: dict[tuple[str, str], tuple[int, Device]] = {}
        for outcome in outcomes:
            binding = outcome.binding
            if binding is None or binding.provisional is None or not outcome.observations:
                continue
            key = (binding.apikey, binding.device_id)
            if key not in self._provisioned and key not in fresh:
                fresh[key] = (self.store.tenant(binding.tenant, create=True).tenant_id, binding.provisional)
        return fresh

    def _run(self, calls: list[_Call]) -> None:
        for call in calls:
            result = self.hub.batch_upsert(call.tenant, call.entities, update=True)
            if call.per_entity is not None:
                self._recreated(call.tenant, result.created, call.per_entity)

    def _plan(self, tenant: str, observations: list[Observation], written: Written) -> list[_Call]:
        """The hub calls of one tenant's observations: one, plus one for the later updates of new entities."""
        per_entity: dict[str, list[Observation]] = defaultdict(list)
        for observation in observations:
            per_entity[observation.binding.entity_id].append(observation)
        now: list[Entity] = []
        later: list[Entity] = []
        for entity_id, items in per_entity.items():
            binding = items[-1].binding
            if len(items) > 1:
                items.sort(key=lambda o: o.observed_at)
                if binding.observation_time is not None:  # the model's observation time: the latest one only
                    stamp = binding.observation_time[1]
                    for earlier in items[:-1]:
                        earlier.attrs.pop(stamp, None)
            key = (tenant, entity_id)
            known = self._known.get(key)
            attrs = items[0].attrs
            if known != binding.statics_digest and binding.statics:
                attrs = {**_copy(binding.statics), **attrs}
            written.known[key] = binding.statics_digest
            updates = [Entity(entity_id, list(binding.types), attrs)]
            updates += [Entity(entity_id, list(binding.types), o.attrs) for o in items[1:]]
            if known is None and len(updates) > 1:
                now.append(updates[0])
                later.extend(updates[1:])
            else:
                now.extend(updates)
        calls = [_Call(tenant, chunk, per_entity) for chunk in _chunks(now)]
        return calls + [_Call(tenant, chunk, None) for chunk in _chunks(later)]

    def _recreated(self, tenant: str, created: list[str], per_entity: dict[str, list[Observation]]) -> None:
        """Entities the agent knew that the upsert had to create: someone deleted them. Give their statics back."""
        again: list[Entity] = []
        for entity_id in created:
            if (tenant, entity_id) not in self._known:
                continue
            items = per_entity[entity_id]
            if len(items) > 1:
                log.warning("entity %s was deleted: %d messages went into its re-creation", entity_id, len(items))
            binding = items[-1].binding
            if binding.statics:
                again.append(Entity(entity_id, list(binding.types), _copy(binding.statics)))
        if again:
            self.hub.batch_upsert(tenant, again, update=True)
