"""Retention: raw history older than the horizon becomes hourly roll-ups, on both backends."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from typing import Any

import pytest

from smartcity.hub.model import micros_to_iso
from smartcity.hub.store import Store
from smartcity.hub.temporal import retention
from smartcity.hub.temporal.retention import ROLLUP_IRI, cutoff_for, period_micros, run_retention
from tests.maintenance.support import DAY, HOUR, MINUTE, STATUS, TEMP, fetch, insert, row

NOW = 1_717_200_000 * 1_000_000 + 17 * MINUTE + 3  # 2024-06-01T00:17:00.000003Z, not on an hour
CUTOFF = cutoff_for(NOW, 1, HOUR)  # 2024-05-31T00:00Z


def readings(entity: str, start: int, end: int, seed: int, *, dataset: str = "") -> list[tuple[Any, ...]]:
    """5-minute temperature readings with a little jitter, as sensors send them."""
    rnd = random.Random(seed)
    out = []
    ts = start
    while ts < end:
        out.append(row(entity, TEMP, ts + rnd.randrange(0, 1000), round(rnd.uniform(20, 35), 2), dataset=dataset))
        ts += 5 * MINUTE
    return out


def expected_rollups(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str, int], list[float]]:
    buckets: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    for r in rows:
        if r[4] < CUTOFF and r[2] == TEMP:
            buckets[(r[1], r[3], r[4] // HOUR * HOUR)].append(r[9])
    return buckets


def test_period_and_cutoff() -> None:
    assert period_micros("PT1H") == HOUR
    assert period_micros("P1D") == DAY
    assert period_micros("PT15M") == 15 * MINUTE
    for bad in ("P1M", "P1Y", "PT0S", "PT0.5S", "one hour"):
        with pytest.raises(ValueError):
            period_micros(bad)
    assert CUTOFF == NOW - NOW % HOUR - DAY
    assert micros_to_iso(CUTOFF) == "2024-05-31T00:00:00.000000Z"


def test_numeric_rows_become_hourly_averages(store: Store) -> None:
    start = CUTOFF - 30 * HOUR
    data = readings("urn:s1", start, NOW, 1) + readings("urn:s2", start, NOW, 2)
    data += readings("urn:s1", start, NOW, 3, dataset="urn:ds:b")
    data.append(row("urn:s1", TEMP, CUTOFF - HOUR + 1, 30, unit="CEL"))  # an int among floats, with a unit
    insert(store, data)
    recent_before = fetch(store, "ts >= ?", [CUTOFF])

    report = run_retention(store, raw_days=1, period="PT1H", now_us=NOW)

    expected = expected_rollups(data)
    assert report.cutoff == CUTOFF and report.complete
    assert report.raw_rows == sum(len(v) for v in expected.values())
    assert report.rollups == len(expected) == 3 * 30
    old = fetch(store, "ts < ?", [CUTOFF])
    assert len(old) == len(expected)
    for r in old:
        values = expected[(r["entity"], r["dataset"], r["ts"])]
        assert r["rollup"] == "PT1H" and r["kind"] == "Property"
        assert r["num"] == pytest.approx(sum(values) / len(values), rel=1e-12)
        doc = r["doc"]
        assert doc["type"] == "Property"
        assert doc["value"] == pytest.approx(sum(values) / len(values), rel=1e-12)
        assert doc["observedAt"] == micros_to_iso(r["ts"])
        assert doc[ROLLUP_IRI] == {
            "type": "Property",
            "value": {"period": "PT1H", "count": len(values), "min": min(values), "max": max(values)},
        }
        assert doc.get("datasetId") == (r["dataset"] or None)
    last_hour = [r for r in old if r["entity"] == "urn:s1" and r["dataset"] == "" and r["ts"] == CUTOFF - HOUR]
    assert last_hour[0]["doc"]["unitCode"] == "CEL"
    assert fetch(store, "ts >= ?", [CUTOFF]) == recent_before  # within the horizon: untouched


def test_non_numeric_rows_keep_the_last_instance_of_each_bucket(store: Store) -> None:
    h = CUTOFF - 5 * HOUR
    data = [
        row("urn:s1", STATUS, h + 1 * MINUTE, "ok"),
        row("urn:s1", STATUS, h + 40 * MINUTE, "degraded"),
        row("urn:s1", STATUS, h + 20 * MINUTE, "fault"),
        row("urn:s1", STATUS, h + HOUR + 5, True),  # booleans are not averaged
        row("urn:s1", STATUS, h + HOUR + 9, False),
        row("urn:s1", STATUS, h + 2 * HOUR, {"a": 1}),
        row("urn:s1", STATUS, h + 2 * HOUR + 1, "urn:x", kind="Relationship"),
        row("urn:s1", STATUS, CUTOFF + 1, "recent"),
        row("urn:s1", STATUS, CUTOFF + 2, "recent too"),
    ]
    insert(store, data)

    report = run_retention(store, raw_days=1, period="PT1H", now_us=NOW)

    rows = fetch(store)
    assert [(r["doc"]["value"], r["rollup"]) for r in rows] == [
        ("degraded", "PT1H"),
        (False, "PT1H"),
        ("urn:x", "PT1H"),
        ("recent", None),
        ("recent too", None),
    ]
    assert rows[0]["ts"] == h + 40 * MINUTE  # kept as it was: its own time
    assert report.raw_rows == 7 and report.rollups == 3


def test_runs_are_idempotent_and_roll_ups_are_not_rolled_up_again(store: Store) -> None:
    data = [*readings("urn:s1", CUTOFF - 10 * HOUR, NOW, 4), row("urn:s1", STATUS, CUTOFF - 2 * HOUR, "ok")]
    insert(store, data)
    run_retention(store, raw_days=1, period="PT1H", now_us=NOW)
    first = fetch(store)

    again = run_retention(store, raw_days=1, period="PT1H", now_us=NOW)
    assert (again.chunks, again.raw_rows, again.rollups) == (0, 0, 0)
    assert fetch(store) == first
    # a day later the former recent rows roll up, the roll-ups of the first run stay as they are
    later = run_retention(store, raw_days=1, period="PT1H", now_us=NOW + DAY)
    assert later.rollups == 24
    assert [r for r in fetch(store) if r["ts"] < CUTOFF] == [r for r in first if r["ts"] < CUTOFF]


def test_late_rows_merge_into_their_roll_up(store: Store) -> None:
    h = CUTOFF - 3 * HOUR
    insert(store, [row("urn:s1", TEMP, h + i * MINUTE, 10.0 + i) for i in range(6)])  # 10..15
    run_retention(store, raw_days=1, period="PT1H", now_us=NOW)
    insert(store, [row("urn:s1", TEMP, h + 59 * MINUTE, 40.0), row("urn:s1", TEMP, h + HOUR, 7.0)])

    run_retention(store, raw_days=1, period="PT1H", now_us=NOW)

    rows = fetch(store)
    assert [(r["ts"], r["rollup"]) for r in rows] == [(h, "PT1H"), (h + HOUR, "PT1H")]
    values = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 40.0]
    assert rows[0]["num"] == pytest.approx(sum(values) / 7)
    assert rows[0]["doc"][ROLLUP_IRI]["value"] == {"period": "PT1H", "count": 7, "min": 10.0, "max": 40.0}
    assert rows[1]["num"] == 7.0


def test_small_chunks_give_the_same_roll_ups(store: Store) -> None:
    data = readings("urn:s1", CUTOFF - 20 * HOUR, CUTOFF, 5) + readings("urn:s2", CUTOFF - 7 * HOUR, CUTOFF, 6)
    data += [row("urn:s1", STATUS, CUTOFF - i * 7 * MINUTE, f"v{i}") for i in range(1, 100)]
    insert(store, data)

    report = run_retention(store, raw_days=1, period="PT1H", now_us=NOW, chunk_rows=10, pause=0)

    assert report.chunks > 20
    got = {(r["entity"], r["ts"]): r["num"] for r in fetch(store, "name = ?", [TEMP])}
    want = {(e, ts): sum(v) / len(v) for (e, ds, ts), v in expected_rollups(data).items() if ds == ""}
    assert got.keys() == want.keys()
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-12)
    statuses = fetch(store, "name = ?", [STATUS])
    assert len(statuses) == len({(CUTOFF - i * 7 * MINUTE) // HOUR for i in range(1, 100)})


def test_an_interrupted_run_resumes_without_loss_or_duplicates(store: Store) -> None:
    data = readings("urn:s1", CUTOFF - 12 * HOUR, CUTOFF, 7) + readings("urn:s2", CUTOFF - 12 * HOUR, CUTOFF, 8)
    insert(store, data)
    stop = threading.Event()
    calls = 0
    original = retention._SqliteChunk.run if store.dialect.name == "sqlite" else retention._PgChunk.run

    def stop_after_three(self: Any, *args: Any) -> tuple[int, int]:
        nonlocal calls
        calls += 1
        if calls == 3:
            stop.set()
        return original(self, *args)

    chunk_class = retention._SqliteChunk if store.dialect.name == "sqlite" else retention._PgChunk
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(chunk_class, "run", stop_after_three)
        first = run_retention(store, raw_days=1, period="PT1H", now_us=NOW, chunk_rows=24, stop=stop, pause=0)
    assert not first.complete and first.chunks == 3
    second = run_retention(store, raw_days=1, period="PT1H", now_us=NOW)
    assert second.complete
    assert first.raw_rows + second.raw_rows == len(data)
    rows = fetch(store)
    assert len(rows) == 24 and all(r["rollup"] == "PT1H" for r in rows)
    assert sum(r["doc"][ROLLUP_IRI]["value"]["count"] for r in rows) == len(data)


def test_incremental_runs_look_only_since_the_last_cutoff(store: Store) -> None:
    insert(store, readings("urn:s1", CUTOFF - 4 * HOUR, CUTOFF, 9))
    first = run_retention(store, raw_days=1, period="PT1H", now_us=NOW)
    assert first.rollups == 4
    late = row("urn:s1", TEMP, CUTOFF - 10 * HOUR, 99.0)  # older than the last cutoff: left for a full run
    insert(store, [late, row("urn:s1", TEMP, CUTOFF + 10 * MINUTE, 50.0)])

    incremental = run_retention(store, raw_days=1, period="PT1H", now_us=NOW + HOUR, since_us=first.cutoff)
    assert incremental.rollups == 1 and incremental.raw_rows == 1
    full = run_retention(store, raw_days=1, period="PT1H", now_us=NOW + HOUR)
    assert full.rollups == 1 and full.raw_rows == 1
    assert all(r["rollup"] == "PT1H" for r in fetch(store))


def test_tenants_and_retention_off(store: Store) -> None:
    insert(
        store, [row("urn:s1", TEMP, CUTOFF - HOUR, 1.0, tenant=1), row("urn:s1", TEMP, CUTOFF - HOUR, 3.0, tenant=2)]
    )
    assert run_retention(store, raw_days=0, period="PT1H", now_us=NOW).chunks == 0
    run_retention(store, raw_days=1, period="PT1H", now_us=NOW)
    assert [(r["tenant"], r["num"]) for r in fetch(store)] == [(1, 1.0), (2, 3.0)]


def test_late_non_numeric_rows_compete_with_the_kept_instance(store: Store) -> None:
    h = CUTOFF - 3 * HOUR
    insert(store, [row("urn:s1", STATUS, h + 30 * MINUTE, "kept"), row("urn:s1", STATUS, h + HOUR, "other hour")])
    run_retention(store, raw_days=1, period="PT1H", now_us=NOW)
    insert(store, [row("urn:s1", STATUS, h + 10 * MINUTE, "older"), row("urn:s1", STATUS, h + 2 * HOUR - 1, "newer")])

    run_retention(store, raw_days=1, period="PT1H", now_us=NOW)

    assert [(r["doc"]["value"], r["rollup"]) for r in fetch(store)] == [("kept", "PT1H"), ("newer", "PT1H")]
