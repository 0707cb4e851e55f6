"""Tests of smartcity.hub.jsonld: @context resolution, caching, and term expansion/compaction.

No network: remote contexts come from fake fetchers (or a local HTTP server for the default fetcher).
Expansion and compaction are checked against PyLD itself on the effective context [user..., core].
"""

from __future__ import annotations

import http.server
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyld import jsonld

from smartcity.hub import jsonld as ctxmod
from smartcity.hub.jsonld import (
    CORE_CONTEXT_URL,
    CachedContext,
    ContextError,
    ContextNotAvailable,
    ContextRegistry,
    InvalidContext,
    ResolvedContext,
    core_document,
)

NGSI = "https://uri.etsi.org/ngsi-ld/"
VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
CORE_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context{}.jsonld"
ALL_CORE_URLS = [CORE_URL.format(f"-v1.{n}") for n in range(3, 10)] + [CORE_URL.format("")]

SDM = {
    "temperature": "https://smartdatamodels.org/dataModel.Environment/temperature",
    "schema": "https://schema.org/",
    "name": "schema:name",
}
SDM_VOCAB = {
    "@vocab": "https://example.org/vocab#",
    "sdm": "https://smartdatamodels.org/",
    "airQualityIndex": "sdm:dataModel.Environment/airQualityIndex",
    "refDevice": {"@id": "https://smartdatamodels.org/refDevice", "@type": "@id"},
    "WeatherObserved": "sdm:dataModel.Weather/WeatherObserved",
}
SDM_PREFIXES = {
    "ex": "http://example.org/ns#",
    "exo": "http://example.org/",
    "same": "http://example.org/ns#same",
    "sam": "http://example.org/ns#same",
    "Vehicle": "ex:Vehicle",
    "speed": {"@id": "ex:speed"},
    "nothing": None,
}
JSON_LD_11 = {  # JSON-LD 1.1 features: explicit @prefix, scoped context, @json, @protected
    "@version": 1.1,
    "dm": {"@id": "https://smartdatamodels.org/dataModel.", "@prefix": True},
    "address": {"@id": "https://schema.org/address", "@context": {"streetAddress": "https://schema.org/streetAddress"}},
    "raw": {"@id": "https://example.org/raw", "@type": "@json", "@protected": True},
    "kind": "@type",
}
CONTEXTS: list[Any] = [None, SDM, SDM_VOCAB, SDM_PREFIXES, [SDM, SDM_PREFIXES], JSON_LD_11]


def examples(n: int) -> settings:
    """Hypothesis settings: ``n`` examples, no example database (no files written), no deadline."""
    return settings(max_examples=n, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class FakeFetcher:
    """A fetcher serving canned bodies (bytes) or raising canned exceptions; counts calls per URL."""

    def __init__(self, documents: dict[str, Any] | None = None, delay: float = 0.0) -> None:
        self.documents: dict[str, Any] = dict(documents or {})
        self.calls: list[str] = []
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, url: str, timeout: float) -> bytes:
        with self._lock:
            self.calls.append(url)
        if self.delay:
            time.sleep(self.delay)
        body = self.documents.get(url)
        if body is None:
            raise OSError(f"connection refused: {url}")
        if isinstance(body, BaseException):
            raise body
        if isinstance(body, bytes):
            return body
        return json.dumps(body).encode()

    def count(self, url: str) -> int:
        return self.calls.count(url)


def refusing_loader(url: str, options: Any) -> Any:
    raise AssertionError(f"PyLD tried to load {url}")


def effective(context: Any) -> list[Any]:
    """The effective context [user..., core v1.8] as PyLD gets it in these tests."""
    user = [] if context is None else context if isinstance(context, list) else [context]
    return [*user, core_document()["@context"]]


def pyld_expand_key(context: Any, term: str) -> str | None:
    """What PyLD expands ``term`` to as a top-level key (None: the key is dropped)."""
    probe = "urn:probe:key"
    doc = {"@context": effective(context), term: "v", probe: "p"}
    out = jsonld.expand(doc, {"documentLoader": refusing_loader})
    keys = set(out[0]) - {probe} if out else set()
    assert len(keys) <= 1
    return keys.pop() if keys else None


PROPERTY_NODE = {"@type": [NGSI + "Property"], NGSI + "hasValue": [{"@value": 1}]}


def pyld_compact_key(context: Any, iri: str) -> str:
    """What PyLD compacts ``iri`` to as the key of an NGSI-LD Property (a node object)."""
    doc = [{"@id": "urn:ngsi-ld:E:1", iri: [PROPERTY_NODE]}]
    out = jsonld.compact(doc, {"@context": effective(context)}, {"documentLoader": refusing_loader})
    keys = set(out) - {"@context", "id"}
    assert len(keys) == 1, out
    return str(keys.pop())


