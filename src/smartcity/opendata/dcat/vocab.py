"""The vocabularies DCAT-AP 3.0 asks for, and how the portal's CKAN values map onto them (data, not code paths).

Controlled values are the EU Vocabularies' authority tables (data themes, frequencies, file types, languages,
access rights) and IANA media types. DCAT-AP's SHACL shapes check the class of every value (``sh:class``) and, for
the EU tables, that the value is in its concept scheme (``skos:inScheme``); without fetching the tables (no network),
the graph states both itself: each concept used is written with its type, label and scheme (:func:`concept`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
#: DCAT 3 terms missing from rdflib's (DCAT 2) closed namespace
DCAT_VERSION = URIRef(str(DCAT) + "version")

AUTHORITY = "http://publications.europa.eu/resource/authority/"
DATA_THEME = Namespace(AUTHORITY + "data-theme/")
FREQUENCY = Namespace(AUTHORITY + "frequency/")
FILE_TYPE = Namespace(AUTHORITY + "file-type/")
LANGUAGE = Namespace(AUTHORITY + "language/")
ACCESS_RIGHT = Namespace(AUTHORITY + "access-right/")
IANA = "http://www.iana.org/assignments/media-types/"

#: prefixes bound in every serialisation (and the JSON-LD @context)
PREFIXES: dict[str, Namespace] = {
    "dcat": Namespace(str(DCAT)),
    "dct": Namespace(str(DCTERMS)),
    "foaf": Namespace(str(FOAF)),
    "vcard": VCARD,
    "skos": Namespace(str(SKOS)),
    "locn": LOCN,
    "gsp": GSP,
    "hydra": HYDRA,
    "adms": ADMS,
    "dcatap": DCATAP,
    "rdf": Namespace(str(RDF)),
    "rdfs": Namespace(str(RDFS)),
    "xsd": Namespace(str(XSD)),
}


@dataclass(frozen=True)
class Term:
    """A concept of a controlled vocabulary: its URI, English label and the scheme (table) it belongs to."""

    uri: str
    label: str
    scheme: str


@dataclass(frozen=True)
class Scheme:
    uri: str
    title: str


SCHEMES = {
    "data-theme": Scheme(AUTHORITY + "data-theme", "Data theme"),
    "frequency": Scheme(AUTHORITY + "frequency", "Frequency"),
    "file-type": Scheme(AUTHORITY + "file-type", "File type"),
    "language": Scheme(AUTHORITY + "language", "Language"),
    "access-right": Scheme(AUTHORITY + "access-right", "Access right"),
}


def _terms(scheme: str, codes: dict[str, str]) -> dict[str, Term]:
    base = SCHEMES[scheme].uri + "/"
    return {code: Term(base + code, label, SCHEMES[scheme].uri) for code, label in codes.items()}


#: the EU data themes (http://publications.europa.eu/resource/authority/data-theme)
THEMES = _terms(
    "data-theme",
    {
        "AGRI": "Agriculture, fisheries, forestry and food",
        "ECON": "Economy and finance",
        "EDUC": "Education, culture and sport",
        "ENER": "Energy",
        "ENVI": "Environment",
        "GOVE": "Government and public sector",
        "HEAL": "Health",
        "INTR": "International issues",
        "JUST": "Justice, legal system and public safety",
        "REGI": "Regions and cities",
        "SOCI": "Population and society",
        "TECH": "Science and technology",
        "TRAN": "Transport",
    },
)

#: the portal's groups (themes, by name) -> EU data themes; a group not listed keeps only its own concept
GROUP_THEMES: dict[str, tuple[str, ...]] = {
    "transport": ("TRAN",),
    "mobility": ("TRAN",),
    "parking": ("TRAN",),
    "traffic": ("TRAN",),
    "environment": ("ENVI",),
    "air-quality": ("ENVI", "HEAL"),
    "weather": ("ENVI",),
    "climate": ("ENVI",),
    "flood": ("ENVI", "REGI"),
    "water": ("ENVI",),
    "health": ("HEAL",),
    "administration": ("GOVE", "REGI"),
    "government": ("GOVE",),
    "boundaries": ("REGI",),
    "urban-planning": ("REGI",),
    "population": ("SOCI",),
    "society": ("SOCI",),
    "education": ("EDUC",),
    "culture": ("EDUC",),
    "tourism": ("EDUC", "ECON"),
    "economy": ("ECON",),
    "finance": ("ECON",),
    "energy": ("ENER",),
    "safety": ("JUST",),
    "justice": ("JUST",),
    "agriculture": ("AGRI",),
    "science": ("TECH",),
    "technology": ("TECH",),
}

#: EU frequencies (http://publications.europa.eu/resource/authority/frequency)
FREQUENCIES = _terms(
    "frequency",
    {
        "UPDATE_CONT": "continuously updated",
        "1MIN": "every minute",
        "5MIN": "every five minutes",
        "10MIN": "every ten minutes",
        "15MIN": "every fifteen minutes",
        "30MIN": "every thirty minutes",
        "HOURLY": "hourly",
        "DAILY": "daily",
        "WEEKLY": "weekly",
        "MONTHLY": "monthly",
        "QUARTERLY": "quarterly",
        "ANNUAL": "annual",
        "IRREG": "irregular",
        "NEVER": "never",
        "UNKNOWN": "unknown",
        "OTHER": "other",
    },
)

#: the portal's frequency values (publication definitions, CKAN's ``frequency``) -> EU frequency codes
FREQUENCY_CODES: dict[str, str] = {
    "continuous": "UPDATE_CONT",
    "realtime": "UPDATE_CONT",
    "real-time": "UPDATE_CONT",
    "hourly": "HOURLY",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "annual": "ANNUAL",
    "annually": "ANNUAL",
    "yearly": "ANNUAL",
    "irregular": "IRREG",
    "never": "NEVER",
    "unknown": "UNKNOWN",
    "other": "OTHER",
    "pt1m": "1MIN",
    "pt5m": "5MIN",
    "pt10m": "10MIN",
    "pt15m": "15MIN",
    "pt30m": "30MIN",
    "pt1h": "HOURLY",
    "p1d": "DAILY",
    "p1w": "WEEKLY",
    "p7d": "WEEKLY",
    "p1m": "MONTHLY",
    "p3m": "QUARTERLY",
    "p1y": "ANNUAL",
}


@dataclass(frozen=True)
class Format:
    """A download format: its EU file type (None when the EU table has none) and IANA media type."""

    file_type: str | None
    media_type: str | None


#: CKAN resource formats (upper case) -> file type code and media type
FORMATS: dict[str, Format] = {
    "CSV": Format("CSV", "text/csv"),
    "TSV": Format("TSV", "text/tab-separated-values"),
    "JSON": Format("JSON", "application/json"),
    "GEOJSON": Format("GEOJSON", "application/geo+json"),
    "PARQUET": Format("PARQUET", "application/vnd.apache.parquet"),
    "XLSX": Format("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "XLS": Format("XLS", "application/vnd.ms-excel"),
    "ODS": Format("ODS", "application/vnd.oasis.opendocument.spreadsheet"),
    "XML": Format("XML", "application/xml"),
    "PDF": Format("PDF", "application/pdf"),
    "ZIP": Format("ZIP", "application/zip"),
    "HTML": Format("HTML", "text/html"),
    "TXT": Format("TXT", "text/plain"),
    "KML": Format("KML", "application/vnd.google-earth.kml+xml"),
    "SHP": Format("SHP", None),
    "GML": Format("GML", "application/gml+xml"),
    "RDF": Format("RDF_XML", "application/rdf+xml"),
    "TTL": Format("RDF_TURTLE", "text/turtle"),
    "TURTLE": Format("RDF_TURTLE", "text/turtle"),
    "JSON-LD": Format("JSON_LD", "application/ld+json"),
    "JSONLD": Format("JSON_LD", "application/ld+json"),
    "GTFS": Format(None, "application/zip"),
    "API": Format(None, None),
}
FILE_TYPE_LABELS = {
    "CSV": "CSV",
    "TSV": "TSV",
    "JSON": "JSON",
    "GEOJSON": "GeoJSON",
    "PARQUET": "Parquet",
    "XLSX": "XLSX",
    "XLS": "XLS",
    "ODS": "ODS",
    "XML": "XML",
    "PDF": "PDF",
    "ZIP": "ZIP",
    "HTML": "HTML",
    "TXT": "TXT",
    "KML": "KML",
    "SHP": "SHP",
    "GML": "GML",
    "RDF_XML": "RDF/XML",
    "RDF_TURTLE": "RDF Turtle",
    "JSON_LD": "JSON-LD",
}
#: formats whose URL is an interface, not a file (no ``dcat:downloadURL``)
INTERFACES = frozenset({"API", "HTML", "WMS", "WFS", "SPARQL"})

LANGUAGES = _terms("language", {"VIE": "Vietnamese", "ENG": "English"})
#: CKAN / ISO 639-1 codes -> EU language codes
LANGUAGE_CODES = {"vi": "VIE", "vie": "VIE", "en": "ENG", "eng": "ENG"}

PUBLIC_ACCESS = _terms("access-right", {"PUBLIC": "public"})["PUBLIC"]


@dataclass(frozen=True)
class Licence:
    url: str
    title: str


#: CKAN licence ids -> the licence's canonical document
LICENCES: dict[str, Licence] = {
    "cc-by-4.0": Licence("https://creativecommons.org/licenses/by/4.0/", "Creative Commons Attribution 4.0"),
    "cc-by": Licence("https://creativecommons.org/licenses/by/4.0/", "Creative Commons Attribution 4.0"),
    "cc-by-sa-4.0": Licence(
        "https://creativecommons.org/licenses/by-sa/4.0/", "Creative Commons Attribution Share-Alike 4.0"
    ),
    "cc-by-sa": Licence(
        "https://creativecommons.org/licenses/by-sa/4.0/", "Creative Commons Attribution Share-Alike 4.0"
    ),
    "cc-zero": Licence("https://creativecommons.org/publicdomain/zero/1.0/", "Creative Commons CCZero"),
    "cc0-1.0": Licence("https://creativecommons.org/publicdomain/zero/1.0/", "Creative Commons CCZero"),
    "odc-by": Licence("https://opendatacommons.org/licenses/by/1-0/", "Open Data Commons Attribution License"),
    "odc-by-1.0": Licence("https://opendatacommons.org/licenses/by/1-0/", "Open Data Commons Attribution License"),
    "odc-odbl": Licence("https://opendatacommons.org/licenses/odbl/1-0/", "Open Data Commons Open Database License"),
    "odbl-1.0": Licence("https://opendatacommons.org/licenses/odbl/1-0/", "Open Data Commons Open Database License"),
    "odc-pddl-1.0": Licence(
        "https://opendatacommons.org/licenses/pddl/1-0/", "Open Data Commons Public Domain Dedication and License"
    ),
    "odc-pddl": Licence(
        "https://opendatacommons.org/licenses/pddl/1-0/", "Open Data Commons Public Domain Dedication and License"
    ),
}


def frequency_term(value: object) -> Term | None:
    """The EU frequency of a CKAN ``frequency`` value: a portal word, an ISO 8601 duration, an EU code or URI."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.startswith(FREQUENCY):
        return FREQUENCIES.get(text[len(FREQUENCY) :])
    if text.upper() in FREQUENCIES:
        return FREQUENCIES[text.upper()]
    code = FREQUENCY_CODES.get(text.lower())
    return FREQUENCIES[code] if code else None


def format_of(value: object) -> Format | None:
    if not isinstance(value, str):
        return None
    key = value.strip().upper().lstrip(".")
    return FORMATS.get(key)


def file_type_term(code: str) -> Term:
    return Term(str(FILE_TYPE[code]), FILE_TYPE_LABELS.get(code, code), SCHEMES["file-type"].uri)


def media_type_uri(media_type: str) -> str:
    return IANA + media_type.split(";", 1)[0].strip().lower()


def theme_terms(group_name: str) -> list[Term]:
    return [THEMES[code] for code in GROUP_THEMES.get(group_name.lower(), ())]


def licence_of(license_id: object, license_url: object = None, license_title: object = None) -> Licence | None:
    """The licence document of a dataset: a known CKAN id, else the dataset's own ``license_url``."""
    if isinstance(license_id, str) and license_id.strip().lower() in LICENCES:
        return LICENCES[license_id.strip().lower()]
    if isinstance(license_url, str) and license_url.startswith(("http://", "https://")):
        title = license_title if isinstance(license_title, str) and license_title else str(license_id or license_url)
        return Licence(license_url, title)
    return None
