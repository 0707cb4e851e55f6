"""A publication run: the rows built from the hub (privacy first), the dataset and its resource created or updated
in the catalogue, the rows written to the datastore (replaced for the current state, upserted by entity or group
and period for a history), the run recorded with its outcome.

Runs of one publication never overlap (a run already under way is reported, not waited for); a failing run is
recorded with its error and tried again later, and never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from smartcity.hub.jsonld import ResolvedContext
from smartcity.hub.model import format_time
from smartcity.hub.service import Hub
from smartcity.hub.store import Store, StoreConflict
from smartcity.hub.temporal.service import TemporalService
from smartcity.opendata.contracts import NotFound, OpenDataError
from smartcity.opendata.publish import build
from smartcity.opendata.publish.dataset import Coverage, find_resource, package_dict, resource_dict
from smartcity.opendata.publish.definition import Publication
from smartcity.opendata.publish.privacy import bbox, history_window
from smartcity.opendata.publish.reading import HubReader, Terms, resolve
from smartcity.opendata.publish.rows import Spool, fields_of, iso
from smartcity.opendata.publish.runs import SUCCEEDED, Run, RunLog, State
from smartcity.opendata.runtime import OpenDataRuntime

log = logging.getLogger(__name__)

#: a failed run, or one that found nothing to publish, is tried again this soon (or on schedule when sooner)
RETRY = timedelta(minutes=5)
#: a run still recorded as running after this long was left by a process that stopped
STALE = timedelta(minutes=30)
#: the catalogue user of scheduled runs (the audit trail names it)
PUBLISHER_USER = "smartcity-publisher"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class RunInProgress(Exception):
    """The publication is being published already."""


class UnknownPublication(KeyError):
    pass


@dataclass(frozen=True)
class Outcome:
    publication_id: str
    run_id: int
    rows: int | None
    error: str | None


class Publisher:
    """The publications of one portal (one hub tenant) and their runs."""

    def __init__(
        self,
        publications: Sequence[Publication],
        *,
        store: Store,
        hub: Hub,
        temporal: TemporalService,
        context: ResolvedContext,
        runtime: OpenDataRuntime,
        public_url: str = "",
        clock: Clock = utc_now,
    ) -> None:
        self.publications: dict[str, Publication] = {p.id: p for p in publications}
        self.terms: dict[str, Terms] = {p.id: resolve(p, context) for p in publications}
        self.runtime = runtime
        self.reader = HubReader(hub, temporal, runtime.tenant)
        self.log = RunLog(store, runtime.tenant)
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self._locks = {p.id: threading.Lock() for p in publications}

    # -- reading ----------------------------------------------------------------------------------------

    def get(self, publication_id: str) -> Publication:
        found = self.publications.get(publication_id)
        if found is None:
            raise UnknownPublication(publication_id)
        return found

    def listing(self) -> list[dict[str, Any]]:
        """Every publication with its dataset, resource and last run."""
        last = self.log.last_runs()
        out = []
        for pub in self.publications.values():
            state = self.log.state(pub.id)
            run = last.get(pub.id)
            out.append(
                {
                    "id": pub.id,
                    "title": {"vi": pub.dataset.title.vi, "en": pub.dataset.title.en},
                    "mode": pub.mode,
                    "source": {"type": pub.source.type, "q": pub.source.q},
                    "schedule": _duration(pub.schedule),
                    "modelled": pub.modelled,
                    "dataset": pub.id,
                    "dataset_id": state.dataset_id,
                    "resource_id": state.resource_id,
                    "published_until": format_time(state.published_until) if state.published_until else None,
                    "running": self._locks[pub.id].locked(),
                    "last_run": run.view() if run is not None else None,
                }
            )
        return out

    def due(self, now: datetime) -> list[str]:
        """The publications whose next run is due: never run, on schedule, or soon again after a failure or a
        run that found nothing to publish."""
        last = self.log.last_runs()
        out = []
        for pub in self.publications.values():
            run = last.get(pub.id)
            if run is None:
                out.append(pub.id)
                continue
            wait = pub.schedule if _fruitful(run) else min(pub.schedule, RETRY)
            if now >= run.started_at + wait:
                out.append(pub.id)
        return out

    # -- running ----------------------------------------------------------------------------------------

    def run(self, publication_id: str, *, cause: str = "schedule", user: str = PUBLISHER_USER) -> Outcome:
        """Publish now; RunInProgress when a run of the same publication is under way."""
        pub = self.get(publication_id)
        lock = self._locks[pub.id]
        if not lock.acquire(blocking=False):
            raise RunInProgress(publication_id)
        try:
            started = self.clock()
            try:
                run_id = self.log.start(pub.id, cause, started)
            except StoreConflict as exc:  # another process runs it
                raise RunInProgress(publication_id) from exc
            began = time.monotonic()
            log.info("publication %s: run %d started (%s)", pub.id, run_id, cause)
            try:
                rows = self._publish(pub, started, user)
            except Exception as exc:  # a failing run is recorded and retried; it never stops the others
                error = _message(exc)
                log.warning("publication %s: run %d failed: %s", pub.id, run_id, error, exc_info=True)
                self.log.finish(run_id, self.clock(), error=error)
                return Outcome(pub.id, run_id, None, error)
            self.log.finish(run_id, self.clock(), rows=rows)
            log.info("publication %s: run %d wrote %d rows in %.1f s", pub.id, run_id, rows, time.monotonic() - began)
            return Outcome(pub.id, run_id, rows, None)
        finally:
            lock.release()

    def run_due(self, *, stop: threading.Event | None = None) -> list[Outcome]:
        """Run every publication that is due, one after the other (runs left running long ago are failed
        first: their process stopped)."""
        now = self.clock()
        abandoned = self.log.abandon_running(now - STALE, now)
        if abandoned:
            log.warning("%d publication run(s) left running by a stopped process were marked failed", abandoned)
        out = []
        for publication_id in self.due(now):
            if stop is not None and stop.is_set():
                break
            try:
                out.append(self.run(publication_id))
            except RunInProgress:
                log.info("publication %s: already being published, skipped this round", publication_id)
        return out

    def _publish(self, pub: Publication, now: datetime, user: str) -> int:
        catalogue, datastore = self.runtime.catalogue, self.runtime.datastore
        if catalogue is None or datastore is None:
            raise RuntimeError("the portal's catalogue and datastore are not installed")
        state = self.log.state(pub.id)
        terms = self.terms[pub.id]
        with Spool(pub) as spool:
            until: datetime | None = None
            if pub.mode == "current":
                build.current_rows(pub, terms, self.reader, spool)
            else:
                assert pub.history is not None
                start, until = history_window(now, pub.history, pub.privacy, state.published_until)
                if start < until:
                    build.history_rows(pub, terms, self.reader, spool, start, until)
                log.info("publication %s: %d rows for %s to %s", pub.id, spool.count, iso(start), iso(until))
            if spool.count == 0 and state.dataset_id is None:
                log.info("publication %s: nothing to publish yet; no dataset is created", pub.id)
                return 0
            dataset_id, resource_id, others = self._ensure_dataset(pub, state, user)
            datastore.create(resource_id, fields_of(pub), primary_key=pub.key, indexes=pub.key[1:])
            if pub.mode == "current":
                written = int(datastore.replace(resource_id, spool.rows()))
            else:
                written = int(datastore.upsert(resource_id, spool.rows(), method="upsert"))
            coverage = self._coverage(pub, state, spool)
            spool_end = spool.last_period_end
        download = f"{self.public_url}/datastore/dump/{resource_id}?format=csv"
        package = package_dict(
            pub,
            dataset_id=dataset_id,
            resource=resource_dict(pub, resource_id, download),
            others=others,
            coverage=coverage,
        )
        catalogue.update_dataset(package, user=user)
        self.log.save_state(
            replace(
                state,
                dataset_id=dataset_id,
                resource_id=resource_id,
                published_until=_latest(spool_end, state.published_until),
                temporal_start=coverage.temporal_start,
                temporal_end=coverage.temporal_end,
            ),
            self.clock(),
        )
        return written

    def _ensure_dataset(self, pub: Publication, state: State, user: str) -> tuple[str, str, list[dict[str, Any]]]:
        """The dataset's id, the publication's resource id and the dataset's other resources; the dataset is
        created (or its resource added) when missing."""
        catalogue = self.runtime.catalogue
        try:
            existing: Mapping[str, Any] | None = catalogue.show_dataset(pub.id, include_private=True)
        except NotFound:
            existing = None
        if existing is None:
            created = catalogue.create_dataset(package_dict(pub, resource=resource_dict(pub, None, None)), user=user)
            found = find_resource(created, pub, None)
            if found is None:
                raise RuntimeError(f"the catalogue created dataset {pub.id} without its resource")
            return str(created["id"]), str(found["id"]), _others(created, found)
        found = find_resource(existing, pub, state.resource_id)
        if found is None or existing.get("state") == "deleted":
            others = [r for r in existing.get("resources") or [] if r is not found]
            package = package_dict(
                pub, dataset_id=str(existing["id"]), resource=resource_dict(pub, None, None), others=others
            )
            updated = catalogue.update_dataset(package, user=user)
            found = find_resource(updated, pub, None)
            if found is None:
                raise RuntimeError(f"the catalogue did not keep the resource of dataset {pub.id}")
            return str(updated["id"]), str(found["id"]), _others(updated, found)
        return str(existing["id"]), str(found["id"]), _others(existing, found)

    def _coverage(self, pub: Publication, state: State, spool: Spool) -> Coverage:
        """The data's temporal and spatial coverage; a history's time range grows over its runs."""
        first, last = spool.extent.first, spool.extent.last
        if pub.mode == "history":
            first = _least(first, state.temporal_start)
            last = _most(last, state.temporal_end)
        box = pub.dataset.spatial or spool.extent.box()
        return Coverage(first, last, bbox(box, pub.privacy.round_coordinates))


def _others(dataset: Mapping[str, Any], ours: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [r for r in dataset.get("resources") or [] if isinstance(r, dict) and r.get("id") != ours.get("id")]


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _least(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else min(a, b)


def _most(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else max(a, b)


def _fruitful(run: Run) -> bool:
    return run.status == SUCCEEDED and bool(run.rows)


def _message(exc: Exception) -> str:
    if isinstance(exc, OpenDataError):
        details = "; ".join(f"{field}: {', '.join(map(str, why))}" for field, why in exc.errors.items())
        return f"{exc.message} ({details})" if details else exc.message
    text = str(exc).strip()
    return text or exc.__class__.__name__


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "" if days else "T0S")
