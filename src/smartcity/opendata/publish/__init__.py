"""Publications: declarative definitions turning hub data into datasets of the catalogue and tables of the
datastore, refreshed on a schedule, with privacy rules applied before anything is written. See docs/opendata.md
(Publications).

* :mod:`.definition`: the definition format and its validation; :mod:`.files`: YAML files (the demo's are in
  ``definitions/``);
* :mod:`.reading`, :mod:`.build`, :mod:`.privacy`, :mod:`.rows`: rows from the hub's current state or its
  history aggregated by the database, privacy first, spooled;
* :mod:`.dataset`: the CKAN package of a publication; :mod:`.publisher`: a run; :mod:`.runs`: runs and state
  (migration 0021); :mod:`.service`: the schedule; :mod:`.api`: ``/opendata/publications``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Load the publications (the operator's directory, else the demo's), mount the admin API and, with
    ``SMARTCITY_OPENDATA_PUBLISH``, run them on their schedules (after the catalogue and the datastore)."""
    from smartcity.opendata.publish import api
    from smartcity.opendata.publish.files import load_directory, shipped_directory
    from smartcity.opendata.publish.publisher import Publisher
    from smartcity.opendata.publish.service import PublicationService
    from smartcity.web import background

    settings = app.state.settings
    runtime = app.state.opendata
    directory = settings.opendata_publications
    publications = load_directory(Path(directory) if directory else shipped_directory())
    runtime.publisher = Publisher(
        publications,
        store=app.state.store,
        hub=app.state.hub,
        temporal=app.state.temporal,
        context=app.state.contexts.resolve(None),  # the NGSI-LD core @context (bundled: no network)
        runtime=runtime,
        public_url=settings.public_url,
    )
    app.include_router(api.router)
    if settings.opendata_publish:
        background.register(app, PublicationService(runtime.publisher))
