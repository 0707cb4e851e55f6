"""The schedule: the background service runs what is due, one publication at a time, and survives failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from fastapi import FastAPI

from smartcity.opendata.publish.publisher import STALE, RunInProgress
from smartcity.opendata.publish.service import PublicationService
from tests.opendata.publish.support import NOW, car_park, catalogue_of, publisher_of


def _rounds(service: PublicationService, count: int) -> None:
    async def go() -> None:
        await service.start()
        try:
            for _ in range(2000):
                if service.rounds >= count:
                    return
                await asyncio.sleep(0.01)
            raise AssertionError("the service did not run its rounds")
        finally:
            await service.stop()

    asyncio.run(go())


def test_the_service_runs_due_publications_and_survives_failures(app: FastAPI) -> None:
    publisher = publisher_of(app)
    car_park(app, "a", 40, NOW - timedelta(minutes=1))
    catalogue_of(app).fail_with = RuntimeError("catalogue down")
    service = PublicationService(publisher, tick=0.01, first_after=0.0)
    _rounds(service, 1)
    last = publisher.log.last_runs()
    assert set(last) == set(publisher.publications)  # every publication was due once
    assert last["car-parks-now"].status == "failed" and last["car-parks-now"].error == "catalogue down"
    assert last["wards"].status == "succeeded" and last["wards"].rows == 0  # nothing to publish, no dataset

    catalogue_of(app).fail_with = None
    publisher.clock = lambda: NOW + timedelta(minutes=5)  # the retry is due, the rest is not
    _rounds(PublicationService(publisher, tick=0.01, first_after=0.0), 1)
    runs = publisher.log.runs("car-parks-now")
    assert [r.status for r in runs] == ["succeeded", "failed"]
    assert len(publisher.log.runs("bus-routes")) == 2  # nothing published before: retried too
    assert len(publisher.log.runs("air-quality-hourly")) == 2


def test_a_run_under_way_in_another_process_is_not_doubled_and_a_stale_one_is_failed(app: FastAPI) -> None:
    publisher = publisher_of(app)
    publisher.log.start("wards", "schedule", NOW - timedelta(minutes=10))  # another process is publishing it
    with pytest.raises(RunInProgress):
        publisher.run("wards")
    publisher.run_due()
    assert [r.status for r in publisher.log.runs("wards")] == ["running"]
    publisher.clock = lambda: NOW + STALE  # that process stopped long ago
    publisher.run_due()
    runs = publisher.log.runs("wards")
    assert [r.status for r in runs] == ["succeeded", "failed"]
    assert runs[-1].error == "the process stopped during the run"


def test_runs_left_running_when_the_service_starts_are_marked_failed(app: FastAPI) -> None:
    publisher = publisher_of(app)
    publisher.log.start("wards", "schedule", NOW - timedelta(minutes=10))  # its predecessor process stopped
    _rounds(PublicationService(publisher, tick=0.01, first_after=0.0), 1)
    runs = publisher.log.runs("wards")
    assert [r.status for r in runs] == ["succeeded", "failed"]
    assert runs[-1].error == "the process stopped during the run"


def test_the_service_stops_promptly_between_rounds(app: FastAPI) -> None:
    service = PublicationService(publisher_of(app), tick=3600.0, first_after=3600.0)

    async def go() -> None:
        await service.start()
        await asyncio.sleep(0)
        await asyncio.wait_for(service.stop(), 5.0)  # its long sleep is interrupted

    asyncio.run(go())
    assert service.rounds == 0 and publisher_of(app).log.last_runs() == {}
