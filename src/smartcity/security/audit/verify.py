"""Verification of the audit trail: walk the chain in seq order and say where and how it was tampered with.

The walk streams the records a page at a time (a trail of ten million records never sits in memory) and stops at
the first problem:

* ``removed``: a seq is missing (a record was deleted, the first one included);
* ``edited``: a record's fields no longer match its hash, or its hash was recomputed (its successor chained to
  another one);
* ``reordered``: a record neither matches its hash nor follows its predecessor: contents or seqs were swapped;
* ``truncated``: the head row says the trail is longer than it is (records removed at the end, or all of them);
* ``head``: the head row disagrees with the records, or the expected head (``expect_head``, an anchor kept outside
  the database) is missing or has another hash: the tail was removed and the head row rewound to hide it, or the
  trail was rewritten after the anchor was taken.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from smartcity.hub.store import Store
from smartcity.security.audit.chain import GENESIS, link, matches
from smartcity.security.audit.repository import iter_rows, read_head

PROBLEMS = ("edited", "removed", "reordered", "truncated", "head")
#: how far (in seqs) a misplaced record's true place is looked for, to name it in the message
_SEARCH = 16


@dataclass(frozen=True)
class VerifyReport:
    """The outcome: ``ok``, records ``checked``, the ``problem`` and the first bad ``seq``, and a ``message`` for
    people. ``head_seq`` and ``head_hash`` are the last record verified (the anchor to keep elsewhere)."""

    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None
    message: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS


class _Failed(Exception):
    def __init__(self, problem: str, seq: int | None, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.seq = seq
        self.message = message


def verify(
    store: Store,
    key: bytes | None,
    *,
    expect_head: tuple[int, str] | None = None,
    progress: Callable[[int], None] | None = None,
    page: int = 5000,
) -> VerifyReport:
    """Check the whole chain under ``key`` (None: SHA-256), the head row and, if given, the external anchor."""
    checked = 0
    last: tuple[int, str] = (0, GENESIS)
    try:
        head_before = read_head(store)
        for fields in iter_rows(store, page=page):
            _check_record(fields, last, key, first=checked == 0)
            seq, digest = fields["seq"], str(fields["hash"])
            if head_before is not None and seq == head_before[0] and digest != head_before[1]:
                raise _Failed(
                    "head",
                    seq,
                    f"the head row says record {seq} has hash {head_before[1]} but it has {digest}: record {seq} "
                    "was rewritten (its hash recomputed) or the head row was altered",
                )
            if expect_head is not None and seq == expect_head[0] and digest != expect_head[1]:
                raise _Failed(
                    "head",
                    seq,
                    f"record {seq} has hash {digest} but the expected head says {expect_head[1]}: the trail was "
                    "rewritten after that head was noted",
                )
            last = (seq, digest)
            checked += 1
            if progress is not None and checked % page == 0:
                progress(checked)
        _check_end(last, head_before, read_head(store), expect_head)
    except _Failed as failed:
        return VerifyReport(False, checked, failed.problem, failed.seq, failed.message, *last)
    if progress is not None:
        progress(checked)
    message = f"audit trail OK: {checked} records, head {last[0]} {last[1]}"
    return VerifyReport(True, checked, None, None, message, *last)


def _check_record(fields: Mapping[str, Any], last: tuple[int, str], key: bytes | None, *, first: bool) -> None:
    seq: int = fields["seq"]
    expected = last[0] + 1
    if seq != expected:
        if expected == 1:
            text = f"the trail starts at record {seq}" + (f" (records 1 to {seq - 1} were removed)" if seq > 2 else "")
        else:
            text = f"record {seq} follows record {last[0]}" + (
                f" (records {expected} to {seq - 1} were removed)" if seq - expected > 1 else " (it was removed)"
            )
        raise _Failed("removed", expected, f"record {expected} is missing: {text}")
    self_ok = matches(fields, key)
    linked = fields["prev_hash"] == last[1]
    if self_ok and linked:
        return
    if not self_ok and linked:
        hint = " (or the audit key is not the one the trail was written with)" if first else ""
        raise _Failed("edited", seq, f"record {seq} was edited: its fields no longer match its hash{hint}")
    if self_ok:  # a valid record that does not follow its predecessor
        if seq == 1:
            raise _Failed(
                "removed", 1, "record 1 does not start the chain: earlier records were removed and the rest renumbered"
            )
        raise _Failed(
            "edited",
            seq - 1,
            f"record {seq - 1} was rewritten: record {seq} chained to another hash for it (its hash was recomputed "
            "after the fact)",
        )
    home = _true_place(fields, key)
    where = f"it holds the contents of record {home}" if home is not None else "its contents belong elsewhere"
    raise _Failed(
        "reordered",
        seq,
        f"record {seq} is out of place: {where}; it neither matches its hash nor follows record {seq - 1} "
        "(records were swapped or moved)",
    )


def _true_place(fields: Mapping[str, Any], key: bytes | None) -> int | None:
    """The nearby seq under which a misplaced record's contents match its hash, if any."""
    seq: int = fields["seq"]
    for other in range(max(1, seq - _SEARCH), seq + _SEARCH + 1):
        if other != seq and link(str(fields["prev_hash"]), {**fields, "seq": other}, key) == fields["hash"]:
            return other
    return None


def _check_end(
    last: tuple[int, str],
    head_before: tuple[int, str] | None,
    head_after: tuple[int, str] | None,
    expect_head: tuple[int, str] | None,
) -> None:
    """The end of the walk against the head row (read before and after: appends may run meanwhile) and anchor."""
    end = last[0]
    if head_before is not None and head_before[0] > end:
        if end == 0:
            raise _Failed(
                "truncated",
                1,
                f"all {head_before[0]} records are missing: the head row says the trail has {head_before[0]} "
                "records but none are stored",
            )
        raise _Failed(
            "truncated",
            end + 1,
            f"records {end + 1} to {head_before[0]} are missing: the trail ends at record {end} but the head row "
            f"says {head_before[0]} (the tail was removed)",
        )
    if head_after is None and end > 0:
        raise _Failed("head", None, f"the head row is missing although the trail has {end} records")
    if head_after is not None and head_after[0] < end:
        raise _Failed(
            "head",
            head_after[0] + 1,
            f"the head row says the trail ends at record {head_after[0]} but records up to {end} exist: the head "
            "row was rewound or altered",
        )
    if expect_head is not None and expect_head[0] > end:
        raise _Failed(
            "head",
            end + 1,
            f"the expected head is record {expect_head[0]} but the trail ends at record {end}: records were "
            "removed and the head row rewound to hide it",
        )
