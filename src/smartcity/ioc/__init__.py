"""The Intelligent Operations Centre: rules, alerts, incidents by department, citizen reports, the live dashboard.

* :mod:`.rules`: rules as data (API and YAML), evaluated as the hub's committed changes stream in
  (:mod:`smartcity.hub.feed`) and by timers; back-tests against history;
* :mod:`.alerts`: one active alert per (rule, entity), acknowledgement, clearing, silences, escalation,
  notification channels, and an NGSI-LD ``Alert`` entity in the hub for each alert;
* :mod:`.incidents`: incidents owned by departments, SOP checklists, SLA deadlines, timelines;
* :mod:`.open311`: citizen reports (Open311 GeoReport v2), routed by category and ward;
* :mod:`.dashboard`: the live map dashboard at ``/`` (Vietnamese and English), KPIs and the live event stream.

The parts talk through :mod:`.contracts` (signals from rules to alerts, incident requests) and publish what
operators must see at once on :mod:`.events`. The operations centre watches one hub tenant
(``SMARTCITY_IOC_TENANT``, the default tenant unless set). See docs/ioc.md.
"""

from __future__ import annotations

from fastapi import FastAPI

from smartcity.ioc.events import EventHub
from smartcity.ioc.runtime import IocRuntime


def install(app: FastAPI) -> None:
    """Mount the operations centre on a platform app (after the hub, its history and the IoT agent)."""
    from smartcity.ioc import alerts, dashboard, incidents, open311, rules

    app.state.ioc = IocRuntime(events=EventHub(), tenant=app.state.settings.ioc_tenant)
    alerts.install(app)
    incidents.install(app)
    rules.install(app)
    open311.install(app)
    dashboard.install(app)
