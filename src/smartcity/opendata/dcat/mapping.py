"""CKAN dataset dictionaries (``package_show`` results) as a DCAT-AP 3.0 graph.

One :class:`Portal` says where things live (the public base URL, the site, the API); :func:`catalog_graph` builds
a catalogue page (``dcat:Catalog`` with its datasets and, when paged, Hydra paging as ckanext-dcat writes it) and
:func:`add_dataset` one ``dcat:Dataset`` with a ``dcat:Distribution`` per resource and, for resources in the
datastore, one per download format. Pure: no I/O; whether a resource has geometry (GeoJSON download) is asked of
the caller.

Every value a DCAT-AP shape constrains with ``sh:class`` is typed in the graph itself (licences, formats, media
types, languages, frequencies, themes, pages, URLs as ``rdfs:Resource``), and every EU vocabulary concept carries
its label and scheme (:func:`add_concept`), so that the shapes validate without fetching the vocabularies.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from smartcity.opendata.dcat import geometry, vocab
from smartcity.opendata.dcat.vocab import DCAT_VERSION, GSP, HYDRA, LOCN, VCARD, Term

log = logging.getLogger(__name__)

Text = Mapping[str, str]  # language -> text
HasGeometry = Callable[[str], bool]  # resource id -> whether its datastore table has a geometry column

#: the datastore download formats (``/datastore/dump/{id}?format=``); GeoJSON only where the table has geometry
DOWNLOADS = ("csv", "json", "geojson", "parquet")
_LANG_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_LANGS = ("vi", "en")


@dataclass(frozen=True)
class Portal:
    """Where the catalogue's things live, and what the catalogue says about itself."""

    base_url: str  # "https://data.example.vn" (no trailing slash)
    title: Text = field(
        default_factory=lambda: {
            "vi": "Danh mục dữ liệu mở Thành phố Hồ Chí Minh",
            "en": "Ho Chi Minh City open data catalogue",
        }
    )
    description: Text = field(
        default_factory=lambda: {
            "vi": "Các bộ dữ liệu mở của nền tảng đô thị thông minh Thành phố Hồ Chí Minh: giao thông, môi trường, "
            "ngập lụt, y tế, hành chính; nhiều bộ được cập nhật tự động từ dữ liệu thời gian thực của thành phố.",
            "en": "The open datasets of the Ho Chi Minh City smart-city platform: transport, environment, flooding, "
            "health, administration; many refresh automatically from the city's live data.",
        }
    )
    publisher: Text = field(
        default_factory=lambda: {
            "vi": "Nền tảng đô thị thông minh Thành phố Hồ Chí Minh",
            "en": "Ho Chi Minh City smart-city platform",
        }
    )
    site_path: str = "/data"
    api_path: str = "/api/3/action"

    def url(self, path: str) -> URIRef:
        return URIRef(self.base_url + path)

    @property
    def catalog(self) -> URIRef:
        return self.url("/catalog")

    @property
    def groups_scheme(self) -> URIRef:
        return self.url("/group")

    def dataset(self, dataset_id: str) -> URIRef:
        return self.url(f"/dataset/{quote(dataset_id, safe='')}")

    def landing_page(self, name: str) -> URIRef:
        return self.url(f"{self.site_path}/dataset/{quote(name, safe='')}")

    def download(self, resource_id: str, fmt: str) -> URIRef:
        return self.url(f"/datastore/dump/{quote(resource_id, safe='')}?format={fmt}")

    def absolute(self, url: object) -> URIRef | None:
        if not isinstance(url, str) or not url or any(c in url for c in ' <>"{}|\\^`\n\r\t'):
            return None
        if url.startswith(("http://", "https://")):
            return URIRef(url)
        if url.startswith("/") and not url.startswith("//"):
            return self.url(url)
        return None


@dataclass(frozen=True)
class Paging:
    """Hydra paging of a catalogue page (ckanext-dcat's ``hydra:PagedCollection``)."""

    page: int
    size: int
    total: int
    url_of: Callable[[int], str]  # page number -> that page's URL

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))


