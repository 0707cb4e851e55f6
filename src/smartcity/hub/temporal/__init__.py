"""Temporal history of every attribute (NGSI-LD temporal API, clause 5.6.12-5.6.20 / 6.18-6.22).

* :mod:`.recorder`: the write hook that records every attribute change as a temporal instance;
* :mod:`.service`: reads (instances, aggregates) and writes of the history, for every pillar;
* :mod:`.api`: ``/ngsi-ld/v1/temporal``;
* :mod:`.maintenance`: retention roll-ups and partitions.
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Record history on every write, mount /ngsi-ld/v1/temporal, start the retention job."""
    from smartcity.hub.temporal import api, maintenance, recorder
    from smartcity.hub.temporal.service import TemporalService

    app.state.store.add_write_hook(recorder.record)
    app.state.temporal = TemporalService(app.state.store)
    app.include_router(api.router)
    maintenance.install(app)
