"""The open data portal's parts in a running app (``app.state.opendata``), for routes and services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection


@dataclass
class OpenDataRuntime:
    tenant: str  # the hub tenant the portal publishes from ('' is the default tenant)
    catalogue: Any = None  # implements contracts.Catalogue (smartcity.opendata.catalogue)
    datastore: Any = None  # implements contracts.Datastore (smartcity.opendata.datastore)
    publisher: Any = None  # smartcity.opendata.publish: the publication definitions and their runs


def runtime_of(conn: HTTPConnection) -> OpenDataRuntime:
    runtime: OpenDataRuntime = conn.app.state.opendata
    return runtime
