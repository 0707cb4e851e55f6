"""The outbox in the database: claims, leases, results (both backends, no network)."""

from __future__ import annotations

import random

from smartcity.hub.notify.backoff import retry_delay
from smartcity.hub.notify.outbox import Outbox, Outcome
from smartcity.hub.store import Store
from tests.notify.support import add_subscription, outbox, queue, status

SUB = "urn:ngsi-ld:Subscription:s"
NOW = 2_000_000_000_000_000  # µs, well after the rows' due time
LEASE = NOW + 60_000_000


def test_a_claim_leases_rows_oldest_first_and_a_second_claim_skips_them(store: Store) -> None:
    add_subscription(store, SUB)
    ids = queue(store, SUB, "http://127.0.0.1:1/a", range(5), wake=False)
    box = Outbox(store)
    first = box.claim(NOW, LEASE, 3)
    assert [r.id for r in first] == ids[:3]
    assert first[0].headers == {"Content-Type": "application/json"}
    assert first[0].body.startswith(b"{")
    second = box.claim(NOW, LEASE, 10)
    assert [r.id for r in second] == ids[3:]
    assert box.claim(NOW, LEASE, 10) == []
    # once the leases ran out (a deliverer died), the rows are claimed again
    assert [r.id for r in box.claim(LEASE + 1, LEASE + 60_000_000, 10)] == ids


def test_release_and_renew(store: Store) -> None:
    add_subscription(store, SUB)
    ids = queue(store, SUB, "http://127.0.0.1:1/a", range(3), wake=False)
    box = Outbox(store)
    box.claim(NOW, LEASE, 10)
    box.renew(ids[:1], LEASE + 120_000_000)
    box.release(ids[1:])
    assert [r.id for r in box.claim(NOW, LEASE, 10)] == ids[1:]
    assert [r.id for r in box.claim(LEASE + 1, LEASE + 2, 10)] == ids[1:]  # the renewed one is still held
    box.release_all()
    assert [r.id for r in box.claim(NOW, LEASE, 10)] == ids


def test_rows_not_due_yet_and_skipped_endpoints_are_not_claimed(store: Store) -> None:
    add_subscription(store, SUB)
    a = queue(store, SUB, "http://127.0.0.1:1/a", range(2), wake=False)
    b = queue(store, SUB, "http://127.0.0.1:1/b", range(2), wake=False)
    box = Outbox(store)
    assert [r.id for r in box.claim(NOW, LEASE, 10, ["http://127.0.0.1:1/a"])] == b
    assert box.claim(0, LEASE, 10) == []  # nothing is due at the epoch
    assert [r.id for r in box.claim(NOW, LEASE, 10)] == a


def test_rows_of_deleted_subscriptions_are_deleted_not_claimed(store: Store) -> None:
    add_subscription(store, SUB)
    queue(store, "urn:ngsi-ld:Subscription:gone", "http://127.0.0.1:1/a", range(2), wake=False)
    kept = queue(store, SUB, "http://127.0.0.1:1/a", [5], wake=False)
    assert [r.id for r in Outbox(store).claim(NOW, LEASE, 10)] == kept
    assert [r["id"] for r in outbox(store)] == kept


def test_record_deletes_delivered_rows_and_reschedules_failed_ones(store: Store) -> None:
    add_subscription(store, SUB)
    queue(store, SUB, "http://127.0.0.1:1/a", range(3), wake=False)
    box = Outbox(store)
    rows = box.claim(NOW, LEASE, 10)
    box.record(
        [
            Outcome(rows[0], NOW + 1),
            Outcome(rows[1], NOW + 2, "the receiver answered HTTP 500", NOW + 5_000_000),
            Outcome(rows[2], NOW + 3),
        ]
    )
    left = outbox(store)
    assert [(r["id"], r["attempts"], r["due_at"], r["claimed_until"]) for r in left] == [
        (rows[1].id, 1, NOW + 5_000_000, None)
    ]
    assert left[0]["last_error"] == "the receiver answered HTTP 500"
    state = status(store, SUB)
    assert (state["times_sent"], state["times_failed"]) == (2, 1)
    assert state["last_success"] == "2033-05-18T03:33:20.000003Z"
    assert state["last_failure"] == "2033-05-18T03:33:20.000002Z"
    assert state["last_error"] == "the receiver answered HTTP 500"
    assert box.claim(NOW + 4_999_999, LEASE, 10) == []
    assert [r.attempts for r in box.claim(NOW + 5_000_000, LEASE, 10)] == [1]


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    for attempts, full in [(1, 0.5), (2, 1.0), (3, 2.0), (6, 16.0), (12, 300.0), (500, 300.0)]:
        for _ in range(50):
            delay = retry_delay(attempts, 300.0, rng)
            assert full / 2 <= delay <= full
