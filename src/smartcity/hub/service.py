"""The hub's operations on entities (ETSI GS CIM 009 clause 5.6), independent of HTTP.

Every pillar of the platform reads and writes city data through :class:`Hub`; the NGSI-LD HTTP API is one
edge that calls it. Inputs are already validated and expanded (see :mod:`smartcity.hub.payload`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from smartcity.hub.errors import AlreadyExists, BadRequestData, NgsiError, ResourceNotFound
from smartcity.hub.model import NGSI_NULL, Entity, Instance, dataset_of, find_instance, now_iso
from smartcity.hub.query import EntityQuery
from smartcity.hub.store import AttributeInfo, EntityWriter, Store, StoreConflict, StoreQueryError, TypeInfo

MAX_BATCH = 10_000


@dataclass
class UpdateResult:
    """Which attributes an update changed and which it did not, with the reason."""

    updated: list[str] = field(default_factory=list)
    not_updated: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class BatchResult:
    success: list[str] = field(default_factory=list)
    errors: list[tuple[str, NgsiError]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


BatchItem = Entity | NgsiError


def _stamp_new(entity: Entity, now: str) -> Entity:
    entity.created_at = entity.modified_at = now
    for instances in entity.attrs.values():
        for inst in instances:
            inst["createdAt"] = inst["modifiedAt"] = now
    return entity


def _stamp_instance(inst: Instance, previous: Instance | None, now: str) -> Instance:
    inst["createdAt"] = previous.get("createdAt", now) if previous is not None else now
    inst["modifiedAt"] = now
    return inst


def _put(entity: Entity, name: str, inst: Instance, now: str) -> None:
    """Add or replace the instance with the same datasetId."""
    instances = entity.attrs.setdefault(name, [])
    pos = find_instance(instances, dataset_of(inst))
    if pos is None:
        instances.append(_stamp_instance(inst, None, now))
    else:
        instances[pos] = _stamp_instance(inst, instances[pos], now)


def _merge_instance(old: Instance, patch: Instance) -> Instance:
    """Merge-patch of one instance: patch members win, sub-attributes merge, ``urn:ngsi-ld:null`` removes."""
    merged = dict(old)
    if patch.get("type") != old.get("type"):
        for member in ("value", "object", "languageMap"):
            merged.pop(member, None)
    for key, item in patch.items():
        if key in ("createdAt", "modifiedAt"):
            continue
        if isinstance(item, dict) and item.get("value") == NGSI_NULL:
            merged.pop(key, None)
        elif isinstance(item, dict) and isinstance(merged.get(key), dict) and key not in ("value",):
            merged[key] = _merge_instance(merged[key], item)
        else:
            merged[key] = item
    return merged


def _is_null(inst: Instance) -> bool:
    return inst.get("value") == NGSI_NULL or inst.get("object") == NGSI_NULL


class Hub:
    """The shared data hub: entities of every tenant, on one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- single entities ---------------------------------------------------------------------------

    def create_entity(self, tenant: str | None, entity: Entity) -> None:
        _stamp_new(entity, now_iso())
        with self.store.tenant(tenant, create=True).write() as w:
            try:
                w.insert(entity)
            except StoreConflict as exc:
                raise AlreadyExists(f"entity {entity.id} already exists") from exc

    def get_entity(self, tenant: str | None, entity_id: str) -> Entity:
        with self.store.tenant(tenant).read() as r:
            entity = r.get(entity_id)
        if entity is None:
            raise ResourceNotFound(f"entity {entity_id} not found")
        return entity

    def query_entities(self, tenant: str | None, query: EntityQuery) -> tuple[list[Entity], int | None]:
        try:
            with self.store.tenant(tenant).read() as r:
                return r.query(query)
        except StoreQueryError as exc:
            raise BadRequestData(f"the query cannot be evaluated: {exc}") from exc

    def delete_entity(self, tenant: str | None, entity_id: str) -> None:
        with self.store.tenant(tenant).write() as w:
            entity = w.get_many([entity_id], lock=True).get(entity_id)
            if entity is None:
                raise ResourceNotFound(f"entity {entity_id} not found")
            w.delete(entity)

    def _change(self, tenant: str | None, entity_id: str) -> _Change:
        return _Change(self.store, tenant, entity_id)

    def append_attrs(
        self,
        tenant: str | None,
        entity_id: str,
        attrs: dict[str, list[Instance]],
        *,
        no_overwrite: bool = False,
    ) -> UpdateResult:
        with self._change(tenant, entity_id) as change:
            return _append(change.after, attrs, no_overwrite=no_overwrite, now=change.now)

    def update_attrs(self, tenant: str | None, entity_id: str, attrs: dict[str, list[Instance]]) -> UpdateResult:
        with self._change(tenant, entity_id) as change:
            result = UpdateResult()
            for name, instances in attrs.items():
                for inst in instances:
                    existing = change.after.attrs.get(name, [])
                    if find_instance(existing, dataset_of(inst)) is None:
                        result.not_updated.append((name, "attribute (with this datasetId) does not exist"))
                        continue
                    _put(change.after, name, inst, change.now)
                    result.updated.append(name)
            return result

    def patch_attr(self, tenant: str | None, entity_id: str, name: str, patch: Instance) -> None:
        """Partial attribute update (clause 5.6.4): merge the fragment into the existing instance."""
        with self._change(tenant, entity_id) as change:
            instances = change.after.attrs.get(name, [])
            pos = find_instance(instances, dataset_of(patch))
            if pos is None:
                raise ResourceNotFound(f"attribute {name} (datasetId {dataset_of(patch)}) not found")
            merged = _merge_instance(instances[pos], patch)
            instances[pos] = _stamp_instance(merged, instances[pos], change.now)

    def replace_attr(self, tenant: str | None, entity_id: str, name: str, instance: Instance) -> None:
        with self._change(tenant, entity_id) as change:
            instances = change.after.attrs.get(name, [])
            pos = find_instance(instances, dataset_of(instance))
            if pos is None:
                raise ResourceNotFound(f"attribute {name} (datasetId {dataset_of(instance)}) not found")
            instances[pos] = _stamp_instance(instance, instances[pos], change.now)

    def delete_attr(
        self,
        tenant: str | None,
        entity_id: str,
        name: str,
        *,
        dataset_id: str | None = None,
        delete_all: bool = False,
    ) -> None:
        with self._change(tenant, entity_id) as change:
            instances = change.after.attrs.get(name)
            if not instances:
                raise ResourceNotFound(f"attribute {name} not found in entity {entity_id}")
            if delete_all:
                del change.after.attrs[name]
                return
            pos = find_instance(instances, dataset_id)
            if pos is None:
                raise ResourceNotFound(f"attribute {name} has no instance with datasetId {dataset_id}")
            del instances[pos]
            if not instances:
                del change.after.attrs[name]

    def merge_entity(self, tenant: str | None, entity_id: str, patch: Entity) -> None:
        with self._change(tenant, entity_id) as change:
            _merge(change.after, patch, change.now)

    def replace_entity(self, tenant: str | None, entity_id: str, entity: Entity) -> None:
        with self._change(tenant, entity_id) as change:
            _replace(change.after, entity, change.now)

    def purge(self, tenant: str | None, query: EntityQuery) -> int:
        """Delete every entity that matches (clause 5.6.21, v1.9); returns how many."""
        try:
            with self.store.tenant(tenant).write() as w:
                return self._purge(w, query)
        except StoreQueryError as exc:
            raise BadRequestData(f"the query cannot be evaluated: {exc}") from exc

    @staticmethod
    def _purge(w: EntityWriter, query: EntityQuery) -> int:
        ids = w.ids(query)
        entities = w.get_many(ids, lock=True)
        for entity in entities.values():
            w.delete(entity)
        return len(entities)

    # -- batch -------------------------------------------------------------------------------------

    def batch_create(self, tenant: str | None, items: Sequence[BatchItem]) -> BatchResult:
        result = BatchResult()
        now = now_iso()
        with self.store.tenant(tenant, create=True).write() as w:
            good = _sort_out(items, result)
            existing = w.get_many([e.id for e in good])
            seen: set[str] = set()
            fresh: list[Entity] = []
            for entity in good:
                if entity.id in existing or entity.id in seen:
                    result.errors.append((entity.id, AlreadyExists(f"entity {entity.id} already exists")))
                    continue
                seen.add(entity.id)
                fresh.append(_stamp_new(entity, now))
                result.success.append(entity.id)
                result.created.append(entity.id)
            w.insert_many(fresh)
        return result

    def batch_upsert(self, tenant: str | None, items: Sequence[BatchItem], *, update: bool = False) -> BatchResult:
        result = BatchResult()
        now = now_iso()
        with self.store.tenant(tenant, create=True).write() as w:
            good = _sort_out(items, result)
            existing = w.get_many([e.id for e in good], lock=True)
            fresh: dict[str, Entity] = {}
            saves: list[tuple[Entity, Entity]] = []
            for entity in good:
                before = existing.get(entity.id)
                if before is None and entity.id in fresh:
                    # the same id twice in one batch: applied as a second upsert would be
                    if update:
                        _append(fresh[entity.id], entity.attrs, no_overwrite=False, now=now)
                    else:
                        _replace(fresh[entity.id], entity, now)
                elif before is None:
                    fresh[entity.id] = _stamp_new(entity, now)
                    result.created.append(entity.id)
                else:
                    after = before.copy()
                    if update:
                        _append(after, entity.attrs, no_overwrite=False, now=now)
                        _add_types(after, entity.types)
                    else:
                        _replace(after, entity, now)
                    after.modified_at = now
                    saves.append((before, after))
                    existing[entity.id] = after
                result.success.append(entity.id)
            w.save_many(saves)
            w.insert_many(list(fresh.values()))
        return result

    def batch_update(
        self, tenant: str | None, items: Sequence[BatchItem], *, no_overwrite: bool = False
    ) -> BatchResult:
        return self._batch_modify(
            tenant, items, lambda e, p, now: _append(e, p.attrs, no_overwrite=no_overwrite, now=now)
        )

    def batch_merge(self, tenant: str | None, items: Sequence[BatchItem]) -> BatchResult:
        return self._batch_modify(tenant, items, _merge)

    def _batch_modify(self, tenant: str | None, items: Sequence[BatchItem], apply: Any) -> BatchResult:
        result = BatchResult()
        now = now_iso()
        with self.store.tenant(tenant).write() as w:
            good = _sort_out(items, result)
            existing = w.get_many([e.id for e in good], lock=True)
            saves: list[tuple[Entity, Entity]] = []
            for patch in good:
                before = existing.get(patch.id)
                if before is None:
                    result.errors.append((patch.id, ResourceNotFound(f"entity {patch.id} not found")))
                    continue
                after = before.copy()
                apply(after, patch, now)
                after.modified_at = now
                saves.append((before, after))
                existing[patch.id] = after
                result.success.append(patch.id)
            w.save_many(saves)
        return result

    def batch_delete(self, tenant: str | None, ids: Sequence[str | NgsiError]) -> BatchResult:
        result = BatchResult()
        with self.store.tenant(tenant).write() as w:
            wanted = [i for i in ids if isinstance(i, str)]
            for item in ids:
                if isinstance(item, NgsiError):
                    result.errors.append(("", item))
            existing = w.get_many(wanted, lock=True)
            for entity_id in wanted:
                entity = existing.pop(entity_id, None)
                if entity is None:
                    result.errors.append((entity_id, ResourceNotFound(f"entity {entity_id} not found")))
                    continue
                w.delete(entity)
                result.success.append(entity_id)
        return result

    # -- discovery ---------------------------------------------------------------------------------

    def type_names(self, tenant: str | None) -> list[str]:
        with self.store.tenant(tenant).read() as r:
            return r.type_names()

    def type_info(self, tenant: str | None, types: Sequence[str] | None = None) -> list[TypeInfo]:
        with self.store.tenant(tenant).read() as r:
            return r.type_info(types)

    def attribute_info(self, tenant: str | None, names: Sequence[str] | None = None) -> list[AttributeInfo]:
        with self.store.tenant(tenant).read() as r:
            return r.attribute_info(names)


