"""Where publications keep their state and their runs, in the platform's database (migration 0021).

A :class:`RunLog` is bound to one hub tenant: every query it runs is scoped by that tenant's id. A publication's
state says where its dataset and datastore resource are in the catalogue and how far its history was published;
every run (scheduled or asked for) is recorded when it starts and when it ends, with its rows or its error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smartcity.hub.model import format_time, parse_time
from smartcity.hub.store import Store
from smartcity.hub.store.changes import WriteContext

#: the longest error text kept for a run
MAX_ERROR = 2000
RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"


@dataclass(frozen=True)
class State:
    publication_id: str
    dataset_id: str | None = None
    resource_id: str | None = None
    published_until: datetime | None = None  # history: the end of the last period published
    temporal_start: str | None = None  # the dataset's temporal coverage so far (ISO 8601)
    temporal_end: str | None = None


@dataclass(frozen=True)
class Run:
    id: int
    publication_id: str
    cause: str  # schedule | manual
    started_at: datetime
    finished_at: datetime | None
    status: str  # running | succeeded | failed
    rows: int | None
    error: str | None

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cause": self.cause,
            "started": format_time(self.started_at),
            "finished": format_time(self.finished_at) if self.finished_at is not None else None,
            "status": self.status,
            "rows": self.rows,
            "error": self.error,
        }


def _time(text: Any) -> datetime | None:
    return parse_time(text) if isinstance(text, str) else None


def _run(row: Any) -> Run:
    started = _time(row[3])
    assert started is not None
    return Run(int(row[0]), row[1], row[2], started, _time(row[4]), row[5], row[6], row[7])


_RUN_COLUMNS = "id, publication_id, cause, started_at, finished_at, status, row_count, error"


class RunLog:
    """The publications' state and runs of one tenant."""

    def __init__(self, store: Store, tenant: str) -> None:
        self._store = store
        self._tenant = tenant

    def _write(self) -> Any:
        return self._store.tenant(self._tenant, create=True).transaction()

    def _read(self) -> Any:
        return self._store.tenant(self._tenant, create=True).snapshot()

    # -- state ------------------------------------------------------------------------------------------

    def state(self, publication_id: str) -> State:
        ctx: WriteContext
        with self._read() as ctx:
            row = ctx.db.run(
                "SELECT dataset_id, resource_id, published_until, temporal_start, temporal_end "
                "FROM opendata_publications WHERE tenant_id = ? AND publication_id = ?",
                [ctx.tenant_id, publication_id],
            ).fetchone()
        if row is None:
            return State(publication_id)
        return State(publication_id, row[0], row[1], _time(row[2]), row[3], row[4])

    def save_state(self, state: State, at: datetime) -> None:
        until = format_time(state.published_until) if state.published_until is not None else None
        now = format_time(at)
        values = [state.dataset_id, state.resource_id, until, state.temporal_start, state.temporal_end, now]
        ctx: WriteContext
        with self._write() as ctx:
            found = ctx.db.run(
                "SELECT 1 FROM opendata_publications WHERE tenant_id = ? AND publication_id = ?",
                [ctx.tenant_id, state.publication_id],
            ).fetchone()
            if found is None:
                ctx.db.run(
                    "INSERT INTO opendata_publications (dataset_id, resource_id, published_until, temporal_start, "
                    "temporal_end, updated_at, tenant_id, publication_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [*values, ctx.tenant_id, state.publication_id],
                )
            else:
                ctx.db.run(
                    "UPDATE opendata_publications SET dataset_id = ?, resource_id = ?, published_until = ?, "
                    "temporal_start = ?, temporal_end = ?, updated_at = ? WHERE tenant_id = ? AND publication_id = ?",
                    [*values, ctx.tenant_id, state.publication_id],
                )

    # -- runs -------------------------------------------------------------------------------------------

    def start(self, publication_id: str, cause: str, at: datetime) -> int:
        """Record a run as running; StoreConflict when the publication has a run under way (in any process)."""
        ctx: WriteContext
        with self._write() as ctx:
            row = ctx.db.run(
                "INSERT INTO opendata_publication_runs (tenant_id, publication_id, cause, started_at, status) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                [ctx.tenant_id, publication_id, cause, format_time(at), RUNNING],
            ).fetchone()
        return int(row[0])

    def finish(self, run_id: int, at: datetime, *, rows: int | None = None, error: str | None = None) -> None:
        status = FAILED if error is not None else SUCCEEDED
        ctx: WriteContext
        with self._write() as ctx:
            ctx.db.run(
                "UPDATE opendata_publication_runs SET finished_at = ?, status = ?, row_count = ?, error = ? "
                "WHERE tenant_id = ? AND id = ?",
                [format_time(at), status, rows, error[:MAX_ERROR] if error else None, ctx.tenant_id, run_id],
            )

    def abandon_running(self, started_before: datetime, at: datetime) -> int:
        """Mark runs still 'running' that started before ``started_before`` as failed (their process stopped);
        returns how many."""
        ctx: WriteContext
        with self._write() as ctx:
            rows = ctx.db.run(
                "SELECT id FROM opendata_publication_runs WHERE tenant_id = ? AND status = ? AND started_at < ?",
                [ctx.tenant_id, RUNNING, format_time(started_before)],
            ).fetchall()
            for row in rows:
                ctx.db.run(
                    "UPDATE opendata_publication_runs SET finished_at = ?, status = ?, error = ? "
                    "WHERE tenant_id = ? AND id = ?",
                    [format_time(at), FAILED, "the process stopped during the run", ctx.tenant_id, row[0]],
                )
        return len(rows)

    def last_runs(self) -> dict[str, Run]:
        """The latest run of each publication."""
        ctx: WriteContext
        with self._read() as ctx:
            rows = ctx.db.run(
                f"SELECT {_RUN_COLUMNS} FROM opendata_publication_runs r WHERE tenant_id = ? AND id = "  # noqa: S608
                "(SELECT MAX(id) FROM opendata_publication_runs s WHERE s.tenant_id = r.tenant_id "
                "AND s.publication_id = r.publication_id)",
                [ctx.tenant_id],
            ).fetchall()
        return {r[1]: _run(r) for r in rows}

    def last_success(self) -> dict[str, datetime]:
        """When each publication last succeeded (its run's start)."""
        ctx: WriteContext
        with self._read() as ctx:
            rows = ctx.db.run(
                "SELECT publication_id, MAX(started_at) FROM opendata_publication_runs "
                "WHERE tenant_id = ? AND status = ? GROUP BY publication_id",
                [ctx.tenant_id, SUCCEEDED],
            ).fetchall()
        out: dict[str, datetime] = {}
        for publication_id, started in rows:
            moment = _time(started)
            if moment is not None:
                out[publication_id] = moment
        return out

    def runs(self, publication_id: str, limit: int = 20) -> list[Run]:
        ctx: WriteContext
        with self._read() as ctx:
            rows = ctx.db.run(
                f"SELECT {_RUN_COLUMNS} FROM opendata_publication_runs "  # noqa: S608
                "WHERE tenant_id = ? AND publication_id = ? ORDER BY id DESC LIMIT ?",
                [ctx.tenant_id, publication_id, limit],
            ).fetchall()
        return [_run(r) for r in rows]
