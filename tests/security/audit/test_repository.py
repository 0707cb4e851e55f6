"""Appending to the chain and reading it back, security events: on both engines."""

from __future__ import annotations

import itertools
from datetime import timedelta

from smartcity.hub.store import Store
from smartcity.security.audit import (
    GENESIS,
    SecurityEvent,
    append,
    insert_events,
    iter_all,
    link,
    list_events,
    list_records,
    read_head,
)
from smartcity.security.principal import anonymous
from tests.security.audit.support import ALICE, BOB, KEY, T0, fill, make_record


def test_a_fresh_store_has_an_empty_head(store: Store) -> None:
    assert read_head(store) in (None, (0, GENESIS))  # the PostgreSQL test reset empties the head table too
    with store.transaction(write=False) as db:
        assert list_records(db) == []


def test_append_assigns_gap_free_seqs_and_chains(store: Store) -> None:
    first = fill(store, 3)
    with store.transaction(write=True) as db:
        more = append(db, [make_record(4), make_record(5)], KEY)
        assert append(db, [], KEY) == []
    entries = first + more
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    for entry in entries:
        fields = entry.to_json()
        assert link(entry.prev_hash, fields, KEY) == entry.hash
    assert read_head(store) == (5, entries[-1].hash)
    assert list(iter_all(store, page=2)) == entries


def test_stored_entries_read_back_equal(store: Store) -> None:
    entries = fill(store, 4)
    with store.transaction(write=False) as db:
        assert list_records(db) == entries
    assert entries[1].at == T0 + timedelta(minutes=2)
    assert entries[0].to_json()["at"] == "2026-11-24T03:05:05.123456Z"
    assert list(entries[0].to_json()) == [
        "seq",
        "at",
        "actor",
        "actor_kind",
        "role",
        "credential_id",
        "client",
        "tenant",
        "action",
        "method",
        "target",
        "outcome",
        "status",
        "details",
        "prev_hash",
        "hash",
    ]


def test_list_records_filters(store: Store) -> None:
    records = [
        make_record(1),
        make_record(2, who=BOB, outcome="denied", status=403),
        make_record(3, action="hub.entity_batch.upsert"),
        make_record(4, action="security.user.add", tenant="district9"),
        make_record(5, who=BOB, outcome="error", status=500, action="HUB.ENTITY.CREATE"),
        make_record(6, outcome="failure", status=404, action="hub.entity.delete"),
    ]
    with store.transaction(write=True) as db:
        append(db, records, KEY)

    def seqs(**filters: object) -> list[int]:
        with store.transaction(write=False) as db:
            return [e.seq for e in list_records(db, **filters)]  # type: ignore[arg-type]

    assert seqs() == [1, 2, 3, 4, 5, 6]
    assert seqs(since=T0 + timedelta(minutes=2)) == [2, 3, 4, 5, 6]
    assert seqs(until=T0 + timedelta(minutes=2)) == [1]
    assert seqs(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4, microseconds=1)) == [2, 3, 4]
    assert seqs(actor="bob") == [2, 5]
    assert seqs(action_prefix="hub.entity") == [1, 2, 3, 6]
    assert seqs(action_prefix="hub.entity.") == [1, 2, 6]
    assert seqs(action_prefix="hub.entity_") == [3]  # "_" is no wildcard, and the prefix is case sensitive
    assert seqs(action_prefix="security.") == [4]
    assert seqs(tenant="district1") == [1, 3, 5]
    assert seqs(tenant="district9") == [4]
    assert seqs(outcome="denied") == [2]
    assert seqs(outcome="error", actor="bob") == [5]
    assert seqs(after_seq=2, limit=3) == [3, 4, 5]
    assert seqs(after_seq=6) == []
    assert seqs(limit=0) == []


def test_events_are_stored_and_filtered(store: Store) -> None:
    events = [
        SecurityEvent.of("auth.success", ALICE, action="security.session.login"),
        SecurityEvent.of("auth.failure", anonymous("10.9.9.9"), details={"reason": "bad password", "password": "x"}),
        SecurityEvent.of("auth.lockout", anonymous("10.9.9.9")),
        SecurityEvent.of("access.denied", BOB, action="hub.entity.delete", tenant="district1"),
        SecurityEvent.of("ratelimit.hit", BOB),
    ]
    events = [
        SecurityEvent(**{**e.__dict__, "at": T0 + timedelta(seconds=i)})  # type: ignore[arg-type]
        for i, e in enumerate(events)
    ]
    with store.transaction(write=True) as db:
        insert_events(db, events[:2])
        insert_events(db, events[2:])
        insert_events(db, [])

    def ids(**filters: object) -> list[int]:
        with store.transaction(write=False) as db:
            return [e.id for e in list_events(db, **filters)]  # type: ignore[arg-type]

    with store.transaction(write=False) as db:
        got = list_events(db)
    assert [e.id for e in got] == [1, 2, 3, 4, 5]
    assert [e.kind for e in got] == [e.kind for e in events]
    assert got[1].details == {"reason": "bad password"}
    assert got[3].tenant == "district1" and got[3].severity == "medium" and got[3].action == "hub.entity.delete"
    assert got[0].at == T0
    assert got[1].to_json() == {
        "id": 2,
        "at": "2026-11-24T03:04:06.123456Z",
        "kind": "auth.failure",
        "severity": "low",
        "subject": "anonymous",
        "credential_id": None,
        "client": "10.9.9.9",
        "tenant": None,
        "action": "",
        "details": {"reason": "bad password"},
    }
    assert ids(kind="auth.failure") == [2]
    assert ids(subject="bob") == [4, 5]
    assert ids(client="10.9.9.9") == [2, 3]
    assert ids(severity="high") == [3]
    assert ids(since=T0 + timedelta(seconds=1), until=T0 + timedelta(seconds=3)) == [2, 3]
    assert ids(after_id=3) == [4, 5]
    assert ids(limit=2) == [1, 2]
    assert ids(kind="ratelimit.hit", subject="bob") == [5]
