"""JSON-LD ``@context`` handling for the NGSI-LD broker (ETSI GS CIM 009 v1.8, clause 5.5.7).

All context *processing* is done by PyLD; this module only adds what a broker needs around it:

* the NGSI-LD core contexts are served from the copies bundled in ``smartcity.hub.contexts``, so a
  request never causes network traffic for them (scoped contexts inside them are not processed: v1.9's
  ``ngsildproof`` refers to the W3C data-integrity context, which is not bundled);
* remote contexts are fetched through one pluggable ``fetcher`` (at most once per URL, with a timeout
  and a size limit), cached with their fetch time, hit count and last use, and can be reloaded or
  evicted;
* contexts the broker hosts itself (``POST /jsonldContexts``) are resolved via the ``hosted`` callback;
* every context, once processed, is cached under a canonical key: resolving an already-known context
  does no JSON-LD processing at all, and term expansion/compaction are dictionary look-ups.

Effective context
    The effective context of a request is ``[user context..., core context v1.8]``: the core context is
    applied last so that its terms win (NGSI-LD forbids overriding core terms).  Because the core context
    has an ``@vocab`` (the default context), a user ``@vocab`` is overridden as well; this is exactly what
    PyLD gives for that effective context.  Conflicts with protected terms never raise: core contexts
    referenced *inside* a user context are served without ``@protected`` (the core applied last restores
    every core term anyway), and user terms marked ``@protected`` are overridden by the core.

Core context versions
    Any ``https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context*.jsonld`` URL is served from the bundle:
    the unversioned URL is v1.8; versions that are not bundled (v1.4, v1.5, v1.6) are served by the
    nearest *older* bundled version (v1.3), versions older than v1.3 by v1.3 and versions newer than
    v1.9 by v1.9.  The ``http://`` spelling of these URLs is accepted too.

Remote contexts
    Order of look-up: bundled core, ``hosted(url)``, the cache, the fetcher.  A URL that is not absolute
    http(s) is an :class:`InvalidContext` (it can never be fetched); a fetch failure, timeout, a body that
    is not JSON or is over 1 MiB is :class:`ContextNotAvailable` (not cached: the next request retries);
    JSON that is not an object with an ``@context`` member is :class:`InvalidContext`.  ``hits`` counts
    the resolves that used a cached document (the first one included).  Documents are obtained outside
    the PyLD lock: when PyLD asks for a URL not obtained yet, processing stops, the document is obtained
    (one fetch per URL at a time, other threads wait for it) and processing restarts.  Use :meth:`peek`
    from an event loop and :meth:`resolve` from a worker thread.

Term handling
    ``expand_term``/``compact_iri`` reproduce PyLD's IRI expansion and compaction of a *top-level key*
    from a table of the processed context's term definitions (the tests compare them with PyLD).
    Two deliberate differences, both where JSON-LD itself is ambiguous:

    * compaction ignores the shape of the value (container, ``@type`` coercion): a term defined for an
      IRI is always preferred (e.g. ``createdAt`` although it is type-coerced to ``DateTime``);
    * a candidate (vocabulary suffix or compact IRI) that would not expand back to the same IRI is
      skipped, so ``expand_term(compact_iri(iri)) == iri`` holds for every absolute IRI that cannot be
      mistaken for a compact IRI (an IRI whose scheme is a prefix of the context, such as
      ``schema:name`` with a ``schema`` prefix, is returned unchanged; PyLD raises for it).

    JSON-LD order is used for compaction: exact term, then the ``@vocab``-relative short name, then a
    compact IRI.  (Trying compact IRIs before ``@vocab`` would turn every default-context attribute into
    ``ngsi-ld:default-context/...`` because ``ngsi-ld:`` is a prefix of the default context.)
    A term that JSON-LD would drop (explicitly mapped to ``null`` or of the reserved ``@xyz`` form) is
    returned unchanged by ``expand_term``; validating attribute names is the caller's job.
"""

from __future__ import annotations