def pyld_compact_type(context: Any, iri: str) -> str:
    """What PyLD compacts ``iri`` to as an entity type (a value of @type)."""
    doc = [{"@id": "urn:ngsi-ld:E:1", "@type": [iri]}]
    out = jsonld.compact(doc, {"@context": effective(context)}, {"documentLoader": refusing_loader})
    (compacted,) = [value for key, value in out.items() if key not in ("@context", "id")]  # "type" or alias
    assert isinstance(compacted, str)
    return compacted


@pytest.fixture
def registry() -> ContextRegistry:
    return ContextRegistry(fetcher=FakeFetcher())


# ------------------------------------------------------------------------------------ core documents


def test_core_document_versions_are_bundled_copies() -> None:
    v18 = core_document()
    assert "@version" not in v18["@context"]
    assert v18["@context"]["@vocab"] == VOCAB
    assert core_document("1.9")["@context"]["@protected"] is True
    assert core_document("v1.5") == core_document("1.3")
    assert core_document("1.6") == core_document("1.3")
    assert core_document("1.10") == core_document("1.9")
    v18["@context"]["location"] = "changed"
    assert core_document("1.8")["@context"]["location"] == "ngsi-ld:location"
    with pytest.raises(ValueError):
        core_document("latest")


@pytest.mark.parametrize(
    ("url", "version"),
    [
        (CORE_URL.format(""), "1.8"),
        (CORE_URL.format("-v1.3"), "1.3"),
        (CORE_URL.format("-v1.4"), "1.3"),
        (CORE_URL.format("-v1.5"), "1.3"),
        (CORE_URL.format("-v1.6"), "1.3"),
        (CORE_URL.format("-v1.7"), "1.7"),
        (CORE_URL.format("-v1.8"), "1.8"),
        (CORE_URL.format("-v1.9"), "1.9"),
        ("http://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld", "1.8"),
        ("https://uri.etsi.org/ngsi-ld/v1/other-context.jsonld", None),
        ("https://example.org/ngsi-ld-core-context-v1.8.jsonld", None),
    ],
)
def test_core_url_versions(url: str, version: str | None) -> None:
    assert ctxmod._core_version_for(url) == version


def test_core_urls_never_hit_the_fetcher() -> None:
    fetcher = FakeFetcher()
    registry = ContextRegistry(fetcher=fetcher)
    for url in ALL_CORE_URLS:
        assert registry.resolve(url).expand_term("location") == NGSI + "location"
        assert registry.resolve([url, SDM]).expand_term("name") == "https://schema.org/name"
    assert registry.resolve(CORE_CONTEXT_URL).expand_term("Property") == NGSI + "Property"
    assert fetcher.calls == []
    assert registry.cached() == []


def test_core_only_context() -> None:
    registry = ContextRegistry(fetcher=FakeFetcher())
    core = registry.resolve(None)
    assert core.key == ""
    assert core.user_context is None
    assert registry.resolve(None) is core
    assert core.expand_term("location") == NGSI + "location"
    assert core.expand_term("type") == "@type"
    assert core.expand_term("id") == "@id"
    assert core.expand_term("createdAt") == NGSI + "createdAt"
    assert core.expand_term("Property") == NGSI + "Property"
    assert core.expand_term("Point") == "https://purl.org/geojson/vocab#Point"
    assert core.expand_term("Vehicle") == VOCAB + "Vehicle"
    assert core.expand_term("ngsi-ld:foo") == NGSI + "foo"
    assert core.compact_iri(NGSI + "location") == "location"
    assert core.compact_iri(VOCAB + "Vehicle") == "Vehicle"
    assert core.compact_iri("@type") == "type"
    assert core.compact_iri(NGSI + "unknownThing") == "ngsi-ld:unknownThing"


def test_v19_core_url_keeps_its_extra_terms_but_v18_wins() -> None:
    registry = ContextRegistry(fetcher=FakeFetcher())
    resolved = registry.resolve(CORE_URL.format("-v1.9"))
    assert resolved.expand_term("EntityMap") == NGSI + "EntityMap"  # only in v1.9
    assert resolved.expand_term("attributeCount") == VOCAB + "attributeCount"  # as v1.8 defines it
    assert registry.resolve(None).expand_term("EntityMap") == VOCAB + "EntityMap"


# ------------------------------------------------------------------------------------- expand rules


def test_expand_rules_sdm_context(registry: ContextRegistry) -> None:
    resolved = registry.resolve(SDM)
    assert resolved.expand_term("temperature") == SDM["temperature"]
    assert resolved.expand_term("name") == "https://schema.org/name"
    assert resolved.expand_term("schema:address") == "https://schema.org/address"
    assert resolved.expand_term("humidity") == VOCAB + "humidity"
    for absolute in ["urn:ngsi-ld:Vehicle:A1", "https://example.org/a#b", "http://example.org/x", "_:b0"]:
        assert resolved.expand_term(absolute) == absolute
    assert resolved.expand_term("schema://host/x") == "schema://host/x"  # suffix // : absolute IRI
    assert resolved.compact_iri("https://schema.org/address") == "schema:address"
    assert resolved.compact_iri(SDM["temperature"]) == "temperature"
    assert resolved.compact_iri("urn:ngsi-ld:Vehicle:A1") == "urn:ngsi-ld:Vehicle:A1"


