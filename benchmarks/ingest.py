"""Benchmark of the IoT agent's MQTT ingestion (not a test): prints one table for the backends asked.

    .venv/bin/python benchmarks/ingest.py [--backends sqlite,postgres] [--devices 200] [--seconds 15]
        [--rates 5000,6000] [--latency-rate 1000] [--latency-seconds 20]

For each backend it starts a private Mosquitto (a free port; no limit on queued messages), then
``smartcity serve --mqtt mqtt://127.0.0.1:<port>`` in a separate process, provisions one config group of weather
stations and ``--devices`` devices over the provisioning API, and starts a *separate publisher process* (this
script with ``publish``) that sends JSON messages ``{"t", "h", "TimeInstant"}`` to ``/json/<apikey>/<device>/attrs``
with QoS 1, round-robin over the devices:

* **throughput**: each of ``--rates`` messages/s for ``--seconds`` s, then as fast as the publisher can; the
  benchmark counts what the hub holds (one temperature instance in the history per message, read from the
  database) until every message is there: the rate is messages / (time from the first publication to the last
  message held), and the lag is how long after the last publication that was. An agent that keeps up ingests the
  offered rate with a lag of a batch. Zero loss means: exactly as many instances as messages, and no dead letter;
* **latency**: ``--latency-rate`` messages/s for ``--latency-seconds`` s; each message's ``TimeInstant`` is its
  publication time, and the benchmark polls ``GET /ngsi-ld/v1/entities`` for four stations every 5 ms: the
  latency of a message is the time its value became queryable minus its publication time (resolution 5 ms).

The servers run the hub open (as benchmarks/hub.py does); the agent needs its API key for provisioning only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub import PG_BASE, ROOT, free_port, table

APIKEY = "bench-weather"
PROBES = 4
POLL_S = 0.005


# -- the publisher process ----------------------------------------------------------------------------------


def _length(n: int) -> bytes:
    """MQTT's variable-length remaining length."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + _length(len(body)) + body


def publish(port: int, devices: int, rate: float, count: int, offset: int) -> None:
    """Publish ``count`` messages with QoS 1 at ``rate``/s (0: as fast as possible); print a JSON summary.

    A minimal MQTT 3.1.1 client on a plain socket (CONNECT, PUBLISH QoS 1, PUBACK), writing the messages due in
    one send and counting the PUBACKs in a reader thread: the publisher must not be what limits the rate
    (paho-mqtt tops out near 6,000 QoS 1 messages/s on this machine). At most WINDOW messages are unacknowledged.
    """
    window = 20_000
    client_id = f"bench-pub-{uuid.uuid4().hex[:8]}".encode()
    connect = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(client_id).to_bytes(2, "big") + client_id
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(_packet(0x10, connect))
    if sock.recv(4)[:1] != b"\x20":
        raise RuntimeError("the broker refused the publisher")
    acked = 0
    done = threading.Event()

    def read_acks() -> None:
        nonlocal acked
        pending = b""
        while acked < count:
            chunk = sock.recv(65536)
            if not chunk:
                break
            pending += chunk
            whole = len(pending) // 4 * 4  # PUBACK: 0x40 0x02 and the packet id
            acked += whole // 4
            pending = pending[whole:]
        done.set()

    reader = threading.Thread(target=read_acks, daemon=True)
    reader.start()
    topics = [f"/json/{APIKEY}/dev{d}/attrs".encode() for d in range(devices)]
    heads = [len(t).to_bytes(2, "big") + t for t in topics]
    start = time.monotonic()
    started = time.time()
    sent = 0
    while sent < count:
        due = count if rate <= 0 else min(count, int((time.monotonic() - start) * rate) + 1)
        due = min(due, acked + window)
        if due <= sent:
            time.sleep(0.0005)
            continue
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()
        out = []
        for n in range(sent, due):
            seq = offset + n
            body = b'{"t":%.2f,"h":%d,"TimeInstant":"%s"}' % (20 + (seq % 1000) / 100, 50 + seq % 40, stamp)
            mid = n % 65535 + 1
            out.append(_packet(0x32, heads[seq % devices] + mid.to_bytes(2, "big") + body))
        sock.sendall(b"".join(out))
        sent = due
    seconds = time.monotonic() - start
    done.wait(120)
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()
    print(json.dumps({"started": started, "published": count, "acked": acked, "seconds": seconds}))


def run_publisher(port: int, devices: int, rate: float, count: int, offset: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, __file__, "publish", "--port", str(port), "--devices", str(devices)]
    command += ["--rate", str(rate), "--count", str(count), "--offset", str(offset)]
    return subprocess.Popen(command, stdout=subprocess.PIPE)


def publisher_summary(proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=600)
    summary: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return summary


# -- the broker, the server, the database -------------------------------------------------------------------


