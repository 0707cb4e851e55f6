"""The operations centre's parts in a running app (``app.state.ioc``), for routes and services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from smartcity.ioc.events import EventHub


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
