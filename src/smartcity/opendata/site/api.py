"""The public site's HTTP edge: server-rendered pages under ``/data`` (Jinja2, autoescaped) and their files.

Every page is read in a worker thread (the catalogue and the datastore query the database). Whatever happens, a
visitor gets a page: an unknown dataset, organisation or theme is a 404 page, a search the catalogue refuses
shows its message (400), a catalogue that is missing or failing a 503 page (logged); never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from smartcity.ioc.dashboard.assets import CSP, Assets
from smartcity.ioc.dashboard.city import City
from smartcity.opendata.contracts import NotFound, OpenDataError, SearchError
from smartcity.opendata.runtime import runtime_of
from smartcity.opendata.site import i18n, pages
from smartcity.opendata.site import search as searching
from smartcity.opendata.site.dataset import script_json
from smartcity.opendata.site.i18n import Lang

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
#: Leaflet and uPlot, vendored once by the operations centre's dashboard, served by its public file route
VENDOR = "/ioc/ui/vendor"

NO_WARDS = b'{"type":"FeatureCollection","features":[]}'

router = APIRouter(tags=["open data: public site"])


@dataclass
class Site:
    templates: Environment
    assets: Assets
    public_url: str = ""
    city: City | None = None  # the wards drawn under a dataset's map (the hub's AdministrativeArea entities)


def build(public_url: str = "", city: City | None = None) -> Site:
    templates = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",), default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates ship with the package
    )
    templates.filters["script_json"] = script_json
    templates.globals["vendor"] = VENDOR
    return Site(templates, Assets(STATIC), public_url, city)


def site_of(request: Request) -> Site:
    found: Site = request.app.state.opendata_site
    return found


def _language(request: Request) -> tuple[Lang, bool]:
    return i18n.choose(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))


def _with_lang(request: Request, lang: Lang) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", lang))
    return request.url.path + "?" + urlencode(params)


def _base_url(request: Request) -> str:
    return site_of(request).public_url or str(request.base_url).rstrip("/")


def render(request: Request, template: str, status: int = 200, **values: Any) -> Response:
    """A page in the visitor's language (remembering a switch in the cookie)."""
    lang, remember = _language(request)
    other: Lang = "en" if lang == "vi" else "vi"
    t: Callable[..., str] = partial(i18n.text, lang)
    body = (
        site_of(request)
        .templates.get_template(template)
        .render(
            lang=lang,
            t=t,
            switch_url=_with_lang(request, other),
            switch_lang=other,
            path=request.url.path,
            base_url=_base_url(request),
            number=partial(i18n.show_number, lang=lang),
            **values,
        )
    )
    headers = {
        "Content-Security-Policy": CSP,
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "Content-Language": lang,
        "Vary": "Cookie",
        "Cache-Control": "no-cache",
    }
    response = HTMLResponse(body, status_code=status, headers=headers)
    if remember:
        response.set_cookie(i18n.COOKIE, lang, max_age=i18n.COOKIE_MAX_AGE, path="/", samesite="lax")
    return response


def error_page(request: Request, status: int, title_key: str, message: str) -> Response:
    return render(request, "error.html", status, title_key=title_key, message=message)


def _unavailable(request: Request) -> Response:
    lang, _ = _language(request)
    return error_page(request, 503, "error.unavailable.title", i18n.text(lang, "error.unavailable"))


async def _read(
    request: Request, read: Callable[[], dict[str, Any]], missing: Callable[[Lang], str]
) -> Response | dict[str, Any]:
    """Run a page's reads in a worker thread; the catalogue's refusals and failures become error pages."""
    lang, _ = _language(request)
    if runtime_of(request).catalogue is None:
        return _unavailable(request)
    try:
        return await run_in_threadpool(read)
    except NotFound:
        return error_page(request, 404, "error.404.title", missing(lang))
    except SearchError as exc:
        return error_page(request, 400, "search.error", exc.message)
    except OpenDataError as exc:
        return error_page(request, 400, "error.bad.title", exc.message)
    except Exception:  # logged for the operators; the visitor gets a page saying so, not a stack trace
        log.exception("the public site failed to read %s", request.url.path)
        return _unavailable(request)


