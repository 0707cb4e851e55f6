"""Verification catches every kind of tampering, on both engines."""

from __future__ import annotations

import pytest

from smartcity.hub.store import Store
from smartcity.security.audit import GENESIS, append, link, read_head, verify
from tests.security.audit.support import KEY, fill, make_record, overwrite, raw, row, stored

N = 10


def test_an_untouched_trail_verifies(store: Store) -> None:
    entries = fill(store, N)
    seen: list[int] = []
    report = verify(store, KEY, progress=seen.append, page=4)
    assert report.ok and report.problem is None and report.seq is None
    assert report.checked == N
    assert (report.head_seq, report.head_hash) == (N, entries[-1].hash)
    assert report.message == f"audit trail OK: {N} records, head {N} {entries[-1].hash}"
    assert seen == [4, 8, N]
    assert verify(store, KEY, expect_head=(N, entries[-1].hash)).ok
    assert verify(store, KEY, expect_head=(3, entries[2].hash)).ok


def test_an_empty_trail_verifies(store: Store) -> None:
    report = verify(store, KEY)
    assert report.ok and report.checked == 0 and (report.head_seq, report.head_hash) == (0, GENESIS)


def test_a_keyless_trail_verifies_without_a_key_only(store: Store) -> None:
    fill(store, 3, key=None)
    assert verify(store, None).ok
    report = verify(store, KEY)
    assert (report.ok, report.problem, report.seq) == (False, "edited", 1)
    assert "audit key" in report.message


def test_another_key_fails_at_the_first_record(store: Store) -> None:
    fill(store, 3)
    report = verify(store, b"not the key")
    assert (report.ok, report.problem, report.seq, report.checked) == (False, "edited", 1, 0)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "mallory"),
        ("action", "hub.entity.read"),
        ("outcome", "failure"),
        ("details", '{"i": 4, "names": ["a"]}'),
        ("details", "not json"),
        ("at", "2026-11-24T03:08:05.123457Z"),
        ("status", 200),
        ("tenant", "district2"),
    ],
    ids=lambda v: str(v)[:12],
)
def test_an_edited_field_is_caught(store: Store, column: str, value: object) -> None:
    fill(store, N)
    raw(store, f"UPDATE audit_records SET {column} = ? WHERE seq = ?", [value, 4])
    report = verify(store, KEY)
    assert (report.ok, report.problem, report.seq, report.checked) == (False, "edited", 4, 3)
    assert report.message.startswith("record 4 was edited")


def test_an_edit_with_a_recomputed_hash_is_caught_at_the_next_record(store: Store) -> None:
    entries = fill(store, N)
    fields = {**entries[4].to_json(), "actor": "mallory"}
    forged = link(entries[4].prev_hash, fields, None)  # without the key: the best a forger can do
    raw(store, "UPDATE audit_records SET actor = ?, hash = ? WHERE seq = ?", ["mallory", forged, 5])
    report = verify(store, KEY)
    assert (report.problem, report.seq) == ("edited", 5)


def test_a_deleted_middle_record_is_caught(store: Store) -> None:
    fill(store, N)
    raw(store, "DELETE FROM audit_records WHERE seq = ?", [5])
    report = verify(store, KEY)
    assert (report.ok, report.problem, report.seq, report.checked) == (False, "removed", 5, 4)
    assert report.message == "record 5 is missing: record 6 follows record 4 (it was removed)"


def test_deleted_first_records_are_caught(store: Store) -> None:
    fill(store, N)
    raw(store, "DELETE FROM audit_records WHERE seq = ?", [1])
    report = verify(store, KEY)
    assert (report.problem, report.seq, report.checked) == ("removed", 1, 0)
    raw(store, "DELETE FROM audit_records WHERE seq <= ?", [3])
    report = verify(store, KEY)
    assert (report.problem, report.seq) == ("removed", 1)
    assert "records 1 to 3 were removed" in report.message


def test_a_deleted_last_record_is_caught_by_the_head(store: Store) -> None:
    fill(store, N)
    raw(store, "DELETE FROM audit_records WHERE seq = ?", [N])
    report = verify(store, KEY)
    assert (report.ok, report.problem, report.seq, report.checked) == (False, "truncated", N, N - 1)
    assert "the tail was removed" in report.message