@contextmanager
def broker() -> Iterator[int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    folder = Path(tempfile.mkdtemp(prefix="smartcity-ingest-broker-"))
    port = free_port()
    conf = folder / "mosquitto.conf"
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "max_queued_messages 0", "persistence false"]
    if os.geteuid() == 0:
        lines.append("user root")
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def server(database: str, mqtt_port: int) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "SMARTCITY_AUTH": "open",
        "SMARTCITY_RATE_LIMIT": "0",
        "SMARTCITY_RATE_LIMIT_ADDRESS": "0",
        "SMARTCITY_LOG_LEVEL": "WARNING",
        "SMARTCITY_IOT_MQTT_CLIENT_ID": f"bench-agent-{uuid.uuid4().hex[:8]}",
    }
    command = [sys.executable, "-m", "smartcity", "serve", "--port", str(port), "--database", database]
    command += ["--mqtt", f"mqtt://127.0.0.1:{mqtt_port}"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="smartcity-ingest-")
        yield f"sqlite:///{folder}/bench.db"
        shutil.rmtree(folder, ignore_errors=True)
        return
    from smartcity.hub.store.postgres import drop_database

    url = f"{PG_BASE}/smartcity_ingest_{uuid.uuid4().hex[:8]}"
    try:
        yield url
    finally:
        drop_database(url)


def publisher_key(url: str) -> str:
    from smartcity.hub.store import open_store
    from smartcity.security.credentials import Credentials

    store = open_store(url)
    try:
        _, key = Credentials(store).create_api_key("ingest benchmark", "data_publisher")
        return key
    finally:
        store.close()


class Counter:
    """Counts what the hub holds, straight from the database (one temperature instance per message).

    ``held`` adds the instances written since its last call (rows past the last id seen: a poll costs what was
    written since the previous one, so polling does not take the server's CPU); ``exact`` counts them all."""

    def __init__(self, url: str) -> None:
        from smartcity.hub.jsonld import ContextRegistry
        from smartcity.hub.store import open_store

        self.store = open_store(url)
        self.name = ContextRegistry().resolve(None).expand_term("temperature")
        self.last_id = 0
        self.total = 0

    def held(self) -> int:
        with self.store.transaction(write=False) as db:
            count, newest = db.run(
                "SELECT count(*), max(id) FROM temporal_instances WHERE id > ? AND name = ?", [self.last_id, self.name]
            ).fetchone()
        if newest is not None:
            self.total += int(count)
            self.last_id = int(newest)
        return self.total

    def exact(self) -> int:
        with self.store.transaction(write=False) as db:
            return int(db.run("SELECT count(*) FROM temporal_instances WHERE name = ?", [self.name]).fetchone()[0])

    def dead_letters(self) -> int:
        with self.store.transaction(write=False) as db:
            return int(db.run("SELECT count(*) FROM iot_deadletters").fetchone()[0])

    def close(self) -> None:
        self.store.close()


def http(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=30) as answer:
        raw = answer.read()
        return json.loads(raw) if raw else None


def provision(port: int, key: str, devices: int) -> None:
    unit = {"unitCode": {"type": "Text", "value": "CEL"}}
    group = {
        "apikey": APIKEY,
        "resource": "/iot/json",
        "entity_type": "WeatherObserved",
        "attributes": [
            {"object_id": "t", "name": "temperature", "type": "Number", "metadata": unit},
            {"object_id": "h", "name": "relativeHumidity", "type": "Number", "metadata": {"unitCode": {"value": "P1"}}},
        ],
    }
    headers = {"X-API-Key": key}
    http(port, "POST", "/iot/services", {"services": [group]}, headers)
    station = [{"device_id": f"dev{d}", "entity_type": "WeatherObserved"} for d in range(devices)]
    for start in range(0, devices, 500):
        http(port, "POST", "/iot/devices", {"devices": station[start : start + 500]}, headers)


def wait_held(counter: Counter, target: int, limit: float) -> float | None:
    """Poll until the hub holds ``target`` instances; the time.time() when it did, None after ``limit`` s."""
    deadline = time.time() + limit
    while time.time() < deadline:
        if counter.held() >= target:
            return time.time()
        time.sleep(0.05)
    return None


# -- the scenarios -------------------------------------------------------------------------------------------


def throughput(
    mqtt_port: int, counter: Counter, devices: int, rate: float, count: int, offset: int
) -> tuple[float, int, float, float]:
    """(messages/s from the first publication until all are held, messages held, publisher's own rate, seconds
    from the end of the publication until the last message was held)."""
    before = counter.exact()
    counter.held()
    start = counter.total
    proc = run_publisher(mqtt_port, devices, rate, count, offset)
    done = wait_held(counter, start + count, limit=count / max(rate, 1000) + 120)
    summary = publisher_summary(proc)
    time.sleep(1.0)  # anything beyond the count would be a duplicate
    held = counter.exact() - before
    elapsed = (done or time.time()) - summary["started"]
    return count / elapsed, held, summary["published"] / summary["seconds"], elapsed - summary["seconds"]


