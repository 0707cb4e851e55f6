"""CKAN datasets as DCAT-AP 3.0: the graph's content, and the DCAT-AP SHACL shapes find no violation in it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from smartcity.opendata.dcat import mapping, serialise
from smartcity.opendata.dcat.vocab import GSP, HYDRA, LOCN, VCARD
from tests.opendata.dcat import datasets as D
from tests.opendata.dcat.support import Report, load_shapes, parse, shacl

BASE = "https://data.example.vn"
PORTAL = mapping.Portal(BASE)
EU = "http://publications.europa.eu/resource/authority/"
IANA = "http://www.iana.org/assignments/media-types/"


def dt(text: str) -> Literal:
    return Literal(text, datatype=XSD.dateTime, normalize=False)


def day(text: str) -> Literal:
    return Literal(text, datatype=XSD.date, normalize=False)


def has_geometry(resource_id: str) -> bool:
    return resource_id in D.WITH_GEOMETRY


def dataset_uri(dataset: dict[str, object]) -> URIRef:
    return URIRef(f"{BASE}/dataset/{dataset['id']}")


@pytest.fixture(scope="module")
def catalog() -> Graph:
    return mapping.catalog_graph(
        D.all_datasets(), PORTAL, modified=datetime(2026, 11, 24, 8, 5, tzinfo=UTC), has_geometry=has_geometry
    )


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


@pytest.fixture(scope="module")
def report(catalog: Graph, shapes: Graph) -> Report:
    return shacl(catalog, shapes)


# -- SHACL ------------------------------------------------------------------------------------------------------


def test_the_catalogue_has_no_violation_of_the_dcat_ap_shapes(report: Report) -> None:
    assert report.violations == [], report.text
    assert report.conforms


def test_the_only_warnings_are_the_ones_a_city_portal_cannot_avoid(report: Report) -> None:
    """Warnings of the controlled-vocabulary shapes: the city's departments are not EU corporate bodies, a
    coverage given as a geometry is no EU place, and a group with no EU data theme keeps the portal's own."""
    kinds = {(f.path.rsplit("/", 1)[-1].rsplit("#", 1)[-1], f.value.split("/group/")[-1]) for f in report.warnings}
    paths = {path for path, _ in kinds}
    assert paths <= {"publisher", "spatial", "theme"}, report.text
    themes = {value for path, value in kinds if path == "theme"}
    assert themes == {"bus"}
    for finding in report.warnings:
        print(finding.severity, finding.path, finding.focus, finding.value)


def _broken() -> Graph:
    graph = mapping.catalog_graph([D.air_quality(), D.car_parks()], PORTAL, modified=None, has_geometry=has_geometry)
    air = dataset_uri(D.air_quality())
    parks = dataset_uri(D.car_parks())
    graph.remove((air, DCTERMS.title, None))  # a dataset without a title
    graph.remove((air, DCTERMS.description, None))  # ... nor a description
    distribution = next(graph.objects(parks, DCAT.distribution))
    graph.remove((distribution, DCAT.accessURL, None))  # a distribution without an access URL
    graph.add((parks, DCTERMS.accrualPeriodicity, URIRef("https://example.org/every-so-often")))  # not a Frequency
    graph.add((parks, DCTERMS.language, URIRef(f"{EU}language/XXX")))  # a LinguisticSystem not in the EU table
    graph.add((URIRef(f"{EU}language/XXX"), RDF.type, DCTERMS.LinguisticSystem))
    graph.add((parks, DCTERMS.issued, URIRef("https://example.org/not-a-literal")))
    return graph


def test_the_shapes_catch_a_broken_catalogue(shapes: Graph) -> None:
    """Not vacuous: the same validation reports each defect put into a valid graph."""
    found = shacl(_broken(), shapes)
    assert not found.conforms
    by_path = {(f.focus.rsplit("/", 1)[-1], f.path.rsplit("#", 1)[-1].rsplit("/", 1)[-1]) for f in found.violations}
    air = str(D.air_quality()["id"])
    parks = str(D.car_parks()["id"])
    assert (air, "title") in by_path
    assert (air, "description") in by_path
    assert any(path == "accessURL" for _, path in by_path)
    assert (parks, "accrualPeriodicity") in by_path
    assert (parks, "language") in by_path
    assert (parks, "issued") in by_path


