"""Monthly time partitions of the history on PostgreSQL (a no-op on SQLite).

``temporal_instances`` is ``PARTITION BY RANGE (ts)`` with a DEFAULT partition. Each calendar month (UTC) gets
its own partition ``temporal_instances_pYYYYMM`` holding ``ts`` in [first µs of the month, first µs of the
next month). The maintenance job keeps the previous month to two months ahead ready; a bulk loader calls
:func:`prepare_range` before it loads. Rows that landed in the DEFAULT partition (history backfilled before
its partitions existed, or written while they were missing) are moved into their month's partition.

How a partition is made, in one transaction (all or nothing: an interruption leaves the rows where they were):

1. ``lock_timeout`` is set short, so maintenance waiting for a lock never queues writers behind it for long
   (it gives up and retries at the next run instead);
2. the parent is locked in SHARE ROW EXCLUSIVE mode: readers go on, writers wait until the commit. Writers
   must wait: an INSERT that routed its row to the DEFAULT partition with the old partition list would
   otherwise fail once the new partition is attached. Waiting writers then route their rows with the new list,
   so no write fails and none is lost; they wait as long as the move takes (an empty month: milliseconds);
3. the month's table is created standalone (``LIKE`` the parent) with a CHECK constraint equal to its range;
4. the month's rows are moved out of the DEFAULT partition with ``DELETE ... RETURNING`` into it;
5. it is attached (PostgreSQL builds its indexes, trusts the CHECK instead of scanning it, and verifies that the
   DEFAULT partition holds no row of the range), then the CHECK is dropped.

An advisory lock serialises makers of partitions across processes (several API workers).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from smartcity.hub.model import to_micros
from smartcity.hub.store import Store
from smartcity.hub.store.sql import Db

log = logging.getLogger(__name__)

PARENT = "temporal_instances"
DEFAULT_PARTITION = "temporal_instances_default"
#: pg_advisory_xact_lock key of partition maintenance
LOCK_KEY = 0x5C17_7E01
#: how long maintenance waits for a table lock before it gives up until the next run
LOCK_TIMEOUT = "2s"

Month = tuple[int, int]


@dataclass(frozen=True)
class PartitionChange:
    name: str
    moved_rows: int


def month_of(micros: int) -> Month:
    moment = datetime.fromtimestamp(micros / 1_000_000, UTC)
    return moment.year, moment.month


def next_month(month: Month) -> Month:
    year, mon = month
    return (year + 1, 1) if mon == 12 else (year, mon + 1)


def add_months(month: Month, n: int) -> Month:
    index = month[0] * 12 + month[1] - 1 + n
    return index // 12, index % 12 + 1


def month_start(month: Month) -> int:
    """The first microsecond of a month (UTC) since the epoch."""
    return to_micros(datetime(month[0], month[1], 1, tzinfo=UTC))


def partition_name(month: Month) -> str:
    return f"{PARENT}_p{month[0]:04d}{month[1]:02d}"


def months_between(start_us: int, end_us: int) -> list[Month]:
    """The months that hold some instant of [start_us, end_us)."""
    if end_us <= start_us:
        return []
    months = [month_of(start_us)]
    while month_start(next_month(months[-1])) < end_us:
        months.append(next_month(months[-1]))
    return months


def existing_partitions(store: Store) -> dict[str, str]:
    """Name -> bound expression of every partition of the history (empty on SQLite)."""
    if store.dialect.name != "postgresql":
        return {}
    with store.transaction(write=False) as db:
        rows = db.run(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = ?::regclass ORDER BY c.relname",
            [PARENT],
        ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def ensure_partitions(store: Store, months: Iterable[Month]) -> list[PartitionChange]:
    """Create the missing monthly partitions (moving in their rows from the DEFAULT partition), one short
    transaction each. Returns what was created; nothing on SQLite."""
    if store.dialect.name != "postgresql":
        return []
    wanted = sorted(set(months))
    present = existing_partitions(store)
    changes: list[PartitionChange] = []
    for month in wanted:
        if partition_name(month) in present:
            continue
        change = _make_partition(store, month)
        if change is not None:
            changes.append(change)
    return changes


def prepare_range(store: Store, start_us: int, end_us: int) -> list[PartitionChange]:
    """Make the partitions that rows with ``ts`` in [start_us, end_us) will need: call before a bulk load."""
    return ensure_partitions(store, months_between(start_us, end_us))


def ensure_current(
    store: Store, now_us: int | None = None, *, before: int = 1, ahead: int = 2
) -> list[PartitionChange]:
    """Keep the partitions of the previous month to two months ahead ready (the writes of the near future)."""
    now = month_of(now_us if now_us is not None else to_micros(datetime.now(UTC)))
    return ensure_partitions(store, [add_months(now, n) for n in range(-before, ahead + 1)])


def default_months(store: Store) -> dict[Month, int]:
    """The months whose rows sit in the DEFAULT partition, with their row counts (a scan of that partition)."""
    if store.dialect.name != "postgresql":
        return {}
    with store.transaction(write=False) as db:
        rows = db.run(
            "SELECT extract(year FROM m)::int, extract(month FROM m)::int, n FROM ("  # noqa: S608
            "SELECT date_trunc('month', to_timestamp(ts / 1000000.0) AT TIME ZONE 'UTC') AS m, count(*) AS n "
            f"FROM {DEFAULT_PARTITION} GROUP BY 1) s ORDER BY 1, 2"
        ).fetchall()
    return {(int(r[0]), int(r[1])): int(r[2]) for r in rows}


def move_default_rows(store: Store, *, max_rows: int | None = None) -> list[PartitionChange]:
    """Give each month that has rows in the DEFAULT partition its own partition, moving the rows into it.

    Writers wait while a month's rows move (see the module notes), so a month holding more than ``max_rows``
    rows is left for an explicit run at a quiet time, with a warning."""
    if store.dialect.name != "postgresql":
        return []
    changes: list[PartitionChange] = []
    present = existing_partitions(store)
    for month, count in default_months(store).items():
        if partition_name(month) in present:  # cannot happen: a bound of the partition keeps them out
            continue
        if max_rows is not None and count > max_rows:
            log.warning(
                "history: %d rows of %04d-%02d sit in the default partition; more than %d, so they are left for "
                "an explicit move_default_rows() at a quiet time (writers wait while rows move)",
                count,
                month[0],
                month[1],
                max_rows,
            )
            continue
        change = _make_partition(store, month)
        if change is not None:
            changes.append(change)
    return changes


def _make_partition(store: Store, month: Month) -> PartitionChange | None:
    name = partition_name(month)
    low, high = month_start(month), month_start(next_month(month))
    with store.transaction(write=True) as db:
        db.run(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        db.run("SELECT pg_advisory_xact_lock(?)", [LOCK_KEY])
        if _is_partition(db, name):  # another process made it meanwhile
            return None
        db.run(f"LOCK TABLE {PARENT} IN SHARE ROW EXCLUSIVE MODE")
        db.run(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)")
        db.run(f"ALTER TABLE {name} ADD CONSTRAINT {name}_range CHECK (ts >= {low} AND ts < {high})")
        moved = db.run(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE ts >= ? AND ts < ? RETURNING *) "  # noqa: S608
            f"INSERT INTO {name} SELECT * FROM moved",
            [low, high],
        )
        count = _rowcount(moved)
        db.run(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})")
        db.run(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range")
    if count:
        log.info("history: created partition %s and moved %d rows into it from the default partition", name, count)
    else:
        log.info("history: created partition %s", name)
    return PartitionChange(name, count)


def _is_partition(db: Db, name: str) -> bool:
    row = db.run(
        "SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = ?::regclass AND c.relname = ?",
        [PARENT, name],
    ).fetchone()
    return row is not None


def _rowcount(cursor: object) -> int:
    count = getattr(cursor, "rowcount", -1)
    return count if isinstance(count, int) and count > 0 else 0
