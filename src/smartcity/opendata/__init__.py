"""The open data portal: the city's data, found, queried and downloaded, published from the hub automatically.

* :mod:`.catalogue`: datasets, resources, organisations (departments), groups (themes), tags, licences, stored in
  the platform's database, with full-text search (Vietnamese with or without diacritics) and facets;
* :mod:`.ckan`: the CKAN Action API (``/api/3/action/{name}``), CKAN's envelope and errors;
* :mod:`.datastore`: one SQL table per queryable resource, ``datastore_search`` and a read-only
  ``datastore_search_sql``; streamed downloads (CSV, JSON, GeoJSON, Parquet);
* :mod:`.publish`: declarative publications turning hub data into datasets on a schedule, privacy rules first;
* :mod:`.dcat`: the DCAT-AP 3.0 catalogue (Turtle, JSON-LD, RDF/XML);
* :mod:`.site`: the public site at ``/data`` in Vietnamese and English.

The parts talk through :mod:`.contracts`. See docs/opendata.md.
"""

from __future__ import annotations

from fastapi import FastAPI

from smartcity.opendata import catalogue, ckan, datastore, dcat, publish, site
from smartcity.opendata.runtime import OpenDataRuntime


def install(app: FastAPI) -> None:
    """Mount the open data portal on a platform app (after the hub)."""
    app.state.opendata = OpenDataRuntime(tenant=app.state.settings.opendata_tenant)
    # each part adds one line here, in this order: catalogue, datastore, ckan, publish, dcat, site
    catalogue.install(app)  # the catalogue: datasets, departments, themes, licences; search (migration 0019)
    datastore.install(app)  # resource tables, datastore_search(_sql), downloads at /datastore/dump (migration 0020)
    ckan.install(app)  # the CKAN Action API at /api/3/action/{name} (after every part that registers actions)
    publish.install(app)  # publications: hub data -> datasets on a schedule (writes through catalogue, datastore)
    dcat.install(app)  # DCAT-AP 3.0: /catalog(.ttl|.jsonld|.rdf), /dataset/{id}(.ttl|.jsonld|.rdf)
    site.install(app)  # the public site at /data (last: reads the other parts)
