"""The DCAT-AP routes: the catalogue (paged) and each dataset, in Turtle, JSON-LD or RDF/XML.

``/catalog.ttl|.jsonld|.rdf`` and ``/dataset/{id}.ttl|.jsonld|.rdf`` choose by suffix; ``/catalog`` and
``/dataset/{id}`` by the ``Accept`` header (406 when it names nothing offered; a browser asking a dataset for
``text/html`` is sent to the public site's page, 303). Public datasets only. Catalogue pages hold
:data:`PAGE_SIZE` datasets, newest change first, with ckanext-dcat's Hydra paging in the graph and RFC 8288
``Link`` headers; ``?modified_since=`` keeps the datasets changed since then (incremental harvesting).

Answers carry a weak ``ETag`` and ``Last-Modified`` computed from the datasets' change times before any graph is
built, so a harvester's conditional request costs one catalogue query and a 304.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from smartcity.hub.errors import InvalidRequest, NotAcceptable, ResourceNotFound
from smartcity.opendata.contracts import Catalogue, Dataset, NotAuthorized, NotFound, OpenDataError, SearchQuery
from smartcity.opendata.dcat import mapping, serialise
from smartcity.opendata.dcat.mapping import HasGeometry, Paging, Portal
from smartcity.opendata.dcat.serialise import BY_SUFFIX, Serialisation
from smartcity.opendata.runtime import runtime_of

log = logging.getLogger(__name__)

NEWEST_FIRST: tuple[tuple[str, Literal["asc", "desc"]], ...] = (("metadata_modified", "desc"), ("name", "asc"))

PAGE_SIZE = 100
MAX_PAGE = 100_000
TAGS: list[str | Any] = ["dcat"]
#: changes with the mapping, so that a new release's graphs are not served from old validators
MAPPING_VERSION = "dcat-ap-3.0/1"
CACHE_CONTROL = "public, max-age=60"
OFFERED_TEXT = "text/turtle, application/ld+json or application/rdf+xml (or the suffixes .ttl, .jsonld, .rdf)"


@dataclass(frozen=True)
class CataloguePage:
    datasets: list[Dataset]
    total: int
    latest: datetime | None  # the newest change in the whole selection


# -- reading the catalogue (blocking: run in a worker thread) ---------------------------------------------------


def _modified(dataset: Mapping[str, Any]) -> datetime | None:
    found = mapping.parse_time(dataset.get("metadata_modified"))
    return found if isinstance(found, datetime) else None


def _order_key(dataset: Mapping[str, Any]) -> tuple[float, str]:
    stamp = _modified(dataset)
    return (-(stamp.timestamp() if stamp else 0.0), str(dataset.get("name") or ""))


def read_page(catalogue: Catalogue | None, page: int, size: int, since: datetime | None) -> CataloguePage:
    """One page of the public catalogue, newest change first (all of it changed after ``since`` when given)."""
    if catalogue is None:  # no catalogue in this app: the catalogue is empty
        return CataloguePage([], 0, None)
    start = (page - 1) * size
    if since is not None:
        chosen = sorted(catalogue.modified_since(since), key=_order_key)
        stamps = [s for s in (_modified(d) for d in chosen) if s is not None]
        return CataloguePage(chosen[start : start + size], len(chosen), max(stamps, default=None))
    newest_first = NEWEST_FIRST
    found = catalogue.search(SearchQuery(rows=size, start=start, sort=newest_first))
    datasets = [d for d in found.results if _public(d)]
    if page == 1:
        latest = _modified(datasets[0]) if datasets else None
    else:
        first = catalogue.search(SearchQuery(rows=1, sort=newest_first)).results
        latest = _modified(first[0]) if first else None
    return CataloguePage(datasets, found.count, latest)


def read_dataset(catalogue: Catalogue | None, id_or_name: str) -> Dataset:
    if catalogue is None:
        raise ResourceNotFound(f"dataset {id_or_name[:100]!r} not found")
    try:
        dataset = catalogue.show_dataset(id_or_name, include_private=False)
    except (NotFound, NotAuthorized):  # a private dataset is not disclosed
        raise ResourceNotFound(f"dataset {id_or_name[:100]!r} not found") from None
    except OpenDataError as exc:
        raise InvalidRequest(exc.message) from None
    if not _public(dataset):
        raise ResourceNotFound(f"dataset {id_or_name[:100]!r} not found")
    return dataset


def _public(dataset: Mapping[str, Any]) -> bool:
    return dataset.get("private") is not True and dataset.get("state", "active") == "active"


def geometry_lookup(request: Request) -> HasGeometry:
    """Whether a datastore table has geometry (its GeoJSON download), asked of the datastore once per resource."""
    datastore = runtime_of(request).datastore
    known: dict[str, bool] = {}

    def has_geometry(resource_id: str) -> bool:
        if datastore is None:
            return False
        if resource_id not in known:
            try:
                known[resource_id] = bool(datastore.stats(resource_id).has_geometry)
            except OpenDataError as exc:
                log.info("resource %s: no datastore statistics (%s); no GeoJSON download listed", resource_id, exc)
                known[resource_id] = False
        return known[resource_id]

    return has_geometry


# -- HTTP -------------------------------------------------------------------------------------------------------


def portal_of(request: Request) -> Portal:
    """URIs under the platform's public URL (``SMARTCITY_PUBLIC_URL``), else under the address the client used."""
    return Portal(base_url=request.app.state.settings.public_url or str(request.base_url).rstrip("/"))


