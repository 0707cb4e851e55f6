"""The GeoReport v2 routes under ``/open311/v2/``, each with a ``.json``/``.xml`` suffix or none (then the Accept
header chooses, JSON by default). Public: citizens have no accounts; the platform's per-address rate limit
applies. Texts in Vietnamese (default) or English: ``?locale=vi|en``, else ``Accept-Language``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.types import Message

from smartcity.hub.errors import UnsupportedMediaType
from smartcity.ioc.open311 import wire
from smartcity.ioc.open311.catalogue import LOCALES, Service
from smartcity.ioc.open311.errors import InvalidApiKey, InvalidInput, NotFound, format_of
from smartcity.ioc.open311.inputs import MAX_FIELDS, Submission, parse_code, parse_datetime, parse_submission
from smartcity.ioc.open311.reports import CitizenReports, RequestQuery
from smartcity.security.authn import API_KEY_PREFIX, BadCredential, Presented, resolve
from smartcity.security.runtime import principal_of

BASE = "/open311/v2"
TAGS: list[str | Any] = ["open311"]
FORM_OVERHEAD = 256 * 1024  # the form fields around a photo
MAX_LIST = 50


def reports_of(request: Request) -> CitizenReports:
    reports: CitizenReports = request.app.state.ioc.open311
    return reports


def locale_of(request: Request) -> str:
    asked = request.query_params.get("locale")
    if asked is not None:
        if asked not in LOCALES:
            raise InvalidInput("locale must be vi or en")
        return asked
    for part in request.headers.get("accept-language", "").split(",")[:16]:
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LOCALES:
            return tag
    return "vi"


def fmt_of(request: Request) -> str:
    given = request.path_params.get("format")
    if given is not None and given not in ("json", "xml"):
        raise NotFound(f"unknown format {given[:16]!r}: use .json or .xml")
    return format_of(request.scope)


def answer(request: Request, root: str, item: str | None, document: Any, status: int = 200) -> Response:
    if fmt_of(request) == "xml":
        return Response(wire.to_xml(root, item, document), status_code=status, media_type=wire.XML_TYPE)
    return Response(wire.to_json(document), status_code=status, media_type=wire.JSON_TYPE)


def _check_jurisdiction(request: Request) -> None:
    from smartcity.ioc.open311.reports import JURISDICTION

    given = request.query_params.get("jurisdiction_id")
    if given is not None and given != JURISDICTION:
        raise NotFound(f"jurisdiction_id {given[:64]} not found (this is {JURISDICTION})")


# -- services --------------------------------------------------------------------------------------------------


def service_json(service: Service, locale: str) -> dict[str, Any]:
    return {
        "service_code": service.code,
        "service_name": service.name(locale),
        "description": service.description(locale),
        "metadata": service.metadata,
        "type": "realtime",
        "keywords": service.keywords(locale),
        "group": service.group_name(locale),
    }


def definition_json(service: Service, locale: str) -> dict[str, Any]:
    return {
        "service_code": service.code,
        "attributes": [
            {
                "variable": True,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": a.datatype_description(locale) if a.datatype_description else None,
                "order": a.order,
                "description": a.description(locale),
                "values": [{"key": c.key, "name": c.name(locale)} for c in a.values],
            }
            for a in service.attributes
        ],
    }


async def list_services(request: Request) -> Response:
    fmt_of(request)
    _check_jurisdiction(request)
    locale = locale_of(request)
    services = [service_json(s, locale) for s in reports_of(request).catalogue]
    return answer(request, "services", "service", services)


async def get_service(request: Request) -> Response:
    fmt_of(request)
    _check_jurisdiction(request)
    service = reports_of(request).service(str(request.path_params["service_code"]))
    return answer(request, "service_definition", None, definition_json(service, locale_of(request)))


# -- requests --------------------------------------------------------------------------------------------------


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_big = f"the request is too large: a photo may be at most {request.app.state.settings.max_photo_bytes} bytes"
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise InvalidInput(too_big)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidInput(too_big)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request) -> tuple[list[tuple[str, str]], bytes | None]:
    """The fields of a form-urlencoded or multipart body, and the ``media`` upload (multipart only)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower() or "application/x-www-form-urlencoded"
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise UnsupportedMediaType(
            "POST requests takes application/x-www-form-urlencoded or multipart/form-data (with a media photo)"
        )
    raw = await _body(request, request.app.state.settings.max_photo_bytes + FORM_OVERHEAD)
    if kind == "application/x-www-form-urlencoded":
        try:
            text = raw.decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise InvalidInput(f"the form is not valid UTF-8 form data (at most {MAX_FIELDS} fields)") from None
        return pairs, None
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.request", "body": b"", "more_body": False}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=MAX_FIELDS, max_part_size=64 * 1024)
    except HTTPException as exc:
        raise InvalidInput(f"the multipart form cannot be read: {exc.detail}") from None
    pairs = []
    photo: bytes | None = None
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key != "media":
                    raise InvalidInput("only the media field may be a file")
                photo = await value.read()
            else:
                pairs.append((key, value))
    finally:
        await form.close()
    return pairs, photo


