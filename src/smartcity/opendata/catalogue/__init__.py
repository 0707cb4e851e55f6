"""The open data catalogue: datasets (CKAN package dictionaries) with their resources, organisations (the city's
departments), groups (themes), tags and licences, kept in the platform's database and searched without Solr.

* :mod:`.repository` (:class:`SqlCatalogue`, migration 0019): storage bound to one hub tenant;
* :mod:`.validation`: CKAN's field checks and errors; :mod:`.documents`: the package dictionaries;
* :mod:`.search`: full text (FTS5 or PostgreSQL full-text search), filters, sorts, facets;
* :mod:`.folding`: Vietnamese without diacritics; :mod:`.reference`: departments, themes, licences (YAML).

See docs/opendata.md, section "Catalogue and search".
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Open the portal tenant's catalogue as ``app.state.opendata.catalogue`` and seed its reference data."""
    from smartcity.opendata.catalogue.repository import SqlCatalogue

    runtime = app.state.opendata
    catalogue = SqlCatalogue(app.state.store, runtime.tenant)
    catalogue.seed()
    runtime.catalogue = catalogue
