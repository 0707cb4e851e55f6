"""The DCAT-AP catalogue of the real catalogue (SQLite and PostgreSQL): datasets created through it, served at
``/catalog.ttl`` and validated against the DCAT-AP 3.0 shapes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rdflib import URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from smartcity.app import create_app
from smartcity.hub.store import Store
from tests.open_hub import open_settings
from tests.opendata.dcat import datasets as D
from tests.opendata.dcat.support import load_shapes, parse, shacl

BASE = "https://data.example.vn"
EU = "http://publications.europa.eu/resource/authority/"
#: the fields a client sends to package_create (CKAN computes the rest)
SENT = (
    "name",
    "title",
    "title_translated",
    "notes",
    "notes_translated",
    "tags",
    "license_id",
    "frequency",
    "temporal_start",
    "temporal_end",
    "spatial",
    "maintainer",
    "maintainer_email",
    "author",
    "author_email",
    "version",
)


def as_sent(dataset: dict[str, Any], org: str, groups: list[str]) -> dict[str, Any]:
    out = {k: dataset[k] for k in SENT if k in dataset}
    out["owner_org"] = org
    out["groups"] = [{"name": g} for g in groups]
    out["tags"] = [{"name": t["name"]} for t in dataset.get("tags", [])]
    out["resources"] = [
        {k: r[k] for k in ("name", "description", "format", "url", "mimetype", "size") if r.get(k) not in (None, "")}
        for r in dataset.get("resources", [])
    ]
    if isinstance(out.get("spatial"), dict):
        out["spatial"] = out["spatial"].get("geometry", out["spatial"])
    return out


@pytest.fixture
def real_app(store: Store) -> Iterator[FastAPI]:
    app = create_app(
        open_settings(database_url="sqlite:///unused.db", opendata_publish=False, public_url=BASE), store=store
    )
    if app.state.opendata.catalogue is None:
        pytest.fail("the catalogue part is not installed")
    yield app


def test_datasets_created_through_the_catalogue_validate_as_dcat_ap(real_app: FastAPI) -> None:
    catalogue = real_app.state.opendata.catalogue
    air = catalogue.create_dataset(
        as_sent(D.air_quality(), "so-tai-nguyen-va-moi-truong", ["environment", "health"]), user="tester"
    )
    wards = catalogue.create_dataset(as_sent(D.wards(), "ubnd-tp", ["administration"]), user="tester")
    floods = catalogue.create_dataset(
        {
            "name": "muc-nuoc-ngap",
            "title_translated": {"vi": "Mực nước ngập", "en": "Flood water levels"},
            "owner_org": "trung-tam-chong-ngap",
            "groups": [{"name": "flood"}],
            "license_id": "ODC-BY-1.0",
            "frequency": "continuous",
        },
        user="tester",
    )
    hidden = catalogue.create_dataset(
        {"name": "noi-bo", "title": "Nội bộ", "owner_org": "ubnd-tp", "private": True}, user="tester"
    )
    client = TestClient(real_app)
    response = client.get("/catalog.ttl")
    assert response.status_code == 200, response.text
    graph = parse(response.content, "turtle")
    listed = {str(d).rsplit("/", 1)[-1] for d in graph.subjects(RDF.type, DCAT.Dataset)}
    assert listed == {air["id"], wards["id"], floods["id"]}
    assert hidden["id"] not in listed
    node = URIRef(f"{BASE}/dataset/{air['id']}")
    assert {lit.language for lit in graph.objects(node, DCTERMS.title)} == {"vi", "en"}
    assert set(graph.objects(node, DCAT.theme)) == {URIRef(f"{EU}data-theme/ENVI"), URIRef(f"{EU}data-theme/HEAL")}
    assert graph.value(node, DCTERMS.accrualPeriodicity) == URIRef(f"{EU}frequency/HOURLY")
    assert graph.value(node, DCTERMS.publisher) == URIRef(f"{BASE}/organization/so-tai-nguyen-va-moi-truong")
    assert graph.value(node, DCTERMS.temporal) is not None and graph.value(node, DCTERMS.spatial) is not None
    (distribution,) = set(graph.objects(URIRef(f"{BASE}/dataset/{wards['id']}"), DCAT.distribution))
    assert graph.value(distribution, DCAT.downloadURL) == URIRef("https://example.org/files/hcmc_wards_2025.geojson")
    assert graph.value(distribution, DCTERMS.license) == URIRef("https://opendatacommons.org/licenses/odbl/1-0/")
    assert graph.value(URIRef(f"{BASE}/dataset/{floods['id']}"), DCTERMS.accrualPeriodicity) == URIRef(
        f"{EU}frequency/UPDATE_CONT"
    )
    report = shacl(graph, load_shapes())
    assert report.violations == [], report.text
    # each dataset on its own, by name, in every serialisation
    for suffix, fmt in (("ttl", "turtle"), ("jsonld", "json-ld"), ("rdf", "xml")):
        one = client.get(f"/dataset/{wards['name']}.{suffix}")
        assert one.status_code == 200
        assert (URIRef(f"{BASE}/dataset/{wards['id']}"), RDF.type, DCAT.Dataset) in parse(one.content, fmt)
    assert client.get("/dataset/noi-bo.ttl").status_code == 404
    # a deleted dataset leaves the catalogue
    catalogue.delete_dataset(floods["id"], user="tester")
    after = parse(client.get("/catalog.ttl").content, "turtle")
    assert URIRef(f"{BASE}/dataset/{floods['id']}") not in set(after.subjects(RDF.type, DCAT.Dataset))
    assert client.get(f"/dataset/{floods['id']}.ttl").status_code == 404
    # incremental harvesting through the real catalogue's modified_since
    since = client.get("/catalog.ttl", params={"modified_since": "2000-01-01"})
    assert {str(d).rsplit("/", 1)[-1] for d in parse(since.content, "turtle").subjects(RDF.type, DCAT.Dataset)} == {
        air["id"],
        wards["id"],
    }
