"""The Action API's routes: one per registered action under ``/api/3/action/`` and ``/api/action/`` (GET and
POST), so the OpenAPI document lists each action with its summary, and a fallback answering unknown names as
CKAN does (400, ``"Bad request - Action name not known: x"``).

A request is read as CKAN reads it (JSON body, form, or URL parameters for reads; a write sent by GET is refused),
the action runs in a worker thread with an :class:`ActionContext`, and its result or error is wrapped in CKAN's
envelope (:mod:`.envelope`). Writes are audited by the security gate (their routes' policy rows); the audit
record names the dataset written.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from smartcity.opendata.ckan import envelope
from smartcity.opendata.ckan.params import BadRequest, from_body, from_form, mixed
from smartcity.opendata.ckan.policy import UNKNOWN, route_names
from smartcity.opendata.ckan.registry import ACTIONS, Action, ActionContext
from smartcity.opendata.contracts import OpenDataError
from smartcity.security.policy import CURATORS
from smartcity.security.runtime import principal_of

log = logging.getLogger(__name__)

TAGS: list[str | Enum] = ["open data: CKAN Action API"]
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_BODY = 16 * 1024 * 1024


async def request_data(request: Request, found: Action) -> dict[str, Any]:
    """The action's parameters, as CKAN's ``_get_request_data`` finds them."""
    if request.method == "GET":
        if found.write:
            raise BadRequest("JSON Error: Invalid request. Please use POST method for your request")
        return mixed(list(request.query_params.multi_items()))
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type in FORM_TYPES:
        form = await request.form()
        pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        if pairs:
            return from_form(pairs)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise BadRequest("JSON Error: the request body is too large")
    if not body.strip() and not found.write and request.query_params:
        return mixed(list(request.query_params.multi_items()))
    return from_body(body)


def _audit_details(request: Request, name: str, result: Any) -> None:
    details: dict[str, Any] = {"action": name}
    noun = name.partition("_")[0]
    prefix = noun if noun in ("organization", "group") else "dataset"
    if isinstance(result, dict):
        for key in ("id", "name"):
            if isinstance(result.get(key), str):
                details[f"{prefix}_{key}"] = result[key]
    request.state.audit_details = details


async def call(request: Request, found: Action) -> Response:
    base_url = envelope.base_url_of(request.scope)
    help_link = envelope.help_url(base_url, found.name)
    try:
        data = await request_data(request, found)
    except BadRequest as exc:
        return envelope.bad_request(str(exc))
    data.pop("callback", None)
    principal = principal_of(request)
    ctx = ActionContext(
        principal=principal,
        runtime=request.app.state.opendata,
        user="" if principal.is_anonymous else principal.subject,
        may_write=principal.role in CURATORS,
        base_url=base_url,
    )
    try:
        result = await run_in_threadpool(found.fn, ctx, data)
    except OpenDataError as exc:
        if found.write:
            _audit_details(request, found.name, data)
        return envelope.domain_error(help_link, exc)
    except Exception:
        log.exception("the CKAN action %s failed", found.name)
        return envelope.internal_error(help_link)
    if found.write:
        _audit_details(request, found.name, result if isinstance(result, dict) else data)
    return envelope.success(help_link, result)


def _endpoint(found: Action) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await call(request, found)

    return endpoint


async def unknown_action(request: Request) -> Response:
    name = request.path_params.get("action_name", "")
    return envelope.bad_request(f"Action name not known: {name}")


def router() -> APIRouter:
    """The routes of every action registered now (call after the parts registered theirs)."""
    api = APIRouter(tags=TAGS)
    for name, found in sorted(ACTIONS.items()):
        versioned, unversioned = route_names(name)
        description = (found.fn.__doc__ or "").strip()
        if found.write:
            description += "\n\nNeeds a publisher credential (`Authorization: <API key>` or `X-CKAN-API-Key`)."
        for path, route_name, shown in (
            (f"/api/3/action/{name}", versioned, True),
            (f"/api/action/{name}", unversioned, False),
        ):
            for method in ("GET", "POST"):  # one route each: distinct OpenAPI operations; a write by GET gets a 400
                api.add_api_route(
                    path,
                    _endpoint(found),
                    methods=[method],
                    name=route_name,
                    summary=found.help,
                    description=description,
                    include_in_schema=shown,
                    response_class=Response,
                )
    for path, route_name in (
        ("/api/3/action/{action_name}", UNKNOWN),
        ("/api/action/{action_name}", f"{UNKNOWN}_unversioned"),
    ):
        for method in ("GET", "POST"):
            api.add_api_route(
                path,
                unknown_action,
                methods=[method],
                name=route_name,
                summary="Any other action name: 400, as CKAN answers",
                include_in_schema=False,
                response_class=Response,
            )
    return api
