"""Benchmark of the history at volume (not a test): prints one table per backend.

    .venv/bin/python benchmarks/history_volume.py [--rows 10000000] [--backends sqlite,postgres]

The issue's target is 1 year of 5-minute readings from 1,000 sensors, about 105 million instances. A run loads
``--rows`` instances of a full year of 5-minute readings (so ``rows / 105,120`` sensors: each sensor has the
full year a real one has) in time order, as the sensors send them, through the store: ``executemany`` in
100,000-row transactions on SQLite, ``COPY`` into monthly partitions (made first with ``prepare_range``) on
PostgreSQL. It then measures the table and index size, the time of a per-hour average of one sensor over
the year (the first, cold-ish run and the median of five warm ones), and one retention pass that rolls up
the first month (rows/s). The figures for 105 million rows are extrapolated from the measured ones (rates
and sizes scale linearly; the per-sensor query touches the same 105,120 rows per sensor-year at any scale)
and are printed as estimates, not measurements. The PostgreSQL bench database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from smartcity.hub.model import micros_to_iso, to_micros  # noqa: E402
from smartcity.hub.store import Store, open_store  # noqa: E402
from smartcity.hub.temporal import partitions  # noqa: E402
from smartcity.hub.temporal.retention import run_retention  # noqa: E402

PG_BASE = os.environ.get("SMARTCITY_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
NAME = "https://smartdatamodels.org/dataModel.Environment/temperature"
STEP = 5 * 60 * 1_000_000  # 5 minutes
START = to_micros(datetime(2024, 1, 1, tzinfo=UTC))
YEAR_STEPS = 365 * 24 * 12  # 105,120 readings per sensor-year
TARGET_ROWS = 1_000 * YEAR_STEPS  # the PostgreSQL target, about 105 million
SQLITE_TARGET = 10_000_000  # the SQLite target
BATCH = 100_000
COLUMNS = "tenant_id, entity_id, name, dataset_id, ts, observed, created_at, modified_at, kind, num, doc"

Row = tuple[Any, ...]


def sensor_id(n: int) -> str:
    return f"urn:ngsi-ld:AirQualityObserved:hcmc-{n:04d}"


def generate(rows: int) -> Iterator[Row]:
    """``rows`` readings: sensors x 5-minute steps over a year, in time order."""
    sensors = max(1, rows // YEAR_STEPS)
    ids = [sensor_id(n) for n in range(sensors)]
    produced = 0
    step = 0
    while produced < rows:
        ts = START + step * STEP
        iso = micros_to_iso(ts)
        for n, entity in enumerate(ids):
            value = round(27.0 + ((step * 7 + n * 13) % 400) / 40.0, 2)
            doc = f'{{"type":"Property","value":{value},"observedAt":"{iso}","unitCode":"CEL"}}'
            yield (1, entity, NAME, "", ts, 1, ts, ts, "Property", value, doc)
            produced += 1
            if produced == rows:
                return
        step += 1


def load_sqlite(store: Store, rows: int) -> None:
    sql = f"INSERT INTO temporal_instances ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    batch: list[Row] = []
    for r in generate(rows):
        batch.append(r)
        if len(batch) == BATCH:
            with store.transaction(write=True) as db:
                db.many(sql, batch)
            batch = []
    if batch:
        with store.transaction(write=True) as db:
            db.many(sql, batch)


def load_postgres(store: Store, rows: int) -> None:
    pool = store.pool  # type: ignore[attr-defined]
    lines: list[str] = []

    def flush(conn: Any) -> None:
        with conn.cursor() as cur, cur.copy(f"COPY temporal_instances ({COLUMNS}) FROM STDIN") as copy:
            copy.write("".join(lines))
        conn.commit()
        lines.clear()

    with pool.connection() as conn:
        for r in generate(rows):
            lines.append("\t".join(str(v) for v in r) + "\n")
            if len(lines) == BATCH:
                flush(conn)
        if lines:
            flush(conn)


def vacuum_postgres(store: Store) -> float:
    """What autovacuum does after a load (statistics, visibility map: index-only aggregations); seconds."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(store.url, autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute("VACUUM ANALYZE temporal_instances")
    return time.perf_counter() - started


def sizes(store: Store) -> tuple[int, int]:
    """(table bytes, index bytes) of the history."""
    with store.transaction(write=False) as db:
        if store.dialect.name == "postgresql":
            row = db.run(
                "SELECT sum(pg_table_size(inhrelid)), sum(pg_indexes_size(inhrelid)) FROM pg_inherits "
                "WHERE inhparent = 'temporal_instances'::regclass"
            ).fetchone()
            return int(row[0]), int(row[1])
        try:
            got = dict(
                db.run(
                    "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'temporal_instances%' GROUP BY name"
                ).fetchall()
            )
            return int(got.get("temporal_instances", 0)), int(got.get("temporal_instances_key", 0))
        except Exception:  # no dbstat in this SQLite: the whole file
            pages = db.run("PRAGMA page_count").fetchone()[0] * db.run("PRAGMA page_size").fetchone()[0]
            return int(pages), 0


