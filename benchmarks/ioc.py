"""Benchmark of the operations centre's rules (not a test).

    .venv/bin/python benchmarks/ioc.py [--updates 100000] [--hub-updates 20000] [--triggers 250]

(a) updates per second through rule evaluation with 500 active rules (a mix of every kind over the demo's
    entity types, 168 wards): the engine fed directly with the hub's change batches, then end to end through hub
    writes (the hub's Python service, SQLite, batches of 200 entities per transaction as the IoT agent writes)
    with the live engine following the change feed; target ≥ 10,000 updates/s;
(b) latency from an entity update (HTTP PATCH to the hub of a server process) to the ``alert.raised`` event
    reaching a connected Server-Sent Events client of ``GET /ioc/stream``; target p99 ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import smartcity.app  # noqa: F401  (imports the hub's modules in their working order)
from hub import ROOT, free_port, table
from smartcity.hub.feed import ChangeBatch, FeedQueue
from smartcity.hub.jsonld import ContextRegistry
from smartcity.hub.model import Entity, format_time
from smartcity.hub.service import Hub
from smartcity.hub.store import open_store
from smartcity.hub.store.changes import Change
from smartcity.ioc.rules.engine import Engine
from smartcity.ioc.rules.model import parse_rule

EXPAND = ContextRegistry(fetch_timeout=1.0, hosted=lambda url: None).resolve(None).expand_term
T0 = datetime(2026, 3, 1, tzinfo=UTC)
LON0, LAT0, STEP = 106.60, 10.70, 0.01  # a 14 x 12 grid of 168 square wards of about 1.1 km
ROUTES = 60


def ward_entities() -> list[Entity]:
    out = []
    for n in range(168):
        x, y = LON0 + (n % 14) * STEP, LAT0 + (n // 14) * STEP
        ring = [[x, y], [x + STEP, y], [x + STEP, y + STEP], [x, y + STEP], [x, y]]
        out.append(
            _entity(
                f"urn:ngsi-ld:AdministrativeArea:B:{n}",
                "AdministrativeArea",
                None,
                code=str(n),
                name=f"Ward {n}",
                location={"type": "Polygon", "coordinates": [ring]},
            )
        )
    return out


def _entity(eid: str, etype: str, observed: datetime | None, **attrs: Any) -> Entity:
    stamp = format_time(observed) if observed is not None else None
    out: dict[str, list[dict[str, Any]]] = {}
    for name, value in attrs.items():
        if isinstance(value, dict):
            inst: dict[str, Any] = {"type": "GeoProperty", "value": value}
        elif isinstance(value, str) and value.startswith("urn:"):
            inst = {"type": "Relationship", "object": value}
        else:
            inst = {"type": "Property", "value": value}
            if stamp is not None:
                inst["observedAt"] = stamp
        out[EXPAND(name)] = [inst]
    return Entity(eid, [EXPAND(etype)], out, modified_at=stamp)


def _point(rng: random.Random) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [LON0 + rng.random() * 14 * STEP, LAT0 + rng.random() * 12 * STEP]}


class City:
    """Synthetic sensors of the demo's types, each producing successive readings."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        r = self.rng
        self.kinds: list[tuple[str, str, dict[str, Any]]] = []
        for n in range(300):
            self.kinds.append(
                (
                    "AirQualityObserved",
                    f"urn:ngsi-ld:AirQualityObserved:B:{n}",
                    {"location": _point(r), "name": f"Station {n}"},
                )
            )
        for n in range(100):
            self.kinds.append(
                ("FloodMonitoring", f"urn:ngsi-ld:FloodMonitoring:B:{n}", {"location": _point(r), "name": f"Gauge {n}"})
            )
        for n in range(200):
            self.kinds.append(
                (
                    "TrafficFlowObserved",
                    f"urn:ngsi-ld:TrafficFlowObserved:B:{n}",
                    {"location": _point(r), "name": f"Road {n}"},
                )
            )
        for n in range(100):
            self.kinds.append(
                (
                    "OffStreetParking",
                    f"urn:ngsi-ld:OffStreetParking:B:{n}",
                    {"location": _point(r), "name": f"Car park {n}", "totalSpotNumber": 400},
                )
            )
        for n in range(300):
            self.kinds.append(
                (
                    "Vehicle",
                    f"urn:ngsi-ld:Vehicle:B:{n}",
                    {"refPublicTransportRoute": f"urn:ngsi-ld:PublicTransportRoute:B:{n % ROUTES}"},
                )
            )
        self.kinds.append(("WeatherObserved", "urn:ngsi-ld:WeatherObserved:B:0", {"name": "Weather"}))
        self.state: dict[str, float] = {eid: r.random() for _, eid, _ in self.kinds}
        self.bus_pos: dict[str, list[float]] = {
            eid: _point(r)["coordinates"] for t, eid, _ in self.kinds if t == "Vehicle"
        }

    def reading(self, index: int, moment: datetime) -> Entity:
        etype, eid, static = self.kinds[index % len(self.kinds)]
        r = self.rng
        s = self.state[eid] = min(1.0, max(0.0, self.state[eid] + r.uniform(-0.08, 0.08)))
        if etype == "AirQualityObserved":
            values: dict[str, Any] = {
                "pm25": round(10 + 70 * s, 1),
                "airQualityIndex": int(20 + 180 * s),
                "airQualityLevel": "poor" if s > 0.5 else "moderate",
            }
        elif etype == "FloodMonitoring":
            values = {"currentLevel": round(0.5 * s * s, 3)}
        elif etype == "TrafficFlowObserved":
            values = {"averageVehicleSpeed": round(5 + 50 * s, 1), "congested": s < 0.2}
        elif etype == "OffStreetParking":
            free = int(400 * s)
            values = {"availableSpotNumber": free, "occupiedSpotNumber": 400 - free}
        elif etype == "Vehicle":
            pos = self.bus_pos[eid]
            pos[0] = min(LON0 + 0.14, max(LON0, pos[0] + r.uniform(-0.0005, 0.0005)))
            values = {
                "location": {"type": "Point", "coordinates": [round(pos[0], 6), pos[1]]},
                "speed": round(40 * s, 1),
            }
        else:
            values = {"precipitation": round(30 * s, 1)}
        return _entity(eid, etype, moment, **static, **values)