def latency(port: int, mqtt_port: int, devices: int, rate: float, seconds: float, offset: int) -> list[float]:
    ids = ",".join(f"urn:ngsi-ld:WeatherObserved:dev{d}" for d in range(PROBES))
    path = f"/ngsi-ld/v1/entities?id={ids}&attrs=temperature&limit={PROBES}"
    seen: dict[tuple[str, str], float] = {}
    stale = {(item["id"], item["temperature"]["observedAt"]) for item in http(port, "GET", path)}
    proc = run_publisher(mqtt_port, devices, rate, int(rate * seconds), offset)
    deadline = time.time() + seconds + 5
    while time.time() < deadline and proc.poll() is None:
        for item in http(port, "GET", path):
            observed = item["temperature"]["observedAt"]
            seen.setdefault((item["id"], observed), time.time())
        time.sleep(POLL_S)
    publisher_summary(proc)
    samples = []
    for key, at in seen.items():
        if key in stale:  # the value the station had before the run
            continue
        published = datetime.strptime(key[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
        samples.append((at - published) * 1000)
    return sorted(samples)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))
    return sorted(values)[index]


def bench(backend: str, args: argparse.Namespace) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    with database(backend) as url, broker() as mqtt_port:
        key = publisher_key(url)
        with server(url, mqtt_port) as port:
            provision(port, key, args.devices)
            counter = Counter(url)
            try:
                # warm up: every device once (the agent's cache, the entities' creation)
                print(f"[{backend}] warming up ...", flush=True)
                throughput(mqtt_port, counter, args.devices, 2000, args.devices * 2, 0)
                offset = args.devices * 2
                lost = 0
                for rate in args.rates:
                    print(f"[{backend}] {rate:,.0f} msg/s for {args.seconds} s ...", flush=True)
                    count = int(rate * args.seconds)
                    ingested, held, offered, lag = throughput(mqtt_port, counter, args.devices, rate, count, offset)
                    offset += count
                    lost += count - held
                    rows.append(
                        (
                            f"{backend}: ingested msg/s, {offered:,.0f}/s offered for {args.seconds:g} s",
                            f"{ingested:,.0f}",
                            f"held {held:,} of {count:,}; last held {lag * 1000:,.0f} ms after the last publication",
                        )
                    )
                print(f"[{backend}] as fast as the publisher can ...", flush=True)
                burst = int(args.rates[0] * args.seconds)
                max_rate, max_held, max_offered, _ = throughput(mqtt_port, counter, args.devices, 0, burst, offset)
                offset += burst
                lost += burst - max_held
                rows.append(
                    (
                        f"{backend}: ingested msg/s, publisher unthrottled ({max_offered:,.0f}/s offered)",
                        f"{max_rate:,.0f}",
                        f"held {max_held:,} of {burst:,}",
                    )
                )
                print(f"[{backend}] latency at {args.latency_rate:,.0f} msg/s ...", flush=True)
                samples = latency(port, mqtt_port, args.devices, args.latency_rate, args.latency_seconds, offset)
                rows.append(
                    (
                        f"{backend}: publish -> queryable p50 / p99 ms at {args.latency_rate:,.0f} msg/s",
                        f"{percentile(samples, 50):.1f} / {percentile(samples, 99):.1f}",
                        f"p99 <= 100 ({len(samples)} samples)",
                    )
                )
                dead = counter.dead_letters()
                rows.append((f"{backend}: dead letters, messages lost", f"{dead} / {lost}", "0 / 0"))
            finally:
                counter.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    pub = sub.add_parser("publish", help="(internal) the publisher process")
    pub.add_argument("--port", type=int, required=True)
    pub.add_argument("--devices", type=int, required=True)
    pub.add_argument("--rate", type=float, required=True)
    pub.add_argument("--count", type=int, required=True)
    pub.add_argument("--offset", type=int, default=0)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument(
        "--rates", type=lambda s: [float(r) for r in s.split(",")], default=[5000.0, 6000.0], help="offered msg/s"
    )
    parser.add_argument("--latency-rate", dest="latency_rate", type=float, default=1000.0)
    parser.add_argument("--latency-seconds", dest="latency_seconds", type=float, default=20.0)
    args = parser.parse_args()
    if args.command == "publish":
        publish(args.port, args.devices, args.rate, args.count, args.offset)
        return
    rows: list[tuple[str, str, str]] = []
    for backend in args.backends.split(","):
        if backend == "postgres":
            try:
                socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
            except OSError:
                print("PostgreSQL is not reachable on 127.0.0.1:5432: skipping it")
                continue
        rows.extend(bench(backend, args))
    table("IoT agent: MQTT ingestion (QoS 1, Mosquitto, separate publisher process)", rows)


if __name__ == "__main__":
    main()
