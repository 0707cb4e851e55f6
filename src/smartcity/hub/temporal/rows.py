"""Rows of the history tables: how an attribute instance becomes a temporal instance.

``ts`` is the instance's ``observedAt`` when it has one, else the time the instance was recorded; ``num`` is
the number the aggregations use (numbers as they are, booleans as 0/1, anything else NULL); ``doc`` is the
instance, expanded, without its system timestamps (they live in ``created_at``/``modified_at``).

A deletion (of an attribute, or of the whole entity through the ordinary API) is recorded as a *deletion
instance*, as NGSI-LD v1.8 represents it in the temporal evolution: the value ``urn:ngsi-ld:null`` and a
``deletedAt`` member, ``kind`` = :data:`DELETED` (so aggregations skip it), ``num`` NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from smartcity.hub.model import (
    LANGUAGEPROPERTY,
    NGSI_NULL,
    RELATIONSHIP,
    SYSTEM_KEYS,
    Instance,
    index_values,
    iso_to_micros,
)

#: temporal_instances.kind of a deletion instance
DELETED = "deleted"
INSTANCE_PREFIX = "urn:ngsi-ld:Instance:"

if TYPE_CHECKING:
    from smartcity.hub.store.sql import Db

Row = tuple[Any, ...]

#: the columns every insert names, in the order of :func:`instance_row`
COLUMNS = "tenant_id, entity_id, name, dataset_id, ts, observed, created_at, modified_at, kind, num, doc"


def insert_rows(db: Db, rows: Sequence[Row]) -> None:
    """Insert instance rows (as :func:`instance_row` builds them)."""
    # executemany: psycopg pipelines the rows (measured faster than one unnest or JSON-recordset statement)
    db.many(insert_sql(db.dialect.name), rows)


def insert_sql(dialect: str) -> str:
    doc = "?::jsonb" if dialect == "postgresql" else "?"
    return f"INSERT INTO temporal_instances ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {doc})"  # noqa: S608


def instance_row(
    tenant_id: int, entity_id: str, name: str, inst: Instance, at: int, times: dict[str, int | None] | None = None
) -> Row:
    """The row of one recorded instance; ``at`` is the recording time; ``times`` caches parsed observedAt."""
    observed = inst.get("observedAt")
    ts: int | None = None
    if isinstance(observed, str):
        if times is None:
            ts = iso_to_micros(observed)
        else:
            ts = times[observed] if observed in times else times.setdefault(observed, iso_to_micros(observed))
    doc = {k: v for k, v in inst.items() if k not in SYSTEM_KEYS}
    dataset = inst.get("datasetId")
    return (
        tenant_id,
        entity_id,
        name,
        dataset if isinstance(dataset, str) else "",
        ts if ts is not None else at,
        0 if ts is None else 1,
        at,
        at,
        str(inst.get("type", "Property")),
        index_values(inst)[1],
        orjson.dumps(doc).decode(),
    )


def deletion_row(tenant_id: int, entity_id: str, name: str, inst: Instance, at: int, at_iso: str) -> Row:
    """The deletion instance recorded when an attribute instance (``inst``, its last value) goes away."""
    kind = str(inst.get("type", "Property"))
    doc: dict[str, Any] = {"type": kind}
    if kind == RELATIONSHIP:
        doc["object"] = NGSI_NULL
    elif kind == LANGUAGEPROPERTY:
        doc["languageMap"] = {"@none": NGSI_NULL}
    else:
        doc["value"] = NGSI_NULL
    doc["deletedAt"] = at_iso
    dataset = inst.get("datasetId")
    if isinstance(dataset, str):
        doc["datasetId"] = dataset
    return (
        tenant_id,
        entity_id,
        name,
        dataset if isinstance(dataset, str) else "",
        at,
        0,
        at,
        at,
        DELETED,
        None,
        orjson.dumps(doc).decode(),
    )


def instance_uri(row_id: int) -> str:
    return f"{INSTANCE_PREFIX}{row_id}"


def instance_row_id(uri: str) -> int | None:
    """The row id of an instanceId this broker generated, or None."""
    if not uri.startswith(INSTANCE_PREFIX):
        return None
    digits = uri[len(INSTANCE_PREFIX) :]
    if not digits.isdigit() or len(digits) > 18:
        return None
    return int(digits)