def hourly_query(store: Store, sensor: str) -> Callable[[], int]:
    def run() -> int:
        with store.transaction(write=False) as db:
            rows = db.run(
                "SELECT ts / 3600000000 AS h, avg(num) FROM temporal_instances WHERE tenant_id = ? AND entity_id = ? "
                "AND name = ? AND ts >= ? AND ts < ? GROUP BY h ORDER BY h",
                [1, sensor, NAME, START, START + YEAR_STEPS * STEP],
            ).fetchall()
        return len(rows)

    return run


def bench(store: Store, rows: int, load: Callable[[Store, int], None]) -> dict[str, float]:
    if store.dialect.name == "postgresql":
        partitions.prepare_range(store, START, START + YEAR_STEPS * STEP)
    started = time.perf_counter()
    load(store, rows)
    load_s = time.perf_counter() - started
    vacuum_s = vacuum_postgres(store) if store.dialect.name == "postgresql" else 0.0
    table, index = sizes(store)
    query = hourly_query(store, sensor_id(0))
    t = time.perf_counter()
    hours = query()
    cold = time.perf_counter() - t
    warm = []
    for _ in range(5):
        t = time.perf_counter()
        query()
        warm.append(time.perf_counter() - t)
    # retention: everything before February rolls up (31 days of every sensor)
    now = to_micros(datetime(2024, 2, 2, tzinfo=UTC))
    report = run_retention(store, raw_days=1, period="PT1H", now_us=now, pause=0)
    return {
        "rows": rows,
        "load_s": load_s,
        "vacuum_s": vacuum_s,
        "rows_per_s": rows / load_s,
        "table": table,
        "index": index,
        "hours": hours,
        "query_cold_ms": cold * 1000,
        "query_warm_ms": statistics.median(warm) * 1000,
        "retention_rows": report.raw_rows,
        "retention_s": report.seconds,
        "retention_chunks": report.chunks,
    }


def show(backend: str, m: dict[str, float], target: int) -> None:
    """The measured figures and, when the run was smaller than ``target`` rows, their linear extrapolation."""
    scale = target / m["rows"]
    gib = 1024**3
    est = f"{target / 1e6:.0f} M (estimate)" if scale > 1.01 else ""
    rate = m["retention_rows"] / m["retention_s"] if m["retention_s"] else 0.0
    lines = [
        ("bulk load, rows/s", f"{m['rows_per_s']:,.0f}", ""),
        ("bulk load, time", f"{m['load_s']:.0f} s", f"{m['load_s'] * scale / 60:.0f} min"),
        ("vacuum analyze after the load", f"{m['vacuum_s']:.0f} s", f"{m['vacuum_s'] * scale / 60:.0f} min"),
        ("table size", f"{m['table'] / gib:.2f} GiB", f"{m['table'] * scale / gib:.1f} GiB"),
        ("index size", f"{m['index'] / gib:.2f} GiB", f"{m['index'] * scale / gib:.1f} GiB"),
        (f"hourly avg, 1 sensor-year ({int(m['hours'])} h): first", f"{m['query_cold_ms']:.0f} ms", "about the same"),
        ("hourly avg, 1 sensor-year: warm median", f"{m['query_warm_ms']:.0f} ms", "about the same"),
        ("retention of January: raw rows", f"{int(m['retention_rows']):,}", f"{target * 31 / 365:,.0f}"),
        (
            f"retention: rows/s ({int(m['retention_chunks'])} chunks)",
            f"{rate:,.0f}",
            f"{target * 31 / 365 / rate / 60:.0f} min" if rate else "",
        ),
        (
            "retention: mean time of a chunk (one transaction)",
            f"{m['retention_s'] / m['retention_chunks'] * 1000:.0f} ms" if m["retention_chunks"] else "",
            "about the same",
        ),
    ]
    print(f"\n{backend}: {int(m['rows']):,} instances ({int(m['rows']) // YEAR_STEPS} sensors x 1 year of 5-min)")
    print(f"  {'measure':<46} {'measured':>14} {est:>18}")
    for label, measured, extrapolated in lines:
        print(f"  {label:<46} {measured:>14} {extrapolated if est else '':>18}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000_000, help="instances to load per backend")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="smartcity-bench-") as folder:
                store = open_store(f"sqlite:///{folder}/history.db")
                try:
                    show("SQLite", bench(store, args.rows, load_sqlite), SQLITE_TARGET)
                finally:
                    store.close()
        elif backend == "postgres":
            from smartcity.hub.store.postgres import drop_database

            url = f"{PG_BASE}/smartcity_bench_history_{uuid.uuid4().hex[:8]}"
            store = open_store(url)
            try:
                show("PostgreSQL (monthly partitions)", bench(store, args.rows, load_postgres), TARGET_ROWS)
            finally:
                store.close()
                drop_database(url)
        else:
            raise SystemExit(f"unknown backend {backend!r}")


if __name__ == "__main__":
    main()
