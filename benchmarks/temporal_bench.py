"""Benchmark of temporal aggregation (not a test): ``avg`` per hour over one year of 5-minute data.

    .venv/bin/python benchmarks/temporal_bench.py [--backends sqlite,postgres] [--rounds 30]

Loads 105,120 instances of one attribute (every 5 minutes for 365 days) into a fresh store per backend
(SQLite in a temporary folder; PostgreSQL in a database ``smartcity_bench_<random>``, dropped afterwards, and
vacuumed after the load as autovacuum would be a minute later), then times ``aggrMethods=avg`` with
``aggrPeriodDuration=PT1H`` over the whole year through the service layer and over HTTP (the in-process ASGI
client, so the figure includes routing, parsing, rendering and JSON; the hub open, without credentials or rate
limits, as ``benchmarks/hub.py`` runs it). Also times the history recorder on the
changes of a 1,000-entity batch update.
:func:`run` returns the table rows so that ``benchmarks/hub.py`` can print them with its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.model import Entity, format_time, now_iso
from smartcity.hub.store import Store, open_store
from smartcity.hub.store.changes import Change
from smartcity.hub.temporal import recorder
from smartcity.hub.temporal.query import Period, TimeWindow
from smartcity.hub.temporal.service import TemporalService
from smartcity.settings import Settings

PG_BASE = os.environ.get("SMARTCITY_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
ENTITY = "urn:ngsi-ld:AirQualityObserved:bench-year"
TYPE = "https://uri.fiware.org/ns/data-models#AirQualityObserved"
ATTR = "https://uri.etsi.org/ngsi-ld/default-context/pm25"
START = datetime(2025, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)
COUNT = 105_120  # 365 days * 288
HOUR = 3_600_000_000

Row = tuple[str, str, str]


@contextmanager
def opened(backend: str) -> Iterator[Store]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            store = open_store(f"sqlite:///{Path(folder) / 'bench.db'}")
            try:
                yield store
            finally:
                store.close()
        return
    from smartcity.hub.store.postgres import drop_database

    url = f"{PG_BASE}/smartcity_bench_{uuid.uuid4().hex[:8]}"
    store = open_store(url)
    try:
        yield store
    finally:
        store.close()
        drop_database(url)


def load_year(service: TemporalService) -> float:
    """The year of instances through the temporal service; returns the seconds it took."""
    instances = [
        {"type": "Property", "value": 20 + (i % 288) / 10 + (i % 7), "observedAt": format_time(START + i * STEP)}
        for i in range(COUNT)
    ]
    begin = time.perf_counter()
    service.upsert(None, Entity(ENTITY, [TYPE], {ATTR: instances}))
    return time.perf_counter() - begin


def settle_postgres(store: Store) -> None:
    """What autovacuum does within a minute of a bulk load: statistics and the visibility map (index-only scans)."""
    import psycopg

    url: str = store.url  # type: ignore[attr-defined]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) temporal_instances")


def timed(fn: Callable[[], object], rounds: int) -> tuple[float, float]:
    """(p50, p95) in milliseconds after one warm-up call."""
    fn()
    samples: list[float] = []
    for _ in range(rounds):
        begin = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - begin) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]


def recorder_cost(store: Store, rounds: int = 5) -> float:
    """Microseconds per recorded instance: the hook alone (inside a write transaction, rows included) on the
    changes of a 1,000-entity batch update that changes 3 attributes of each entity."""
    stamp = now_iso()
    best = float("inf")
    for r in range(rounds):
        changes = []
        for i in range(1000):
            before = Entity(
                f"urn:ngsi-ld:Bench:{i}",
                [TYPE],
                {
                    ATTR: [{"type": "Property", "value": float(i), "observedAt": stamp}],
                    ATTR + "10": [{"type": "Property", "value": float(i * 2), "observedAt": stamp}],
                    ATTR + "name": [{"type": "Property", "value": f"station {i}"}],
                },
                stamp,
                stamp,
            )
            after = before.copy()
            for insts in after.attrs.values():
                insts[0]["value"] = f"{insts[0]['value']}-{r}"
                insts[0]["modifiedAt"] = stamp
            changes.append(Change("update", before.id, before, after, stamp))
        with store.tenant(None).transaction() as context:
            begin = time.perf_counter()
            recorder.record(context, changes)
            best = min(best, time.perf_counter() - begin)
    return best / 3000 * 1e6


def bench_backend(backend: str, rounds: int) -> list[Row]:
    rows: list[Row] = []
    with opened(backend) as store:
        service = TemporalService(store)
        seconds = load_year(service)
        rows.append((backend, f"load {COUNT:,} instances (service)", f"{COUNT / seconds:,.0f} instances/s"))
        if backend == "postgres":
            settle_postgres(store)
        end = START + timedelta(days=365)
        window = TimeWindow("between", _micros(START), _micros(end))
        series = service.aggregate(None, ENTITY, ATTR, ["avg"], Period(HOUR), window)
        assert len(series) == 8760, len(series)
        p50, p95 = timed(lambda: service.aggregate(None, ENTITY, ATTR, ["avg"], Period(HOUR), window), rounds)
        rows.append((backend, "avg per hour, 1 year (service)", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"))
        # the hub open and without rate limits, as benchmarks/hub.py runs it: this measures the temporal API
        app = create_app(
            Settings(database_url="sqlite:///unused.db", auth="open", rate_limit=0.0, rate_limit_address=0.0),
            store=store,
        )
        params = {
            "options": "aggregatedValues",
            "aggrMethods": "avg",
            "aggrPeriodDuration": "PT1H",
            "timerel": "between",
            "timeAt": format_time(START),
            "endTimeAt": format_time(end),
        }
        with TestClient(app) as client:
            url = f"/ngsi-ld/v1/temporal/entities/{ENTITY}"

            def http() -> None:
                response = client.get(url, params=params)
                assert response.status_code == 200, response.text

            p50, p95 = timed(http, rounds)
            rows.append((backend, "avg per hour, 1 year (HTTP)", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"))
            per_instance = recorder_cost(store)
            rows.append((backend, "history recorder (1,000-entity batch)", f"{per_instance:.1f} µs per instance"))
    return rows


def _micros(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def run(backends: list[str], rounds: int = 30) -> list[Row]:
    """(backend, measure, figure) rows for every backend."""
    rows: list[Row] = []
    for backend in backends:
        rows += bench_backend(backend, rounds)
    return rows


def table(rows: list[Row]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    table(run([b.strip() for b in args.backends.split(",") if b.strip()], args.rounds))


if __name__ == "__main__":
    main()
