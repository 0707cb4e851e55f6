"""Pagination of temporal instances (ETSI GS CIM 009 clause 6.3.10).

The broker returns at most :data:`~smartcity.hub.temporal.query.MAX_INSTANCES_PER_ATTRIBUTE` instances of
one attribute. When an attribute has more in the window, the answer is *206 Partial Content*: every attribute
is cut at the same instant and the header ``Content-Range: date-time <start>-<end>/*`` names the part of the
window the answer covers, so the client asks again from ``<end>`` for the rest.

* oldest first (no ``lastN``): ``start`` is ``timeAt`` (``after``, ``between``) or the earliest instance,
  ``end`` the last instant every attribute is complete up to;
* with ``lastN`` larger than the limit, newest first: ``start`` is ``timeAt`` (``before``), ``endTimeAt``
  (``between``) or the latest instance, ``end`` the earliest instant every attribute is complete down to.

With ``lastN`` at most the limit the answer is never partial.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smartcity.hub.model import micros_to_iso
from smartcity.hub.temporal.query import TemporalQuery
from smartcity.hub.temporal.reader import Record


@dataclass(frozen=True)
class Range:
    start: int
    end: int

    def header(self) -> str:
        return f"date-time {micros_to_iso(self.start)}-{micros_to_iso(self.end)}/*"


def plan(tq: TemporalQuery) -> tuple[int, bool, bool]:
    """(rows to fetch per attribute, newest first, may be partial)."""
    limit = tq.instance_limit
    if tq.last_n is not None:
        if tq.last_n <= limit:
            return tq.last_n, True, False
        return limit + 1, True, True
    return limit + 1, False, True


def paginate(records: Sequence[Record], tq: TemporalQuery) -> tuple[list[Record], Range | None]:
    """The records to answer with (oldest first within each attribute) and the range, when partial."""
    _, newest, may_be_partial = plan(tq)
    groups: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        groups.setdefault((record.entity_id, record.name), []).append(record)
    limit = tq.instance_limit
    full = [g for g in groups.values() if len(g) > limit]
    if not may_be_partial or not full:
        return list(records), None
    window = tq.window
    if not newest:
        # each full group: complete up to (excluding) its first instance left out
        cuts = [g[limit].time for g in full]
        cut = min(cuts)
        kept = [r for r in records if r.time < cut]
        end = max((r.time for r in kept), default=cut)
        start = window.time_at if window.timerel in ("after", "between") and window.time_at is not None else None
        if start is None:
            start = min(g[0].time for g in full)
        return kept, Range(start, end)
    # newest first: each group is sorted oldest first and holds limit + 1 of the latest instances
    cuts = [g[0].time for g in full]  # the first instance left out of each full group
    cut = max(cuts)
    kept = [r for r in records if r.time > cut]
    end = min((r.time for r in kept), default=cut)
    if window.timerel == "before" and window.time_at is not None:
        start = window.time_at
    elif window.timerel == "between" and window.end_time_at is not None:
        start = window.end_time_at
    else:
        start = max(g[-1].time for g in full)
    return kept, Range(start, end)