def test_terms_json_ld_would_drop_are_returned_unchanged(registry: ContextRegistry) -> None:
    resolved = registry.resolve(SDM_PREFIXES)
    assert resolved.expand_term("nothing") == "nothing"  # mapped to null
    assert pyld_expand_key(SDM_PREFIXES, "nothing") is None
    assert resolved.expand_term("@id") == "@id"
    assert resolved.expand_term("@reserved") == "@reserved"
    # a null-mapped term blocks the @vocab short name
    assert resolved.compact_iri(VOCAB + "nothing") == "ngsi-ld:default-context/nothing"


def test_json_ld_11_features(registry: ContextRegistry) -> None:
    resolved = registry.resolve(JSON_LD_11)
    assert resolved.expand_term("dm:Weather/Rain") == "https://smartdatamodels.org/dataModel.Weather/Rain"
    assert resolved.compact_iri("https://smartdatamodels.org/dataModel.Weather/Rain") == "dm:Weather/Rain"
    assert resolved.expand_term("raw") == "https://example.org/raw"
    assert resolved.expand_term("kind") == "@type"
    assert resolved.compact_iri("@type") == "kind"  # keyword aliases: shortest, then least
    assert resolved.expand_term("streetAddress") == VOCAB + "streetAddress"  # scoped: not top level


def test_user_vocab_is_overridden_by_core_vocab_as_in_pyld(registry: ContextRegistry) -> None:
    resolved = registry.resolve(SDM_VOCAB)
    assert resolved.expand_term("undefinedTerm") == VOCAB + "undefinedTerm"
    assert pyld_expand_key(SDM_VOCAB, "undefinedTerm") == VOCAB + "undefinedTerm"
    assert resolved.expand_term("WeatherObserved") == "https://smartdatamodels.org/dataModel.Weather/WeatherObserved"


@pytest.mark.parametrize("context", CONTEXTS, ids=repr)
def test_expand_matches_pyld_for_known_terms(context: Any) -> None:
    resolved = ContextRegistry(fetcher=FakeFetcher()).resolve(context)
    user_terms = [
        t
        for c in (context if isinstance(context, list) else [context] if context else [])
        for t in c
        if not t.startswith("@")
    ]
    core_terms = [t for t in core_document()["@context"] if not t.startswith("@")]
    extra = [
        "foo",
        "schema:x",
        "ex:thing",
        "exo:a/b",
        "urn:x:y",
        "https://a.example/b",
        "a:",
        ":a",
        "ngsi-ld:x",
    ]
    for term in [*user_terms, *core_terms, *extra]:
        expected = pyld_expand_key(context, term)
        if expected is None:
            assert resolved.expand_term(term) == term
        else:
            assert resolved.expand_term(term) == expected, term


TERMS = st.text(alphabet="abxyzAB019_-.:/#", min_size=1, max_size=10)


@examples(120)
@given(context=st.sampled_from(CONTEXTS), term=TERMS)
def test_expand_matches_pyld_property(context: Any, term: str) -> None:
    resolved = ContextRegistry(fetcher=FakeFetcher()).resolve(context)
    expected = pyld_expand_key(context, term)
    # a term JSON-LD would drop (e.g. "0://", not an IRI: a scheme must start with a letter) stays as it is
    assert resolved.expand_term(term) == (term if expected is None else expected)


# ------------------------------------------------------------------------------------ compact rules


SDM_IRIS = [
    SDM["temperature"],
    "https://schema.org/name",
    "https://schema.org/address",
    "https://smartdatamodels.org/dataModel.Environment/airQualityIndex",
    "https://smartdatamodels.org/dataModel.Weather/WeatherObserved",
    "https://smartdatamodels.org/refDevice",
    "https://smartdatamodels.org/other",
    "http://example.org/ns#Vehicle",
    "http://example.org/ns#speed",
    "http://example.org/ns#same",
    "http://example.org/ns#unknown",
    "http://example.org/other",
    "https://example.org/vocab#thing",
    VOCAB + "humidity",
    NGSI + "location",
    NGSI + "Property",
    NGSI + "somethingElse",
    "urn:ngsi-ld:Vehicle:A1",
    "https://smartdatamodels.org/dataModel.Transportation/Vehicle",
    "https://schema.org/streetAddress",
]


