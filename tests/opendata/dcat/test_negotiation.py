"""Choosing Turtle, JSON-LD, RDF/XML (or the site's HTML page) from an Accept header."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.opendata.dcat.serialise import HTML, JSONLD, OFFERED, RDFXML, TURTLE, negotiate


@pytest.mark.parametrize(
    ("header", "html", "expected"),
    [
        (None, False, TURTLE),
        ("", False, TURTLE),
        ("*/*", False, TURTLE),
        ("text/turtle", False, TURTLE),
        ("application/ld+json", False, JSONLD),
        ("application/rdf+xml", False, RDFXML),
        ("application/*", False, JSONLD),
        ("text/turtle;q=0.5, application/rdf+xml", False, RDFXML),
        ("application/ld+json;q=0.9, text/turtle;q=0.9", False, TURTLE),  # a tie: the server's order
        ("*/*;q=0.1, application/ld+json;q=0.2", False, JSONLD),
        ("application/ld+json;q=0", False, None),
        ("text/html", False, None),
        ("application/pdf, image/*", False, None),
        ("*/*, text/turtle;q=0", False, JSONLD),  # excluded explicitly, the next one through the wildcard
        # a browser: HTML where it is offered, RDF through */* where it is not
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True, HTML),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False, TURTLE),
        ("text/html;q=0.5, text/turtle", True, TURTLE),
        ("*/*", True, TURTLE),
        ("text/turtle;q=abc, application/rdf+xml;q=0.1", False, RDFXML),
        ("text/turtle;q=7", False, None),
        ("garbage", False, None),
    ],
)
def test_negotiate(header: str | None, html: bool, expected: object) -> None:
    assert negotiate(header, html=html) == expected


media = st.sampled_from(
    ["text/turtle", "application/ld+json", "application/rdf+xml", "text/html", "*/*", "text/*", "image/png", "a/b"]
)
weight = st.one_of(st.none(), st.floats(min_value=0, max_value=1).map(lambda q: round(q, 3)))
ranges = st.lists(st.tuples(media, weight), max_size=8)


@given(ranges, st.booleans())
def test_the_choice_is_one_the_client_accepts_with_the_highest_weight(given_ranges: list, html: bool) -> None:
    header = ", ".join(m if q is None else f"{m};q={q}" for m, q in given_ranges)
    chosen = negotiate(header, html=html)
    offered = [s.media_type for s in OFFERED] + ([HTML] if html else [])

    def weight_of(kind: str) -> float:
        best, specificity = 0.0, -1
        for m, q in given_ranges:
            level = 2 if m == kind else 1 if m == kind.split("/")[0] + "/*" else 0 if m == "*/*" else -1
            if level > specificity:
                best, specificity = (1.0 if q is None else q), level
        return best if specificity >= 0 else 0.0

    best = max(weight_of(k) for k in offered)
    if not header.strip():
        assert chosen == TURTLE
    elif best <= 0:
        assert chosen is None
    else:
        assert chosen is not None
        kind = chosen if isinstance(chosen, str) else chosen.media_type
        assert weight_of(kind) == best


@given(st.text(max_size=300))
def test_any_header_gives_an_answer_or_none(header: str) -> None:
    chosen = negotiate(header, html=True)
    assert chosen is None or chosen == HTML or chosen in OFFERED