import importlib.resources
import logging
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final, NoReturn, TypeVar

import orjson
from pyld import jsonld

__all__ = [
    "CORE_CONTEXT_URL",
    "CachedContext",
    "ContextError",
    "ContextNotAvailable",
    "ContextRegistry",
    "InvalidContext",
    "ResolvedContext",
    "core_document",
]

logger = logging.getLogger(__name__)

CORE_CONTEXT_URL: Final = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CORE_VERSION: Final = "1.8"
DEFAULT_VOCAB: Final = "https://uri.etsi.org/ngsi-ld/default-context/"
MAX_DOCUMENT_BYTES: Final = 1 << 20

_BUNDLED_VERSIONS: Final = ((1, 3), (1, 7), (1, 8), (1, 9))
_CORE_URL_RE: Final = re.compile(
    r"^https?://uri\.etsi\.org/ngsi-ld/v1/ngsi-ld-core-context(?:-v(\d+)\.(\d+)(?:\.\d+)?)?\.jsonld$"
)
_KEYWORDS: Final = frozenset(jsonld.KEYWORDS)
_KEYWORD_FORM: Final = re.compile(r"^@[a-zA-Z]+$")
_ABSOLUTE_IRI: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*|_):[^\s]*$")
_MAX_TERM_CACHE: Final = 2048  # per context and direction; cleared when full
_MAX_ROUNDS: Final = 32
_MAX_DETAIL: Final = 400

# PyLD keeps module-level caches (cachetools LRU caches, which are not thread-safe); every PyLD call
# of this module is made while holding this lock.  It is only taken on cache misses.
_PYLD_LOCK: Final = threading.Lock()

_E = TypeVar("_E", bound=BaseException)

Fetcher = Callable[[str, float], bytes]
Hosted = Callable[[str], object | None]


# --------------------------------------------------------------------------------------------- errors


class ContextError(Exception):
    """A user ``@context`` cannot be used; ``detail`` is meant for the problem-details body."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidContext(ContextError):
    """The ``@context`` is not valid JSON-LD (the API answers 400 BadRequestData)."""


class ContextNotAvailable(ContextError):
    """A remote ``@context`` could not be retrieved (the API answers 503 LdContextNotAvailable)."""


class _NeedDocument(Exception):
    """Raised by the PyLD document loader for a URL that must be obtained outside the PyLD lock."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


# ------------------------------------------------------------------------------------- core contexts


def _bundled_version(major: int, minor: int) -> str:
    """The bundled core context version serving ``major.minor`` (nearest older, else the oldest)."""
    older = [v for v in _BUNDLED_VERSIONS if v <= (major, minor)]
    chosen = older[-1] if older else _BUNDLED_VERSIONS[0]
    return f"{chosen[0]}.{chosen[1]}"


def _core_version_for(url: str) -> str | None:
    """The bundled version serving ``url`` if it is an NGSI-LD core context URL, else None."""
    if not url.startswith(("https://uri.etsi.org/", "http://uri.etsi.org/")):
        return None
    match = _CORE_URL_RE.match(url)
    if match is None:
        return None
    if match.group(1) is None:
        return CORE_VERSION
    return _bundled_version(int(match.group(1)), int(match.group(2)))


@cache
def _core_bytes(version: str) -> bytes:
    resource = importlib.resources.files("smartcity.hub").joinpath(f"contexts/ngsi-ld-core-context-v{version}.jsonld")
    return orjson.dumps(orjson.loads(resource.read_bytes()))


@cache
def _core_served_bytes(version: str) -> bytes:
    """The core document as served to PyLD when a user context references a core context URL.

    Without ``@protected`` (the core applied last restores every core term anyway) and without scoped
    contexts: v1.9's ``ngsildproof`` references the W3C data-integrity context, which is not bundled and
    must not be fetched; scoped contexts never change the top-level term definitions derived here.
    """
    document = orjson.loads(_core_bytes(version))
    context = document["@context"]
    context.pop("@protected", None)
    for definition in context.values():
        if isinstance(definition, dict):
            definition.pop("@protected", None)
            definition.pop("@context", None)
    return orjson.dumps(document)