@pytest.mark.parametrize("context", CONTEXTS, ids=repr)
def test_compact_matches_pyld_for_sdm_iris(context: Any) -> None:
    resolved = ContextRegistry(fetcher=FakeFetcher()).resolve(context)
    for iri in SDM_IRIS:
        assert resolved.compact_iri(iri) == pyld_compact_key(context, iri), iri
        assert resolved.compact_iri(iri) == pyld_compact_type(context, iri), iri
    if context is SDM_PREFIXES:  # shortest, then lexicographically least, term / compact IRI
        assert resolved.compact_iri("http://example.org/ns#same") == "sam"
        assert resolved.compact_iri("http://example.org/ns#unknown") == "ex:unknown"


def test_compact_prefers_terms_regardless_of_coercion() -> None:
    """createdAt is type-coerced to DateTime: PyLD only picks it for such values; we always do."""
    core = ContextRegistry(fetcher=FakeFetcher()).resolve(None)
    assert core.compact_iri(NGSI + "createdAt") == "createdAt"
    assert pyld_compact_key(None, NGSI + "createdAt") == "ngsi-ld:createdAt"


def _coerced_iris() -> set[str]:
    """IRIs of core terms PyLD would not select for a node-object value (containers, coercions)."""
    core = ContextRegistry(fetcher=FakeFetcher()).resolve(None)
    return {
        core.expand_term(term)
        for term, definition in core_document()["@context"].items()
        if isinstance(definition, dict) and ("@container" in definition or definition.get("@type", "@id") != "@id")
    }


COERCED = _coerced_iris()
IRI_BASES = [
    VOCAB,
    NGSI,
    "https://schema.org/",
    "https://smartdatamodels.org/",
    "https://smartdatamodels.org/dataModel.Environment/",
    "https://smartdatamodels.org/dataModel.",
    "http://example.org/ns#",
    "http://example.org/",
    "https://example.org/vocab#",
    "https://purl.org/geojson/vocab#",
    "urn:ngsi-ld:",
]
IRIS = st.builds(
    lambda base, suffix: base + suffix,
    st.sampled_from(IRI_BASES),
    st.text(alphabet="abxyzAB019_-.:/#@", max_size=12),
)


def _pyld_round_trips(context: Any, compacted: str, iri: str) -> bool:
    return pyld_expand_key(context, compacted) == iri


@examples(120)
@given(context=st.sampled_from(CONTEXTS), iri=IRIS)
def test_compact_matches_pyld_property(context: Any, iri: str) -> None:
    """Same answer as PyLD, except where PyLD's answer would not expand back (or PyLD raises)."""
    ours = ContextRegistry(fetcher=FakeFetcher()).resolve(context).compact_iri(iri)
    if iri in COERCED:
        return
    try:
        theirs = pyld_compact_key(context, iri)
    except jsonld.JsonLdError as exc:
        assert exc.code == "IRI confused with prefix"
        assert ours == iri
        return
    if ours != theirs:
        assert not _pyld_round_trips(context, theirs, iri)


@examples(300)
@given(context=st.sampled_from(CONTEXTS), iri=IRIS)
def test_round_trip_property(context: Any, iri: str) -> None:
    resolved = ContextRegistry(fetcher=FakeFetcher()).resolve(context)
    assert resolved.expand_term(resolved.compact_iri(iri)) == iri


@pytest.mark.parametrize("context", CONTEXTS, ids=repr)
def test_round_trip_of_every_defined_iri(context: Any) -> None:
    resolved = ContextRegistry(fetcher=FakeFetcher()).resolve(context)
    terms = [t for t in resolved._table.terms if not resolved._table.terms[t].startswith("@")]
    assert len(terms) > 100
    for term in terms:
        iri = resolved.expand_term(term)
        assert resolved.expand_term(resolved.compact_iri(iri)) == iri


def test_iri_confused_with_prefix_is_returned_unchanged(registry: ContextRegistry) -> None:
    resolved = registry.resolve(SDM)
    assert resolved.compact_iri("schema:name") == "schema:name"
    with pytest.raises(jsonld.JsonLdError):
        pyld_compact_key(SDM, "schema:name")


# ------------------------------------------------------------------------------ core term precedence


def test_core_terms_win_over_user_definitions(registry: ContextRegistry) -> None:
    user = {
        "name": "https://schema.org/name",
        "location": "https://example.org/myLocation",
        "type": "https://example.org/myType",
        "id": "https://example.org/myId",
        "Property": "https://example.org/MyProperty",
    }
    resolved = registry.resolve(user)
    assert resolved.expand_term("name") == "https://schema.org/name"
    assert resolved.expand_term("location") == NGSI + "location"
    assert resolved.expand_term("type") == "@type"
    assert resolved.expand_term("id") == "@id"
    assert resolved.expand_term("Property") == NGSI + "Property"
    for term in user:
        assert resolved.expand_term(term) == pyld_expand_key(user, term)
    assert resolved.compact_iri("https://example.org/myLocation") == pyld_compact_key(
        user, "https://example.org/myLocation"
    )


