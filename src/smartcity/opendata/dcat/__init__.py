"""DCAT-AP 3.0: the portal's catalogue for European and national catalogues' harvesters.

* :mod:`.vocab`: the EU vocabularies (data themes, frequencies, file types, languages) and IANA media types, and how
  the portal's groups, frequencies, formats and licences map onto them (data);
* :mod:`.geometry`: a dataset's GeoJSON coverage as GeoSPARQL WKT (bounding box, centroid, geometry);
* :mod:`.mapping`: CKAN dataset dictionaries as a DCAT-AP graph (pure);
* :mod:`.serialise`: Turtle, JSON-LD and RDF/XML, and content negotiation;
* :mod:`.api`: ``/catalog(.ttl|.jsonld|.rdf)`` (paged) and ``/dataset/{id}(.ttl|.jsonld|.rdf)``.

See docs/opendata.md, section "DCAT-AP".
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the DCAT-AP routes (they read ``app.state.opendata.catalogue`` and ``.datastore`` per request)."""
    from smartcity.opendata.dcat import api

    app.include_router(api.build())