def rules() -> list[dict[str, Any]]:
    """500 rules: per-sensor thresholds, areas, rates, absences, ward aggregates, composites, proximity."""
    out: list[dict[str, Any]] = []

    def add(kind: str, domain: str, **fields: Any) -> None:
        n = len(out)
        out.append(
            {
                "id": f"r{n}",
                "name": {"vi": f"Luật {n}", "en": f"Rule {n}"},
                "severity": "minor",
                "labels": {"domain": domain},
                "kind": kind,
                "message": {"vi": "{value} tại {name}", "en": "{value} at {name}"},
                **fields,
            }
        )

    for n in range(100):  # a threshold per flood gauge
        add(
            "threshold",
            "flood",
            target={
                "type": "FloodMonitoring",
                "attribute": "currentLevel",
                "idPattern": f"urn:ngsi-ld:FloodMonitoring:B:{n}$",
            },
            when={"op": ">", "value": 0.2 + (n % 5) * 0.02, "for": "PT10M", "clear": 0.15},
        )
    for n in range(80):  # a speed threshold per main road
        add(
            "threshold",
            "traffic",
            target={
                "type": "TrafficFlowObserved",
                "attribute": "averageVehicleSpeed",
                "idPattern": f"urn:ngsi-ld:TrafficFlowObserved:B:{n}$",
            },
            when={"op": "<", "value": 12, "for": "PT5M", "clear": 18},
        )
    for n in range(40):
        add(
            "threshold",
            "traffic",
            target={
                "type": "TrafficFlowObserved",
                "attribute": "congested",
                "idPattern": f"urn:ngsi-ld:TrafficFlowObserved:B:{100 + n}$",
            },
            when={"op": "==", "value": True, "for": "PT15M"},
        )
    for n in range(50):
        add(
            "threshold",
            "parking",
            target={
                "type": "OffStreetParking",
                "attribute": "availableSpotNumber",
                "per": "totalSpotNumber",
                "idPattern": f"urn:ngsi-ld:OffStreetParking:B:{n}$",
            },
            when={"op": "<", "value": 0.05, "clear": 0.1},
        )
    for n in range(60):  # air quality near points of interest
        add(
            "area",
            "air",
            target={
                "type": "AirQualityObserved",
                "attribute": "airQualityIndex",
                "area": {"center": [LON0 + 0.002 * n, LAT0 + 0.05], "radius": 2000},
            },
            when={"op": ">=", "value": 151, "clear": 140},
        )
    for n in range(40):  # mean PM2.5 in given wards
        add(
            "aggregate",
            "air",
            target={"type": "AirQualityObserved", "attribute": "pm25", "area": {"ward": str(n * 4)}},
            aggregate={"method": "mean", "window": "PT1H"},
            when={"op": ">", "value": 50, "clear": 45},
        )
    for n in range(40):
        add(
            "rate",
            "flood",
            target={
                "type": "FloodMonitoring",
                "attribute": "currentLevel",
                "idPattern": f"urn:ngsi-ld:FloodMonitoring:B:{n}$",
            },
            rate={"window": "PT30M"},
            when={"op": ">", "value": 0.005},
        )
    for n, etype in enumerate(
        ["AirQualityObserved", "FloodMonitoring", "TrafficFlowObserved", "OffStreetParking", "Vehicle"] * 10
    ):
        add("absence", "devices", target={"type": etype, "idPattern": f".*:{n}"}, absence={"after": "PT30M"})
    for n in range(20):
        add(
            "composite",
            "flood",
            composite={
                "conditions": [
                    {"name": "rain", "type": "WeatherObserved", "attribute": "precipitation", "op": ">", "value": 20},
                    {
                        "name": "water",
                        "type": "FloodMonitoring",
                        "idPattern": f"urn:ngsi-ld:FloodMonitoring:B:{n}$",
                        "attribute": "currentLevel",
                        "op": ">",
                        "value": 0.1,
                        "maxAge": "PT1H",
                    },
                ]
            },
        )
    for n in range(20):
        add(
            "proximity",
            "transit",
            target={"type": "Vehicle", "idPattern": f".*:B:{n}\\d*$"},
            proximity={"groupBy": "refPublicTransportRoute", "maxAge": "PT5M"},
            when={"op": "<", "value": 200, "for": "PT2M", "clear": 400},
        )
    assert len(out) == 500, len(out)
    return out