def _suffix(request: Request) -> Serialisation:
    given = str(request.path_params.get("format", ""))
    how = BY_SUFFIX.get(given)
    if how is None:
        raise ResourceNotFound(f"unknown format {given[:16]!r}: use .ttl, .jsonld or .rdf")
    return how


def _accepted(request: Request, *, html: bool = False) -> Serialisation | str:
    header = request.headers.get("accept")
    chosen = serialise.negotiate(header, html=html)
    if chosen is None:
        raise NotAcceptable(
            f"none of the media types in Accept ({(header or '')[:200]}) is offered here: use {OFFERED_TEXT}"
            + (", or text/html for the dataset's page" if html else "")
        )
    return chosen


def _since(value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    found = mapping.parse_time(value)
    if found is None:
        raise InvalidRequest(f"modified_since {value[:40]!r} is not an ISO 8601 date or time (2026-01-31T08:00:00Z)")
    return found if isinstance(found, datetime) else datetime(found.year, found.month, found.day, tzinfo=UTC)


def _validator(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in (MAPPING_VERSION, *parts)).encode()).hexdigest()
    return f'W/"{digest[:32]}"'


def _not_modified(request: Request, etag: str, latest: datetime | None) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match (weak comparison) first, If-Modified-Since only without it."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        wanted = etag.removeprefix("W/")
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or wanted in tags
    since = request.headers.get("if-modified-since")
    if since is None or latest is None:
        return False
    try:
        asked = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if asked.tzinfo is None:
        asked = asked.replace(tzinfo=UTC)
    return latest.replace(microsecond=0) <= asked


def _headers(etag: str, latest: datetime | None, *, vary: bool) -> dict[str, str]:
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if latest is not None:
        headers["Last-Modified"] = format_datetime(latest.astimezone(UTC), usegmt=True)
    if vary:
        headers["Vary"] = "Accept"
    return headers


def _link_header(paging: Paging) -> str:
    links = [(1, "first"), (paging.last, "last")]
    if paging.page < paging.last:
        links.append((paging.page + 1, "next"))
    if paging.page > 1:
        links.append((paging.page - 1, "prev"))
    return ", ".join(f'<{paging.url_of(n)}>; rel="{rel}"' for n, rel in links)