def core_document(version: str = CORE_VERSION) -> dict[str, Any]:
    """A fresh copy of the bundled core context document (``{"@context": {...}}``).

    ``version`` is ``"1.x"`` (a leading ``v`` is accepted); versions that are not bundled are served
    like their URLs are (nearest older bundled version).
    """
    match = re.fullmatch(r"v?(\d+)\.(\d+)", version.strip())
    if match is None:
        raise ValueError(f"not an NGSI-LD core context version: {version!r}")
    document: dict[str, Any] = orjson.loads(_core_bytes(_bundled_version(int(match.group(1)), int(match.group(2)))))
    return document


# --------------------------------------------------------------------------------------- term tables


class _TermTable:
    """Term definitions of one processed (effective) context, with per-term result caches."""

    __slots__ = ("by_iri", "compact_cache", "defined", "expand_cache", "prefix_of", "prefixes", "terms", "vocab")

    def __init__(self, active: Mapping[str, Any]) -> None:
        mappings: Mapping[str, Any] = active["mappings"]
        vocab = active.get("@vocab")
        self.vocab: str | None = vocab if isinstance(vocab, str) and vocab else None
        # every term with a definition, including those mapped to null (they block @vocab use)
        self.defined: frozenset[str] = frozenset(mappings)
        self.terms: dict[str, str] = {}
        self.prefix_of: dict[str, str] = {}  # terms usable as the prefix of a compact IRI
        self.by_iri: dict[str, str] = {}
        for term, mapping in mappings.items():
            if mapping is None or not isinstance(mapping.get("@id"), str):
                continue
            iri: str = mapping["@id"]
            self.terms[term] = iri
            if mapping.get("_prefix") and ":" not in term and iri:
                self.prefix_of[term] = iri
        self.prefixes: tuple[tuple[str, str], ...] = tuple(self.prefix_of.items())
        for term in sorted(self.terms, key=lambda t: (len(t), t)):
            if not mappings[term].get("reverse"):
                self.by_iri.setdefault(self.terms[term], term)
        self.expand_cache: dict[str, str] = {}
        self.compact_cache: dict[str, str] = {}

    def expand(self, term: str) -> str:
        """PyLD's ``_expand_iri(active_ctx, term, vocab=True)`` (terms it would drop stay unchanged)."""
        if term in _KEYWORDS:
            return term
        if _KEYWORD_FORM.match(term):
            return term
        if term in self.defined:
            return self.terms.get(term, term)
        colon = term.find(":")
        if colon > 0:
            prefix, suffix = term[:colon], term[colon + 1 :]
            if prefix == "_" or suffix.startswith("//"):
                return term
            prefix_iri = self.prefix_of.get(prefix)
            if prefix_iri is not None:
                return prefix_iri + suffix
            if _ABSOLUTE_IRI.match(term):
                return term
        if self.vocab is not None:
            return self.vocab + term
        return term

    def compact(self, iri: str) -> str:
        """Exact term, else ``@vocab`` suffix, else shortest compact IRI, else the IRI itself."""
        term = self.by_iri.get(iri)
        if term is not None:
            return term
        if iri in _KEYWORDS:
            return iri
        vocab = self.vocab
        if vocab is not None and iri.startswith(vocab) and iri != vocab:
            suffix = iri[len(vocab) :]
            if suffix not in self.defined and self.expand(suffix) == iri:
                return suffix
        best: str | None = None
        for name, prefix_iri in self.prefixes:
            if prefix_iri == iri or not iri.startswith(prefix_iri):
                continue
            curie = f"{name}:{iri[len(prefix_iri) :]}"
            if (
                (best is None or (len(curie), curie) < (len(best), best))
                and curie not in self.defined
                and self.expand(curie) == iri
            ):
                best = curie
        return iri if best is None else best