def new_engine() -> Engine:
    engine = Engine(EXPAND)
    for ward in ward_entities():
        engine.observe(ward, T0, T0)
    engine.load([(parse_rule(doc), 1) for doc in rules()], T0)
    return engine


def changes(city: City, n: int, start: int = 0) -> list[Change]:
    """``n`` updates, 20 per second of observation time (each of the 1,001 sensors about every 50 s)."""
    last: dict[str, Entity] = {}
    out = []
    for i in range(start, start + n):
        moment = T0 + timedelta(seconds=i / 20)
        after = city.reading(i, moment)
        before = last.get(after.id)
        last[after.id] = after
        out.append(Change("update" if before else "create", after.id, before, after, format_time(moment)))
    return out


def bench_engine(n: int) -> tuple[float, float, int]:
    engine = new_engine()
    batch = changes(City(), n)
    started = time.perf_counter()
    arrived = T0
    signals = 0
    for offset in range(0, n, 100):
        part = batch[offset : offset + 100]
        arrived = T0 + timedelta(seconds=(offset + 100) / 20)
        signals += len(engine.apply(part, arrived))
        if offset % 2000 == 0:
            signals += len(engine.tick(arrived))
    elapsed = time.perf_counter() - started
    evaluations = sum(r.evaluations for r in engine.rules.values())
    assert engine.evaluations_failed == 0
    return n / elapsed, evaluations / n, signals


async def bench_hub(n: int, with_engine: bool) -> float:
    """Updates per second written through the hub (batches of 200 entities), until the engine has seen them all."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/hub.db")
        hub = Hub(store)
        city = City()
        entities = [city.reading(i, T0) for i in range(len(city.kinds))]
        hub.batch_upsert(None, ward_entities())
        hub.batch_upsert(None, entities)
        engine = new_engine()
        queue = FeedQueue(store.feed) if with_engine else None
        done = asyncio.Event()
        seen = 0

        async def consume() -> None:
            nonlocal seen
            assert queue is not None
            while seen < n:
                got: ChangeBatch = await queue.get()
                engine.apply(got.changes, datetime.now(UTC))
                seen += len(got.changes)
            done.set()

        def write() -> None:
            for offset in range(0, n, 200):
                moment = T0 + timedelta(seconds=offset / 20)
                hub.batch_upsert(None, [city.reading(i, moment) for i in range(offset, offset + 200)], update=True)

        consumer = asyncio.create_task(consume()) if with_engine else None
        started = time.perf_counter()
        await asyncio.to_thread(write)
        if consumer is not None:
            await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - started
        if queue is not None:
            queue.close()
        store.close()
        return n / elapsed


SERVE = """
import logging, sys, uvicorn
logging.basicConfig(level=logging.ERROR)
from smartcity.app import create_app
from smartcity.settings import Settings
settings = Settings.from_env(database_url=sys.argv[1], port=int(sys.argv[2]), log_level="WARNING", auth="open",
                             rate_limit=0.0, rate_limit_address=0.0)
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""

