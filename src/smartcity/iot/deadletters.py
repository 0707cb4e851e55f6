"""The dead-letter store: every device message the agent refused, in whole or in part, with the reason.

A dead letter keeps the raw payload (its first :data:`MAX_KEPT` bytes), where it came from (transport, MQTT
topic or HTTP path), the device's API key and id, the main reason code, a detail naming every dropped measure,
and ``partial`` when the message's other measures were written. The newest :attr:`Settings.iot_deadletter_max`
are kept: older ones are pruned as new ones arrive.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smartcity.hub.model import micros_to_iso
from smartcity.hub.store.sql import Db
from smartcity.iot.model import Scope
from smartcity.iot.outcome import Outcome

MAX_KEPT = 16 * 1024
COLUMNS = "tenant_id, service_path, apikey, device_id, transport, topic, reason, detail, partial, payload, received_at"
INSERT = f"INSERT INTO iot_deadletters ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


@dataclass(frozen=True)
class Filter:
    device_id: str | None = None
    apikey: str | None = None
    reason: str | None = None


def row(tenant_id: int, service_path: str, outcome: Outcome) -> tuple[Any, ...]:
    inbound = outcome.inbound
    detail = outcome.summary()
    payload = inbound.payload
    if len(payload) > MAX_KEPT:
        detail += f" (payload of {len(payload)} bytes, the first {MAX_KEPT} kept)"
        payload = payload[:MAX_KEPT]
    return (
        tenant_id,
        service_path,
        inbound.address.apikey,
        inbound.address.device_id,
        inbound.transport,
        inbound.topic,
        outcome.reason or "",
        detail,
        1 if outcome.partial else 0,
        payload,
        inbound.received_at,
    )


def insert(db: Db, rows: Sequence[tuple[Any, ...]], keep: int) -> None:
    """Add dead letters, then drop the oldest beyond ``keep``."""
    if not rows:
        return
    db.many(INSERT, rows)
    newest = db.run("SELECT MAX(id) FROM iot_deadletters").fetchone()[0]
    if newest is not None and int(newest) > keep:
        db.run("DELETE FROM iot_deadletters WHERE id <= ?", [int(newest) - keep])


def _payload(data: Any) -> tuple[str, str]:
    raw = bytes(data)
    try:
        return raw.decode("utf-8"), "text"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


def query(
    db: Db, tenant_id: int, scope: Scope, where: Filter, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Dead letters of a service, newest first: (one page, total count)."""
    clauses = ["tenant_id = ?"]
    params: list[Any] = [tenant_id]
    if not scope.all_paths:
        clauses.append("service_path = ?")
        params.append(scope.service_path)
    for column, value in (("device_id", where.device_id), ("apikey", where.apikey), ("reason", where.reason)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    sql_where = " AND ".join(clauses)
    total = int(db.run(f"SELECT count(*) FROM iot_deadletters WHERE {sql_where}", params).fetchone()[0])
    rows = db.run(
        f"SELECT id, service_path, apikey, device_id, transport, topic, reason, detail, partial, payload, received_at "
        f"FROM iot_deadletters WHERE {sql_where} ORDER BY id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    out: list[dict[str, Any]] = []
    for r in rows:
        payload, encoding = _payload(r[9])
        out.append(
            {
                "id": int(r[0]),
                "service_path": r[1],
                "apikey": r[2],
                "device_id": r[3],
                "transport": r[4],
                "topic": r[5],
                "reason": r[6],
                "detail": r[7],
                "partial": bool(r[8]),
                "payload": payload,
                "payloadEncoding": encoding,
                "receivedAt": micros_to_iso(int(r[10])),
            }
        )
    return out, total
