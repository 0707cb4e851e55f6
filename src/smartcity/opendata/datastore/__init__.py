"""The datastore: one SQL table per queryable resource, in the platform's database (SQLite or PostgreSQL).

* :mod:`.store` (:class:`TableStore`, migration 0020): resource tables, ``datastore_search``,
  ``datastore_search_sql``, ``datastore_info``; :mod:`.engines`: what differs between the engines (DDL, full
  text, bulk loads, the read-only connection of free SQL); :mod:`.sqlguard`: the check and rewrite of free SQL;
* :mod:`.fields`: column names and types; :mod:`.sqltext`: identifiers quoted in one place;
* :mod:`.params`: CKAN's parameters (the actions are in ``opendata/ckan/datastore_actions.py``);
* :mod:`.api` and :mod:`.dump`: streamed downloads at ``/datastore/dump/{resource_id}``.

See docs/opendata.md, section "Datastore and downloads".
"""

from __future__ import annotations

from fastapi import FastAPI

from smartcity.opendata.datastore.store import TableStore
from smartcity.web import background
from smartcity.web import errors as web_errors

PREFIX = "/datastore/"


def install(app: FastAPI) -> None:
    """Fill ``app.state.opendata.datastore`` and mount the downloads (after the catalogue, before the CKAN API)."""
    from smartcity.opendata.ckan.envelope import platform_error
    from smartcity.opendata.datastore import api

    settings = app.state.settings
    runtime = app.state.opendata
    runtime.datastore = TableStore(
        app.state.store,
        runtime.tenant,
        sql_timeout=settings.datastore_sql_timeout,
        sql_max_rows=settings.datastore_sql_max_rows,
    )
    if not any(prefix == PREFIX for prefix, _ in web_errors.FAMILIES):
        web_errors.FAMILIES.insert(0, (PREFIX, platform_error))  # CKAN's envelope, as the Action API's errors
    app.include_router(api.router())
    background.register(app, _Closer(runtime.datastore))


class _Closer:
    """Closes the datastore's own connections when the app stops (the platform's store closes after it)."""

    name = "datastore connections"

    def __init__(self, datastore: TableStore) -> None:
        self.datastore = datastore

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.datastore.engine.close()