@pytest.mark.parametrize(
    "context",
    [
        {"@protected": True, "location": "https://example.org/myLocation", "name": "https://schema.org/name"},
        {
            "type": {"@id": "https://example.org/myType", "@protected": True},
            "name": "https://schema.org/name",
        },
        [
            CORE_URL.format("-v1.9"),
            {"location": "https://example.org/myLocation", "name": "https://schema.org/name"},
        ],
        [CORE_URL.format("-v1.9"), {"type": "https://example.org/myType", "name": "https://schema.org/name"}],
    ],
    ids=["user-protected", "user-protected-term", "after-protected-core", "type-after-protected-core"],
)
def test_protected_term_conflicts_do_not_raise_and_core_wins(registry: ContextRegistry, context: Any) -> None:
    def bundled_core(url: str, options: Any) -> Any:
        version = ctxmod._core_version_for(url)
        # v1.9 has a scoped context referencing the W3C data-integrity context: stub it
        document = core_document(version) if version else {"@context": {}}
        return {"contextUrl": None, "documentUrl": url, "document": document}

    # plain JSON-LD processing of [user..., core] rejects these contexts
    with pytest.raises(jsonld.JsonLdError, match="protected"):
        jsonld.expand({"@context": effective(context), "name": 1}, {"documentLoader": bundled_core})
    resolved = registry.resolve(context)
    assert resolved.expand_term("name") == "https://schema.org/name"
    assert resolved.expand_term("location") == NGSI + "location"
    assert resolved.expand_term("type") == "@type"
    assert resolved.compact_iri(NGSI + "location") == "location"


# ------------------------------------------------------------------------------------- remote contexts


REMOTE = "https://contexts.example.org/sdm.jsonld"
REMOTE_DOC = {"@context": SDM}


def test_remote_context_is_fetched_once_and_cached() -> None:
    fetcher = FakeFetcher({REMOTE: REMOTE_DOC})
    registry = ContextRegistry(fetcher=fetcher, fetch_timeout=1.5)
    first = registry.resolve(REMOTE)
    assert first.expand_term("temperature") == SDM["temperature"]
    assert registry.resolve(REMOTE) is first
    other = registry.resolve([REMOTE, {"speed": "https://example.org/speed"}])
    assert other.expand_term("speed") == "https://example.org/speed"
    assert other.expand_term("name") == "https://schema.org/name"
    assert fetcher.count(REMOTE) == 1
    (cached,) = registry.cached()
    assert isinstance(cached, CachedContext)
    assert cached.url == REMOTE
    assert cached.document == REMOTE_DOC
    assert cached.fetched_at.tzinfo is UTC
    assert cached.last_used >= cached.fetched_at
    assert cached.hits == 3  # three resolves used it
    assert first.dependencies == frozenset({REMOTE})


def test_nested_remote_contexts_are_each_fetched_once() -> None:
    inner = "https://contexts.example.org/inner.jsonld"
    outer = "https://contexts.example.org/outer.jsonld"
    fetcher = FakeFetcher(
        {
            outer: {"@context": [inner, {"speed": "ex:speed"}]},
            inner: {"@context": {"ex": "http://example.org/ns#"}},
        }
    )
    registry = ContextRegistry(fetcher=fetcher)
    resolved = registry.resolve(outer)
    assert resolved.expand_term("speed") == "http://example.org/ns#speed"
    assert registry.resolve([outer, {"a": "ex:a"}]).expand_term("a") == "http://example.org/ns#a"
    assert fetcher.count(outer) == 1
    assert fetcher.count(inner) == 1
    assert resolved.dependencies == frozenset({inner, outer})


def test_known_context_does_no_json_ld_processing(monkeypatch: pytest.MonkeyPatch) -> None:
    fetcher = FakeFetcher({REMOTE: REMOTE_DOC})
    registry = ContextRegistry(fetcher=fetcher)
    by_url = registry.resolve(REMOTE)
    inline = registry.resolve({"a": "https://example.org/a", "b": "https://example.org/b"})
    by_url.expand_term("temperature")

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("JSON-LD processing on a cached context")

    monkeypatch.setattr(jsonld.JsonLdProcessor, "process_context", forbidden)
    monkeypatch.setattr(jsonld.JsonLdProcessor, "_expand_iri", forbidden)
    monkeypatch.setattr(jsonld.JsonLdProcessor, "_compact_iri", forbidden)
    assert registry.resolve(REMOTE) is by_url
    # key order does not matter: same canonical key
    assert registry.resolve({"b": "https://example.org/b", "a": "https://example.org/a"}) is inline
    assert by_url.expand_term("temperature") == SDM["temperature"]
    assert by_url.expand_term("never-seen-before") == VOCAB + "never-seen-before"
    assert by_url.compact_iri("https://schema.org/never-seen") == "schema:never-seen"
    assert registry.resolve(None).expand_term("location") == NGSI + "location"
    assert fetcher.count(REMOTE) == 1