class _Change:
    """Load one entity for update inside a write transaction, then save what changed."""

    def __init__(self, store: Store, tenant: str | None, entity_id: str) -> None:
        self._scope = store.tenant(tenant).write()
        self.entity_id = entity_id
        self.now = now_iso()
        self._writer: EntityWriter | None = None

    def __enter__(self) -> _Change:
        self._writer = self._scope.__enter__()
        before = self._writer.get_many([self.entity_id], lock=True).get(self.entity_id)
        if before is None:
            self._scope.__exit__(None, None, None)
            raise ResourceNotFound(f"entity {self.entity_id} not found")
        self.before = before
        self.after = before.copy()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        assert self._writer is not None
        try:
            if exc is None and self.after != self.before:
                self.after.modified_at = self.now
                self._writer.save(self.before, self.after)
        except BaseException as err:
            self._scope.__exit__(type(err), err, err.__traceback__)
            raise
        self._scope.__exit__(exc_type, exc, tb)


def _sort_out(items: Sequence[BatchItem], result: BatchResult) -> list[Entity]:
    good: list[Entity] = []
    for item in items:
        if isinstance(item, NgsiError):
            result.errors.append((str(item.extra.pop("entityId", "")), item))
        else:
            good.append(item)
    if len(items) > MAX_BATCH:
        raise BadRequestData(f"a batch holds at most {MAX_BATCH} entities")
    return good


