"""Monthly partitions of the history on PostgreSQL: made ahead, rows routed, backfills moved, writers unharmed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from smartcity.hub.model import to_micros
from smartcity.hub.store import Store
from smartcity.hub.temporal import partitions
from smartcity.hub.temporal.partitions import DEFAULT_PARTITION
from tests.maintenance.support import HOUR, TEMP, insert, row


def us(year: int, month: int, day: int = 1, hour: int = 0) -> int:
    return to_micros(datetime(year, month, day, hour, tzinfo=UTC))


def placement(store: Store) -> dict[str, int]:
    """Rows per partition that holds them."""
    with store.transaction(write=False) as db:
        rows = db.run("SELECT tableoid::regclass::text, count(*) FROM temporal_instances GROUP BY 1").fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def test_month_arithmetic() -> None:
    assert partitions.month_of(us(2024, 2, 29, 23)) == (2024, 2)
    assert partitions.add_months((2024, 11), 3) == (2025, 2)
    assert partitions.add_months((2024, 1), -1) == (2023, 12)
    assert partitions.month_start((2024, 3)) == us(2024, 3)
    assert partitions.months_between(us(2023, 12, 31), us(2024, 3)) == [(2023, 12), (2024, 1), (2024, 2)]
    assert partitions.months_between(us(2024, 3), us(2024, 3)) == []
    assert partitions.partition_name((2024, 3)) == "temporal_instances_p202403"


def test_sqlite_has_no_partitions(tmp_path: object) -> None:
    from smartcity.hub.store import open_store

    store = open_store(f"sqlite:///{tmp_path}/hub.db")
    try:
        assert partitions.prepare_range(store, us(2024, 1), us(2024, 6)) == []
        assert partitions.ensure_current(store) == []
        assert partitions.move_default_rows(store) == []
        assert partitions.existing_partitions(store) == {}
    finally:
        store.close()


@pytest.mark.postgres
def test_prepare_range_routes_rows_into_monthly_partitions(pg: Store) -> None:
    made = partitions.prepare_range(pg, us(2024, 1, 15), us(2024, 3, 2))
    assert [c.name for c in made] == [
        "temporal_instances_p202401",
        "temporal_instances_p202402",
        "temporal_instances_p202403",
    ]
    assert partitions.prepare_range(pg, us(2024, 1), us(2024, 4)) == []  # idempotent
    bounds = partitions.existing_partitions(pg)
    assert bounds["temporal_instances_p202402"] == f"FOR VALUES FROM ('{us(2024, 2)}') TO ('{us(2024, 3)}')"
    insert(
        pg,
        [
            row("urn:a", TEMP, us(2024, 1, 1), 1),
            row("urn:a", TEMP, us(2024, 2, 1) - 1, 2),  # the last microsecond of January
            row("urn:a", TEMP, us(2024, 2, 1), 3),
            row("urn:a", TEMP, us(2024, 3, 31, 23), 4),
            row("urn:a", TEMP, us(2023, 12, 31, 23), 5),  # no partition: the default one
        ],
    )
    assert placement(pg) == {
        "temporal_instances_p202401": 2,
        "temporal_instances_p202402": 1,
        "temporal_instances_p202403": 1,
        DEFAULT_PARTITION: 1,
    }


@pytest.mark.postgres
def test_ensure_current_keeps_last_month_to_two_ahead(pg: Store) -> None:
    made = partitions.ensure_current(pg, us(2024, 12, 20))
    assert [c.name for c in made] == [
        "temporal_instances_p202411",
        "temporal_instances_p202412",
        "temporal_instances_p202501",
        "temporal_instances_p202502",
    ]
    assert partitions.ensure_current(pg, us(2024, 12, 31)) == []


@pytest.mark.postgres
def test_backfilled_rows_move_out_of_the_default_partition(pg: Store) -> None:
    partitions.prepare_range(pg, us(2024, 5), us(2024, 6))
    backfill = [row(f"urn:s{i % 7}", TEMP, us(2024, 3) + i * HOUR // 4, i) for i in range(6000)]  # March-May
    insert(pg, backfill)
    before = placement(pg)
    assert before[DEFAULT_PARTITION] > 0
    counts = partitions.default_months(pg)
    assert set(counts) == {(2024, 3), (2024, 4)}

    moved = partitions.move_default_rows(pg)

    assert {c.name: c.moved_rows for c in moved} == {
        "temporal_instances_p202403": counts[(2024, 3)],
        "temporal_instances_p202404": counts[(2024, 4)],
    }
    after = placement(pg)
    assert DEFAULT_PARTITION not in after
    assert sum(after.values()) == len(backfill)
    with pg.transaction(write=False) as db:
        values = [r[0] for r in db.run("SELECT num FROM temporal_instances ORDER BY ts").fetchall()]
        indexed = db.run("SELECT count(*) FROM pg_indexes WHERE tablename = 'temporal_instances_p202403'").fetchone()
        parent = db.run("SELECT count(*) FROM pg_indexes WHERE tablename = 'temporal_instances'").fetchone()
    assert values == [float(i) for i in range(6000)]
    # every index of the parent (the key, the ids, the rows with a datasetId), built on the moved rows
    assert parent is not None and parent[0] == 3
    assert indexed is not None and indexed[0] == parent[0]


@pytest.mark.postgres
def test_big_backfills_wait_for_an_explicit_move(pg: Store) -> None:
    insert(pg, [row("urn:a", TEMP, us(2022, 1) + i * HOUR, i) for i in range(50)])
    assert partitions.move_default_rows(pg, max_rows=10) == []
    assert placement(pg) == {DEFAULT_PARTITION: 50}
    assert [c.moved_rows for c in partitions.move_default_rows(pg)] == [50]


@pytest.mark.postgres
def test_writers_during_a_move_neither_fail_nor_lose_rows(pg: Store) -> None:
    insert(pg, [row(f"urn:s{i % 50}", TEMP, us(2024, 7) + i * 60_000_000, i) for i in range(40_000)])
    errors: list[BaseException] = []
    written: list[int] = []
    done = threading.Event()

    def writer(offset: int) -> None:
        i = 0
        try:
            while not done.is_set() or i < 40:
                # the month being moved, a month with no partition yet, and one that has a partition
                ts = (us(2024, 7, 20), us(2024, 9, 3), us(2024, 8, 5))[i % 3] + offset * 1000 + i
                insert(pg, [row(f"urn:w{offset}", TEMP, ts, i)])
                written.append(ts)
                i += 1
        except BaseException as exc:
            errors.append(exc)

    partitions.prepare_range(pg, us(2024, 8), us(2024, 9))
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    try:
        moved = partitions.move_default_rows(pg)
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors
    assert "temporal_instances_p202407" in [c.name for c in moved]
    with pg.transaction(write=False) as db:
        total = db.run("SELECT count(*) FROM temporal_instances").fetchone()
        july_in_default = db.run(
            f"SELECT count(*) FROM {DEFAULT_PARTITION} WHERE ts >= ? AND ts < ?", [us(2024, 7), us(2024, 8)]
        ).fetchone()
    assert total is not None and total[0] == 40_000 + len(written)
    assert july_in_default is not None and july_in_default[0] == 0
    assert len(written) >= 120