def test_peek_returns_only_already_resolved_contexts(monkeypatch: pytest.MonkeyPatch) -> None:
    fetcher = FakeFetcher({REMOTE: REMOTE_DOC})
    registry = ContextRegistry(fetcher=fetcher)
    assert registry.peek(REMOTE) is None
    assert registry.peek(None) is None
    assert registry.peek({"a": {1, 2}}) is None  # not JSON: no exception, resolve() reports it
    assert fetcher.calls == []
    resolved = registry.resolve(REMOTE)
    core = registry.resolve(None)
    monkeypatch.setattr(jsonld.JsonLdProcessor, "process_context", None)
    assert registry.peek(REMOTE) is resolved
    assert registry.peek(None) is core
    assert registry.cached()[0].hits == 2
    assert fetcher.count(REMOTE) == 1


def test_user_context_is_echoed_as_given_and_decoupled(registry: ContextRegistry) -> None:
    context: list[Any] = [{"b": "https://example.org/b", "a": "https://example.org/a"}, CORE_CONTEXT_URL]
    resolved = registry.resolve(context)
    assert resolved.user_context == context
    echoed = resolved.user_context
    assert isinstance(echoed, list)
    assert list(echoed[0]) == ["b", "a"]  # key order kept for the echo
    context[0]["a"] = "https://example.org/changed"
    assert resolved.user_context != context
    assert resolved.key == json.dumps(
        [{"a": "https://example.org/a", "b": "https://example.org/b"}, CORE_CONTEXT_URL],
        separators=(",", ":"),
    )


@pytest.mark.parametrize(
    "error",
    [TimeoutError("timed out"), OSError("connection refused"), ZeroDivisionError("bug in fetcher")],
    ids=["timeout", "unreachable", "any-exception"],
)
def test_fetch_failures_are_context_not_available(error: BaseException) -> None:
    fetcher = FakeFetcher({REMOTE: error})
    registry = ContextRegistry(fetcher=fetcher)
    with pytest.raises(ContextNotAvailable) as info:
        registry.resolve([REMOTE, SDM])
    assert REMOTE in info.value.detail
    # failures are not cached: the next request tries again
    fetcher.documents[REMOTE] = REMOTE_DOC
    assert registry.resolve([REMOTE, SDM]).expand_term("temperature") == SDM["temperature"]
    assert fetcher.count(REMOTE) == 2


@pytest.mark.parametrize(
    "body", [b"<html>not json</html>", b"x" * (ctxmod.MAX_DOCUMENT_BYTES + 1)], ids=["not-json", "too-large"]
)
def test_unusable_bodies_are_context_not_available(body: bytes) -> None:
    registry = ContextRegistry(fetcher=FakeFetcher({REMOTE: body}))
    with pytest.raises(ContextNotAvailable):
        registry.resolve(REMOTE)
    assert registry.cached() == []


def test_fetch_timeout_is_passed_to_the_fetcher() -> None:
    seen: list[float] = []

    def fetcher(url: str, timeout: float) -> bytes:
        seen.append(timeout)
        return json.dumps(REMOTE_DOC).encode()

    ContextRegistry(fetcher=fetcher, fetch_timeout=0.25).resolve(REMOTE)
    assert seen == [0.25]


@pytest.mark.parametrize(
    ("context", "documents"),
    [
        ({"foo": 5}, {}),
        ({"@vocab": 5}, {}),
        (42, {}),
        ([{"a": "b:c", "b": "a:d"}], {}),
        ({"@version": 2.0}, {}),
        ({"term": "not-an-iri"}, {}),
        ({"rel": {"@reverse": "https://example.org/r", "@id": "https://example.org/x"}}, {}),
        ({"a": {"@context": {"b": 7}}}, {}),
        ("urn:example:context", {}),
        ("context.jsonld", {}),
        ("file:///etc/passwd", {}),
        (REMOTE, {REMOTE: [1, 2, 3]}),
        (REMOTE, {REMOTE: {"no": "context"}}),
        (REMOTE, {REMOTE: {"@context": {"x": 1}}}),
        (REMOTE, {REMOTE: {"@context": [REMOTE]}}),
    ],
    ids=[
        "term-number",
        "vocab-number",
        "not-an-object",
        "cyclic",
        "bad-version",
        "relative-iri-mapping",
        "reverse-and-id",
        "bad-scoped-context",
        "urn",
        "relative-url",
        "file-url",
        "remote-array",
        "remote-without-context",
        "remote-bad-term",
        "remote-cycle",
    ],
)
def test_invalid_contexts(context: Any, documents: dict[str, Any]) -> None:
    fetcher = FakeFetcher(documents)
    registry = ContextRegistry(fetcher=fetcher)
    with pytest.raises(InvalidContext) as info:
        registry.resolve(context)
    assert info.value.detail
    assert len(info.value.detail) <= 400
    assert all(url == REMOTE for url in fetcher.calls)


