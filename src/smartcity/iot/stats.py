"""Per-device counters: messages received, accepted, rejected and partly dropped, rejections per reason.

Counting happens in memory, on the agent's batch path; the counts are added to ``iot_device_stats`` and
``iot_rejections`` in the transaction of a batch at most once a second (and when the agent stops), so counting
costs no transaction of its own. Reads add what is not flushed yet.

Messages from an unknown API key are counted under API key and device id ``""`` (their claimed ids are in the
dead letters), so that a flood of made-up ids cannot grow the table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from smartcity.hub.model import micros_to_iso
from smartcity.hub.store.sql import Db

StatsKey = tuple[int, str, str]  # (tenant id, apikey, device id)

UPSERT_STATS = (
    "INSERT INTO iot_device_stats (tenant_id, apikey, device_id, received, accepted, rejected, partial, "
    "last_received_at, last_accepted_at, last_rejected_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (tenant_id, apikey, device_id) DO UPDATE SET "
    "received = iot_device_stats.received + excluded.received, "
    "accepted = iot_device_stats.accepted + excluded.accepted, "
    "rejected = iot_device_stats.rejected + excluded.rejected, "
    "partial = iot_device_stats.partial + excluded.partial, "
    "last_received_at = COALESCE(excluded.last_received_at, iot_device_stats.last_received_at), "
    "last_accepted_at = COALESCE(excluded.last_accepted_at, iot_device_stats.last_accepted_at), "
    "last_rejected_at = COALESCE(excluded.last_rejected_at, iot_device_stats.last_rejected_at), "
    "last_error = COALESCE(excluded.last_error, iot_device_stats.last_error)"
)
UPSERT_REJECTIONS = (
    "INSERT INTO iot_rejections (tenant_id, apikey, device_id, reason, count) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (tenant_id, apikey, device_id, reason) DO UPDATE SET count = iot_rejections.count + excluded.count"
)


@dataclass
class Tally:
    received: int = 0
    accepted: int = 0
    rejected: int = 0
    partial: int = 0
    last_received_at: int | None = None
    last_accepted_at: int | None = None
    last_rejected_at: int | None = None
    last_error: str | None = None
    reasons: Counter[str] = field(default_factory=Counter)


class Counters:
    def __init__(self) -> None:
        self._pending: dict[StatsKey, Tally] = {}

    def count(self, key: StatsKey, at: int, *, accepted: bool, partial: bool, reasons: list[str], error: str) -> None:
        tally = self._pending.get(key)
        if tally is None:
            tally = self._pending[key] = Tally()
        tally.received += 1
        tally.last_received_at = at
        if accepted:
            tally.accepted += 1
            tally.last_accepted_at = at
        else:
            tally.rejected += 1
            tally.last_rejected_at = at
        if partial:
            tally.partial += 1
        if reasons:
            tally.reasons.update(reasons)
            tally.last_error = error[:1000]

    def __bool__(self) -> bool:
        return bool(self._pending)

    def take(self) -> dict[StatsKey, Tally]:
        """The counts not flushed yet (they are forgotten here: flush them)."""
        pending, self._pending = self._pending, {}
        return pending

    def restore(self, pending: dict[StatsKey, Tally]) -> None:
        """Give back counts whose flush failed (merged with the ones counted since)."""
        for key, old in pending.items():
            new = self._pending.get(key)
            if new is None:
                self._pending[key] = old
                continue
            new.received += old.received
            new.accepted += old.accepted
            new.rejected += old.rejected
            new.partial += old.partial
            new.reasons.update(old.reasons)
            new.last_received_at = new.last_received_at or old.last_received_at
            new.last_accepted_at = new.last_accepted_at or old.last_accepted_at
            new.last_rejected_at = new.last_rejected_at or old.last_rejected_at
            new.last_error = new.last_error or old.last_error

    def pending_for(self, key: StatsKey) -> Tally | None:
        return self._pending.get(key)


def flush(db: Db, pending: dict[StatsKey, Tally]) -> None:
    stats = [
        (
            *key,
            t.received,
            t.accepted,
            t.rejected,
            t.partial,
            t.last_received_at,
            t.last_accepted_at,
            t.last_rejected_at,
            t.last_error,
        )
        for key, t in sorted(pending.items())
    ]
    db.many(UPSERT_STATS, stats)
    rejections = [(*key, reason, n) for key, t in sorted(pending.items()) for reason, n in sorted(t.reasons.items())]
    db.many(UPSERT_REJECTIONS, rejections)


def read(db: Db, key: StatsKey, pending: Tally | None) -> dict[str, Any]:
    """The counters of one device: stored ones plus those not flushed yet."""
    tally = Tally()
    found = db.run(
        "SELECT received, accepted, rejected, partial, last_received_at, last_accepted_at, last_rejected_at, "
        "last_error FROM iot_device_stats WHERE tenant_id = ? AND apikey = ? AND device_id = ?",
        list(key),
    ).fetchone()
    if found is not None:
        tally = Tally(
            received=int(found[0]),
            accepted=int(found[1]),
            rejected=int(found[2]),
            partial=int(found[3]),
            last_received_at=found[4],
            last_accepted_at=found[5],
            last_rejected_at=found[6],
            last_error=found[7],
        )
    for reason, n in db.run(
        "SELECT reason, count FROM iot_rejections WHERE tenant_id = ? AND apikey = ? AND device_id = ?", list(key)
    ).fetchall():
        tally.reasons[str(reason)] += int(n)
    if pending is not None:
        tally.received += pending.received
        tally.accepted += pending.accepted
        tally.rejected += pending.rejected
        tally.partial += pending.partial
        tally.reasons.update(pending.reasons)
        tally.last_received_at = pending.last_received_at or tally.last_received_at
        tally.last_accepted_at = pending.last_accepted_at or tally.last_accepted_at
        tally.last_rejected_at = pending.last_rejected_at or tally.last_rejected_at
        tally.last_error = pending.last_error or tally.last_error

    def when(micros: int | None) -> str | None:
        return micros_to_iso(micros) if micros is not None else None

    return {
        "received": tally.received,
        "accepted": tally.accepted,
        "rejected": tally.rejected,
        "partial": tally.partial,
        "rejectedBy": dict(sorted(tally.reasons.items())),
        "lastMeasureAt": when(tally.last_accepted_at),
        "lastReceivedAt": when(tally.last_received_at),
        "lastRejectedAt": when(tally.last_rejected_at),
        "lastError": tally.last_error,
    }