def _append(entity: Entity, attrs: dict[str, list[Instance]], *, no_overwrite: bool, now: str) -> UpdateResult:
    result = UpdateResult()
    for name, instances in attrs.items():
        for inst in instances:
            existing = entity.attrs.get(name, [])
            if no_overwrite and find_instance(existing, dataset_of(inst)) is not None:
                result.not_updated.append((name, "attribute exists and noOverwrite was asked"))
                continue
            _put(entity, name, inst, now)
            result.updated.append(name)
    return result


def _add_types(entity: Entity, types: list[str]) -> None:
    for type_name in types:
        if type_name not in entity.types:
            entity.types.append(type_name)


def _merge(entity: Entity, patch: Entity, now: str) -> None:
    _add_types(entity, patch.types)
    for name, instances in patch.attrs.items():
        for inst in instances:
            existing = entity.attrs.get(name, [])
            pos = find_instance(existing, dataset_of(inst))
            if _is_null(inst):
                if pos is not None:
                    del existing[pos]
                    if not existing:
                        del entity.attrs[name]
                continue
            if pos is None:
                entity.attrs.setdefault(name, []).append(_stamp_instance(_strip_nulls(inst), None, now))
            else:
                existing[pos] = _stamp_instance(_merge_instance(existing[pos], inst), existing[pos], now)


def _strip_nulls(inst: Instance) -> Instance:
    return {k: v for k, v in inst.items() if not (isinstance(v, dict) and v.get("value") == NGSI_NULL)}


def _replace(entity: Entity, new: Entity, now: str) -> None:
    """Replace every attribute (and the types, when given); keeps createdAt of attributes that stay."""
    old_attrs = entity.attrs
    entity.attrs = {}
    if new.types:
        entity.types = list(new.types)
    for name, instances in new.attrs.items():
        for inst in instances:
            previous_list = old_attrs.get(name, [])
            pos = find_instance(previous_list, dataset_of(inst))
            previous = previous_list[pos] if pos is not None else None
            entity.attrs.setdefault(name, []).append(_stamp_instance(inst, previous, now))