async def _api_key_id(request: Request, submission: Submission) -> str | None:
    """The id of a platform API key given as ``api_key`` (recorded with the report); 403 when it is not valid."""
    principal = principal_of(request)
    if submission.api_key is None:
        return principal.credential_id if principal.kind == "apikey" else None
    if not submission.api_key.startswith(API_KEY_PREFIX) or len(submission.api_key) > 512:
        raise InvalidApiKey("invalid api_key: use a platform API key, or none")
    try:
        found = await resolve(request.app.state.security, Presented("apikey", submission.api_key))
    except BadCredential:
        raise InvalidApiKey("invalid api_key: unknown, expired or revoked") from None
    return found.credential_id


async def create_request(request: Request) -> Response:
    fmt_of(request)
    locale = locale_of(request)
    pairs, photo = await read_form(request)
    submission = parse_submission(pairs)
    api_key_id = await _api_key_id(request, submission)
    principal = principal_of(request)
    account = None if principal.is_anonymous or principal.kind == "apikey" else principal.subject
    reports = reports_of(request)
    receipt = await run_in_threadpool(
        reports.submit, submission, photo, locale=locale, account_id=account, api_key_id=api_key_id
    )
    request.state.audit_details = {"serviceRequestId": receipt.service_request_id}
    document = [
        {
            "service_request_id": receipt.service_request_id,
            "token": receipt.token,
            "service_notice": receipt.service_notice,
            "account_id": receipt.account_id,
        }
    ]
    return answer(request, "service_requests", "request", document, status=201)


def _list(request: Request, name: str, parse: Callable[[str], str] | None = None) -> tuple[str, ...] | None:
    raw = request.query_params.get(name)
    if raw is None or not raw.strip():
        return None
    items = [p.strip() for p in raw.split(",") if p.strip()]
    if len(items) > MAX_LIST:
        raise InvalidInput(f"{name} lists at most {MAX_LIST} values")
    return tuple(parse(i) if parse is not None else i for i in items)


def parse_query(request: Request) -> RequestQuery:
    q = request.query_params
    ids = _list(request, "service_request_id", lambda v: parse_code(v, "service_request_id"))
    if ids is not None:
        return RequestQuery(ids=ids)
    statuses = _list(request, "status")
    if statuses is not None and not set(statuses) <= {"open", "closed"}:
        raise InvalidInput("status must be open, closed or both (comma-separated)")
    start = parse_datetime(q["start_date"], "start_date") if q.get("start_date") else None
    end = parse_datetime(q["end_date"], "end_date") if q.get("end_date") else None
    if start is not None and end is not None and start > end:
        raise InvalidInput("start_date must not be after end_date")
    return RequestQuery(
        service_codes=_list(request, "service_code", lambda v: parse_code(v, "service_code")),
        start=start,
        end=end,
        statuses=frozenset(statuses) if statuses is not None else None,
        wards=_list(request, "ward", lambda v: parse_code(v, "ward")),
    )


