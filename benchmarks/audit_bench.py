"""Benchmark of the security pillar's cost on the hub's hot path (not a test): audit on and off.

    .venv/bin/python benchmarks/audit_bench.py [--creates 5000] [--updates 5000] [--backends sqlite,postgres]

For each backend and scenario a fresh database and a server process are started, then single-entity creates,
attribute updates (PATCH .../attrs, 16 keep-alive connections) and batch upserts (1,000 entities per request)
are sent:

* required + audit: production mode, every request carries a data publisher's API key, every write is audited;
* required, audit off: the same, with the audit trail's ``record`` replaced by a no-op in the server process
  (there is no setting to turn the audit off; this is the benchmark's own patch);
* open, no credential: the demo mode (still audited), to show what authentication itself costs.

The issue's requirement: audit writes never slow the hub's hot path noticeably.
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
from hub import JSON_HEADERS, PG_BASE, ROOT, free_port, station, table

SERVE = """
import logging, sys, uvicorn
logging.basicConfig(level=logging.ERROR)
from smartcity.app import create_app
from smartcity.settings import Settings
settings = Settings.from_env(
    database_url=sys.argv[1], port=int(sys.argv[2]), log_level="WARNING", auth=sys.argv[3],
    rate_limit=0.0, rate_limit_address=0.0,
)
app = create_app(settings)
if sys.argv[4] == "off":
    app.state.security.log.record = lambda record: None
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""

SCENARIOS = (
    ("required + audit", "required", "on"),
    ("required, audit off", "required", "off"),
    ("open, no credential", "open", "on"),
)


@contextmanager
def server(database: str, auth: str, audit: str) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, database, str(port), auth, audit], cwd=ROOT, stdout=subprocess.DEVNULL
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


def publisher_key(database: str) -> str:
    from smartcity.hub.store import open_store
    from smartcity.security.credentials import Credentials

    store = open_store(database)
    try:
        _, key = Credentials(store).create_api_key("benchmark publisher", "data_publisher")
        return key
    finally:
        store.close()


def audited(database: str) -> int:
    from smartcity.hub.store import open_store

    store = open_store(database)
    try:
        with store.transaction(write=False) as db:
            return int(db.run("SELECT count(*) FROM audit_records").fetchone()[0])
    finally:
        store.close()


async def scenario(database: str, auth: str, audit: str, n_creates: int, n_updates: int) -> list[float]:
    rng = random.Random(7)
    headers = dict(JSON_HEADERS)
    if auth == "required":
        headers["X-API-Key"] = publisher_key(database)
    with server(database, auth, audit) as port:
        creates = [
            ("POST", "/ngsi-ld/v1/entities", orjson.dumps(station(i, rng, "urn:ngsi-ld:Audit:s")), headers)
            for i in range(n_creates)
        ]
        created = await run("127.0.0.1", port, creates, concurrency=16)
        updates = [
            (
                "PATCH",
                f"/ngsi-ld/v1/entities/urn:ngsi-ld:Audit:s-{rng.randrange(n_creates)}/attrs",
                orjson.dumps({"pm25": {"type": "Property", "value": rng.uniform(0, 200)}}),
                headers,
            )
            for _ in range(n_updates)
        ]
        updated = await run("127.0.0.1", port, updates, concurrency=16)
        batches = [
            (
                "POST",
                "/ngsi-ld/v1/entityOperations/upsert",
                orjson.dumps([station(i, rng, "urn:ngsi-ld:Audit:b") for i in range(k, k + 1000)]),
                headers,
            )
            for k in range(0, 20_000, 1000)
        ]
        batched = await run("127.0.0.1", port, batches, concurrency=2)
        for result in (created, updated, batched):
            bad = {s: n for s, n in result.statuses.items() if s >= 300}
            if bad:
                raise RuntimeError(f"unexpected answers {bad}")
    expected = n_creates + n_updates + len(batches)
    records = audited(database)
    if audit == "on" and records != expected:
        raise RuntimeError(f"{records} audit records for {expected} writes")
    return [created.rate, updated.rate, batched.rate * 1000, created.pct(99), float(records)]


def databases(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tempfile.mkdtemp(prefix='smartcity-audit-')}/bench.db"
        return
    from smartcity.hub.store.postgres import drop_database

    url = f"{PG_BASE}/smartcity_audit_{uuid.uuid4().hex[:8]}"
    try:
        yield url
    finally:
        drop_database(url)


def bench(backend: str, n_creates: int, n_updates: int) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    figures: dict[str, list[float]] = {}
    for label, auth, audit in SCENARIOS:
        print(f"[{backend}] {label} ...", flush=True)
        for database in databases(backend):
            figures[label] = asyncio.run(scenario(database, auth, audit, n_creates, n_updates))
    base = figures["required, audit off"]
    for label, _, _ in SCENARIOS:
        f = figures[label]
        slower = (1 - f[1] / base[1]) * 100
        rows.append(
            (
                f"{backend}: {label}",
                f"{f[0]:,.0f} / {f[1]:,.0f} / {f[2]:,.0f} (p99 create {f[3]:.1f} ms)",
                f"updates {abs(slower):.0f}% {'slower' if slower > 0 else 'faster'} than audit off"
                if label != "required, audit off"
                else "baseline",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--creates", type=int, default=5000)
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    for backend in args.backends.split(","):
        if backend == "postgres":
            try:
                socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
            except OSError:
                print("PostgreSQL is not reachable on 127.0.0.1:5432: skipping it")
                continue
        rows.extend(bench(backend, args.creates, args.updates))
    table("audit on the hot path: creates/s / updates/s / batch entities/s", rows)


if __name__ == "__main__":
    os.environ.setdefault("SMARTCITY_LOG_LEVEL", "WARNING")
    main()
