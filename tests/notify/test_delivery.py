"""Delivery of queued notifications to a real local HTTP receiver, on both storage backends."""

from __future__ import annotations

import threading
import time

import orjson
from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from tests.notify.receiver import Received, free_port, receiving
from tests.notify.support import add_subscription, numbers_of, outbox, queue, status, wait_for

SUB = "urn:ngsi-ld:Subscription:s"


def test_notifications_reach_an_http_receiver_with_their_headers(client: TestClient, store: Store) -> None:
    add_subscription(store, SUB)
    headers = {
        "Content-Type": "application/json",
        "Link": '<https://example.org/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context"',
        "NGSILD-Tenant": "hcmc",
        "X-Api-Key": "secret-1",
    }
    with receiving() as receiver:
        ids = queue(store, SUB, receiver.url("/notify?via=test"), range(5), headers)
        wait_for(lambda: len(receiver.received()) >= 5, what="5 notifications")
        wait_for(lambda: not outbox(store), what="an empty outbox")
    got = receiver.received()
    assert numbers_of([r.body for r in got]) == [0, 1, 2, 3, 4]
    first = got[0]
    assert first.path == "/notify?via=test"
    assert first.headers["content-type"] == "application/json"
    assert first.headers["link"] == headers["Link"]
    assert first.headers["ngsild-tenant"] == "hcmc"
    assert first.headers["x-api-key"] == "secret-1"
    assert first.json()["subscriptionId"] == SUB
    state = wait_for(lambda: (s := status(store, SUB))["times_sent"] == 5 and s, what="times_sent == 5")
    assert state["times_failed"] == 0
    assert state["last_success"] is not None and state["last_success"].endswith("Z")
    assert state["last_notification"] == state["last_success"]
    assert len(ids) == 5


def test_a_failing_receiver_gets_retried_with_backoff_until_it_accepts(client: TestClient, store: Store) -> None:
    add_subscription(store, SUB)

    def twice_down(_req: Received, n: int) -> tuple[int, float]:
        return (503 if n < 2 else 200), 0.0

    with receiving(twice_down) as receiver:
        queue(store, SUB, receiver.url(), [7])
        # after the first refusal the row is back in the outbox, one attempt counted, due later
        row = wait_for(lambda: [r for r in outbox(store) if r["attempts"] >= 1], what="a first failed attempt")[0]
        assert "503" in row["last_error"]
        assert row["claimed_until"] is None or row["attempts"] >= 1
        wait_for(lambda: len(receiver.received()) >= 3, what="3 attempts")
        wait_for(lambda: not outbox(store), what="an empty outbox")
    got = receiver.received()
    assert numbers_of([r.body for r in got]) == [7, 7, 7]
    first_gap, second_gap = got[1].at - got[0].at, got[2].at - got[1].at
    assert first_gap >= 0.2  # base 0.5 s, jitter takes half to all of it
    assert second_gap >= 0.45  # doubled
    state = wait_for(lambda: (s := status(store, SUB))["times_sent"] == 1 and s, what="times_sent == 1")
    assert state["times_failed"] == 2
    assert "503" in state["last_error"]
    assert state["last_failure"] is not None
    assert state["last_success"] >= state["last_failure"]


def test_a_dead_receiver_does_not_hold_up_another(client: TestClient, store: Store) -> None:
    add_subscription(store, "urn:ngsi-ld:Subscription:dead")
    add_subscription(store, SUB)
    dead = f"http://127.0.0.1:{free_port()}/notify"  # nothing listens there
    with receiving() as receiver:
        for n in range(10):
            queue(store, "urn:ngsi-ld:Subscription:dead", dead, [100 + n])
            queue(store, SUB, receiver.url(), [n])
        start = time.monotonic()
        wait_for(lambda: len(receiver.received()) >= 10, timeout=10, what="the live receiver's 10 notifications")
        elapsed = time.monotonic() - start
    assert numbers_of([r.body for r in receiver.received()]) == list(range(10))
    assert elapsed < 5
    rows = wait_for(
        lambda: (
            (rows := outbox(store, "urn:ngsi-ld:Subscription:dead")) and all(r["attempts"] >= 1 for r in rows) and rows
        ),
        what="failed attempts on the dead receiver",
    )
    assert len(rows) == 10  # kept, never dropped
    assert all("connect" in r["last_error"] for r in rows)
    assert status(store, "urn:ngsi-ld:Subscription:dead")["times_failed"] >= 10


def test_a_slow_receiver_delays_neither_other_receivers_nor_writes(client: TestClient, store: Store) -> None:
    add_subscription(store, "urn:ngsi-ld:Subscription:slow")
    add_subscription(store, SUB)
    release = threading.Event()

    def slow(_req: Received, _n: int) -> tuple[int, float]:
        release.wait(3.0)  # answers after 3 s (or at the end of the test)
        return 204, 0.0

    with receiving(slow) as slow_receiver, receiving() as fast_receiver:
        queue(store, "urn:ngsi-ld:Subscription:slow", slow_receiver.url(), range(100, 140))
        wait_for(lambda: slow_receiver.received(), what="the slow receiver's first request")
        start = time.monotonic()
        queue(store, SUB, fast_receiver.url(), range(20))
        wait_for(lambda: len(fast_receiver.received()) >= 20, timeout=10, what="the fast receiver's notifications")
        fast_elapsed = time.monotonic() - start
        slowest_write = 0.0
        for i in range(20):
            entity = {"id": f"urn:ngsi-ld:T:w{i}", "type": "T", "n": {"type": "Property", "value": i}}
            began = time.monotonic()
            response = client.post(
                "/ngsi-ld/v1/entities", content=orjson.dumps(entity), headers={"Content-Type": "application/json"}
            )
            slowest_write = max(slowest_write, time.monotonic() - began)
            assert response.status_code == 201, response.text
        assert not release.is_set()
        assert len(outbox(store, "urn:ngsi-ld:Subscription:slow")) > 0  # still pending meanwhile
        release.set()
        wait_for(lambda: len(slow_receiver.received()) >= 40, timeout=30, what="the slow receiver's notifications")
        wait_for(lambda: not outbox(store), what="an empty outbox")
    assert fast_elapsed < 2.5
    assert slowest_write < 1.0
    assert numbers_of([r.body for r in slow_receiver.received()]) == list(range(100, 140))


def test_notifications_of_a_deleted_subscription_are_dropped(client: TestClient, store: Store) -> None:
    with receiving() as receiver:
        queue(store, "urn:ngsi-ld:Subscription:gone", receiver.url(), range(3))
        wait_for(lambda: not outbox(store), what="an empty outbox")
        add_subscription(store, SUB)
        queue(store, SUB, receiver.url(), [9])
        wait_for(lambda: receiver.received(), what="the notification of the live subscription")
    assert numbers_of([r.body for r in receiver.received()]) == [9]


def test_a_receiver_too_slow_for_the_timeout_gets_it_again(client: TestClient, store: Store) -> None:
    add_subscription(store, SUB)

    def first_hangs(_req: Received, n: int) -> tuple[int, float]:
        return 204, (6.0 if n == 0 else 0.0)  # the notification timeout of these tests is 5 s

    with receiving(first_hangs) as receiver:
        queue(store, SUB, receiver.url(), [3])
        wait_for(lambda: len(receiver.received()) >= 2, timeout=30, what="a second attempt after the timeout")
        wait_for(lambda: not outbox(store), what="an empty outbox")
    state = wait_for(lambda: (s := status(store, SUB))["times_sent"] == 1 and s, what="times_sent == 1")
    assert state["times_failed"] == 1
    assert "no answer within 5 s" in state["last_error"]