def _remember(cache_: dict[str, str], key: str, value: str) -> str:
    if len(cache_) >= _MAX_TERM_CACHE:
        cache_.clear()
    cache_[key] = value
    return value


class ResolvedContext:
    """An effective context ``[user context..., core]``, processed once and then used from tables.

    ``key`` is the cache key (canonical JSON of the user context, ``""`` for the core context only);
    ``user_context`` is the context as the user gave it (None: core only), to echo it in responses;
    ``dependencies`` are the remote/hosted context URLs it was built from.
    """

    __slots__ = ("_compacted", "_expanded", "_table", "dependencies", "key", "remote_urls", "user_context")

    def __init__(
        self,
        key: str,
        user_context: object | None,
        table: _TermTable,
        dependencies: frozenset[str] = frozenset(),
        remote_urls: frozenset[str] = frozenset(),
    ) -> None:
        self.key = key
        self.user_context = user_context
        self.dependencies = dependencies
        self.remote_urls = remote_urls
        self._table = table
        self._expanded = table.expand_cache
        self._compacted = table.compact_cache

    def expand_term(self, term: str) -> str:
        """Attribute name or entity type -> absolute IRI (keywords and aliases of them -> keyword)."""
        iri = self._expanded.get(term)
        if iri is None:
            iri = _remember(self._expanded, term, self._table.expand(term))
        return iri

    def compact_iri(self, iri: str) -> str:
        """IRI -> the short name the context gives it (the reverse of :meth:`expand_term`)."""
        term = self._compacted.get(iri)
        if term is None:
            term = _remember(self._compacted, iri, self._table.compact(iri))
        return term

    def __repr__(self) -> str:
        return f"ResolvedContext(key={self.key[:80]!r})"


# ------------------------------------------------------------------------------------ pyld processing