# -- content ----------------------------------------------------------------------------------------------------


def test_catalog_describes_itself_in_vietnamese_and_english(catalog: Graph) -> None:
    node = PORTAL.catalog
    assert (node, RDF.type, DCAT.Catalog) in catalog
    assert {lit.language for lit in catalog.objects(node, DCTERMS.title)} == {"vi", "en"}
    assert {lit.language for lit in catalog.objects(node, DCTERMS.description)} == {"vi", "en"}
    publisher = catalog.value(node, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in catalog
    assert catalog.value(node, FOAF.homepage) == URIRef(f"{BASE}/data")
    assert set(catalog.objects(node, DCTERMS.language)) == {URIRef(f"{EU}language/VIE"), URIRef(f"{EU}language/ENG")}
    assert catalog.value(node, DCTERMS.modified) == dt("2026-11-24T08:05:00Z")
    assert URIRef(f"{EU}data-theme") in set(catalog.objects(node, DCAT.themeTaxonomy))
    assert len(set(catalog.objects(node, DCAT.dataset))) == 5


def test_dataset_core_properties(catalog: Graph) -> None:
    ds = dataset_uri(D.air_quality())
    assert catalog.value(ds, DCTERMS.identifier) == Literal(D.air_quality()["id"])
    titles = {(lit.language, str(lit)) for lit in catalog.objects(ds, DCTERMS.title)}
    assert titles == {("vi", "Chất lượng không khí theo giờ"), ("en", "Hourly air quality")}
    assert {lit.language for lit in catalog.objects(ds, DCTERMS.description)} == {"vi", "en"}
    assert set(map(str, catalog.objects(ds, DCAT.keyword))) == {"air-quality", "vn-aqi"}
    assert set(catalog.objects(ds, DCAT.theme)) == {URIRef(f"{EU}data-theme/ENVI"), URIRef(f"{EU}data-theme/HEAL")}
    assert catalog.value(ds, DCTERMS.accrualPeriodicity) == URIRef(f"{EU}frequency/HOURLY")
    assert (URIRef(f"{EU}frequency/HOURLY"), RDF.type, DCTERMS.Frequency) in catalog
    assert catalog.value(ds, DCTERMS.issued) == dt("2026-01-05T02:00:00Z")
    assert catalog.value(ds, DCTERMS.modified) == dt("2026-11-24T08:00:00.123456Z")
    assert catalog.value(ds, DCAT.landingPage) == URIRef(f"{BASE}/data/dataset/chat-luong-khong-khi-theo-gio")
    assert set(catalog.objects(ds, DCTERMS.language)) == {URIRef(f"{EU}language/VIE"), URIRef(f"{EU}language/ENG")}
    assert catalog.value(ds, DCTERMS.accessRights) == URIRef(f"{EU}access-right/PUBLIC")


def test_publisher_and_contact_point(catalog: Graph) -> None:
    ds = dataset_uri(D.air_quality())
    publisher = catalog.value(ds, DCTERMS.publisher)
    assert publisher == URIRef(f"{BASE}/organization/so-tai-nguyen-moi-truong")
    names = {(lit.language, str(lit)) for lit in catalog.objects(publisher, FOAF.name)}
    assert ("en", "Department of Natural Resources and Environment") in names
    contact = catalog.value(ds, DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Kind) in catalog
    assert catalog.value(contact, VCARD.fn) == Literal("Phòng Quan trắc Môi trường")
    assert catalog.value(contact, VCARD.hasEmail) == URIRef("mailto:quantrac@example.org")
    # the author when there is no maintainer
    wards = dataset_uri(D.wards())
    assert catalog.value(catalog.value(wards, DCAT.contactPoint), VCARD.hasEmail) == URIRef("mailto:noivu@example.org")


def test_temporal_coverage_keeps_times_and_dates(catalog: Graph) -> None:
    period = catalog.value(dataset_uri(D.air_quality()), DCTERMS.temporal)
    assert (period, RDF.type, DCTERMS.PeriodOfTime) in catalog
    assert catalog.value(period, DCAT.startDate) == dt("2021-02-23T00:00:00Z")
    assert catalog.value(period, DCAT.endDate) == dt("2022-06-21T23:00:00Z")
    open_ended = catalog.value(dataset_uri(D.wards()), DCTERMS.temporal)
    assert catalog.value(open_ended, DCAT.startDate) == day("2025-07-01")
    assert catalog.value(open_ended, DCAT.endDate) is None


def test_spatial_coverage_as_geosparql(catalog: Graph) -> None:
    location = catalog.value(dataset_uri(D.air_quality()), DCTERMS.spatial)
    assert (location, RDF.type, DCTERMS.Location) in catalog
    bbox = catalog.value(location, DCAT.bbox)
    assert bbox.datatype == GSP.wktLiteral
    assert str(bbox) == "POLYGON ((106.36 10.37, 107.03 10.37, 107.03 11.16, 106.36 11.16, 106.36 10.37))"
    centroid = catalog.value(location, DCAT.centroid)
    assert str(centroid).startswith("POINT (106.69") and " 10.76" in str(centroid)
    shape = catalog.value(location, LOCN.geometry)
    assert (shape, RDF.type, LOCN.Geometry) in catalog
    assert str(catalog.value(shape, GSP.asWKT)).startswith("POLYGON ((106.36 10.37")
    assert catalog.value(shape, GSP.asGeoJSON).datatype == GSP.geoJSONLiteral
    # spatial in the extras, as GeoJSON text; an unusable one is left out
    parks = catalog.value(dataset_uri(D.car_parks()), DCTERMS.spatial)
    assert str(catalog.value(parks, DCAT.bbox)).startswith("POLYGON ((106.6953 10.7721")
    assert catalog.value(dataset_uri(D.bus_stops()), DCTERMS.spatial) is None


def test_distributions_per_resource_and_per_download_format(catalog: Graph) -> None:
    ds = dataset_uri(D.car_parks())
    distributions = set(catalog.objects(ds, DCAT.distribution))
    table = URIRef(f"{ds}/resource/9e3b8f6a-1111-4c2e-8f00-aaaaaaaaaa02")
    downloads = {URIRef(f"{table}/download/{f}") for f in ("csv", "json", "geojson", "parquet")}
    api = URIRef(f"{ds}/resource/9e3b8f6a-1111-4c2e-8f00-aaaaaaaaaa03")
    assert distributions == {table, api} | downloads
    for node in distributions:
        assert (node, RDF.type, DCAT.Distribution) in catalog
        assert catalog.value(node, DCTERMS.license) == URIRef("https://opendatacommons.org/licenses/by/1-0/")
    geojson = URIRef(f"{table}/download/geojson")
    url = URIRef(f"{BASE}/datastore/dump/9e3b8f6a-1111-4c2e-8f00-aaaaaaaaaa02?format=geojson")
    assert catalog.value(geojson, DCAT.downloadURL) == url
    assert catalog.value(geojson, DCAT.accessURL) == url
    assert catalog.value(geojson, DCTERMS.format) == URIRef(f"{EU}file-type/GEOJSON")
    assert catalog.value(geojson, DCAT.mediaType) == URIRef(f"{IANA}application/geo+json")
    parquet = URIRef(f"{table}/download/parquet")
    assert catalog.value(parquet, DCAT.mediaType) == URIRef(f"{IANA}application/vnd.apache.parquet")
    # an API is accessed, not downloaded
    assert catalog.value(api, DCAT.accessURL) == URIRef("https://example.org/ngsi-ld/v1/entities?type=OffStreetParking")
    assert catalog.value(api, DCAT.downloadURL) is None
    # a resource without a URL is reached through the dataset's page
    assert catalog.value(table, DCAT.accessURL) == URIRef(f"{BASE}/data/dataset/bai-do-xe-hien-tai")
    # no geometry, no GeoJSON download
    air = dataset_uri(D.air_quality())
    air_formats = {catalog.value(d, DCTERMS.format) for d in catalog.objects(air, DCAT.distribution)}
    assert URIRef(f"{EU}file-type/GEOJSON") not in air_formats
    assert URIRef(f"{EU}file-type/PARQUET") in air_formats


def test_file_distribution_size_media_type_and_licence(catalog: Graph) -> None:
    ds = dataset_uri(D.wards())
    (node,) = set(catalog.objects(ds, DCAT.distribution))
    assert catalog.value(node, DCAT.byteSize) == Literal(5027343, datatype=XSD.nonNegativeInteger)
    assert catalog.value(node, DCAT.downloadURL) == URIRef("https://example.org/files/hcmc_wards_2025.geojson")
    assert catalog.value(node, DCAT.mediaType) == URIRef(f"{IANA}application/geo+json")
    licence = catalog.value(node, DCTERMS.license)
    assert (licence, RDF.type, DCTERMS.LicenseDocument) in catalog
    assert catalog.value(node, DCTERMS.issued) == dt("2025-07-01T00:00:00Z")


def test_minimal_dataset_is_still_complete_enough(catalog: Graph) -> None:
    ds = dataset_uri(D.minimal())
    # no notes: the title describes it (DCAT-AP requires a description)
    assert catalog.value(ds, DCTERMS.description) == Literal("Danh sách tối thiểu")
    for prop in (DCTERMS.publisher, DCTERMS.temporal, DCTERMS.spatial, DCTERMS.accrualPeriodicity, DCAT.distribution):
        assert catalog.value(ds, prop) is None
    assert set(catalog.objects(ds, DCTERMS.language)) == {URIRef(f"{EU}language/VIE")}


def test_groups_without_an_eu_theme_and_other_values(catalog: Graph) -> None:
    ds = dataset_uri(D.bus_stops())
    (theme,) = set(catalog.objects(ds, DCAT.theme))
    assert theme == URIRef(f"{BASE}/group/bus")
    assert (theme, SKOS.inScheme, URIRef(f"{BASE}/group")) in catalog
    assert {(lit.language, str(lit)) for lit in catalog.objects(theme, SKOS.prefLabel)} == {
        ("vi", "Xe buýt"),
        ("en", "Buses"),
    }
    assert catalog.value(ds, DCTERMS.accrualPeriodicity) == URIRef(f"{EU}frequency/WEEKLY")  # from P1W
    (gtfs,) = set(catalog.objects(ds, DCAT.distribution))
    assert catalog.value(gtfs, DCTERMS.format) is None  # no EU file type for GTFS
    assert catalog.value(gtfs, DCAT.mediaType) == URIRef(f"{IANA}application/zip")
    assert catalog.value(gtfs, DCAT.downloadURL) == URIRef(f"{BASE}/files/gtfs.zip")
    assert catalog.value(gtfs, DCTERMS.license) == URIRef("https://example.org/licence")


def test_paging_as_ckanext_dcat_writes_it() -> None:
    def url_of(n: int) -> str:
        return f"{BASE}/catalog.ttl?page={n}"

    graph = mapping.catalog_graph(
        [D.minimal()], PORTAL, modified=None, has_geometry=has_geometry, paging=mapping.Paging(2, 100, 250, url_of)
    )
    page = URIRef(url_of(2))
    assert (page, RDF.type, HYDRA.PagedCollection) in graph
    assert graph.value(page, HYDRA.totalItems) == Literal(250, datatype=XSD.integer)
    assert graph.value(page, HYDRA.itemsPerPage) == Literal(100, datatype=XSD.integer)
    assert str(graph.value(page, HYDRA.firstPage)) == url_of(1)
    assert str(graph.value(page, HYDRA.lastPage)) == url_of(3)
    assert str(graph.value(page, HYDRA.nextPage)) == url_of(3)
    assert str(graph.value(page, HYDRA.previousPage)) == url_of(1)


@pytest.mark.parametrize("how", serialise.OFFERED, ids=lambda s: s.suffix)
def test_every_serialisation_parses_back_to_the_same_graph(catalog: Graph, how: serialise.Serialisation) -> None:
    body = serialise.serialise(catalog, how)
    back = parse(body, how.rdflib_format)
    assert len(back) == len(catalog)
    ds = dataset_uri(D.air_quality())
    assert (ds, RDF.type, DCAT.Dataset) in back
    assert {(lit.language, str(lit)) for lit in back.objects(ds, DCTERMS.title)} == {
        ("vi", "Chất lượng không khí theo giờ"),
        ("en", "Hourly air quality"),
    }


def test_time_literals_are_utc_with_z() -> None:
    assert mapping.time_literal("2026-11-24T15:00:00+07:00") == dt("2026-11-24T08:00:00Z")
    assert mapping.time_literal("2026-11-24") == day("2026-11-24")
    assert mapping.time_literal("yesterday") is None
    assert mapping.time_literal(None) is None
