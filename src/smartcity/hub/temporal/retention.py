"""Retention of the history: raw instances older than the horizon become roll-ups, one per period bucket.

With ``history_raw_days = N > 0``, the raw rows (``rollup IS NULL``) whose ``ts`` is older than the cutoff (now -
N days, rounded down to a bucket boundary so that no bucket is ever split) are replaced, per (tenant, entity,
attribute, datasetId) and bucket of ``history_rollup`` (buckets are aligned on the epoch, so PT1H buckets start
on the UTC hour and P1D buckets at UTC midnight):

* numeric instances (a value that is a JSON number) by one roll-up row: ``ts`` = bucket start, ``num`` = the average,
  ``rollup`` = the period, and ``doc`` a normal Property instance readable by the temporal API::

      {"type": "Property", "value": <average>, "observedAt": "<bucket start>", "unitCode": "<if any>",
       "datasetId": "<if not the default>",
       "https://smartcity.hcmc.gov.vn/ngsi-ld/rollup": {"type": "Property",
           "value": {"period": "PT1H", "count": 12, "min": 20.5, "max": 31.0}}}

  (the statistics are an expanded sub-property, so they compact to that IRI unless a context names it);
* other instances by the last instance of the bucket (latest ``ts``), kept as it is with ``rollup`` set.

Work is split in chunks of about ``chunk_rows`` raw rows of one attribute (whole buckets), each in its own short
transaction that writes the roll-ups and deletes what they replace together, so an interrupted run loses or
duplicates nothing and the next run carries on; API writes wait at most for one chunk. A raw row that arrives
later in a bucket already rolled up is merged into its roll-up (weighted by the count), so runs are idempotent
and roll-ups are never rolled up again. On PostgreSQL each chunk is one statement (data-modifying CTEs: one
snapshot, so a row inserted concurrently is either aggregated and deleted, or left for the next run); on SQLite
the store's single writer lock makes the chunk's statements atomic with respect to writers.

Instants before 1970 are not supported (buckets are computed with integer division).
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import isodate  # type: ignore[import-untyped]

from smartcity.hub.model import to_micros
from smartcity.hub.store import Store
from smartcity.hub.store.sql import Db

log = logging.getLogger(__name__)

ROLLUP_IRI = "https://smartcity.hcmc.gov.vn/ngsi-ld/rollup"
#: raw rows of one attribute rolled up per transaction, about (SQLite holds its one writer lock meanwhile:
#: 2,000 rows take some 50 ms there; PostgreSQL writers are not blocked by a chunk, so chunks are larger)
CHUNK_ROWS = {"sqlite": 2000, "postgresql": 10000}
DAY_US = 86_400_000_000

Key = tuple[int, str, str]
_COLS = "tenant_id, entity_id, name, dataset_id, ts, observed, created_at, modified_at, kind, num, doc, rollup"
_KEY = "tenant_id = ? AND entity_id = ? AND name = ?"
#: the members of the roll-up statistics an old roll-up contributes to a merge: (count, count for the sum, min, max)
_STATS = ("count", "count", "min", "max")


def period_micros(period: str) -> int:
    """An ISO 8601 duration of fixed length (PT1H, PT15M, P1D ...) in microseconds; ValueError otherwise."""
    try:
        parsed = isodate.parse_duration(period)
    except (isodate.ISO8601Error, ValueError) as exc:
        raise ValueError(f"history roll-up period {period!r} is not an ISO 8601 duration") from exc
    if not isinstance(parsed, timedelta):
        raise ValueError(f"history roll-up period {period!r} must have a fixed length (no months or years)")
    micros = int(parsed / timedelta(microseconds=1))
    if micros <= 0 or micros % 1_000_000:
        raise ValueError(f"history roll-up period {period!r} must be a positive whole number of seconds")
    return micros


def cutoff_for(now_us: int, raw_days: int, width: int) -> int:
    """The start of the bucket holding ``now - raw_days``: raw rows before it are rolled up."""
    horizon = now_us - raw_days * DAY_US
    return horizon // width * width


@dataclass
class RetentionReport:
    cutoff: int
    keys: int = 0
    chunks: int = 0
    raw_rows: int = 0
    rollups: int = 0
    seconds: float = 0.0
    complete: bool = True
    notes: list[str] = field(default_factory=list)


def run_retention(
    store: Store,
    *,
    raw_days: int,
    period: str,
    now_us: int | None = None,
    since_us: int | None = None,
    chunk_rows: int | None = None,
    stop: threading.Event | None = None,
    pause: float = 0.001,
) -> RetentionReport:
    """Roll up the raw history older than ``raw_days`` days (see the module notes).

    ``since_us``: look only at rows with ``ts >= since_us`` (the cutoff of the previous complete run; rows
    written later before it are merged by the next full run, ``since_us=None``). ``stop`` ends the run between
    two chunks (``complete`` is then False); ``pause`` seconds between chunks let waiting writers in."""
    started = time.monotonic()
    width = period_micros(period)
    now = now_us if now_us is not None else to_micros(datetime.now(UTC))
    cutoff = cutoff_for(now, raw_days, width)
    report = RetentionReport(cutoff=cutoff)
    if raw_days <= 0:
        return report
    chunk = _PgChunk(period, width) if store.dialect.name == "postgresql" else _SqliteChunk(period, width)
    low = since_us // width * width if since_us is not None else None
    per_chunk = chunk_rows if chunk_rows is not None else CHUNK_ROWS.get(store.dialect.name, 2000)
    key: Key | None = None
    while True:
        key = _next_key(store, key)
        if key is None:
            break
        report.keys += 1
        first = _first_raw(store, key, low, cutoff)
        while first is not None:
            if stop is not None and stop.is_set():
                report.complete = False
                report.seconds = time.monotonic() - started
                return report
            t0 = first // width * width
            t1 = _chunk_end(store, key, t0, cutoff, width, per_chunk)
            raw, rollups = chunk.run(store, key, t0, t1)
            report.chunks += 1
            report.raw_rows += raw
            report.rollups += rollups
            if pause:
                time.sleep(pause)
            first = _first_raw(store, key, t1, cutoff)
    report.seconds = time.monotonic() - started
    return report


# -- finding the work -------------------------------------------------------------------------------


def _next_key(store: Store, after: Key | None) -> Key | None:
    """The next (tenant, entity, attribute) of the history in index order: one index probe (a loose scan)."""
    with store.transaction(write=False) as db:
        if after is None:
            row = db.run(
                "SELECT tenant_id, entity_id, name FROM temporal_instances ORDER BY tenant_id, entity_id, name LIMIT 1"
            ).fetchone()
        else:
            row = db.run(
                "SELECT tenant_id, entity_id, name FROM temporal_instances "
                "WHERE (tenant_id, entity_id, name) > (?, ?, ?) ORDER BY tenant_id, entity_id, name LIMIT 1",
                list(after),
            ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]), str(row[2]))


def _first_raw(store: Store, key: Key, low: int | None, cutoff: int) -> int | None:
    with store.transaction(write=False) as db:
        row = db.run(
            f"SELECT ts FROM temporal_instances WHERE {_KEY} AND ts >= ? AND ts < ? AND rollup IS NULL "  # noqa: S608
            "ORDER BY ts LIMIT 1",
            [*key, low if low is not None else -(2**62), cutoff],
        ).fetchone()
    return None if row is None else int(row[0])


def _chunk_end(store: Store, key: Key, t0: int, cutoff: int, width: int, chunk_rows: int) -> int:
    """The end of a chunk from ``t0``: the bucket of about the ``chunk_rows``-th raw row (at least one bucket)."""
    with store.transaction(write=False) as db:
        row = db.run(
            f"SELECT ts FROM temporal_instances WHERE {_KEY} AND ts >= ? AND ts < ? AND rollup IS NULL "  # noqa: S608
            "ORDER BY ts LIMIT 1 OFFSET ?",
            [*key, t0, cutoff, chunk_rows],
        ).fetchone()
    if row is None:
        return cutoff
    return min(cutoff, max(int(row[0]) // width * width, t0 + width))


# -- one chunk ---------------------------------------------------------------------------------------


class _Chunk(ABC):
    """Rolls up the raw rows of one attribute in [t0, t1) (whole buckets) in one transaction."""

    #: the row is a numeric instance (a Property whose value is a JSON number; booleans are not)
    numeric = ""

    def __init__(self, period: str, width: int) -> None:
        self.period = period
        self.width = width

    def run(self, store: Store, key: Key, t0: int, t1: int) -> tuple[int, int]:
        """Returns (raw rows replaced, roll-up rows written or kept)."""
        with store.transaction(write=True) as db:
            raw, rollups = self._numeric(db, key, t0, t1)
            deleted, kept = self._others(db, key, t0, t1)
        return raw + deleted + kept, rollups + kept

    @abstractmethod
    def _numeric(self, db: Db, key: Key, t0: int, t1: int) -> tuple[int, int]:
        """Numeric rows to one roll-up per bucket (merged with earlier roll-ups): (raw replaced, roll-ups)."""

    @abstractmethod
    def _others(self, db: Db, key: Key, t0: int, t1: int) -> tuple[int, int]:
        """Other rows: keep the last one per bucket: (rows deleted, rows kept)."""

    def ranked(self) -> str:
        """The non-numeric rows (raw, or kept by an earlier run), ranked last first per dataset and bucket."""
        return (
            "SELECT id, rollup, row_number() OVER (PARTITION BY dataset_id, ts / ? ORDER BY ts DESC, id DESC) AS rn "  # noqa: S608
            f"FROM temporal_instances WHERE {_KEY} AND ts >= ? AND ts < ? AND NOT {self.numeric} "
            "AND (rollup IS NULL OR rollup = ?)"
        )


class _PgChunk(_Chunk):
    """One statement per kind of rows: data-modifying CTEs share one snapshot."""

    numeric = "(num IS NOT NULL AND jsonb_typeof(doc -> 'value') IS NOT DISTINCT FROM 'number')"

    def _numeric(self, db: Db, key: Key, t0: int, t1: int) -> tuple[int, int]:
        w = self.width
        stat = f"(doc #>> ARRAY['{ROLLUP_IRI}', 'value', ?::text])::float8"
        row = db.run(
            "WITH raw AS ("  # noqa: S608
            f"DELETE FROM temporal_instances WHERE {_KEY} AND ts >= ? AND ts < ? AND rollup IS NULL "
            f"AND {self.numeric} RETURNING dataset_id, ts / ? * ? AS b, 1::float8 AS n, num AS s, num AS lo, "
            "num AS hi, created_at, modified_at, doc ->> 'unitCode' AS unit), "
            "old AS ("
            f"DELETE FROM temporal_instances WHERE {_KEY} AND ts >= ? AND ts < ? AND rollup = ? "
            f"AND {self.numeric} AND (dataset_id, ts) IN (SELECT dataset_id, b FROM raw) "
            f"RETURNING dataset_id, ts AS b, {stat} AS n, num * {stat} AS s, {stat} AS lo, {stat} AS hi, "
            "created_at, modified_at, doc ->> 'unitCode' AS unit), "
            "parts AS (SELECT * FROM raw UNION ALL SELECT * FROM old), "
            "agg AS (SELECT dataset_id, b, sum(s) / sum(n) AS v, sum(n) AS n, min(lo) AS lo, max(hi) AS hi, "
            "min(created_at) AS c, max(modified_at) AS m, max(unit) AS unit FROM parts GROUP BY dataset_id, b), "
            f"ins AS (INSERT INTO temporal_instances ({_COLS}) "
            "SELECT ?, ?, ?, dataset_id, b, 1, c, m, 'Property', v, jsonb_strip_nulls(jsonb_build_object("
            "'type', 'Property', 'value', v, 'observedAt', "
            "to_char(to_timestamp(b / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '.000000Z', "
            "'unitCode', unit, 'datasetId', nullif(dataset_id, ''), "
            f"'{ROLLUP_IRI}', jsonb_build_object('type', 'Property', 'value', "
            "jsonb_build_object('period', ?::text, 'count', n::bigint, 'min', lo, 'max', hi)))), ? FROM agg "
            "RETURNING 1) "
            "SELECT (SELECT count(*) FROM raw), (SELECT count(*) FROM ins)",
            [*key, t0, t1, w, w, *key, t0, t1, self.period, *_STATS, *key, self.period, self.period],
        ).fetchone()
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    def _others(self, db: Db, key: Key, t0: int, t1: int) -> tuple[int, int]:
        row = db.run(
            f"WITH ranked AS ({self.ranked()}), "  # noqa: S608
            f"del AS (DELETE FROM temporal_instances WHERE {_KEY} AND ts >= ? AND ts < ? "
            "AND id IN (SELECT id FROM ranked WHERE rn > 1) RETURNING 1), "
            f"upd AS (UPDATE temporal_instances SET rollup = ? WHERE {_KEY} AND ts >= ? AND ts < ? "
            "AND id IN (SELECT id FROM ranked WHERE rn = 1 AND rollup IS NULL) RETURNING 1) "
            "SELECT (SELECT count(*) FROM del), (SELECT count(*) FROM upd)",
            [self.width, *key, t0, t1, self.period, *key, t0, t1, self.period, *key, t0, t1],
        ).fetchone()
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)


class _SqliteChunk(_Chunk):
    """Several statements: atomic because SQLite has one writer and the chunk holds its lock throughout."""

    numeric = "(num IS NOT NULL AND coalesce(json_type(doc, '$.value') IN ('integer', 'real'), 0))"

    def _numeric(self, db: Db, key: Key, t0: int, t1: int) -> tuple[int, int]:
        w = self.width
        raw_where = f"{_KEY} AND ts >= ? AND ts < ? AND rollup IS NULL AND {self.numeric}"
        raw_params = [*key, t0, t1]
        top = db.run("SELECT coalesce(max(id), 0) FROM temporal_instances").fetchone()
        max_id = int(top[0]) if top is not None else 0
        old_where = (  # the roll-ups of earlier runs in the buckets that got late raw rows
            f"{_KEY} AND ts >= ? AND ts < ? AND rollup = ? AND {self.numeric} AND id <= ? AND "  # noqa: S608
            f"(dataset_id, ts) IN (SELECT dataset_id, ts / ? * ? FROM temporal_instances WHERE {raw_where})"
        )
        old_params = [*key, t0, t1, self.period, max_id, w, w, *raw_params]
        path = f'$."{ROLLUP_IRI}".value.'
        inserted = db.run(
            f"INSERT INTO temporal_instances ({_COLS}) "  # noqa: S608
            "SELECT ?, ?, ?, dataset_id, b, 1, min(created_at), max(modified_at), 'Property', sum(s) / sum(n), "
            "json_patch(json_object('type', 'Property', 'value', sum(s) / sum(n), 'observedAt', "
            "strftime('%Y-%m-%dT%H:%M:%S', b / 1000000, 'unixepoch') || '.000000Z', "
            "?, json_object('type', 'Property', 'value', json_object('period', ?, 'count', CAST(sum(n) AS INTEGER), "
            "'min', min(lo), 'max', max(hi)))), "
            "json_object('unitCode', max(unit), 'datasetId', nullif(dataset_id, ''))), ? "
            "FROM ("
            "SELECT dataset_id, ts / ? * ? AS b, 1.0 AS n, num AS s, num AS lo, num AS hi, created_at, modified_at, "
            f"json_extract(doc, '$.unitCode') AS unit FROM temporal_instances WHERE {raw_where} "
            "UNION ALL "
            "SELECT dataset_id, ts, json_extract(doc, ?), num * json_extract(doc, ?), json_extract(doc, ?), "
            "json_extract(doc, ?), created_at, modified_at, json_extract(doc, '$.unitCode') "
            f"FROM temporal_instances WHERE {old_where}) GROUP BY dataset_id, b",
            [*key, ROLLUP_IRI, self.period, self.period, w, w, *raw_params, *(path + s for s in _STATS), *old_params],
        )
        rollups = max(0, getattr(inserted, "rowcount", 0))
        db.run(f"DELETE FROM temporal_instances WHERE {old_where}", old_params)  # noqa: S608
        gone = db.run(f"DELETE FROM temporal_instances WHERE {raw_where}", raw_params)  # noqa: S608
        return max(0, getattr(gone, "rowcount", 0)), rollups

    def _others(self, db: Db, key: Key, t0: int, t1: int) -> tuple[int, int]:
        deleted = db.run(
            f"DELETE FROM temporal_instances WHERE id IN (SELECT id FROM ({self.ranked()}) WHERE rn > 1)",  # noqa: S608
            [self.width, *key, t0, t1, self.period],
        )
        kept = db.run(
            f"UPDATE temporal_instances SET rollup = ? WHERE {_KEY} AND ts >= ? AND ts < ? "  # noqa: S608
            f"AND NOT {self.numeric} AND rollup IS NULL",
            [self.period, *key, t0, t1],
        )
        return max(0, getattr(deleted, "rowcount", 0)), max(0, getattr(kept, "rowcount", 0))