def _find_cause(exc: BaseException, kind: type[_E]) -> _E | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _short(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def _jsonld_detail(exc: Exception) -> str:
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    code = getattr(exc, "code", None)
    return _short(f"Invalid JSON-LD @context: {message}" + (f" (code: {code})" if code else ""))


def _remote_document(url: str, raw: bytes) -> dict[str, Any]:
    # PyLD may modify the documents it is given (@import, relative URLs): always hand out a fresh copy
    return {"contextUrl": None, "documentUrl": url, "document": orjson.loads(raw)}


def _without_protection(active: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(active)
    copy["mappings"] = {
        term: (dict(mapping, protected=False) if mapping is not None else None)
        for term, mapping in active["mappings"].items()
    }
    copy["_uuid"] = str(uuid.uuid4())
    return copy


def _process(local_context: list[Any], loader: Callable[[str, Any], dict[str, Any]]) -> _TermTable:
    """Process ``[local_context..., core]`` with PyLD (caller handles errors); returns its term table."""
    options = {"documentLoader": loader, "processingMode": "json-ld-1.1"}
    with _PYLD_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        processor = jsonld.JsonLdProcessor()
        active = processor.process_context(None, None, options)  # the initial (JSON-LD 1.1) context
        if local_context:
            active = processor.process_context(active, local_context, options)
            if any(m is not None and m.get("protected") for m in active["mappings"].values()):
                active = _without_protection(active)
        core = orjson.loads(_core_bytes(CORE_VERSION))
        active = processor.process_context(active, core, options)
        table = _TermTable(active)
    for warning in caught:
        logger.warning("JSON-LD context processing: %s", warning.message)
    return table


_core_table_lock = threading.Lock()
_core_table: _TermTable | None = None


def _core_only_table() -> _TermTable:
    global _core_table
    with _core_table_lock:
        if _core_table is None:

            def no_documents(url: str, options: Any) -> NoReturn:
                raise _NeedDocument(url)

            _core_table = _process([], no_documents)
        return _core_table


# -------------------------------------------------------------------------------------- fetching


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise OSError(f"refusing redirect to {newurl!r}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER: Final = urllib.request.build_opener(_HttpOnlyRedirects())


def _is_http_url(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def default_fetcher(url: str, timeout: float) -> bytes:
    """GET ``url`` (http/https only) with ``timeout`` for the whole transfer and a 1 MiB limit."""
    if not _is_http_url(url):
        raise ValueError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, headers={"Accept": "application/ld+json, application/json"})
    deadline = time.monotonic() + timeout
    with _OPENER.open(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > MAX_DOCUMENT_BYTES:
            raise ValueError(f"document larger than {MAX_DOCUMENT_BYTES} bytes")
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read(65536):
            size += len(chunk)
            if size > MAX_DOCUMENT_BYTES:
                raise ValueError(f"document larger than {MAX_DOCUMENT_BYTES} bytes")
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading took more than {timeout} s")
            chunks.append(chunk)
    return b"".join(chunks)


# ------------------------------------------------------------------------------------------ registry


@dataclass(frozen=True, slots=True)
class CachedContext:
    """A remote context in the registry's cache (a snapshot; ``document`` is a copy)."""

    url: str
    fetched_at: datetime
    hits: int
    last_used: datetime
    document: dict[str, Any]


@dataclass(slots=True)
class _RemoteEntry:
    raw: bytes
    fetched_at: datetime
    hits: int
    last_used: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _checked_document(url: str, body: object, source: str) -> bytes:
    """Validate a retrieved context document; return it as (compact) JSON bytes."""
    if isinstance(body, bytes | bytearray | memoryview | str):
        if len(body) > MAX_DOCUMENT_BYTES:
            raise ContextNotAvailable(f"@context {url} is larger than {MAX_DOCUMENT_BYTES} bytes")
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ContextNotAvailable(f"@context {url} did not return JSON") from None
    else:
        document = body
    if not isinstance(document, dict) or "@context" not in document:
        raise InvalidContext(f"@context {url} ({source}) is not a JSON object with an @context member")
    try:
        return orjson.dumps(document)
    except TypeError as exc:
        raise InvalidContext(f"@context {url} ({source}) is not JSON: {exc}") from None


class ContextRegistry:
    """Resolves user contexts to :class:`ResolvedContext` objects, caching everything; thread-safe."""

    def __init__(
        self,
        *,
        fetch_timeout: float = 2.0,
        fetcher: Fetcher | None = None,
        hosted: Hosted | None = None,
        max_entries: int = 512,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._fetch_timeout = fetch_timeout
        self._fetcher: Fetcher = fetcher if fetcher is not None else default_fetcher
        self._hosted = hosted
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._resolved: OrderedDict[str, ResolvedContext] = OrderedDict()
        self._remote: OrderedDict[str, _RemoteEntry] = OrderedDict()
        self._inflight: dict[str, threading.Lock] = {}
        self._core: ResolvedContext | None = None

    # -- resolving

    def resolve(self, context: object | None) -> ResolvedContext:
        """The effective context for ``context`` (a URL, a context object, a list of those, or None).

        Raises :class:`InvalidContext` or :class:`ContextNotAvailable`, never anything else.
        """
        try:
            if context is None:
                return self._core_only()
            try:
                key = orjson.dumps(context, option=orjson.OPT_SORT_KEYS).decode()
            except TypeError as exc:
                raise InvalidContext(_short(f"@context is not JSON: {exc}")) from None
            with self._lock:
                resolved = self._resolved.get(key)
                if resolved is not None:
                    self._resolved.move_to_end(key)
                    self._touch(resolved.remote_urls)
                    return resolved
            return self._build(key, context)
        except ContextError:
            raise
        except Exception as exc:
            logger.warning("unexpected error resolving @context", exc_info=True)
            raise InvalidContext(_short(f"@context cannot be processed: {type(exc).__name__}: {exc}")) from exc

    def peek(self, context: object | None) -> ResolvedContext | None:
        """The already-resolved context for ``context``, else None; never processes, fetches nor raises.

        Cheap enough for an event loop: call :meth:`resolve` (in a worker thread) when it returns None.
        """
        if context is None:
            return self._core
        try:
            key = orjson.dumps(context, option=orjson.OPT_SORT_KEYS).decode()
        except Exception:
            return None
        with self._lock:
            resolved = self._resolved.get(key)
            if resolved is not None:
                self._resolved.move_to_end(key)
                self._touch(resolved.remote_urls)
        return resolved

    def _core_only(self) -> ResolvedContext:
        core = self._core
        if core is None:
            core = self._core = ResolvedContext("", None, _core_only_table())
        return core

    def _build(self, key: str, context: object) -> ResolvedContext:
        entries: Any = orjson.loads(key)  # a private deep copy, since PyLD may modify what it is given
        if not isinstance(entries, list):
            entries = [entries]
        user_context = orjson.loads(orjson.dumps(context))  # decoupled from the caller's object
        if all(isinstance(e, str) and _core_version_for(e) == CORE_VERSION for e in entries):
            resolved = ResolvedContext(key, user_context, _core_only_table())
        else:
            documents: dict[str, bytes] = {}
            remote: set[str] = set()
            for entry in entries:
                if isinstance(entry, str) and _core_version_for(entry) is None:
                    documents[entry] = self._obtain(entry, remote)
            table = self._process_with_restarts(entries, documents, remote)
            resolved = ResolvedContext(key, user_context, table, frozenset(documents), frozenset(remote))
        with self._lock:
            existing = self._resolved.get(key)
            if existing is not None:  # built concurrently by another thread: keep one object
                resolved = existing
            self._resolved[key] = resolved
            self._resolved.move_to_end(key)
            while len(self._resolved) > self._max_entries:
                self._resolved.popitem(last=False)
            self._touch(resolved.remote_urls)
        return resolved

    def _process_with_restarts(self, entries: list[Any], documents: dict[str, bytes], remote: set[str]) -> _TermTable:
        """Run PyLD; when it needs a document not yet obtained, get it (outside the lock) and rerun."""

        def loader(url: str, options: Any) -> dict[str, Any]:
            version = _core_version_for(url)
            if version is not None:
                return _remote_document(url, _core_served_bytes(version))
            raw = documents.get(url)
            if raw is None:
                raise _NeedDocument(url)
            return _remote_document(url, raw)

        for _ in range(_MAX_ROUNDS):
            try:
                return _process(entries, loader)
            except Exception as exc:
                needed = _find_cause(exc, _NeedDocument)
                if needed is None:
                    known = _find_cause(exc, ContextError)
                    if known is not None:
                        raise known from None
                    if isinstance(exc, jsonld.JsonLdError):
                        raise InvalidContext(_jsonld_detail(exc)) from None
                    raise
                if needed.url in documents:  # cannot happen; avoid looping if it does
                    raise InvalidContext(f"@context {needed.url} could not be loaded") from None
                documents[needed.url] = self._obtain(needed.url, remote)
        raise InvalidContext(f"@context references more than {_MAX_ROUNDS} remote contexts")

    # -- documents

    def _obtain(self, url: str, remote: set[str]) -> bytes:
        """The document for ``url``: hosted by the broker, else from the cache, else fetched."""
        if self._hosted is not None:
            try:
                hosted = self._hosted(url)
            except Exception as exc:
                logger.warning("hosted @context lookup failed for %s", url, exc_info=True)
                raise ContextNotAvailable(_short(f"@context {url} is not available: {exc}")) from exc
            if isinstance(hosted, dict) and "@context" in hosted:
                return _checked_document(url, hosted, "hosted")
            if hosted is not None:
                logger.warning("hosted @context lookup for %s returned a non-document; ignored", url)
        raw = self._cached_or_fetched(url)
        remote.add(url)
        return raw

    def _cached_or_fetched(self, url: str, *, fetched_after: datetime | None = None) -> bytes:
        """The cached document for ``url``, fetching it if absent (or older than ``fetched_after``)."""

        def usable(entry: _RemoteEntry | None) -> bool:
            return entry is not None and (fetched_after is None or entry.fetched_at >= fetched_after)

        with self._lock:
            entry = self._remote.get(url)
            if entry is not None and usable(entry):
                return entry.raw
            gate = self._inflight.setdefault(url, threading.Lock())
        with gate:  # one fetch per URL at a time; the others wait, then use what it fetched
            with self._lock:
                entry = self._remote.get(url)
                if entry is not None and usable(entry):
                    return entry.raw
            try:
                raw = self._fetch(url)
            finally:
                with self._lock:
                    if self._inflight.get(url) is gate:
                        del self._inflight[url]
            now = _now()
            with self._lock:
                previous = self._remote.get(url)
                self._remote[url] = _RemoteEntry(
                    raw=raw,
                    fetched_at=now,
                    hits=previous.hits if previous is not None else 0,
                    last_used=previous.last_used if previous is not None else now,
                )
                self._remote.move_to_end(url)
                while len(self._remote) > self._max_entries:
                    self._remote.popitem(last=False)
            return raw

    def _fetch(self, url: str) -> bytes:
        if not _is_http_url(url):
            raise InvalidContext(_short(f"@context {url!r} is not a dereferenceable http(s) URL"))
        started = time.perf_counter()
        try:
            body = self._fetcher(url, self._fetch_timeout)
        except Exception as exc:
            logger.warning("fetching @context %s failed: %s", url, exc)
            raise ContextNotAvailable(_short(f"@context {url} is not available: {exc}")) from exc
        raw = _checked_document(url, body, "fetched")
        logger.info("fetched @context %s (%d bytes) in %.1f ms", url, len(raw), (time.perf_counter() - started) * 1e3)
        return raw

    def _touch(self, urls: frozenset[str]) -> None:
        """Count a use of the cached remote documents ``urls`` (caller holds the lock)."""
        if not urls:
            return
        now = _now()
        for url in urls:
            entry = self._remote.get(url)
            if entry is not None:
                entry.hits += 1
                entry.last_used = now

    # -- management

    def cached(self) -> list[CachedContext]:
        """The remote contexts fetched and cached, least recently fetched first."""
        with self._lock:
            entries = list(self._remote.items())
        return [CachedContext(url, e.fetched_at, e.hits, e.last_used, orjson.loads(e.raw)) for url, e in entries]

    def reload(self, url: str) -> None:
        """Fetch ``url`` again now (caching it if it was not); contexts built from it are rebuilt on next use.

        Raises :class:`ContextNotAvailable`/:class:`InvalidContext` (the cached copy is then kept).
        Core context URLs are bundled and never reloaded.
        """
        if _core_version_for(url) is not None:
            return
        self._cached_or_fetched(url, fetched_after=_now())
        self._forget_dependents(url)

    def evict(self, url: str) -> bool:
        """Drop ``url`` from the cache and every context built from it; True if anything was dropped.

        Use it as well when a hosted context changes or is deleted.
        """
        with self._lock:
            removed = self._remote.pop(url, None) is not None
        return self._forget_dependents(url) or removed

    def forget_hosted(self, url: str) -> bool:
        """A hosted context changed or was deleted: drop the contexts built from it (True if any)."""
        return self._forget_dependents(url)

    def forget_key(self, key: str) -> bool:
        """Drop the resolved context cached under ``key`` (see :attr:`ResolvedContext.key`)."""
        with self._lock:
            return self._resolved.pop(key, None) is not None

    def clear(self) -> None:
        """Drop every cached remote document and resolved context."""
        with self._lock:
            self._remote.clear()
            self._resolved.clear()

    def _forget_dependents(self, url: str) -> bool:
        with self._lock:
            keys = [key for key, r in self._resolved.items() if url in r.dependencies]
            for key in keys:
                del self._resolved[key]
        return bool(keys)
