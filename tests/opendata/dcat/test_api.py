"""The DCAT-AP routes through HTTP: suffixes, content negotiation, paging, validators, public datasets only."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from smartcity.opendata.dcat.api import PAGE_SIZE
from smartcity.opendata.dcat.vocab import HYDRA
from tests.opendata.dcat import datasets as D
from tests.opendata.dcat.support import FakeCatalogue, load_shapes, parse, shacl

BASE = "https://data.example.vn"
FORMATS = {
    "ttl": ("text/turtle; charset=utf-8", "turtle"),
    "jsonld": ("application/ld+json", "json-ld"),
    "rdf": ("application/rdf+xml", "xml"),
}
AIR = D.air_quality()


def graph_of(response: Any) -> Graph:
    kind = response.headers["content-type"].split(";")[0]
    fmt = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/rdf+xml": "xml"}[kind]
    return parse(response.content, fmt)


def datasets_in(graph: Graph) -> set[str]:
    return {str(d).rsplit("/", 1)[-1] for d in graph.subjects(RDF.type, DCAT.Dataset)}


@pytest.mark.parametrize("suffix", FORMATS)
def test_catalog_in_each_serialisation(http: TestClient, suffix: str) -> None:
    response = http.get(f"/catalog.{suffix}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == FORMATS[suffix][0]
    graph = parse(response.content, FORMATS[suffix][1])
    assert (URIRef(f"{BASE}/catalog"), RDF.type, DCAT.Catalog) in graph
    assert datasets_in(graph) == {str(d["id"]) for d in D.all_datasets()}
    assert "Vary" not in response.headers


def test_the_served_catalog_validates_against_dcat_ap(http: TestClient) -> None:
    graph = parse(http.get("/catalog.ttl").content, "turtle")
    report = shacl(graph, load_shapes())
    assert report.violations == [], report.text


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        (None, "text/turtle"),
        ("text/turtle", "text/turtle"),
        ("application/ld+json", "application/ld+json"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("application/json;q=0.5, application/rdf+xml;q=0.9", "application/rdf+xml"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/turtle"),
    ],
)
def test_catalog_content_negotiation(http: TestClient, accept: str | None, kind: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = http.get("/catalog", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == kind
    assert response.headers["vary"] == "Accept"
    assert (URIRef(f"{BASE}/catalog"), RDF.type, DCAT.Catalog) in graph_of(response)


def test_not_acceptable_says_what_is_offered(http: TestClient) -> None:
    response = http.get("/catalog", headers={"Accept": "application/pdf"})
    assert response.status_code == 406
    body = response.json()
    assert body["title"] and "text/turtle" in body["detail"] and "application/ld+json" in body["detail"]
    assert http.get("/dataset/ranh-gioi-phuong-xa", headers={"Accept": "image/png"}).status_code == 406


def test_unknown_suffix_is_not_found(http: TestClient) -> None:
    response = http.get("/catalog.json")
    assert response.status_code == 404
    assert ".ttl" in response.json()["detail"]
    assert http.get(f"/dataset/{AIR['id']}.csv").status_code == 404


@pytest.mark.parametrize("suffix", FORMATS)
def test_dataset_by_id_and_by_name(http: TestClient, suffix: str) -> None:
    for key in ("id", "name"):
        response = http.get(f"/dataset/{AIR[key]}.{suffix}")
        assert response.status_code == 200
        assert response.headers["content-type"] == FORMATS[suffix][0]
        graph = parse(response.content, FORMATS[suffix][1])
        node = URIRef(f"{BASE}/dataset/{AIR['id']}")
        assert (node, RDF.type, DCAT.Dataset) in graph
        assert len(set(graph.objects(node, DCAT.distribution))) == 4  # the table and CSV, JSON, Parquet
        assert not set(graph.subjects(RDF.type, DCAT.Catalog))


def test_dataset_negotiation_and_the_site_for_browsers(http: TestClient) -> None:
    response = http.get(f"/dataset/{AIR['id']}", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    assert response.headers["vary"] == "Accept"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = http.get(f"/dataset/{AIR['id']}", headers={"Accept": browser}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/data/dataset/chat-luong-khong-khi-theo-gio"
    assert (
        http.get(f"/dataset/{AIR['id']}", headers={"Accept": "*/*"}).headers["content-type"].startswith("text/turtle")
    )


def test_missing_private_and_deleted_datasets_are_not_found(http: TestClient, catalogue: FakeCatalogue) -> None:
    private = copy.deepcopy(AIR) | {"id": "p-1", "name": "rieng-tu", "private": True}
    deleted = copy.deepcopy(AIR) | {"id": "d-1", "name": "da-xoa", "state": "deleted"}
    catalogue.datasets += [private, deleted]
    for name in ("khong-co", "rieng-tu", "da-xoa"):
        for path in (f"/dataset/{name}", f"/dataset/{name}.ttl"):
            response = http.get(path, headers={"Accept": "text/html"})
            assert response.status_code == 404, path
            assert response.json()["detail"]
    assert not {"p-1", "d-1"} & datasets_in(parse(http.get("/catalog.ttl").content, "turtle"))


def _many(count: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        dataset = D.minimal() | {"id": f"ds-{i:04d}", "name": f"bo-du-lieu-{i:04d}", "title": f"Bộ dữ liệu {i}"}
        dataset["metadata_modified"] = f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:00:00"
        out.append(dataset)
    return out


def _links(header: str) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header)}


def test_paging_with_hydra_and_link_headers(http: TestClient, catalogue: FakeCatalogue) -> None:
    catalogue.datasets = _many(2 * PAGE_SIZE + 50)
    seen: list[str] = []
    for page in (1, 2, 3):
        response = http.get(f"/catalog.jsonld?page={page}")
        assert response.status_code == 200
        graph = graph_of(response)
        here = URIRef(f"{BASE}/catalog.jsonld?page={page}")
        assert (here, RDF.type, HYDRA.PagedCollection) in graph
        assert int(graph.value(here, HYDRA.totalItems)) == 250
        assert int(graph.value(here, HYDRA.itemsPerPage)) == PAGE_SIZE
        assert str(graph.value(here, HYDRA.firstPage)) == f"{BASE}/catalog.jsonld?page=1"
        assert str(graph.value(here, HYDRA.lastPage)) == f"{BASE}/catalog.jsonld?page=3"
        links = _links(response.headers["link"])
        assert links["first"] == f"{BASE}/catalog.jsonld?page=1" and links["last"] == f"{BASE}/catalog.jsonld?page=3"
        if page < 3:
            assert links["next"] == str(graph.value(here, HYDRA.nextPage)) == f"{BASE}/catalog.jsonld?page={page + 1}"
        else:
            assert "next" not in links and graph.value(here, HYDRA.nextPage) is None
        if page > 1:
            assert links["prev"] == str(graph.value(here, HYDRA.previousPage))
        found = datasets_in(graph)
        assert len(found) == (PAGE_SIZE if page < 3 else 50)
        seen += found
    assert sorted(seen) == sorted(d["id"] for d in catalogue.datasets)  # every dataset once
    # newest change first
    first = datasets_in(graph_of(http.get("/catalog.ttl")))
    newest = sorted(catalogue.datasets, key=lambda d: d["metadata_modified"], reverse=True)[:PAGE_SIZE]
    assert first == {d["id"] for d in newest}


def test_paging_errors(http: TestClient, catalogue: FakeCatalogue) -> None:
    catalogue.datasets = _many(5)
    assert http.get("/catalog.ttl?page=2").status_code == 404
    for bad in ("0", "-1", "abc", "1.5"):
        response = http.get(f"/catalog.ttl?page={bad}")
        assert response.status_code == 400, bad
        assert response.json()["detail"]
    catalogue.datasets = []
    response = http.get("/catalog.ttl")  # an empty catalogue has its first page
    assert response.status_code == 200
    graph = graph_of(response)
    assert not datasets_in(graph)
    assert int(graph.value(URIRef(f"{BASE}/catalog.ttl?page=1"), HYDRA.totalItems)) == 0


def test_modified_since_for_incremental_harvesting(http: TestClient, catalogue: FakeCatalogue) -> None:
    catalogue.datasets = _many(40)
    response = http.get("/catalog.ttl?modified_since=2026-01-27T00:00:00Z")
    assert response.status_code == 200
    expected = {d["id"] for d in catalogue.datasets if d["metadata_modified"] > "2026-01-27T00:00:00"}
    graph = graph_of(response)
    assert datasets_in(graph) == expected and expected
    here = URIRef(f"{BASE}/catalog.ttl?modified_since=2026-01-27T00%3A00%3A00Z&page=1")
    assert int(graph.value(here, HYDRA.totalItems)) == len(expected)
    assert http.get("/catalog.ttl?modified_since=2026-01-27").status_code == 200
    bad = http.get("/catalog.ttl?modified_since=last-tuesday")
    assert bad.status_code == 400 and "modified_since" in bad.json()["detail"]


def test_etag_and_last_modified_make_conditional_requests_cheap(http: TestClient, catalogue: FakeCatalogue) -> None:
    first = http.get("/catalog.ttl")
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["last-modified"] == "Tue, 24 Nov 2026 08:05:00 GMT"
    assert http.get("/catalog.ttl", headers={"If-None-Match": etag}).status_code == 304
    since = http.get("/catalog.ttl", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    assert http.get("/catalog.jsonld", headers={"If-None-Match": etag}).status_code == 200  # another representation
    # a change makes a new validator
    catalogue.datasets[0]["metadata_modified"] = "2026-11-25T00:00:00"
    changed = http.get("/catalog.ttl", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.headers["last-modified"] == "Wed, 25 Nov 2026 00:00:00 GMT"
    # and the dataset's own
    one = http.get(f"/dataset/{AIR['id']}.rdf")
    assert http.get(f"/dataset/{AIR['id']}.rdf", headers={"If-None-Match": one.headers["etag"]}).status_code == 304
    graph = graph_of(one)
    assert graph.value(URIRef(f"{BASE}/dataset/{AIR['id']}"), DCTERMS.identifier) == Literal(AIR["id"])


def test_without_a_catalogue_the_catalog_is_empty_and_datasets_missing(dcat_app: Any) -> None:
    runtime = dcat_app.state.opendata
    saved = runtime.catalogue
    runtime.catalogue = None
    try:
        client = TestClient(dcat_app)
        response = client.get("/catalog.ttl")
        assert response.status_code == 200 and not datasets_in(graph_of(response))
        assert client.get("/dataset/anything.ttl").status_code == 404
    finally:
        runtime.catalogue = saved