LATENCY_RULE = {
    "id": "bench-latency",
    "name": {"vi": "Đo trễ", "en": "Latency probe"},
    "severity": "minor",
    "labels": {"domain": "other"},
    "kind": "threshold",
    "target": {"type": "BenchGauge", "attribute": "level"},
    "when": {"op": ">", "value": 0.5},
    "message": {"vi": "{value}", "en": "{value}"},
}


def start_server(triggers: int, tmp: str) -> tuple[subprocess.Popen[bytes], str, str]:
    """A platform server process on a fresh SQLite database, and an operator's API key."""
    from smartcity.security.credentials import Credentials
    from smartcity.security.roles import Role

    url = f"sqlite:///{tmp}/ioc.db"
    store = open_store(url)
    _, key = Credentials(store).create_api_key("bench", Role.IOC_OPERATOR, tenants=None)
    store.close()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, url, str(port)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}
    )
    return server, f"http://127.0.0.1:{port}", key


async def bench_latency(base: str, key: str, triggers: int) -> list[float]:
    headers = {"X-API-Key": key}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(300):
            try:
                if (await client.get("/health")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        r = await client.post("/ioc/rules", json=LATENCY_RULE, headers=headers)
        assert r.status_code == 201, r.text
        ids = [f"urn:ngsi-ld:BenchGauge:{n}" for n in range(triggers)]
        body = [{"id": i, "type": "BenchGauge", "level": {"type": "Property", "value": 0.0}} for i in ids]
        r = await client.post(
            "/ngsi-ld/v1/entityOperations/create",
            content=orjson.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 201, r.text
        arrivals: dict[str, float] = {}
        got = {i: asyncio.Event() for i in ids}
        ready = asyncio.Event()

        async def listen() -> None:
            sse = {**headers, "Accept": "text/event-stream"}
            async with client.stream("GET", "/ioc/stream?kinds=alert", headers=sse, timeout=None) as stream:
                ready.set()
                kind = ""
                async for line in stream.aiter_lines():
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:") and kind == "alert.raised":
                        subject = orjson.loads(line[5:]).get("subject")
                        if subject in got and subject not in arrivals:
                            arrivals[subject] = time.perf_counter()
                            got[subject].set()

        listener = asyncio.create_task(listen())
        await asyncio.wait_for(ready.wait(), 30)
        await asyncio.sleep(0.5)
        latencies = []
        for i in ids:
            sent = time.perf_counter()
            r = await client.patch(
                f"/ngsi-ld/v1/entities/{i}/attrs", json={"level": {"type": "Property", "value": 1.0}}
            )
            assert r.status_code == 204, r.text
            await asyncio.wait_for(got[i].wait(), 30)
            latencies.append((arrivals[i] - sent) * 1000)
        listener.cancel()
        return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--hub-updates", type=int, default=20_000)
    parser.add_argument("--triggers", type=int, default=250)
    args = parser.parse_args()
    print(f"(a) {args.updates:,} updates through 500 rules, engine fed directly ...", flush=True)
    rate, per_update, signals = bench_engine(args.updates)
    print(f"(a) {args.hub_updates:,} updates through hub writes, without then with the live engine ...", flush=True)
    hub_only = asyncio.run(bench_hub(args.hub_updates, with_engine=False))
    hub_rules = asyncio.run(bench_hub(args.hub_updates, with_engine=True))
    print(f"(b) {args.triggers} triggers: PATCH -> alert.raised on the SSE stream ...", flush=True)
    via = "SSE GET /ioc/stream"
    with tempfile.TemporaryDirectory() as tmp:
        server, base, key = start_server(args.triggers, tmp)
        try:
            latencies = asyncio.run(bench_latency(base, key, args.triggers))
        finally:
            server.terminate()
            server.wait(30)
    q = statistics.quantiles(latencies, n=100)
    table(
        f"IOC rules benchmark ({threading.active_count()} threads, {os.cpu_count()} cores, SQLite)",
        [
            ("engine fed with change batches (updates/s)", f"{rate:,.0f}", "≥ 10,000"),
            ("  rule evaluations per update", f"{per_update:.1f}", ""),
            ("  signals sent", f"{signals:,}", ""),
            ("hub writes alone, batches of 200 (updates/s)", f"{hub_only:,.0f}", ""),
            ("hub writes + live engine on the feed (updates/s)", f"{hub_rules:,.0f}", "≥ 10,000"),
            (f"PATCH -> alert.raised via {via}, p50 (ms)", f"{statistics.median(latencies):.1f}", ""),
            (f"PATCH -> alert.raised via {via}, p99 (ms)", f"{q[98]:.1f}", "≤ 200"),
            ("  triggers", f"{len(latencies)}", "≥ 200"),
        ],
    )


if __name__ == "__main__":
    main()
