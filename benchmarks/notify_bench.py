"""Benchmark of notification delivery (not a test): notifications delivered per second to a local receiver.

    .venv/bin/python benchmarks/notify_bench.py [--notifications 20000] [--backends sqlite,postgres]
        [--subscriptions 20]

For each backend: a fresh database with N notifications queued in the outbox (spread over a few
subscriptions, ~600-byte bodies), a raw asyncio HTTP receiver in its own process answering 204 at once, and
the platform's deliverer started on an event loop of this process. The rate is N divided by the time until the
outbox is empty, i.e. until every notification was confirmed by the receiver and its row deleted (the
counters of its subscription updated). From benchmarks/hub.py: ``notify_rates(n, backends)``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import tempfile
import time
import uuid
from multiprocessing.sharedctypes import Synchronized

import orjson

from smartcity.hub.model import now_iso
from smartcity.hub.notify.deliverer import Deliverer
from smartcity.hub.store import Store, open_store

PG_BASE = os.environ.get("SMARTCITY_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
ANSWER = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"


# -- the receiver: a raw HTTP/1.1 server counting the requests it answered ----------------------------------


class _Receiver(asyncio.Protocol):
    def __init__(self, counter: Synchronized[int]) -> None:
        self.counter = counter
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answered = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if len(self.buffer) < end + 4 + length:
                break
            self.buffer = self.buffer[end + 4 + length :]
            answered += 1
        if answered and self.transport is not None:
            self.transport.write(ANSWER * answered)
            with self.counter.get_lock():
                self.counter.value += answered


def _receive(port: int, counter: Synchronized[int]) -> None:
    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(lambda: _Receiver(counter), "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(serve())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int) -> None:
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the receiver did not start")


# -- one run -----------------------------------------------------------------------------------------------


def _fill(store: Store, n: int, subscriptions: int, endpoint: str) -> None:
    stamp = now_iso()
    with store.transaction(write=False) as db:
        tenant = int(db.run("SELECT id FROM tenants WHERE name = ?", [""]).fetchone()[0])
    subs = [f"urn:ngsi-ld:Subscription:bench{i}" for i in range(subscriptions)]
    link = '<https://example.org/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context"'
    headers = orjson.dumps({"Content-Type": "application/json", "Link": link}).decode()
    now = time.time_ns() // 1000
    rows = []
    for i in range(n):
        sub = subs[i % subscriptions]
        entity = {
            "id": f"urn:ngsi-ld:AirQualityObserved:hcmc-{i % 500}",
            "type": "AirQualityObserved",
            "pm25": {"type": "Property", "value": 35.2, "unitCode": "GQ", "observedAt": stamp},
            "no2": {"type": "Property", "value": 41.0, "unitCode": "GQ", "observedAt": stamp},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [106.7, 10.77]}},
        }
        body = orjson.dumps(
            {
                "id": f"urn:ngsi-ld:Notification:{i}",
                "type": "Notification",
                "subscriptionId": sub,
                "notifiedAt": stamp,
                "data": [entity],
            }
        )
        rows.append((tenant, sub, endpoint, headers, body, now, now))
    with store.transaction(write=True) as db:
        db.many(
            "INSERT INTO subscriptions (tenant_id, id, doc, context, created_at, modified_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(tenant, sub, "{}", "[]", stamp, stamp) for sub in subs],
        )
        db.many(
            "INSERT INTO notification_outbox (tenant_id, subscription_id, endpoint, headers, body, created_at, due_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def _pending(store: Store) -> int:
    with store.transaction(write=False) as db:
        return int(db.run("SELECT count(*) FROM notification_outbox").fetchone()[0])


def _sent(store: Store) -> int:
    with store.transaction(write=False) as db:
        return int(db.run("SELECT coalesce(sum(times_sent), 0) FROM subscriptions").fetchone()[0])


async def _deliver_all(store: Store, limit: float = 300.0) -> float:
    deliverer = Deliverer(store, timeout=10.0, max_backoff=300.0)
    started = time.perf_counter()
    await deliverer.start()
    try:
        deadline = started + limit
        while await asyncio.to_thread(_pending, store) > 0:
            if time.perf_counter() > deadline:
                raise RuntimeError("the outbox did not empty in time")
            await asyncio.sleep(0.05)
        return time.perf_counter() - started
    finally:
        await deliverer.stop()


def _run(store: Store) -> float:
    try:
        import uvloop  # the loop uvicorn runs the server on, when installed
    except ImportError:
        return asyncio.run(_deliver_all(store))
    return uvloop.run(_deliver_all(store))


def bench_backend(database: str, n: int, subscriptions: int, protocol: str = "http") -> tuple[float, int]:
    """Seconds to deliver ``n`` queued notifications, and how many the receiver answered.

    ``http``: to the raw receiver process; ``mqtt``: to the Mosquitto broker on 127.0.0.1:1883 (QoS 1, each
    publication acknowledged by the broker).
    """
    counter: Synchronized[int] = multiprocessing.Value("q", 0)  # type: ignore[assignment]
    receiver: multiprocessing.Process | None = None
    port = _free_port()
    if protocol == "mqtt":
        endpoint = f"mqtt://127.0.0.1:1883/smartcity/bench/{uuid.uuid4().hex}"
    else:
        endpoint = f"http://127.0.0.1:{port}/notify"
        receiver = multiprocessing.Process(target=_receive, args=(port, counter), daemon=True)
        receiver.start()
    store = open_store(database)
    try:
        _fill(store, n, subscriptions, endpoint)
        if receiver is not None:
            _wait_listening(port)
        seconds = _run(store)
        assert _sent(store) == n, "every notification must be counted as sent"
        return seconds, int(counter.value) if receiver is not None else n
    finally:
        store.close()
        if receiver is not None:
            receiver.kill()
            receiver.join()


def notify_rates(
    n: int = 20_000,
    backends: tuple[str, ...] = ("sqlite", "postgres"),
    subscriptions: int = 20,
    protocol: str = "http",
) -> dict[str, float]:
    """Notifications delivered per second on each backend (the function benchmarks/hub.py calls)."""
    rates: dict[str, float] = {}
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                seconds, answered = bench_backend(f"sqlite:///{folder}/notify.db", n, subscriptions, protocol)
        else:
            from smartcity.hub.store.postgres import drop_database

            url = f"{PG_BASE}/smartcity_notify_bench_{uuid.uuid4().hex[:8]}"
            try:
                seconds, answered = bench_backend(url, n, subscriptions, protocol)
            finally:
                drop_database(url)
        if answered < n:
            raise RuntimeError(f"{backend}: the receiver answered {answered} of {n} notifications")
        rates[backend] = n / seconds
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notifications", type=int, default=20_000)
    parser.add_argument("--subscriptions", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--protocols", default="http,mqtt", help="http (local receiver), mqtt (local Mosquitto)")
    args = parser.parse_args()
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    print(f"\nnotification delivery: {args.notifications} queued, {args.subscriptions} subscriptions, one receiver")
    print(f"{'backend':<10} {'protocol':<9} {'delivered/s':>12}  target >= 2,000/s")
    for protocol in (p.strip() for p in args.protocols.split(",") if p.strip()):
        rates = notify_rates(args.notifications, backends, args.subscriptions, protocol)
        for backend, rate in rates.items():
            verdict = "ok" if rate >= 2000 else "BELOW TARGET"
            print(f"{backend:<10} {protocol:<9} {rate:>12,.0f}  {verdict}", flush=True)


if __name__ == "__main__":
    main()
