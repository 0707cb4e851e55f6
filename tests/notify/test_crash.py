"""Queued notifications survive a ``kill -9`` of the server and are all delivered after the restart.

Each test runs ``python -m smartcity serve`` as a real process on a fresh database (SQLite file, PostgreSQL
database), queues notifications for a receiver that is down (or hangs), kills the server with SIGKILL, then
starts the receiver and the server again and checks that every notification arrives, by its id.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from smartcity.hub.store import Store, open_store
from tests.conftest import PG_BASE, require_service
from tests.notify.receiver import Received, free_port, receiving
from tests.notify.support import add_subscription, numbers_of, outbox, queue, status, wait_for

ROOT = Path(__file__).resolve().parents[2]
SUB = "urn:ngsi-ld:Subscription:crash"
N = 200


@contextmanager
def server(database: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    port = free_port()
    env = {
        **os.environ,
        "SMARTCITY_LOG_LEVEL": "WARNING",
        "SMARTCITY_NOTIFY_TIMEOUT": "2",
        "SMARTCITY_NOTIFY_MAX_BACKOFF": "1",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "smartcity", "serve", "--port", str(port), "--database", database],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: proc.poll() is not None or _healthy(port), timeout=60, what="the server to start")
        assert proc.poll() is None, log.read_text()
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/crash.db"
        return
    require_service(5432, "PostgreSQL")
    from smartcity.hub.store.postgres import drop_database

    url = f"{PG_BASE}/smartcity_crash_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    yield url
    drop_database(url)


@contextmanager
def opened(database: str) -> Iterator[Store]:
    store = open_store(database)
    try:
        yield store
    finally:
        store.close()


def kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=20)
    assert proc.returncode == -signal.SIGKILL


def test_notifications_pending_for_a_dead_receiver_survive_kill_9(database: str, tmp_path: Path) -> None:
    receiver_port = free_port()
    endpoint = f"http://127.0.0.1:{receiver_port}/notify"
    log = tmp_path / "server.log"
    with server(database, log) as first, opened(database) as store:
        add_subscription(store, SUB)
        queue(store, SUB, endpoint, range(N), wake=False)
        # the running server tries them all and fails (nothing listens yet), then dies without warning
        wait_for(lambda: all(r["attempts"] >= 1 for r in outbox(store)), timeout=60, what="a failed try of each")
        kill(first)
        assert len(outbox(store)) == N
        with receiving(port=receiver_port) as receiver, server(database, log):
            wait_for(lambda: len(receiver.received()) >= N, timeout=60, what=f"{N} notifications after the restart")
            wait_for(lambda: not outbox(store), timeout=30, what="an empty outbox")
            assert numbers_of([r.body for r in receiver.received()]) == list(range(N))
            assert wait_for(lambda: status(store, SUB)["times_sent"] == N, what="times_sent")


def test_notifications_in_flight_at_kill_9_are_sent_again(database: str, tmp_path: Path) -> None:
    """The server dies while its sends wait for a hanging receiver: the claimed rows are delivered after all."""
    receiver_port = free_port()
    endpoint = f"http://127.0.0.1:{receiver_port}/notify"
    log = tmp_path / "server.log"
    released = threading.Event()

    def hanging_then_fine(_req: Received, _n: int) -> tuple[int, float]:
        released.wait(120)
        return 204, 0.0

    with (
        receiving(hanging_then_fine, port=receiver_port) as receiver,
        server(database, log) as first,
        opened(database) as store,
    ):
        add_subscription(store, SUB)
        queue(store, SUB, endpoint, range(N), wake=False)
        wait_for(lambda: len(receiver.received()) >= 8, timeout=60, what="sends in flight")
        kill(first)
        assert len(outbox(store)) == N  # nothing confirmed, nothing deleted
        released.set()  # the receiver answers from now on (to the dead server's sockets first)
        with server(database, log):
            wait_for(
                lambda: set(numbers_of([r.body for r in receiver.received()])) == set(range(N)),
                timeout=90,
                what=f"all {N} notifications after the restart",
            )
            wait_for(lambda: not outbox(store), timeout=30, what="an empty outbox")
