"""Helpers of the history maintenance tests: rows written straight into temporal_instances."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from smartcity.hub.store import Store
from smartcity.hub.temporal.partitions import DEFAULT_PARTITION, PARENT

COLUMNS = "tenant_id, entity_id, name, dataset_id, ts, observed, created_at, modified_at, kind, num, doc"
TEMP = "https://smartdatamodels.org/temperature"
STATUS = "https://smartdatamodels.org/status"
HOUR = 3_600_000_000
MINUTE = 60_000_000
DAY = 24 * HOUR


def row(
    entity: str,
    name: str,
    ts: int,
    value: Any,
    *,
    dataset: str = "",
    tenant: int = 1,
    kind: str = "Property",
    unit: str | None = None,
) -> tuple[Any, ...]:
    """A raw history row as the recorder writes it (num: numbers and booleans as 0/1, else NULL)."""
    doc: dict[str, Any] = {"type": kind, "value": value}
    if unit is not None:
        doc["unitCode"] = unit
    if dataset:
        doc["datasetId"] = dataset
    num = float(value) if isinstance(value, int | float) else None
    return (tenant, entity, name, dataset, ts, 1, ts, ts, kind, num, orjson.dumps(doc).decode())


def insert(store: Store, rows: Sequence[tuple[Any, ...]]) -> None:
    doc = "?::jsonb" if store.dialect.name == "postgresql" else "?"
    with store.transaction(write=True) as db:
        db.many(f"INSERT INTO temporal_instances ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {doc})", rows)


def fetch(store: Store, where: str = "1 = 1", params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    doc = "doc::text" if store.dialect.name == "postgresql" else "doc"
    with store.transaction(write=False) as db:
        rows = db.run(
            f"SELECT id, tenant_id, entity_id, name, dataset_id, ts, num, {doc}, rollup, kind "
            f"FROM temporal_instances WHERE {where} ORDER BY tenant_id, entity_id, name, dataset_id, ts, id",
            params,
        ).fetchall()
    keys = ("id", "tenant", "entity", "name", "dataset", "ts", "num", "doc", "rollup", "kind")
    out = [dict(zip(keys, r, strict=True)) for r in rows]
    for item in out:
        item["doc"] = orjson.loads(item["doc"])
    return out


def drop_partitions(store: Store) -> None:
    with store.transaction(write=True) as db:
        names = db.run(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = ?::regclass AND c.relname <> ?",
            [PARENT, DEFAULT_PARTITION],
        ).fetchall()
        for (name,) in names:
            db.run(f"DROP TABLE {name}")
