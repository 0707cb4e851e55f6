"""The operations centre's incidents: owned by departments (the city's, or a ward's People's Committee), with an
SOP checklist per type, SLA deadlines and warnings, a status life and a complete timeline.

* :mod:`.catalogue`: departments, wards and incident types (packaged data in ``data/``);
* :mod:`.lifecycle` (the state machine and SLA arithmetic) and :mod:`.changes` (every change, as pure functions);
* :mod:`.desk`: the incident desk (contracts.IncidentDesk) over :mod:`.repository` (migration 0015);
* :mod:`.sla`: the background service that announces SLA warnings and breaches;
* :mod:`.api`: ``/ioc/incidents``, ``/ioc/departments``, ``/ioc/incident-types``.

See docs/ioc.md, section Incidents.
"""

from __future__ import annotations

from fastapi import FastAPI

from smartcity.web import background


def install(app: FastAPI) -> None:
    """Mount the incident routes, put the desk in ``app.state.ioc.incidents`` and start the SLA watch."""
    from smartcity.ioc.incidents.api import router
    from smartcity.ioc.incidents.catalogue import packaged
    from smartcity.ioc.incidents.desk import IncidentDesk, as_contract
    from smartcity.ioc.incidents.sla import SlaWatch

    runtime = app.state.ioc
    desk = IncidentDesk(app.state.store, runtime.tenant, packaged(), runtime.events)
    runtime.incidents = desk
    as_contract(desk)  # implements contracts.IncidentDesk (checked by mypy)
    app.include_router(router)
    background.register(app, SlaWatch(desk))
