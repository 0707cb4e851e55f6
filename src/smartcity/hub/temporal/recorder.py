"""The history recorder: a write hook that keeps every attribute change as a temporal instance.

It runs inside every entity write transaction (single writes, batches, merges, replaces, deletes), before
the commit, so the history commits or rolls back with the change. For each change:

* create: every instance of the new entity;
* update: every instance whose (attribute, datasetId) is new or whose content changed; an instance the update
  removed gets a deletion instance (``deletedAt``, value ``urn:ngsi-ld:null``, clause 4.5.6 of v1.8);
* delete: a deletion instance per attribute instance, and ``temporal_entities.deleted_at``: the history stays
  (``DELETE /temporal/entities/{id}`` is what removes it).

The cost is a few dict and JSON operations per recorded instance and one ``executemany`` per table.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from smartcity.hub.model import Entity, Instance, dataset_of, iso_to_micros, now_iso
from smartcity.hub.store.changes import Change, WriteContext
from smartcity.hub.temporal.rows import Row, deletion_row, insert_rows, instance_row

UPSERT_ENTITY = (
    "INSERT INTO temporal_entities (tenant_id, entity_id, types, created_at, modified_at, deleted_at) "
    "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (tenant_id, entity_id) DO UPDATE SET types = excluded.types, "
    "modified_at = excluded.modified_at, deleted_at = NULL"
)
MARK_DELETED = "UPDATE temporal_entities SET deleted_at = ?, modified_at = ? WHERE tenant_id = ? AND entity_id = ?"


def record(context: WriteContext, changes: Sequence[Change]) -> None:
    """The write hook (see :data:`smartcity.hub.store.changes.WriteHook`)."""
    tenant = context.tenant_id
    rows: list[Row] = []
    entities: list[Row] = []
    deleted: list[Row] = []
    times: dict[str, int | None] = {}
    stamps: dict[str, int] = {}
    for change in changes:
        at_iso = change.at or now_iso()
        at = stamps.get(at_iso)
        if at is None:
            at = stamps.setdefault(at_iso, iso_to_micros(at_iso) or iso_to_micros(now_iso()) or 0)
        if change.kind == "delete":
            if change.before is not None:
                rows.extend(_deletions(tenant, change.before, _keyed(change.before), at, at_iso))
            deleted.append((at, at, tenant, change.entity_id))
            continue
        after = change.after
        if after is None:
            continue
        entities.append((tenant, after.id, orjson.dumps(after.types).decode(), at, at))
        if change.kind == "create" or change.before is None:
            for name, instances in after.attrs.items():
                for inst in instances:
                    rows.append(instance_row(tenant, after.id, name, inst, at, times))
            continue
        old = _keyed(change.before)
        new = _keyed(after)
        for key, inst in new.items():
            if old.get(key) != inst:
                rows.append(instance_row(tenant, after.id, key[0], inst, at, times))
        gone = {key: inst for key, inst in old.items() if key not in new}
        if gone:
            rows.extend(_deletions(tenant, change.before, gone, at, at_iso))
    db = context.db
    if entities:
        db.many(UPSERT_ENTITY, entities)
    if deleted:
        db.many(MARK_DELETED, deleted)
    if rows:
        insert_rows(db, rows)


def _keyed(entity: Entity) -> dict[tuple[str, str | None], Instance]:
    return {(name, dataset_of(inst)): inst for name, insts in entity.attrs.items() for inst in insts}


def _deletions(
    tenant: int, entity: Entity, instances: dict[tuple[str, str | None], Instance], at: int, at_iso: str
) -> list[Row]:
    return [deletion_row(tenant, entity.id, key[0], inst, at, at_iso) for key, inst in instances.items()]