@router.get("/data", name="opendata_site_search", summary="The open data portal: search datasets (HTML)")
async def search_page(request: Request) -> Response:
    lang, _ = _language(request)
    state = searching.parse(request.query_params.multi_items())
    catalogue = runtime_of(request).catalogue
    found = await _read(request, lambda: pages.search_page(catalogue, state, lang), lambda _: "")
    if isinstance(found, Response):
        return found
    return render(request, "search.html", **found)


@router.get(
    "/data/dataset/{dataset_name}", name="opendata_site_dataset", summary="A dataset's page (HTML): resources, preview"
)
async def dataset_page(request: Request, dataset_name: str) -> Response:
    lang, _ = _language(request)
    runtime = runtime_of(request)
    chosen = request.query_params.get("resource")
    found = await _read(
        request,
        lambda: pages.dataset_page(runtime.catalogue, runtime.datastore, dataset_name, chosen, lang),
        lambda lang: i18n.text(lang, "error.404.dataset", name=dataset_name[:200]),
    )
    if isinstance(found, Response):
        return found
    return render(request, "dataset.html", **found)


async def _listing(request: Request, kind: str, name: str) -> Response:
    lang, _ = _language(request)
    catalogue = runtime_of(request).catalogue
    found = await _read(
        request,
        lambda: pages.listing_page(catalogue, kind, name, lang),
        lambda lang: i18n.text(lang, f"error.404.{kind}", name=name[:200]),
    )
    if isinstance(found, Response):
        return found
    return render(request, "listing.html", **found)


async def _index(request: Request, kind: str) -> Response:
    lang, _ = _language(request)
    catalogue = runtime_of(request).catalogue
    found = await _read(request, lambda: pages.index_page(catalogue, kind, lang), lambda _: "")
    if isinstance(found, Response):
        return found
    return render(request, "index.html", **found)


@router.get("/data/organization", name="opendata_site_organizations", summary="The organisations (HTML)")
async def organizations_page(request: Request) -> Response:
    return await _index(request, "organization")


@router.get(
    "/data/organization/{organization_name}",
    name="opendata_site_organization",
    summary="An organisation's page and its datasets (HTML)",
)
async def organization_page(request: Request, organization_name: str) -> Response:
    return await _listing(request, "organization", organization_name)


@router.get("/data/group", name="opendata_site_groups", summary="The themes (HTML)")
async def groups_page(request: Request) -> Response:
    return await _index(request, "group")


@router.get("/data/group/{group_name}", name="opendata_site_group", summary="A theme's page and its datasets (HTML)")
async def group_page(request: Request, group_name: str) -> Response:
    return await _listing(request, "group", group_name)


@router.get("/data/api", name="opendata_site_api", summary="How to use the open data API (HTML)")
async def api_page(request: Request) -> Response:
    return render(request, "api.html")


def _matches(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match")
    return sent is not None and etag in {t.strip().removeprefix("W/") for t in sent.split(",")}


@router.get("/data/static/{asset:path}", name="opendata_site_asset", summary="A file of the site (scripts, styles)")
async def asset(request: Request, asset: str) -> Response:
    found = site_of(request).assets.get(asset)
    headers = {"ETag": found.etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if _matches(request, found.etag):
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)


@router.get(
    "/data/wards.geojson",
    name="opendata_site_wards",
    summary="The wards' outlines drawn under the maps (GeoJSON, simplified for the screen)",
)
async def wards(request: Request) -> Response:
    """Administrative boundaries are public: the same simplified outlines the operations centre draws, read from
    the portal's hub tenant. An empty collection when there are none (the map simply has no outlines)."""
    city = site_of(request).city
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if city is None:
        return Response(
            b'{"type":"FeatureCollection","features":[]}', media_type="application/geo+json", headers=headers
        )
    try:
        ward_map = await run_in_threadpool(city.wards)
    except Exception:  # the map draws without outlines; the failure is logged for the operators
        log.exception("reading the wards for the public site failed")
        return Response(
            b'{"type":"FeatureCollection","features":[]}', media_type="application/geo+json", headers=headers
        )
    headers["ETag"] = ward_map.etag
    if _matches(request, ward_map.etag):
        return Response(status_code=304, headers=headers)
    return Response(ward_map.body, media_type="application/geo+json", headers=headers)