def test_non_json_context_objects_are_invalid(registry: ContextRegistry) -> None:
    with pytest.raises(InvalidContext):
        registry.resolve({"a": {1, 2}})
    with pytest.raises(InvalidContext):
        registry.resolve({1: "https://example.org/a"})


def test_reserved_terms_are_ignored_with_a_log(registry: ContextRegistry, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="smartcity.hub.jsonld"):
        resolved = registry.resolve({"@reserved": "https://example.org/r", "a": "https://example.org/a"})
    assert resolved.expand_term("a") == "https://example.org/a"
    assert any("reserved" in record.getMessage() for record in caplog.records)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["", "@id", "@vocab", "x", "ex:y", REMOTE]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["@vocab", "@id", "@type", "@container", "@context", "a", "ex"]),
            children,
            max_size=3,
        )
    ),
    max_leaves=8,
)


@examples(150)
@given(context=JSON_VALUES)
def test_only_context_errors_escape(context: Any) -> None:
    registry = ContextRegistry(fetcher=FakeFetcher({REMOTE: {"@context": {"ex": "http://example.org/"}}}))
    try:
        resolved = registry.resolve(context)
    except ContextError as exc:
        assert isinstance(exc, InvalidContext | ContextNotAvailable)
        assert exc.detail
    else:
        assert isinstance(resolved, ResolvedContext)
        assert resolved.expand_term("location") == NGSI + "location"


# ------------------------------------------------------------------------------------- hosted contexts


HOSTED = "http://broker.local/ngsi-ld/v1/jsonldContexts/abc"


def test_hosted_contexts_are_used_without_network() -> None:
    hosted_docs: dict[str, Any] = {HOSTED: {"@context": {"speed": "https://example.org/speed"}}}
    fetcher = FakeFetcher({REMOTE: REMOTE_DOC})
    registry = ContextRegistry(fetcher=fetcher, hosted=hosted_docs.get)
    resolved = registry.resolve([HOSTED, REMOTE])
    assert resolved.expand_term("speed") == "https://example.org/speed"
    assert resolved.expand_term("temperature") == SDM["temperature"]
    assert fetcher.calls == [REMOTE]  # only the URL the broker does not host
    assert [c.url for c in registry.cached()] == [REMOTE]
    # the broker changes the hosted context: evict() makes the next request use the new one
    hosted_docs[HOSTED] = {"@context": {"speed": "https://example.org/velocity"}}
    assert registry.resolve([HOSTED, REMOTE]) is resolved
    assert registry.evict(HOSTED) is True
    changed = registry.resolve([HOSTED, REMOTE])
    assert changed.expand_term("speed") == "https://example.org/velocity"
    # deleted: forget_hosted() drops what was built from it; then it is no longer hosted (so fetched)
    del hosted_docs[HOSTED]
    assert registry.forget_hosted(HOSTED) is True
    assert registry.forget_hosted(HOSTED) is False
    assert registry.peek([HOSTED, REMOTE]) is None
    with pytest.raises(ContextNotAvailable):
        registry.resolve([HOSTED, REMOTE])
    assert fetcher.count(REMOTE) == 1
    assert fetcher.count(HOSTED) == 1


def test_hosted_failures() -> None:
    def broken(url: str) -> object | None:
        raise RuntimeError("database down")

    with pytest.raises(ContextNotAvailable):
        ContextRegistry(fetcher=FakeFetcher(), hosted=broken).resolve(HOSTED)
    invalid = ContextRegistry(fetcher=FakeFetcher(), hosted=lambda url: {"@context": {"a": 1}})
    with pytest.raises(InvalidContext):
        invalid.resolve(HOSTED)
    fetcher = FakeFetcher({HOSTED: {"@context": {"a": "https://example.org/a"}}})
    not_hosted = ContextRegistry(fetcher=fetcher, hosted=lambda url: None)
    assert not_hosted.resolve(HOSTED).expand_term("a") == "https://example.org/a"
    assert fetcher.calls == [HOSTED]


# ---------------------------------------------------------------------------------- cache management


def test_list_contexts_apply_in_order(registry: ContextRegistry) -> None:
    first = {"speed": "https://example.org/speed", "ex": "https://example.org/"}
    second = {"speed": "ex:velocity"}
    assert registry.resolve([first, second]).expand_term("speed") == "https://example.org/velocity"
    assert registry.resolve([second | {"ex": "https://other.example/"}, first]).expand_term("speed") == (
        "https://example.org/speed"
    )
    assert registry.resolve([first, second]).expand_term("speed") == pyld_expand_key([first, second], "speed")


