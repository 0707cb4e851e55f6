"""Background services of the running platform (retention, notification delivery, periodic jobs).

A pillar registers a service at start-up with :func:`register`; the application's lifespan starts every
service once the app is up and stops them, in reverse order, when it shuts down.
"""

from __future__ import annotations

import logging
from typing import Protocol

from fastapi import FastAPI

log = logging.getLogger(__name__)


class BackgroundService(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def register(app: FastAPI, service: BackgroundService) -> None:
    services: list[BackgroundService] = app.state.services
    services.append(service)


async def start_all(app: FastAPI) -> None:
    for service in app.state.services:
        log.debug("starting %s", service.name)
        await service.start()


async def stop_all(app: FastAPI) -> None:
    for service in reversed(app.state.services):
        try:
            await service.stop()
        except Exception:
            log.exception("stopping %s failed", service.name)