# -- small builders ---------------------------------------------------------------------------------------------


def value_of(obj: Mapping[str, Any], key: str) -> Any:
    """A CKAN field, top level first, else from ``extras`` (a list of ``{"key", "value"}``)."""
    found = obj.get(key)
    if found not in (None, ""):
        return found
    extras = obj.get("extras")
    if isinstance(extras, list):
        for extra in extras:
            if isinstance(extra, Mapping) and extra.get("key") == key:
                return extra.get("value")
    return None


def texts(obj: Mapping[str, Any], key: str) -> list[Literal]:
    """A text field in each language it has (``{key}_translated``, ``{key}_vi``/``_en``), else untagged."""
    found: dict[str, str] = {}
    translated = value_of(obj, f"{key}_translated")
    if isinstance(translated, Mapping):
        for lang, text in translated.items():
            if isinstance(lang, str) and _LANG_TAG.match(lang) and isinstance(text, str) and text.strip():
                found.setdefault(lang, text.strip())
    for lang in _LANGS:
        text = value_of(obj, f"{key}_{lang}")
        if isinstance(text, str) and text.strip():
            found.setdefault(lang, text.strip())
    if found:
        return [Literal(text, lang=lang) for lang, text in found.items()]
    plain = value_of(obj, key)
    return [Literal(plain.strip())] if isinstance(plain, str) and plain.strip() else []


def bilingual(text: Text) -> list[Literal]:
    return [Literal(value, lang=lang) for lang, value in text.items() if value]


