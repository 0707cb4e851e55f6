"""The background security log: concurrency, order, retries, shutdown, secrets; on both engines."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
import pytest

from smartcity.hub.store import Store
from smartcity.security.audit import SecurityEvent, SecurityLog, list_events, verify
from smartcity.security.audit import trail as trail_module
from tests.security.audit.support import ALICE, BOB, KEY, FlakyStore, make_record, other_store, stored

TRAIL_LOG = "smartcity.security.audit.trail"


def events_of(store: Store) -> list[SecurityEvent]:
    with store.transaction(write=False) as db:
        return list(list_events(db, limit=10_000))


async def until(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def test_records_from_many_threads_all_land_in_one_chain(store: Store) -> None:
    threads, per_thread = 8, 250
    log = SecurityLog(store, KEY, flush_interval=0.02, max_batch=300)

    def produce(t: int) -> None:
        for i in range(per_thread):
            log.record(make_record(i + 1, target=f"t{t}/{i}"))
            if i % 50 == 0:
                log.emit(SecurityEvent.of("auth.success", ALICE, details={"t": t, "i": i}))

    async def scenario() -> None:
        await log.start()
        workers = [threading.Thread(target=produce, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            await asyncio.to_thread(worker.join)
        await log.stop()

    run(scenario)
    assert log.pending() == 0
    entries = stored(store)
    assert [e.seq for e in entries] == list(range(1, threads * per_thread + 1))
    for t in range(threads):  # each thread's records keep their order
        mine = [int(e.target.split("/")[1]) for e in entries if e.target.startswith(f"t{t}/")]
        assert mine == list(range(per_thread))
    assert len(events_of(store)) == threads * 5
    report = verify(store, KEY)
    assert report.ok and report.checked == threads * per_thread


def test_order_is_kept_and_flush_writes_everything(store: Store) -> None:
    log = SecurityLog(store, KEY, max_batch=7)
    for i in range(1, 31):
        log.record(make_record(i))
        if i % 10 == 0:
            log.emit(SecurityEvent.of("ratelimit.hit", BOB, details={"after": i}))
    assert log.pending() == 33
    assert log.flush() == 33
    assert log.pending() == 0 and log.flush() == 0
    assert [e.details["i"] for e in stored(store)] == list(range(1, 31))
    assert [e.details["after"] for e in events_of(store)] == [10, 20, 30]
    assert verify(store, KEY).ok


def test_a_full_batch_is_written_before_the_interval(store: Store) -> None:
    log = SecurityLog(store, KEY, flush_interval=60, max_batch=10)

    async def scenario() -> None:
        await log.start()
        await asyncio.to_thread(lambda: [log.record(make_record(i)) for i in range(1, 26)])
        await until(lambda: log.pending() < 10)
        assert len(stored(store)) >= 10
        await log.stop()

    run(scenario)
    assert len(stored(store)) == 25


def test_stop_flushes_what_is_queued(store: Store) -> None:
    log = SecurityLog(store, KEY, flush_interval=60)

    async def scenario() -> None:
        await log.start()
        for i in range(1, 11):
            log.record(make_record(i))
        log.emit(SecurityEvent.of("admin.action", ALICE, action="security.user.add"))
        await asyncio.sleep(0.05)
        assert log.pending() == 11  # the interval has not passed
        await log.stop()

    run(scenario)
    assert log.pending() == 0
    assert len(stored(store)) == 10 and len(events_of(store)) == 1


def test_a_failing_database_loses_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(trail_module, "MIN_BACKOFF", 0.01)
    flaky = FlakyStore(store, failures=4)
    log = SecurityLog(flaky, KEY, flush_interval=0.01, max_batch=8)
    caplog.set_level(logging.WARNING, logger=TRAIL_LOG)

    async def scenario() -> None:
        await log.start()
        for i in range(1, 21):
            log.record(make_record(i))
            if i == 5:
                log.emit(SecurityEvent.of("auth.failure", BOB))
            await asyncio.sleep(0.001)
        await until(lambda: log.pending() == 0)
        await log.stop()

    run(scenario)
    assert flaky.attempts >= 5
    assert [e.details["i"] for e in stored(store)] == list(range(1, 21))
    assert len(events_of(store)) == 1
    assert verify(store, KEY).ok
    messages = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == TRAIL_LOG]
    assert [level for level, _ in messages] == ["ERROR", "WARNING"]  # one error for the streak, then recovery
    assert "nothing is lost" in messages[0][1] and "database is down" in messages[0][1]
    assert "resumed after 4 failed attempts" in messages[1][1]


def test_stop_gives_up_after_its_timeout_and_says_so(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(trail_module, "MIN_BACKOFF", 0.01)
    log = SecurityLog(FlakyStore(store, failures=10_000), KEY, flush_interval=0.01, stop_timeout=0.1)
    caplog.set_level(logging.ERROR, logger=TRAIL_LOG)

    async def scenario() -> None:
        await log.start()
        log.record(make_record(1))
        await asyncio.sleep(0.05)
        await log.stop()

    run(scenario)
    assert log.pending() == 1
    assert any("could not be written" in r.getMessage() for r in caplog.records)


def test_secret_looking_details_are_neither_logged_nor_stored(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="smartcity.security.events")
    log = SecurityLog(store, KEY)
    log.emit(
        SecurityEvent.of(
            "auth.failure",
            BOB,
            details={"password": "hunter2", "reason": "bad", "nested": {"client_secret": "s3cr3t", "token_id": "t1"}},
        )
    )
    log.emit(SecurityEvent.of("auth.success", ALICE, details={"Authorization": "Bearer abc.def"}))
    log.record(make_record(1, details={"api_key": "k-secret-value", "username": "bob"}))
    lines = [r for r in caplog.records if r.name == "smartcity.security.events"]
    assert [r.levelno for r in lines] == [logging.WARNING, logging.INFO]
    logged = orjson.loads(lines[0].getMessage())
    assert logged["kind"] == "auth.failure" and logged["subject"] == "bob"
    assert logged["details"] == {"reason": "bad", "nested": {"token_id": "t1"}}
    assert orjson.loads(lines[1].getMessage())["details"] == {}
    for secret in ("hunter2", "s3cr3t", "abc.def", "k-secret-value"):
        assert secret not in caplog.text
    log.flush()
    got = events_of(store)
    assert got[0].details == {"reason": "bad", "nested": {"token_id": "t1"}} and got[1].details == {}
    assert stored(store)[0].details == {"username": "bob"}
    with store.transaction(write=False) as db:
        texts = [r[0] for r in db.run("SELECT details FROM audit_records").fetchall()]
        texts += [r[0] for r in db.run("SELECT details FROM security_events").fetchall()]
    assert not any(secret in text for text in texts for secret in ("hunter2", "s3cr3t", "abc.def", "k-secret"))


def test_two_processes_extend_one_chain(store: Store) -> None:
    second = other_store(store)  # its own connections, as another process would have
    try:
        logs = [SecurityLog(store, KEY, max_batch=5), SecurityLog(second, KEY, max_batch=5)]

        def produce(n: int) -> None:
            for i in range(60):
                logs[n].record(make_record(i + 1, target=f"p{n}/{i}"))
                if i % 7 == 0:
                    logs[n].flush()
            logs[n].flush()

        workers = [threading.Thread(target=produce, args=(n,)) for n in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        second.close()
    assert [e.seq for e in stored(store)] == list(range(1, 121))
    assert verify(store, KEY).ok
