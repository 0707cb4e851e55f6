"""The three serialisations of the catalogue (Turtle, JSON-LD, RDF/XML) and the choice among them by suffix or
``Accept`` header (HTTP content negotiation, RFC 9110 section 12.5.1)."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph

from smartcity.opendata.dcat import vocab


@dataclass(frozen=True)
class Serialisation:
    suffix: str  # the URL suffix: /catalog.ttl
    media_type: str  # what the response says it is
    rdflib_format: str


TURTLE = Serialisation("ttl", "text/turtle", "turtle")
JSONLD = Serialisation("jsonld", "application/ld+json", "json-ld")
RDFXML = Serialisation("rdf", "application/rdf+xml", "xml")
#: in the order of preference when the client likes several equally
OFFERED = (TURTLE, JSONLD, RDFXML)
BY_SUFFIX = {s.suffix: s for s in OFFERED}
BY_MEDIA_TYPE = {s.media_type: s for s in OFFERED}
HTML = "text/html"
MAX_ACCEPT = 4096
MAX_RANGES = 64

#: the JSON-LD @context of every JSON-LD answer: the prefixes, so that terms read as ``dcat:Dataset``
CONTEXT = {prefix: str(namespace) for prefix, namespace in vocab.PREFIXES.items()}


def serialise(graph: Graph, how: Serialisation) -> bytes:
    if how is JSONLD:
        text = graph.serialize(format="json-ld", context=CONTEXT, auto_compact=True)
        return text.encode("utf-8")
    return graph.serialize(format=how.rdflib_format, encoding="utf-8")


def content_type(how: Serialisation) -> str:
    return f"{how.media_type}; charset=utf-8" if how.media_type.startswith("text/") else how.media_type


def _ranges(header: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their weights (malformed weights count as 0)."""
    out: list[tuple[str, float]] = []
    for part in header[:MAX_ACCEPT].split(",")[:MAX_RANGES]:
        pieces = [p.strip() for p in part.split(";")]
        kind = pieces[0].lower()
        if "/" not in kind:
            continue
        weight = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
                if not 0.0 <= weight <= 1.0:
                    weight = 0.0
        out.append((kind, weight))
    return out


def _weight(ranges: list[tuple[str, float]], media_type: str) -> tuple[int, float]:
    """The weight the most specific matching range gives ``media_type`` (specificity, weight); (-1, 0) if none."""
    major = media_type.split("/", 1)[0]
    best = (-1, 0.0)
    for kind, weight in ranges:
        if kind == media_type:
            specificity = 2
        elif kind == f"{major}/*":
            specificity = 1
        elif kind == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best[0]:
            best = (specificity, weight)
    return best


def negotiate(header: str | None, *, html: bool = False) -> Serialisation | str | None:
    """The serialisation the client prefers (``"text/html"`` when ``html`` is offered and wins); None if none.

    No header, or an empty one, means anything: Turtle. Ties go to the order of :data:`OFFERED` (HTML last, so
    that ``*/*`` gets RDF).
    """
    if header is None or not header.strip():
        return TURTLE
    ranges = _ranges(header)
    candidates: list[Serialisation | str] = [*OFFERED, *([HTML] if html else [])]
    scored: list[tuple[tuple[float, int, int], Serialisation | str]] = []
    for index, candidate in enumerate(candidates):
        media = candidate if isinstance(candidate, str) else candidate.media_type
        specificity, weight = _weight(ranges, media)
        if specificity >= 0 and weight > 0:
            # at the same weight, a type named explicitly beats one reached through a wildcard
            scored.append(((weight, specificity, -index), candidate))
    return max(scored, key=lambda s: s[0])[1] if scored else None
