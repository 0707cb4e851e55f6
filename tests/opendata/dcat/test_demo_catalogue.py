"""The whole demo catalogue, as the demo's publications build it in the real catalogue from the demo city's hub
data, served at ``/catalog.ttl`` and validated against the DCAT-AP 3.0 shapes: no violation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from smartcity.hub.store import Store, open_store
from smartcity.opendata.contracts import TableStats
from tests.opendata.dcat.support import load_shapes, parse, shacl
from tests.opendata.publish.demo_city import load_static_layers, report, sensors
from tests.opendata.publish.support import HOUR, NOW, portal, publisher_of

BASE = "https://data.example.vn"


class StatsFromRows:
    """``stats`` over a datastore stand-in that only keeps rows (the publication tests' fake, used while the real
    datastore is not installed): a table has geometry when a value is a GeoJSON geometry."""

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    def stats(self, resource_id: str) -> TableStats:
        rows = list(self.datastore.rows(resource_id))
        geometry = any(isinstance(v, dict) and "coordinates" in v for row in rows for v in row.values())
        return TableStats(len(rows), NOW, [], geometry)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('dcat-demo')}/demo.db")
    yield store
    store.close()


@pytest.fixture(scope="module")
def demo_catalog(demo_store: Store) -> Iterator[tuple[FastAPI, Graph]]:
    with portal(demo_store, real=True, public_url=BASE) as app:
        load_static_layers(app)
        devices = sensors()
        start = NOW.replace(minute=0) - 3 * HOUR
        for step in range(12):
            report(app, devices, start + step * timedelta(minutes=20), step)
        publisher = publisher_of(app)
        outcomes = [publisher.run(pub_id) for pub_id in publisher.publications]
        assert [(o.publication_id, o.error) for o in outcomes if o.error is not None] == []
        if not hasattr(app.state.opendata.datastore, "stats"):
            app.state.opendata.datastore = StatsFromRows(app.state.opendata.datastore)
        response = TestClient(app).get("/catalog.ttl")
        assert response.status_code == 200, response.text
        yield app, parse(response.content, "turtle")


def test_the_demo_catalogue_has_no_dcat_ap_violation(demo_catalog: tuple[FastAPI, Graph]) -> None:
    _, graph = demo_catalog
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) >= 8
    report_ = shacl(graph, load_shapes())
    assert report_.violations == [], report_.text
    for finding in report_.warnings:
        print(finding.path, finding.focus, finding.value)
    assert {f.path.rsplit("/", 1)[-1].rsplit("#", 1)[-1] for f in report_.warnings} <= {"publisher", "spatial", "theme"}


def test_the_demo_datasets_are_complete(demo_catalog: tuple[FastAPI, Graph]) -> None:
    _, graph = demo_catalog
    for node in graph.subjects(RDF.type, DCAT.Dataset):
        assert {lit.language for lit in graph.objects(node, DCTERMS.title)} == {"vi", "en"}, node
        assert graph.value(node, DCTERMS.publisher) is not None, node
        assert graph.value(node, DCTERMS.accrualPeriodicity) is not None, node
        assert any(str(t).startswith("http://publications.europa.eu/") for t in graph.objects(node, DCAT.theme)), node
        downloads = {graph.value(d, DCAT.downloadURL) for d in graph.objects(node, DCAT.distribution)}
        assert any(u is not None and "format=parquet" in str(u) for u in downloads), node
    wards = next(
        n
        for n in graph.subjects(RDF.type, DCAT.Dataset)
        if isinstance(n, URIRef) and graph.value(n, DCAT.landingPage) == URIRef(f"{BASE}/data/dataset/wards")
    )
    assert graph.value(graph.value(wards, DCTERMS.spatial), DCAT.bbox) is not None
