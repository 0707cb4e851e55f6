"""Citizen reports: the Open311 GeoReport v2 API under ``/open311/v2/``.

* :mod:`.catalogue` (``data/services.yaml``): the services, by the categories of the city's 1022 hotline, with
  their attributes and routing (incident type, department, ward-bound);
* :mod:`.inputs`: the parsers of what citizens send; :mod:`.photos`: photo checks and the media store;
* :mod:`.wards`: which ward a point or an address is in (the hub's ``AdministrativeArea`` polygons);
* :mod:`.reports`: a report becomes an incident (``app.state.ioc.incidents``) and shows its public status;
* :mod:`.repository` (migration 0016), :mod:`.api` (routes), :mod:`.wire` (JSON/XML), :mod:`.errors` (the
  GeoReport error format for every error under ``/open311/``), :mod:`.watch` (``report.changed`` events).

See docs/ioc.md, section "Citizen reports (Open311)".
"""

from __future__ import annotations

from fastapi import FastAPI

from smartcity.web import background
from smartcity.web import errors as web_errors


def install(app: FastAPI) -> None:
    """Mount the Open311 API and fill ``app.state.ioc.open311`` (after the incidents part)."""
    from smartcity.ioc.open311 import api
    from smartcity.ioc.open311.catalogue import Catalogue
    from smartcity.ioc.open311.errors import PREFIX, georeport_error
    from smartcity.ioc.open311.photos import MediaStore
    from smartcity.ioc.open311.reports import CitizenReports
    from smartcity.ioc.open311.repository import ReportRepository
    from smartcity.ioc.open311.wards import WardIndex, WardWatch
    from smartcity.ioc.open311.watch import ReportWatch

    settings = app.state.settings
    runtime = app.state.ioc
    expand = app.state.contexts.resolve(None).expand_term  # the NGSI-LD core @context (bundled: no network)
    wards = WardIndex(app.state.hub, runtime.tenant, expand)
    reports = CitizenReports(
        Catalogue.packaged(),
        wards,
        ReportRepository(app.state.store, runtime.tenant),
        MediaStore(settings.media_dir, settings.max_photo_bytes),
        runtime.events,
        lambda: runtime.incidents,
        public_url=settings.public_url,
    )
    runtime.open311 = reports
    if not any(prefix == PREFIX for prefix, _ in web_errors.FAMILIES):
        web_errors.FAMILIES.insert(0, (PREFIX, georeport_error))
    app.include_router(api.build())
    background.register(app, WardWatch(app.state.store.feed, wards))
    background.register(app, ReportWatch(runtime.events, reports))
