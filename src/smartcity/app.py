"""The application factory: one FastAPI app mounting every pillar's routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from fastapi import Depends, FastAPI

from smartcity import __version__, ioc, iot, opendata
from smartcity.hub import api as hub_api
from smartcity.hub import notify, subscriptions, temporal
from smartcity.hub.jsonld import ContextRegistry
from smartcity.hub.service import Hub
from smartcity.hub.store import Store, open_store
from smartcity.security.gate import authorize
from smartcity.security.install import check as check_policy
from smartcity.security.install import install as install_security
from smartcity.settings import Settings
from smartcity.web import background, errors

log = logging.getLogger(__name__)

HOSTED_SUFFIX = "/ngsi-ld/v1/jsonldContexts/"


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """Build the platform. A given ``store`` is used as is (and not closed by the app)."""
    settings = settings or Settings.from_env()
    owns_store = store is None
    the_store = store if store is not None else open_store(settings.database_url)

    def hosted(url: str) -> object | None:
        if HOSTED_SUFFIX not in url:
            return None
        found = the_store.get_context(url.rsplit("/", 1)[-1])
        if found is None:
            return None
        document: object = orjson.loads(found.body)
        return document

    registry = ContextRegistry(fetch_timeout=settings.context_timeout, hosted=hosted)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("smartcity %s serving with %s", __version__, the_store.dialect.name)
        await background.start_all(app)
        try:
            yield
        finally:
            await background.stop_all(app)
            if owns_store:
                the_store.close()

    app = FastAPI(
        title="smartcity: Ho Chi Minh City smart-city platform",
        version=__version__,
        description="The city's shared data hub (NGSI-LD context broker, ETSI GS CIM 009 v1.8) and its services.",
        lifespan=lifespan,
        dependencies=[Depends(authorize)],
    )
    app.state.settings = settings
    app.state.store = the_store
    app.state.contexts = registry
    app.state.hub = Hub(the_store)
    app.state.inline_hub = the_store.dialect.name == "sqlite"
    app.state.services = []
    errors.install(app)
    install_security(app, settings, the_store)
    app.include_router(hub_api.router())
    # the pillars that follow every change: history, subscriptions, then the delivery of their notifications
    temporal.install(app)
    subscriptions.install(app)
    notify.install(app)
    iot.install(app)  # the IoT agent: devices in, through the hub (after history: air-quality indices)
    ioc.install(app)  # the operations centre: rules on the change feed, alerts, incidents, reports, dashboard
    opendata.install(app)  # the open data portal: catalogue, CKAN API, datastore, publications, DCAT-AP, /data

    @app.get("/health", name="health", tags=["platform"], summary="Liveness and version")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__, "database": the_store.dialect.name}

    check_policy(app)
    return app
