"""Benchmark of subscriptions (not a test): the entity update rate with 0 and with 1,000 active subscriptions.

    .venv/bin/python benchmarks/subscriptions_bench.py [--updates 4000] [--backends sqlite,postgres]

For each backend and scenario a fresh database and a `smartcity serve` process are started; 1,000 entities
(10 types) are loaded, then PATCH /entities/{id}/attrs updates are sent over 16 keep-alive connections:

* none: no subscription (the baseline);
* spread: 1,000 subscriptions, each on one entity id (entities spread over the 10 types): every update matches
  exactly one subscription and queues one notification;
* same type: 1,000 subscriptions on the same type, each narrowed by an idPattern to one entity: the type index
  cannot help, every update tests 1,000 candidates and still queues one notification.

The notification endpoint is a closed port: queuing must not depend on the receiver. The target is an update
rate at most 30% below the baseline (Orion falls from ~500 to ~170 updates/s).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
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
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from httpload import run
from hub import JSON_HEADERS, PG_BASE, ROOT, free_port, table

N_ENTITIES = 1000
N_SUBSCRIPTIONS = 1000
N_TYPES = 10
PREFIX = "urn:ngsi-ld:Sensor:bench-"
DEAD_ENDPOINT = "http://127.0.0.1:9/notify"
SCENARIOS = ("none", "spread", "same type")


#: the server, started with or without the deliverer of the outbox (argv: database, port, deliver 0/1)
SERVE = """
import logging, sys, uvicorn
logging.basicConfig(level=logging.ERROR)  # the deliverer warns about the dead receiver on every retry
from smartcity.app import create_app
from smartcity.settings import Settings
settings = Settings.from_env(database_url=sys.argv[1], port=int(sys.argv[2]), log_level="WARNING")
app = create_app(settings)
if sys.argv[3] == "0":
    app.state.services = [s for s in app.state.services if not type(s).__module__.startswith("smartcity.hub.notify")]
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


@contextmanager
def server(database: str, *, deliver: bool) -> Iterator[int]:
    port = free_port()
    args = [sys.executable, "-c", SERVE, database, str(port), "1" if deliver else "0"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def entity(i: int) -> dict[str, object]:
    return {
        "id": f"{PREFIX}{i}",
        "type": f"Sensor{i % N_TYPES}",
        "temperature": {"type": "Property", "value": 25.0, "unitCode": "CEL"},
        "status": {"type": "Property", "value": "ok"},
    }


def subscription(i: int, scenario: str, endpoint: str = DEAD_ENDPOINT) -> dict[str, object]:
    if scenario == "spread":
        selector = {"id": f"{PREFIX}{i}", "type": f"Sensor{i % N_TYPES}"}
    else:
        selector = {"idPattern": f"^{PREFIX}{i}$", "type": ",".join(f"Sensor{t}" for t in range(N_TYPES))}
    return {
        "type": "Subscription",
        "entities": [selector],
        "watchedAttributes": ["temperature"],
        "notification": {"endpoint": {"uri": endpoint}, "attributes": ["temperature"]},
    }


@contextmanager
def live_receiver() -> Iterator[tuple[str, Synchronized[int]]]:
    """A fast local HTTP receiver in its own process: (endpoint, count of notifications received)."""
    from notify_bench import _free_port, _receive, _wait_listening

    port = _free_port()
    counter: Synchronized[int] = multiprocessing.Value("q", 0)  # type: ignore[assignment]
    proc = multiprocessing.Process(target=_receive, args=(port, counter), daemon=True)
    proc.start()
    try:
        _wait_listening(port)
        yield f"http://127.0.0.1:{port}/notify", counter
    finally:
        proc.terminate()
        proc.join(5)


async def update_rate(
    database: str, scenario: str, n_updates: int, *, deliver: bool, endpoint: str = DEAD_ENDPOINT
) -> float:
    """Updates per second against a fresh server on ``database`` with the scenario's subscriptions."""
    rng = random.Random(7)
    with server(database, deliver=deliver) as port:
        body = orjson.dumps([entity(i) for i in range(N_ENTITIES)])
        await run(
            "127.0.0.1", port, [("POST", "/ngsi-ld/v1/entityOperations/upsert", body, JSON_HEADERS)], concurrency=1
        )
        if scenario != "none":
            subs = [
                (
                    "POST",
                    "/ngsi-ld/v1/subscriptions",
                    orjson.dumps(subscription(i, scenario, endpoint)),
                    JSON_HEADERS,
                )
                for i in range(N_SUBSCRIPTIONS)
            ]
            await run("127.0.0.1", port, subs, concurrency=8)
        updates = []
        for n in range(n_updates):
            i = rng.randrange(N_ENTITIES)
            payload = orjson.dumps({"temperature": {"type": "Property", "value": 20 + n % 15, "unitCode": "CEL"}})
            updates.append(("PATCH", f"/ngsi-ld/v1/entities/{PREFIX}{i}/attrs", payload, JSON_HEADERS))
        await run("127.0.0.1", port, updates[:200], concurrency=16)  # warm-up (builds the subscription index)
        result = await run("127.0.0.1", port, updates[200:], concurrency=16)
        return result.rate


def _databases(backend: str) -> tuple[str, str | None]:
    """A fresh database URL for one run, and the PostgreSQL URL to drop afterwards."""
    if backend == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='subs-bench-')}/hub.db", None
    url = f"{PG_BASE}/smartcity_subs_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    return url, url


async def bench_subscriptions(backend: str, n_updates: int = 4000) -> list[tuple[str, str, str]]:
    """Rows (measure, value, target) for one backend ('sqlite' or 'postgresql'); benchmarks/hub.py may call it.

    The three scenarios first run without the deliverer (the cost of matching and queuing); the spread scenario
    then runs with the whole platform: the deliverer sending every notification to a live local receiver (the
    figure the target is about), and the deliverer facing a dead receiver.
    """
    runs = [(scenario, "") for scenario in SCENARIOS] + [("spread", "live"), ("spread", "dead")]
    rates: dict[tuple[str, str], float] = {}
    received = 0
    for scenario, delivery in runs:
        database, drop = _databases(backend)
        print(f"[{backend}] updates with subscriptions: {scenario} {delivery} ...", flush=True)
        try:
            if delivery == "live":
                with live_receiver() as (endpoint, counter):
                    rates[scenario, delivery] = await update_rate(
                        database, scenario, n_updates, deliver=True, endpoint=endpoint
                    )
                    received = counter.value
            else:
                rates[scenario, delivery] = await update_rate(database, scenario, n_updates, deliver=delivery == "dead")
        finally:
            if drop is not None:
                from smartcity.hub.store.postgres import drop_database

                drop_database(drop)
    base = rates["none", ""]
    rows = [("updates /s, no subscription", f"{base:,.0f}", "")]
    labels = {"": "queued only", "live": "delivered to a live receiver", "dead": "receiver dead"}
    for scenario, delivery in runs[1:]:
        rate = rates[scenario, delivery]
        slower = (1 - rate / base) * 100 if base else 0.0
        label = f"updates /s, 1,000 subscriptions ({scenario}, {labels[delivery]})"
        rows.append((label, f"{rate:,.0f} ({slower:.0f}% slower)", "<= 30% slower"))
    rows.append(("notifications received by the live receiver during that run", f"{received:,}", ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=4000)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        name = "postgresql" if backend.startswith("postgres") else "sqlite"
        rows = asyncio.run(bench_subscriptions(name, args.updates))
        table(f"subscription benchmark: {name} ({N_ENTITIES:,} entities, {args.updates:,} updates)", rows)


if __name__ == "__main__":
    main()