async def _catalog(request: Request, how: Serialisation, page: int, modified_since: str | None, vary: bool) -> Response:
    since = _since(modified_since)
    portal = portal_of(request)
    catalogue = runtime_of(request).catalogue
    try:
        found = await run_in_threadpool(read_page, catalogue, page, PAGE_SIZE, since)
    except OpenDataError as exc:
        raise InvalidRequest(exc.message) from None
    base_query = {"modified_since": modified_since} if since is not None else {}

    def url_of(number: int) -> str:
        return f"{portal.base_url}{request.url.path}?{urlencode({**base_query, 'page': number})}"

    paging = Paging(page, PAGE_SIZE, found.total, url_of)
    if page > paging.last:
        raise ResourceNotFound(f"page {page} does not exist: the catalogue has {paging.last} page(s)")
    etag = _validator(
        how.suffix,
        portal.base_url,
        request.url.path,
        page,
        since,
        found.total,
        found.latest,
        *(f"{d.get('id')}@{d.get('metadata_modified')}" for d in found.datasets),
    )
    headers = _headers(etag, found.latest, vary=vary)
    headers["Link"] = _link_header(paging)
    if _not_modified(request, etag, found.latest):
        return Response(status_code=304, headers=headers)
    has_geometry = geometry_lookup(request)

    def build() -> bytes:
        graph = mapping.catalog_graph(
            found.datasets, portal, modified=found.latest, has_geometry=has_geometry, paging=paging
        )
        return serialise.serialise(graph, how)

    body = await run_in_threadpool(build)
    return Response(body, media_type=serialise.content_type(how), headers=headers)


async def _dataset(request: Request, dataset_id: str, how: Serialisation | str, vary: bool) -> Response:
    portal = portal_of(request)
    dataset = await run_in_threadpool(read_dataset, runtime_of(request).catalogue, dataset_id)
    if isinstance(how, str):  # text/html: the public site's page of the dataset
        name = quote(str(dataset.get("name") or dataset.get("id")), safe="")
        return RedirectResponse(f"{portal.site_path}/dataset/{name}", status_code=303, headers={"Vary": "Accept"})
    latest = _modified(dataset)
    etag = _validator(how.suffix, portal.base_url, dataset.get("id"), dataset.get("metadata_modified"))
    headers = _headers(etag, latest, vary=vary)
    if _not_modified(request, etag, latest):
        return Response(status_code=304, headers=headers)
    has_geometry = geometry_lookup(request)

    def build() -> bytes:
        return serialise.serialise(mapping.dataset_graph(dataset, portal, has_geometry), how)

    body = await run_in_threadpool(build)
    return Response(body, media_type=serialise.content_type(how), headers=headers)


# -- routes -----------------------------------------------------------------------------------------------------

PageParam = Query(1, ge=1, le=MAX_PAGE, description=f"the page ({PAGE_SIZE} datasets each, newest change first)")
SinceParam = Query(None, max_length=40, description="only datasets changed since this ISO 8601 date or time")
FormatParam = Path(description="ttl (Turtle), jsonld (JSON-LD) or rdf (RDF/XML)")
DatasetParam = Path(max_length=200, description="the dataset's id or name")


async def catalog_by_suffix(
    request: Request, format: str = FormatParam, page: int = PageParam, modified_since: str | None = SinceParam
) -> Response:
    return await _catalog(request, _suffix(request), page, modified_since, vary=False)


async def catalog_negotiated(
    request: Request, page: int = PageParam, modified_since: str | None = SinceParam
) -> Response:
    how = _accepted(request)
    assert isinstance(how, Serialisation)
    return await _catalog(request, how, page, modified_since, vary=True)


async def dataset_by_suffix(request: Request, dataset_id: str = DatasetParam, format: str = FormatParam) -> Response:
    return await _dataset(request, dataset_id, _suffix(request), vary=False)


async def dataset_negotiated(request: Request, dataset_id: str = DatasetParam) -> Response:
    return await _dataset(request, dataset_id, _accepted(request, html=True), vary=True)


Endpoint = Callable[..., Any]
ROUTES: Sequence[tuple[str, str, Endpoint, str]] = (
    # each suffixed form before its bare form, so that the bare one never sees a suffix
    ("/catalog.{format}", "dcat_catalog_fmt", catalog_by_suffix, "The DCAT-AP 3.0 catalogue, one page"),
    ("/catalog", "dcat_catalog", catalog_negotiated, "The DCAT-AP 3.0 catalogue, one page (by Accept)"),
    ("/dataset/{dataset_id}.{format}", "dcat_dataset_fmt", dataset_by_suffix, "A dataset in DCAT-AP 3.0"),
    ("/dataset/{dataset_id}", "dcat_dataset", dataset_negotiated, "A dataset in DCAT-AP 3.0 (by Accept)"),
)


def build() -> APIRouter:
    router = APIRouter(tags=TAGS)
    for path, name, endpoint, summary in ROUTES:
        router.add_api_route(path, endpoint, methods=["GET"], name=name, summary=summary, response_class=Response)
    return router