async def list_requests(request: Request) -> Response:
    fmt_of(request)
    _check_jurisdiction(request)
    locale = locale_of(request)
    query = parse_query(request)
    views = await run_in_threadpool(reports_of(request).find, query, locale)
    return answer(request, "service_requests", "request", views)


async def get_request(request: Request) -> Response:
    fmt_of(request)
    _check_jurisdiction(request)
    locale = locale_of(request)
    wanted = str(request.path_params["service_request_id"])
    view = await run_in_threadpool(reports_of(request).get, wanted, locale)
    return answer(request, "service_requests", "request", [view])


async def get_token(request: Request) -> Response:
    fmt_of(request)
    _check_jurisdiction(request)
    token = str(request.path_params["token"])
    found = await run_in_threadpool(reports_of(request).by_token, token)
    return answer(request, "service_requests", "request", [found])


async def get_media(request: Request, media_name: str) -> Response:
    path = reports_of(request).media.path_of(media_name)
    if path is None:
        raise NotFound("no such photo")
    return FileResponse(
        path,
        media_type=reports_of(request).media.content_type(media_name),
        headers={"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"},
    )


# -- registration ----------------------------------------------------------------------------------------------

REQUESTS_QUERY = [
    {"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": d}
    for n, d in (
        ("service_request_id", "comma-separated ids (every other filter is then ignored)"),
        ("service_code", "comma-separated service codes"),
        ("start_date", "ISO 8601 with time zone"),
        ("end_date", "ISO 8601 with time zone"),
        ("status", "open, closed or both"),
        ("ward", "comma-separated ward codes (extension)"),
        ("locale", "vi or en"),
        ("jurisdiction_id", "tphcm.gov.vn"),
    )
]
POST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": {"type": "object", "properties": {"service_code": {"type": "string"}}}}
            for media in ("application/x-www-form-urlencoded", "multipart/form-data")
        },
    }
}


def _endpoint(core: Callable[[Request], Awaitable[Response]], params: list[str]) -> Callable[..., Any]:
    """``core`` with the route's path parameters in its signature (for the OpenAPI document)."""

    async def endpoint(request: Request, **_: str) -> Response:
        return await core(request)

    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
        + [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, annotation=str) for p in params]
    )
    return endpoint


ROUTES: list[tuple[str, str, str, Callable[[Request], Awaitable[Response]], list[str], str, dict[str, Any] | None]] = [
    ("GET", "/services", "open311_services", list_services, [], "Services (report categories)", None),
    ("GET", "/services/{service_code}", "open311_service", get_service, ["service_code"], "Service definition", None),
    ("POST", "/requests", "open311_create_request", create_request, [], "Report a problem", POST_BODY),
    (
        "GET",
        "/requests",
        "open311_requests",
        list_requests,
        [],
        "Service requests",
        {"parameters": REQUESTS_QUERY},
    ),
    ("GET", "/requests/{service_request_id}", "open311_request", get_request, ["service_request_id"], "Request", None),
    ("GET", "/tokens/{token}", "open311_token", get_token, ["token"], "The request of a token", None),
]


def build() -> APIRouter:
    """The routes: each suffixed form (``.{format}``) before its bare form, so that the bare one never sees a
    suffix."""
    router = APIRouter(tags=TAGS)
    for suffix in (".{format}", ""):
        for method, path, name, core, params, summary, extra in ROUTES:
            params_here = [*params, "format"] if suffix else params
            router.add_api_route(
                f"{BASE}{path}{suffix}",
                _endpoint(core, params_here),
                methods=[method],
                name=f"{name}_fmt" if suffix else name,
                summary=summary,
                openapi_extra=extra,
                status_code=201 if method == "POST" else 200,
            )
    router.add_api_route(
        f"{BASE}/media/{{media_name}}", get_media, methods=["GET"], name="open311_media", summary="A report's photo"
    )
    return router
