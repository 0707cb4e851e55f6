"""SQL writes of the temporal API (clause 5.6.11-5.6.20): history only, never the current entity state.

``POST /temporal/entities`` and its relatives add instances to the temporal evolution of an entity (for
example, back-filled observations); they do not create or change the entity that ``/entities`` serves.
"""

from __future__ import annotations

from typing import Any

import orjson

from smartcity.hub.errors import ResourceNotFound
from smartcity.hub.model import Entity, Instance
from smartcity.hub.store.changes import WriteContext
from smartcity.hub.temporal.rows import DELETED, Row, insert_rows, instance_row

VALUE_KEYS = ("value", "object", "languageMap")


class TemporalWriter:
    def __init__(self, context: WriteContext) -> None:
        self.db = context.db
        self.tenant_id = context.tenant_id

    def _exists(self, entity_id: str) -> bool:
        row = self.db.run(
            "SELECT 1 FROM temporal_entities WHERE tenant_id = ? AND entity_id = ?", [self.tenant_id, entity_id]
        ).fetchone()
        return row is not None

    def _require(self, entity_id: str) -> None:
        if not self._exists(entity_id):
            raise ResourceNotFound(f"no temporal evolution of entity {entity_id}")

    def upsert(self, entity: Entity, now: int) -> bool:
        """Create the temporal entity or add to it; True when it was created."""
        row = self.db.run(
            "SELECT types FROM temporal_entities WHERE tenant_id = ? AND entity_id = ?", [self.tenant_id, entity.id]
        ).fetchone()
        if row is None:
            self.db.run(
                "INSERT INTO temporal_entities (tenant_id, entity_id, types, created_at, modified_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [self.tenant_id, entity.id, orjson.dumps(entity.types).decode(), now, now],
            )
        else:
            types: list[str] = orjson.loads(row[0])
            types += [t for t in entity.types if t not in types]
            self.db.run(
                "UPDATE temporal_entities SET types = ?, modified_at = ? WHERE tenant_id = ? AND entity_id = ?",
                [orjson.dumps(types).decode(), now, self.tenant_id, entity.id],
            )
        self._insert(entity.id, entity.attrs, now)
        return row is None

    def add_attrs(self, entity_id: str, attrs: dict[str, list[Instance]], now: int) -> None:
        self._require(entity_id)
        self._touch(entity_id, now)
        self._insert(entity_id, attrs, now)

    def _insert(self, entity_id: str, attrs: dict[str, list[Instance]], now: int) -> None:
        rows: list[Row] = [
            instance_row(self.tenant_id, entity_id, name, inst, now) for name, insts in attrs.items() for inst in insts
        ]
        insert_rows(self.db, rows)

    def _touch(self, entity_id: str, now: int) -> None:
        self.db.run(
            "UPDATE temporal_entities SET modified_at = ? WHERE tenant_id = ? AND entity_id = ?",
            [now, self.tenant_id, entity_id],
        )

    def delete_entity(self, entity_id: str) -> None:
        self._require(entity_id)
        self.db.run("DELETE FROM temporal_instances WHERE tenant_id = ? AND entity_id = ?", [self.tenant_id, entity_id])
        self.db.run("DELETE FROM temporal_entities WHERE tenant_id = ? AND entity_id = ?", [self.tenant_id, entity_id])

    def delete_attr(self, entity_id: str, name: str, dataset_id: str | None, *, delete_all: bool, now: int) -> None:
        self._require(entity_id)
        sql = "DELETE FROM temporal_instances WHERE tenant_id = ? AND entity_id = ? AND name = ?"
        params: list[Any] = [self.tenant_id, entity_id, name]
        if not delete_all:
            sql += " AND dataset_id = ?"
            params.append(dataset_id or "")
        if not self.db.run(sql + " RETURNING id", params).fetchall():
            which = "" if delete_all else f" (datasetId {dataset_id})" if dataset_id else " (default instance)"
            raise ResourceNotFound(f"entity {entity_id} has no temporal evolution of {name}{which}")
        self._touch(entity_id, now)

    def _instance(self, entity_id: str, name: str, row_id: int) -> tuple[dict[str, Any], str] | None:
        doc = "doc::text" if self.db.dialect.name == "postgresql" else "doc"
        row = self.db.run(
            f"SELECT {doc}, kind FROM temporal_instances WHERE id = ? AND tenant_id = ? AND entity_id = ? AND name = ?",  # noqa: S608
            [row_id, self.tenant_id, entity_id, name],
        ).fetchone()
        return None if row is None else (orjson.loads(row[0]), str(row[1]))

    def patch_instance(self, entity_id: str, name: str, row_id: int, patch: Instance, now: int) -> None:
        """Replace members of one instance (its value, observedAt, sub-attributes ...)."""
        self._require(entity_id)
        found = self._instance(entity_id, name, row_id)
        if found is None:
            raise ResourceNotFound(f"attribute {name} of entity {entity_id} has no instance {row_id}")
        old, kind = found
        merged = dict(old)
        if kind == DELETED or patch.get("type", old.get("type")) != old.get("type"):
            for key in (*VALUE_KEYS, "deletedAt"):
                merged.pop(key, None)
        merged.update(patch)
        fresh = instance_row(self.tenant_id, entity_id, name, merged, now)
        doc = "?::jsonb" if self.db.dialect.name == "postgresql" else "?"
        # observed / ts: the new observedAt, else the instance keeps its time
        ts_sql = "ts = ?, observed = 1, " if fresh[5] == 1 else ""
        ts_params: list[Any] = [fresh[4]] if fresh[5] == 1 else []
        self.db.run(
            f"UPDATE temporal_instances SET {ts_sql}dataset_id = ?, modified_at = ?, kind = ?, "  # noqa: S608
            f"num = ?, doc = {doc} WHERE id = ? AND tenant_id = ? AND entity_id = ?",
            [*ts_params, fresh[3], now, fresh[8], fresh[9], fresh[10], row_id, self.tenant_id, entity_id],
        )
        self._touch(entity_id, now)

    def delete_instance(self, entity_id: str, name: str, row_id: int, now: int) -> None:
        self._require(entity_id)
        gone = self.db.run(
            "DELETE FROM temporal_instances WHERE id = ? AND tenant_id = ? AND entity_id = ? AND name = ? RETURNING id",
            [row_id, self.tenant_id, entity_id, name],
        ).fetchall()
        if not gone:
            raise ResourceNotFound(f"attribute {name} of entity {entity_id} has no instance {row_id}")
        self._touch(entity_id, now)
