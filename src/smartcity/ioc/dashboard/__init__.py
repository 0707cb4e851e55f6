"""The operations centre's dashboard: the live map page at ``/``, its data, the KPIs and the live event stream.

* :mod:`.api`: ``/`` (the page), ``/ioc/ui/...`` (its files), ``/ioc/map/wards``, ``/ioc/map/layers``,
  ``/ioc/kpis``, ``/ioc/stream`` (Server-Sent Events, :mod:`.stream`);
* :mod:`.layers` (what each map layer shows of an entity), :mod:`.wards` (the ward map), :mod:`.city` (reading
  them from the hub), :mod:`.kpis` (the key figures), :mod:`.live` (``entity.changed`` events from the change
  feed, throttled per entity);
* ``static/``: the page (plain ES modules, no build step) and the vendored Leaflet and uPlot (see
  ``static/vendor/THIRD_PARTY.md``).

See docs/ioc.md, section Dashboard.
"""

from __future__ import annotations

from fastapi import FastAPI

from smartcity.web import background


def install(app: FastAPI) -> None:
    """Mount the dashboard's routes and start the service that publishes entity changes."""
    from smartcity.ioc.dashboard.api import Dashboard, router
    from smartcity.ioc.dashboard.assets import Assets
    from smartcity.ioc.dashboard.city import City
    from smartcity.ioc.dashboard.layers import Terms
    from smartcity.ioc.dashboard.live import LiveService

    context = app.state.contexts.resolve(None)  # the NGSI-LD core @context (bundled: no network)
    city = City(app.state.hub, app.state.ioc.tenant, Terms(context.expand_term, context.compact_iri))
    app.state.ioc_dashboard = Dashboard(city=city, assets=Assets())
    app.include_router(router)
    background.register(app, LiveService(app.state.store.feed, app.state.ioc.events, city))
