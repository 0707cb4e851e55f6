"""The operations centre's parts in a running app (``app.state.ioc``), for routes and services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from smartcity.ioc.events import EventHub
from smartcity.security.errors import Forbidden
from smartcity.security.runtime import principal_of


@dataclass
class IocRuntime:
    events: EventHub
    tenant: str  # the hub tenant the operations centre watches ('' is the default tenant)
    alerts: Any = None  # smartcity.ioc.alerts: implements contracts.AlertSink and contracts.AlertsView
    rules: Any = None  # smartcity.ioc.rules
    incidents: Any = None  # smartcity.ioc.incidents: implements contracts.IncidentDesk
    open311: Any = None  # smartcity.ioc.open311


def runtime_of(request: Request) -> IocRuntime:
    runtime: IocRuntime = request.app.state.ioc
    return runtime


async def watched_tenant_access(request: Request) -> None:
    """The operators' routes: the caller's credential must cover the hub tenant the operations centre watches.

    The platform's policy decides who may call a route by role; an account bound to other hub tenants holds the
    role for those tenants only, so it sees none of this tenant's alerts, incidents, rules or live data.
    """
    tenants = principal_of(request).tenants
    if tenants is not None and runtime_of(request).tenant not in tenants:
        raise Forbidden("this credential does not cover the hub tenant of the operations centre")
