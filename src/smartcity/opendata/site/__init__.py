"""The open data portal's public site at ``/data``, in Vietnamese (the default) and English.

* :mod:`.api`: the pages (search with facets, a dataset, an organisation, a theme, the API page) and their files;
* :mod:`.search` (the search page's state and links), :mod:`.pages` (what each page reads from the catalogue and
  the datastore), :mod:`.dataset` (resources, downloads, preview table, chart series, map features),
  :mod:`.i18n` (the two languages), :mod:`.errors` (the HTML error page of unknown addresses);
* ``templates/``: server-rendered HTML (Jinja2, autoescaped): every page works and is indexable without
  JavaScript; ``static/``: the styles and the small ES modules of the chart, the map and the copy buttons.
  Leaflet and uPlot are the dashboard's vendored copies, served by its file route (``/ioc/ui/vendor/``).

See docs/opendata.md, section Public site.
"""

from __future__ import annotations

from fastapi import FastAPI

from smartcity.web import errors as web_errors


def install(app: FastAPI) -> None:
    """Mount the public site (after the catalogue and the datastore: it reads ``app.state.opendata``)."""
    from smartcity.ioc.dashboard.city import City
    from smartcity.ioc.dashboard.layers import Terms
    from smartcity.opendata.site.api import build, router
    from smartcity.opendata.site.errors import PREFIX, site_error

    context = app.state.contexts.resolve(None)  # the NGSI-LD core @context (bundled: no network)
    city = City(app.state.hub, app.state.opendata.tenant, Terms(context.expand_term, context.compact_iri))
    app.state.opendata_site = build(app.state.settings.public_url, city)
    app.include_router(router)
    if not any(prefix == PREFIX for prefix, _ in web_errors.FAMILIES):
        web_errors.FAMILIES.insert(0, (PREFIX, site_error))