def parse_time(value: object) -> datetime | date | None:
    """CKAN's ISO 8601 times (UTC when without offset) or dates."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def time_literal(value: object) -> Literal | None:
    """``xsd:dateTime`` in UTC with ``Z`` (or ``xsd:date`` for a plain date)."""
    found = parse_time(value)
    if found is None:
        return None
    if not isinstance(found, datetime):
        return Literal(found.isoformat(), datatype=XSD.date, normalize=False)
    utc = found.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S") + (f".{utc.microsecond:06d}".rstrip("0") if utc.microsecond else "")
    return Literal(text + "Z", datatype=XSD.dateTime, normalize=False)


def add_concept(graph: Graph, term: Term, *classes: URIRef) -> URIRef:
    """An EU vocabulary concept with its classes, label and scheme (what the shapes check offline)."""
    node = URIRef(term.uri)
    scheme = URIRef(term.scheme)
    graph.add((node, RDF.type, SKOS.Concept))
    for cls in classes:
        graph.add((node, RDF.type, cls))
    graph.add((node, SKOS.prefLabel, Literal(term.label, lang="en")))
    graph.add((node, SKOS.inScheme, scheme))
    add_scheme(graph, scheme, {"en": _scheme_title(term.scheme)})
    return node


def _scheme_title(uri: str) -> str:
    for scheme in vocab.SCHEMES.values():
        if scheme.uri == uri:
            return scheme.title
    return uri.rsplit("/", 1)[-1]


def add_scheme(graph: Graph, scheme: URIRef, title: Text) -> None:
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    for literal in bilingual(title):
        graph.add((scheme, DCTERMS.title, literal))


def add_document(graph: Graph, node: URIRef, cls: URIRef = FOAF.Document) -> URIRef:
    graph.add((node, RDF.type, cls))
    return node


def add_language(graph: Graph, code: str) -> URIRef:
    return add_concept(graph, vocab.LANGUAGES[code], DCTERMS.LinguisticSystem)


# -- the dataset ------------------------------------------------------------------------------------------------


def add_dataset(graph: Graph, dataset: Mapping[str, Any], portal: Portal, has_geometry: HasGeometry) -> URIRef:
    """Add one CKAN dataset to ``graph``; its URI is ``{base}/dataset/{id}``."""
    dataset_id = str(dataset.get("id") or dataset.get("name"))
    name = str(dataset.get("name") or dataset_id)
    node = portal.dataset(dataset_id)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(dataset_id)))
    titles = texts(dataset, "title") or [Literal(name)]
    for literal in titles:
        graph.add((node, DCTERMS.title, literal))
    # DCAT-AP requires a description; a dataset without notes is described by its title
    for literal in texts(dataset, "notes") or titles:
        graph.add((node, DCTERMS.description, literal))
    graph.add((node, DCAT.landingPage, add_document(graph, portal.landing_page(name))))
    for literal in _keywords(dataset):
        graph.add((node, DCAT.keyword, literal))
    _themes(graph, node, dataset, portal)
    _publisher(graph, node, dataset, portal)
    _contact(graph, node, dataset)
    for key, prop in (("metadata_created", DCTERMS.issued), ("metadata_modified", DCTERMS.modified)):
        stamp = time_literal(dataset.get(key))
        if stamp is not None:
            graph.add((node, prop, stamp))
    frequency = vocab.frequency_term(value_of(dataset, "frequency"))
    if frequency is not None:
        graph.add((node, DCTERMS.accrualPeriodicity, add_concept(graph, frequency, DCTERMS.Frequency)))
    _temporal(graph, node, dataset)
    _spatial(graph, node, dataset)
    for code in _languages(dataset):
        graph.add((node, DCTERMS.language, add_language(graph, code)))
    public = add_concept(graph, vocab.PUBLIC_ACCESS, DCTERMS.RightsStatement)
    graph.add((node, DCTERMS.accessRights, public))
    version = value_of(dataset, "version")
    if isinstance(version, str) and version.strip():
        graph.add((node, DCAT_VERSION, Literal(version.strip())))
    source = portal.absolute(dataset.get("url"))
    if source is not None:
        graph.add((node, FOAF.page, add_document(graph, source)))
    licence = _licence(graph, dataset)
    for resource in dataset.get("resources") or ():
        if isinstance(resource, Mapping) and isinstance(resource.get("id"), str):
            for distribution in _distributions(graph, node, dataset, resource, portal, licence, has_geometry):
                graph.add((node, DCAT.distribution, distribution))
    return node


def _keywords(dataset: Mapping[str, Any]) -> list[Literal]:
    out: list[Literal] = []
    for tag in dataset.get("tags") or ():
        name = tag.get("display_name") or tag.get("name") if isinstance(tag, Mapping) else tag
        if isinstance(name, str) and name.strip():
            out.append(Literal(name.strip()))
    return out


def _themes(graph: Graph, node: URIRef, dataset: Mapping[str, Any], portal: Portal) -> None:
    """EU data themes of the dataset's groups; a group without one is a concept of the portal's own scheme."""
    for group in dataset.get("groups") or ():
        if not isinstance(group, Mapping) or not isinstance(group.get("name"), str):
            continue
        terms = vocab.theme_terms(group["name"])
        for term in terms:
            graph.add((node, DCAT.theme, add_concept(graph, term)))
        if not terms:
            concept = portal.url(f"/group/{quote(group['name'], safe='')}")
            graph.add((concept, RDF.type, SKOS.Concept))
            for literal in texts(group, "title") or [Literal(group["name"])]:
                graph.add((concept, SKOS.prefLabel, literal))
            graph.add((concept, SKOS.inScheme, portal.groups_scheme))
            graph.add((node, DCAT.theme, concept))


def _publisher(graph: Graph, node: URIRef, dataset: Mapping[str, Any], portal: Portal) -> None:
    org = dataset.get("organization")
    if not isinstance(org, Mapping) or not isinstance(org.get("name"), str):
        return
    agent = portal.url(f"/organization/{quote(org['name'], safe='')}")
    graph.add((agent, RDF.type, FOAF.Agent))
    for literal in texts(org, "title") or [Literal(org["name"])]:
        graph.add((agent, FOAF.name, literal))
    graph.add((node, DCTERMS.publisher, agent))


def _contact(graph: Graph, node: URIRef, dataset: Mapping[str, Any]) -> None:
    """The maintainer (else the author, else the ``contact_*`` extras) as a ``vcard:Kind``, when reachable."""
    for who, mail in (
        ("maintainer", "maintainer_email"),
        ("author", "author_email"),
        ("contact_name", "contact_email"),
    ):
        email = value_of(dataset, mail)
        if not isinstance(email, str) or not _EMAIL.match(email.strip()):
            continue
        contact = BNode()
        graph.add((contact, RDF.type, VCARD.Kind))
        name = value_of(dataset, who)
        org = dataset.get("organization")
        if not (isinstance(name, str) and name.strip()) and isinstance(org, Mapping):
            name = org.get("title") or org.get("name")
        if isinstance(name, str) and name.strip():
            graph.add((contact, VCARD.fn, Literal(name.strip())))
        graph.add((contact, VCARD.hasEmail, URIRef("mailto:" + quote(email.strip(), safe="@.+-_"))))
        graph.add((node, DCAT.contactPoint, contact))
        return


def _temporal(graph: Graph, node: URIRef, dataset: Mapping[str, Any]) -> None:
    start = time_literal(value_of(dataset, "temporal_start"))
    end = time_literal(value_of(dataset, "temporal_end"))
    if start is None and end is None:
        return
    period = BNode()
    graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
    if start is not None:
        graph.add((period, DCAT.startDate, start))
    if end is not None:
        graph.add((period, DCAT.endDate, end))
    graph.add((node, DCTERMS.temporal, period))


def _spatial(graph: Graph, node: URIRef, dataset: Mapping[str, Any]) -> None:
    raw = value_of(dataset, "spatial")
    if raw in (None, ""):
        return
    try:
        found = geometry.coverage(raw)
    except geometry.GeometryInvalid as exc:
        log.info("dataset %s: spatial left out of DCAT: %s", dataset.get("name"), exc)
        return
    location = BNode()
    graph.add((location, RDF.type, DCTERMS.Location))
    graph.add((location, DCAT.bbox, Literal(found.bbox, datatype=GSP.wktLiteral)))
    if found.centroid is not None:
        graph.add((location, DCAT.centroid, Literal(found.centroid, datatype=GSP.wktLiteral)))
    if found.wkt is not None and found.geojson is not None:
        shape = BNode()
        graph.add((shape, RDF.type, LOCN.Geometry))
        graph.add((shape, GSP.asWKT, Literal(found.wkt, datatype=GSP.wktLiteral)))
        graph.add((shape, GSP.asGeoJSON, Literal(found.geojson, datatype=GSP.geoJSONLiteral)))
        graph.add((location, LOCN.geometry, shape))
    graph.add((node, DCTERMS.spatial, location))


def _languages(dataset: Mapping[str, Any]) -> list[str]:
    """CKAN's ``language`` when given, else Vietnamese, and English when the metadata has it."""
    given = value_of(dataset, "language")
    items: Iterable[Any] = given.split(",") if isinstance(given, str) else given if isinstance(given, list) else ()
    codes = [vocab.LANGUAGE_CODES.get(str(i).strip().lower()) for i in items]
    found = list(dict.fromkeys(c for c in codes if c))
    if found:
        return found
    english = any(lit.language == "en" for lit in texts(dataset, "title"))
    return ["VIE", "ENG"] if english else ["VIE"]