def test_swapped_contents_are_caught(store: Store) -> None:
    fill(store, N)
    third, sixth = row(store, 3), row(store, 6)
    overwrite(store, 3, sixth)
    overwrite(store, 6, third)
    report = verify(store, KEY)
    assert (report.ok, report.problem, report.seq) == (False, "reordered", 3)
    assert "holds the contents of record 6" in report.message


def test_swapped_neighbours_are_caught(store: Store) -> None:
    fill(store, N)
    fifth, sixth = row(store, 5), row(store, 6)
    overwrite(store, 5, sixth)
    overwrite(store, 6, fifth)
    report = verify(store, KEY)
    assert (report.problem, report.seq) == ("reordered", 5)


def test_swapped_seqs_are_caught(store: Store) -> None:
    fill(store, N)
    raw(store, "UPDATE audit_records SET seq = ? WHERE seq = ?", [-1, 2])
    raw(store, "UPDATE audit_records SET seq = ? WHERE seq = ?", [2, 8])
    raw(store, "UPDATE audit_records SET seq = ? WHERE seq = ?", [8, -1])
    report = verify(store, KEY)
    assert (report.ok, report.problem, report.seq, report.checked) == (False, "reordered", 2, 1)
    assert "holds the contents of record 8" in report.message


def test_truncating_everything_is_caught(store: Store) -> None:
    fill(store, N)
    raw(store, "DELETE FROM audit_records")
    report = verify(store, KEY)
    assert (report.ok, report.problem, report.seq, report.checked) == (False, "truncated", 1, 0)
    assert report.message.startswith(f"all {N} records are missing")


def test_a_rewound_head_with_a_truncated_tail_is_caught_only_by_the_anchor(store: Store) -> None:
    entries = fill(store, N)
    anchor = (N, entries[-1].hash)
    raw(store, "DELETE FROM audit_records WHERE seq > ?", [7])
    raw(store, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", [7, entries[6].hash])
    assert verify(store, KEY).ok  # the database alone cannot tell
    report = verify(store, KEY, expect_head=anchor)
    assert (report.ok, report.problem, report.seq, report.checked) == (False, "head", 8, 7)
    assert "head row rewound" in report.message


def test_a_rewritten_keyless_chain_is_caught_only_by_the_anchor(store: Store) -> None:
    entries = fill(store, 5, key=None)
    anchor = (5, entries[-1].hash)
    prev = entries[1].hash
    for entry in entries[2:]:  # rewrite record 3 and re-chain everything after it, head row included
        fields = {**entry.to_json(), "actor": "mallory"}
        digest = link(prev, fields, None)
        raw(
            store,
            "UPDATE audit_records SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            ["mallory", prev, digest, entry.seq],
        )
        prev = digest
    raw(store, "UPDATE audit_head SET hash = ? WHERE id = 1", [prev])
    assert verify(store, None).ok
    report = verify(store, None, expect_head=anchor)
    assert (report.problem, report.seq) == ("head", 5)
    assert "rewritten after" in report.message


def test_a_head_row_out_of_step_is_caught(store: Store) -> None:
    entries = fill(store, N)
    raw(store, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", [N - 2, entries[N - 3].hash])
    report = verify(store, KEY)
    assert (report.problem, report.seq) == ("head", N - 1)
    raw(store, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", [N, "f" * 64])
    assert (verify(store, KEY).problem, verify(store, KEY).seq) == ("head", N)
    raw(store, "DELETE FROM audit_head")
    report = verify(store, KEY)
    assert (report.problem, report.seq) == ("head", None)
    assert "head row is missing" in report.message


def test_appending_after_a_lost_head_row_continues_the_chain(store: Store) -> None:
    fill(store, 3)
    raw(store, "DELETE FROM audit_head")
    with store.transaction(write=True) as db:
        added = append(db, [make_record(4)], KEY)
    assert added[0].seq == 4
    assert read_head(store) == (4, added[0].hash)
    assert verify(store, KEY).ok
    assert [e.seq for e in stored(store)] == [1, 2, 3, 4]