def test_reload_refetches_and_rebuilds() -> None:
    fetcher = FakeFetcher({REMOTE: REMOTE_DOC})
    registry = ContextRegistry(fetcher=fetcher)
    old = registry.resolve(REMOTE)
    fetcher.documents[REMOTE] = {"@context": {"temperature": "https://example.org/temp"}}
    registry.reload(REMOTE)
    assert fetcher.count(REMOTE) == 2
    new = registry.resolve(REMOTE)
    assert new is not old
    assert new.expand_term("temperature") == "https://example.org/temp"
    assert registry.cached()[0].hits == 2
    # a failed reload keeps the cached copy
    fetcher.documents[REMOTE] = TimeoutError("slow")
    with pytest.raises(ContextNotAvailable):
        registry.reload(REMOTE)
    assert registry.resolve(REMOTE) is new
    assert registry.cached()[0].document == {"@context": {"temperature": "https://example.org/temp"}}
    registry.reload(CORE_CONTEXT_URL)  # bundled: nothing to do
    assert fetcher.count(REMOTE) == 3


def test_evict_and_forget_key() -> None:
    fetcher = FakeFetcher({REMOTE: REMOTE_DOC})
    registry = ContextRegistry(fetcher=fetcher)
    resolved = registry.resolve(REMOTE)
    inline = registry.resolve(SDM)
    assert registry.evict(REMOTE) is True
    assert registry.evict(REMOTE) is False
    assert registry.cached() == []
    assert registry.resolve(SDM) is inline  # did not depend on REMOTE
    assert registry.resolve(REMOTE) is not resolved
    assert fetcher.count(REMOTE) == 2
    assert registry.forget_key(inline.key) is True
    assert registry.forget_key(inline.key) is False
    assert registry.resolve(SDM) is not inline
    registry.clear()
    assert registry.cached() == []


def test_max_entries_bounds_the_caches() -> None:
    urls = [f"https://contexts.example.org/{n}.jsonld" for n in range(3)]
    fetcher = FakeFetcher(dict.fromkeys(urls, REMOTE_DOC))
    registry = ContextRegistry(fetcher=fetcher, max_entries=2)
    first = registry.resolve(urls[0])
    registry.resolve(urls[1])
    assert registry.resolve(urls[0]) is first  # most recently used now
    registry.resolve(urls[2])
    assert registry.resolve(urls[0]) is first
    assert [c.url for c in registry.cached()] == urls[1:]
    assert registry.resolve(urls[1]).expand_term("name") == "https://schema.org/name"
    assert fetcher.count(urls[1]) == 1  # its resolved context was still cached
    with pytest.raises(ValueError):
        ContextRegistry(max_entries=0)


def test_concurrent_first_resolves_fetch_once() -> None:
    fetcher = FakeFetcher({REMOTE: REMOTE_DOC}, delay=0.05)
    registry = ContextRegistry(fetcher=fetcher)
    contexts = [REMOTE, [REMOTE, {"a": "https://example.org/a"}]] * 8
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(registry.resolve, contexts))
    assert fetcher.count(REMOTE) == 1
    assert all(r is results[0] for r in results[0::2])
    assert all(r is results[1] for r in results[1::2])
    assert {r.expand_term("temperature") for r in results} == {SDM["temperature"]}
    assert registry.cached()[0].hits == 16


# -------------------------------------------------------------------------------- the default fetcher


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        try:
            if self.path == "/slow":
                time.sleep(0.5)
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "file:///etc/passwd")
                self.end_headers()
                return
            if self.path == "/big":
                self.send_response(200)
                self.send_header("Content-Length", str(ctxmod.MAX_DOCUMENT_BYTES + 1))
                self.end_headers()
                return
            body = json.dumps(REMOTE_DOC).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.send_header("X-Accept", self.headers.get("Accept", ""))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_default_fetcher_over_http(server: str) -> None:
    registry = ContextRegistry(fetch_timeout=0.2)
    assert registry.resolve(f"{server}/ctx").expand_term("temperature") == SDM["temperature"]
    started = time.monotonic()
    with pytest.raises(ContextNotAvailable):
        registry.resolve(f"{server}/slow")
    assert time.monotonic() - started < 0.45
    with pytest.raises(ContextNotAvailable):
        registry.resolve(f"{server}/redirect")
    with pytest.raises(ContextNotAvailable):
        registry.resolve(f"{server}/big")
    with pytest.raises(ValueError):
        ctxmod.default_fetcher("file:///etc/passwd", 1.0)


def test_default_fetcher_sends_json_ld_accept(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    original: Callable[..., Any] = ctxmod._OPENER.open

    def spy(request: Any, timeout: float) -> Any:
        response = original(request, timeout=timeout)
        seen.append(response.headers["X-Accept"])
        return response

    monkeypatch.setattr(ctxmod._OPENER, "open", spy)
    assert ctxmod.default_fetcher(f"{server}/ctx", 1.0) == json.dumps(REMOTE_DOC).encode()
    assert seen == ["application/ld+json, application/json"]