def _licence(graph: Graph, dataset: Mapping[str, Any]) -> URIRef | None:
    found = vocab.licence_of(dataset.get("license_id"), dataset.get("license_url"), dataset.get("license_title"))
    if found is None:
        return None
    node = URIRef(found.url)
    graph.add((node, RDF.type, DCTERMS.LicenseDocument))
    graph.add((node, RDFS.label, Literal(found.title, lang="en")))
    return node


# -- distributions ----------------------------------------------------------------------------------------------


def _distributions(
    graph: Graph,
    dataset_node: URIRef,
    dataset: Mapping[str, Any],
    resource: Mapping[str, Any],
    portal: Portal,
    licence: URIRef | None,
    has_geometry: HasGeometry,
) -> list[URIRef]:
    """The resource itself, and each datastore download of it."""
    rid: str = resource["id"]
    base = URIRef(f"{dataset_node}/resource/{quote(rid, safe='')}")
    names = texts(resource, "name") or [Literal(rid)]
    modified = time_literal(resource.get("last_modified") or resource.get("metadata_modified"))
    issued = time_literal(resource.get("created"))
    out = [base]
    graph.add((base, RDF.type, DCAT.Distribution))
    for literal in names:
        graph.add((base, DCTERMS.title, literal))
    for literal in texts(resource, "description"):
        graph.add((base, DCTERMS.description, literal))
    fmt = vocab.format_of(resource.get("format"))
    url = portal.absolute(resource.get("url"))
    landing = portal.landing_page(str(dataset.get("name") or dataset.get("id")))
    graph.add((base, DCAT.accessURL, _resource(graph, url or landing)))
    is_interface = str(resource.get("format") or "").strip().upper() in vocab.INTERFACES
    if url is not None and not is_interface:
        graph.add((base, DCAT.downloadURL, _resource(graph, url)))
    _format(graph, base, fmt, resource.get("mimetype"))
    size = resource.get("size")
    if isinstance(size, str) and size.isdigit():
        size = int(size)
    if isinstance(size, int) and not isinstance(size, bool) and size >= 0:
        graph.add((base, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
    _common(graph, base, licence, issued, modified)
    if _in_datastore(resource):
        for name in DOWNLOADS:
            if name == "geojson" and not has_geometry(rid):
                continue
            node = URIRef(f"{base}/download/{name}")
            link = _resource(graph, portal.download(rid, name))
            graph.add((node, RDF.type, DCAT.Distribution))
            label = vocab.FILE_TYPE_LABELS.get(name.upper(), name.upper())
            for literal in names:
                graph.add((node, DCTERMS.title, Literal(f"{literal} ({label})", lang=literal.language)))
            graph.add((node, DCAT.accessURL, link))
            graph.add((node, DCAT.downloadURL, link))
            _format(graph, node, vocab.format_of(name), None)
            _common(graph, node, licence, issued, modified)
            out.append(node)
    return out


def _resource(graph: Graph, url: URIRef) -> URIRef:
    graph.add((url, RDF.type, RDFS.Resource))
    return url


def _format(graph: Graph, node: URIRef, fmt: vocab.Format | None, mimetype: object) -> None:
    if fmt is not None and fmt.file_type is not None:
        term = vocab.file_type_term(fmt.file_type)
        graph.add((node, DCTERMS.format, add_concept(graph, term, DCTERMS.MediaTypeOrExtent)))
    media = mimetype if isinstance(mimetype, str) and re.fullmatch(r"[\w.+-]+/[\w.+-]+", mimetype.strip()) else None
    media = media or (fmt.media_type if fmt is not None else None)
    if media:
        media_node = URIRef(vocab.media_type_uri(media))
        graph.add((media_node, RDF.type, DCTERMS.MediaType))
        graph.add((node, DCAT.mediaType, media_node))


def _common(
    graph: Graph, node: URIRef, licence: URIRef | None, issued: Literal | None, modified: Literal | None
) -> None:
    if licence is not None:
        graph.add((node, DCTERMS.license, licence))
    if issued is not None:
        graph.add((node, DCTERMS.issued, issued))
    if modified is not None:
        graph.add((node, DCTERMS.modified, modified))


def _in_datastore(resource: Mapping[str, Any]) -> bool:
    value = resource.get("datastore_active")
    return value is True or (isinstance(value, str) and value.lower() == "true")


# -- the catalogue ----------------------------------------------------------------------------------------------


def new_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in vocab.PREFIXES.items():
        graph.bind(prefix, namespace, replace=True)
    return graph


def catalog_graph(
    datasets: Sequence[Mapping[str, Any]],
    portal: Portal,
    *,
    modified: datetime | None,
    has_geometry: HasGeometry,
    paging: Paging | None = None,
) -> Graph:
    """A catalogue page: the ``dcat:Catalog``, its ``datasets`` and, when paged, the Hydra paging."""
    graph = new_graph()
    catalog = portal.catalog
    graph.add((catalog, RDF.type, DCAT.Catalog))
    for literal in bilingual(portal.title):
        graph.add((catalog, DCTERMS.title, literal))
    for literal in bilingual(portal.description):
        graph.add((catalog, DCTERMS.description, literal))
    publisher = portal.url("/#publisher")
    graph.add((publisher, RDF.type, FOAF.Agent))
    for literal in bilingual(portal.publisher):
        graph.add((publisher, FOAF.name, literal))
    graph.add((catalog, DCTERMS.publisher, publisher))
    graph.add((catalog, FOAF.homepage, add_document(graph, portal.url(portal.site_path))))
    for code in ("VIE", "ENG"):
        graph.add((catalog, DCTERMS.language, add_language(graph, code)))
    if modified is not None:
        stamp = time_literal(modified)
        if stamp is not None:
            graph.add((catalog, DCTERMS.modified, stamp))
    themes = URIRef(vocab.SCHEMES["data-theme"].uri)
    add_scheme(graph, themes, {"en": vocab.SCHEMES["data-theme"].title})
    add_scheme(graph, portal.groups_scheme, {"vi": "Nhóm dữ liệu của cổng", "en": "The portal's groups"})
    graph.add((catalog, DCAT.themeTaxonomy, themes))
    graph.add((catalog, DCAT.themeTaxonomy, portal.groups_scheme))
    graph.add((catalog, DCAT.service, _api_service(graph, portal)))
    for dataset in datasets:
        graph.add((catalog, DCAT.dataset, add_dataset(graph, dataset, portal, has_geometry)))
    if paging is not None:
        add_paging(graph, paging)
    return graph


def _api_service(graph: Graph, portal: Portal) -> Node:
    service = portal.url(portal.api_path)
    graph.add((service, RDF.type, DCAT.DataService))
    for literal in bilingual({"vi": "API CKAN của cổng dữ liệu mở", "en": "The open data portal's CKAN API"}):
        graph.add((service, DCTERMS.title, literal))
    graph.add((service, DCAT.endpointURL, _resource(graph, service)))
    graph.add((service, DCAT.endpointDescription, _resource(graph, portal.url("/openapi.json"))))
    return service


def add_paging(graph: Graph, paging: Paging) -> None:
    """ckanext-dcat's paging: the page is a ``hydra:PagedCollection``; page links are literals, as it writes them."""
    page = URIRef(paging.url_of(paging.page))
    graph.add((page, RDF.type, HYDRA.PagedCollection))
    graph.add((page, HYDRA.totalItems, Literal(paging.total, datatype=XSD.integer)))
    graph.add((page, HYDRA.itemsPerPage, Literal(paging.size, datatype=XSD.integer)))
    graph.add((page, HYDRA.firstPage, Literal(paging.url_of(1))))
    graph.add((page, HYDRA.lastPage, Literal(paging.url_of(paging.last))))
    if paging.page < paging.last:
        graph.add((page, HYDRA.nextPage, Literal(paging.url_of(paging.page + 1))))
    if paging.page > 1:
        graph.add((page, HYDRA.previousPage, Literal(paging.url_of(paging.page - 1))))


def dataset_graph(dataset: Mapping[str, Any], portal: Portal, has_geometry: HasGeometry) -> Graph:
    """One dataset on its own (``/dataset/{id}``)."""
    graph = new_graph()
    add_dataset(graph, dataset, portal, has_geometry)
    return graph
