"""Benchmark of the NGSI-LD hub (not a test): prints one table per backend.

    .venv/bin/python benchmarks/hub.py [--entities 100000] [--backends sqlite,postgres]
        [--parts entities,temporal,subscriptions,notify]

Starts `smartcity serve` in a separate process per backend and drives it over keep-alive HTTP from this
process: single creates, batch upserts (1,000 entities per request), GET by id, a type+q query and a
`near` geo-query over the loaded entities, and the raw insert rate of the same rows straight into the
backend's store (no HTTP, no JSON-LD) to show the broker's own cost. Then, per backend, the parts of issue #3:
temporal aggregation (avg per hour over one year of 5-minute data, benchmarks/temporal_bench.py), the update
rate with 0 and 1,000 subscriptions (benchmarks/subscriptions_bench.py) and notifications delivered per second
(benchmarks/notify_bench.py); each of those scripts also runs on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from httpload import run

ROOT = Path(__file__).resolve().parent.parent
PG_BASE = os.environ.get("SMARTCITY_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
HCMC = (106.55, 10.65, 106.85, 10.92)  # lon/lat box around the city centre
JSON_HEADERS = {"Content-Type": "application/json"}

# The hub's own benchmarks measure the broker: its servers run the hub open (the demo mode) and without rate
# limits. benchmarks/audit_bench.py measures production mode (API keys, audit on and off).
for _name, _value in (("SMARTCITY_AUTH", "open"), ("SMARTCITY_RATE_LIMIT", "0"), ("SMARTCITY_RATE_LIMIT_ADDRESS", "0")):
    os.environ.setdefault(_name, _value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(database: str, workers: int = 1) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "SMARTCITY_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smartcity",
            "serve",
            "--port",
            str(port),
            "--database",
            database,
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def station(i: int, rng: random.Random, prefix: str = "urn:ngsi-ld:AirQualityObserved:bench") -> dict[str, object]:
    lon = rng.uniform(HCMC[0], HCMC[2])
    lat = rng.uniform(HCMC[1], HCMC[3])
    return {
        "id": f"{prefix}-{i}",
        "type": "AirQualityObserved",
        "pm25": {
            "type": "Property",
            "value": round(rng.uniform(0, 250), 2),
            "unitCode": "GQ",
            "observedAt": "2026-11-24T08:00:00Z",
        },
        "temperature": {"type": "Property", "value": round(rng.uniform(24, 36), 1), "unitCode": "CEL"},
        "name": {"type": "Property", "value": f"sensor {i}"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
    }


def table(title: str, rows: list[tuple[str, str, str]]) -> None:
    print(f"\n{title}")
    width = max(len(r[0]) for r in rows)
    print(f"  {'measure'.ljust(width)}  {'value':>14}  target")
    print(f"  {'-' * width}  {'-' * 14}  ------")
    for name, value, target in rows:
        print(f"  {name.ljust(width)}  {value:>14}  {target}")


async def bench_backend(
    name: str, database: str, raw_database: str, n_entities: int, n_creates: int, n_reads: int
) -> None:
    rng = random.Random(42)
    print(f"[{name}] {n_entities} entities straight into the store ...", flush=True)
    raw_rate = raw_insert_rate(raw_database, n_entities)
    rows: list[tuple[str, str, str]] = []
    with server(database) as port:
        # single creates
        creates = [
            ("POST", "/ngsi-ld/v1/entities", orjson.dumps(station(i, rng, "urn:ngsi-ld:Single:s")), JSON_HEADERS)
            for i in range(n_creates)
        ]
        print(f"[{name}] {n_creates} single creates ...", flush=True)
        res = await run("127.0.0.1", port, creates, concurrency=16)
        rows.append(("single-entity creates /s", f"{res.rate:,.0f}", ">= 2,000"))

        # batch upserts, 1,000 per request
        print(f"[{name}] {n_entities} entities by batch upsert ...", flush=True)
        batches = []
        for start in range(0, n_entities, 1000):
            body = orjson.dumps([station(i, rng) for i in range(start, min(start + 1000, n_entities))])
            batches.append(("POST", "/ngsi-ld/v1/entityOperations/upsert", body, JSON_HEADERS))
        res = await run("127.0.0.1", port, batches, concurrency=2)
        rows.append(("batch upsert entities /s", f"{res.rate * 1000:,.0f}", ">= 30,000"))

        # GET by id
        gets = [
            ("GET", f"/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:bench-{rng.randrange(n_entities)}", b"", {})
            for _ in range(n_reads)
        ]
        res = await run("127.0.0.1", port, gets, concurrency=1)
        rows.append(("GET by id p50 / p95 ms", f"{res.p50:.2f} / {res.pct(95):.2f}", ""))

        # type + q
        queries = []
        for _ in range(n_reads):
            low = rng.uniform(0, 240)
            queries.append(
                (
                    "GET",
                    f"/ngsi-ld/v1/entities?type=AirQualityObserved&q=pm25%3E{low:.1f};pm25%3C{low + 2:.1f}&limit=20",
                    b"",
                    {},
                )
            )
        res = await run("127.0.0.1", port, queries, concurrency=1)
        rows.append((f"type+q query p50 / p95 ms ({n_entities:,})", f"{res.p50:.2f} / {res.pct(95):.2f}", "p95 <= 20"))

        # near
        geos = []
        for _ in range(n_reads):
            lon, lat = rng.uniform(HCMC[0], HCMC[2]), rng.uniform(HCMC[1], HCMC[3])
            geos.append(
                (
                    "GET",
                    "/ngsi-ld/v1/entities?type=AirQualityObserved&georel=near;maxDistance==500"
                    f"&geometry=Point&coordinates=%5B{lon:.5f},{lat:.5f}%5D&limit=20",
                    b"",
                    {},
                )
            )
        res = await run("127.0.0.1", port, geos, concurrency=1)
        rows.append((f"near 500 m p50 / p95 ms ({n_entities:,})", f"{res.p50:.2f} / {res.pct(95):.2f}", "p95 <= 20"))

    rows.append(("raw store inserts /s (same rows, no HTTP)", f"{raw_rate:,.0f}", ""))
    table(f"hub benchmark: {name} ({n_entities:,} entities)", rows)


def raw_insert_rate(database: str, n: int) -> float:
    """The same rows inserted straight into the store, 1,000 per transaction, without HTTP or JSON-LD."""
    from smartcity.hub.jsonld import ContextRegistry
    from smartcity.hub.model import now_iso
    from smartcity.hub.payload import expand_entity
    from smartcity.hub.store import open_store

    store = open_store(database)
    ctx = ContextRegistry().resolve(None)
    rng = random.Random(7)
    entities = [expand_entity(station(i, rng, "urn:ngsi-ld:Raw:r"), ctx) for i in range(n)]
    now = now_iso()
    for e in entities:
        e.created_at = e.modified_at = now
    scope = store.tenant(None)
    t0 = time.perf_counter()
    for start in range(0, n, 1000):
        with scope.write() as w:
            w.insert_many(entities[start : start + 1000])
    rate = n / (time.perf_counter() - t0)
    store.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--creates", type=int, default=5_000)
    parser.add_argument("--reads", type=int, default=1_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--parts", default="entities,temporal,subscriptions,notify")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    backends = [b for b in args.backends.split(",") if b]
    if "entities" in parts:
        entity_tables(args, backends)
    if "temporal" in parts:
        import temporal_bench

        rows = temporal_bench.run(backends)
        table(
            "temporal aggregation: avg per hour over 1 year of 5-minute data (105,120 instances)",
            [
                (f"{backend}: {measure}", figure, "p50 <= 50 ms" if "p50" in measure else "")
                for backend, measure, figure in rows
            ],
        )
    if "subscriptions" in parts:
        import subscriptions_bench

        for backend in backends:
            name = "postgresql" if backend.startswith("postgres") else "sqlite"
            rows = asyncio.run(subscriptions_bench.bench_subscriptions(name))
            table(f"updates with subscriptions: {name}", rows)
    if "notify" in parts:
        import notify_bench

        notify_rows: list[tuple[str, str, str]] = []
        for protocol in ("http", "mqtt"):
            for backend, rate in notify_bench.notify_rates(20_000, tuple(backends), 20, protocol).items():
                notify_rows.append((f"{backend}: delivered /s over {protocol}", f"{rate:,.0f}", ">= 2,000"))
        table("notification delivery (20,000 queued, 20 subscriptions, local receiver)", notify_rows)


def entity_tables(args: argparse.Namespace, backends: list[str]) -> None:
    for backend in backends:
        if backend == "sqlite":
            tmp = tempfile.mkdtemp(prefix="smartcity-bench-")
            database = f"sqlite:///{tmp}/bench.db"
            raw = f"sqlite:///{tmp}/raw.db"
            asyncio.run(bench_backend("SQLite", database, raw, args.entities, args.creates, args.reads))
        elif backend == "postgres":
            try:
                socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
            except OSError:
                print("PostgreSQL is not reachable on 127.0.0.1:5432: skipping its table")
                continue
            from smartcity.hub.store.postgres import drop_database

            database = f"{PG_BASE}/smartcity_bench_{uuid.uuid4().hex[:8]}"
            raw = f"{PG_BASE}/smartcity_bench_raw_{uuid.uuid4().hex[:8]}"
            try:
                asyncio.run(bench_backend("PostgreSQL", database, raw, args.entities, args.creates, args.reads))
            finally:
                drop_database(database)
                drop_database(raw)


if __name__ == "__main__":
    main()
