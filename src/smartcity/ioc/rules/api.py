"""The rules API: ``/ioc/rules`` (JSON, or YAML with ``Content-Type: application/yaml``), versions, validation and
back-tests. Every change stores a new version and reloads the live engine at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response

from smartcity.hub.errors import AlreadyExists, BadRequestData, ResourceNotFound
from smartcity.hub.model import parse_time
from smartcity.ioc.rules.backtest import DEFAULT_DAYS, MAX_DAYS, Backtest
from smartcity.ioc.rules.files import parse_text
from smartcity.ioc.rules.model import SLUG, RuleSpec, parse_rule
from smartcity.ioc.rules.repository import StoredRule
from smartcity.ioc.rules.service import RulesService
from smartcity.ioc.runtime import runtime_of, watched_tenant_access
from smartcity.security.runtime import principal_of

router = APIRouter(
    prefix="/ioc/rules", tags=["operations centre: rules"], dependencies=[Depends(watched_tenant_access)]
)
JSON = "application/json"


def _service(request: Request) -> RulesService:
    service: RulesService = runtime_of(request).rules
    return service


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON)


async def _document(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise BadRequestData("the request has no body: send the rule as JSON")
    if "yaml" in request.headers.get("content-type", ""):
        return ("yaml", raw.decode("utf-8", errors="replace"))
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequestData(f"the body is not valid JSON: {exc}") from exc


def _spec(document: Any, rule_id: str | None = None) -> RuleSpec:
    if isinstance(document, tuple):
        specs = parse_text(document[1], "the body")
        if len(specs) != 1:
            raise BadRequestData(f"send one rule per request (the body holds {len(specs)})")
        return parse_rule(specs[0].doc, rule_id=rule_id)
    return parse_rule(document, rule_id=rule_id)


def _check_id(rule_id: str) -> None:
    if not SLUG.match(rule_id):
        raise ResourceNotFound(f"no rule {rule_id!r} (rule ids are lower-case slugs)")


def _view(service: RulesService, rule: StoredRule) -> dict[str, Any]:
    view = rule.view()
    view["stats"] = service.stats(rule.rule_id) or {"active": False}
    return view


@router.get("", name="ioc_list_rules", summary="The rules, with their live statistics")
async def list_rules(request: Request, enabled: bool | None = None, domain: str | None = None) -> Response:
    service = _service(request)
    rules = await asyncio.to_thread(service.book.all)
    if enabled is not None:
        rules = [r for r in rules if r.enabled == enabled]
    if domain is not None:
        rules = [r for r in rules if (r.doc.get("labels") or {}).get("domain") == domain]
    return _json({"count": len(rules), "rules": [_view(service, r) for r in rules]})


@router.post("", name="ioc_create_rule", summary="Create a rule (409 when its id exists)")
async def create_rule(request: Request) -> Response:
    service = _service(request)
    spec = _spec(await _document(request))
    stored = await asyncio.to_thread(service.book.put, spec.doc, principal_of(request).subject, create_only=True)
    if stored is None:
        raise AlreadyExists(f"a rule {spec.id!r} exists already: change it with PUT /ioc/rules/{spec.id}")
    await service.reload()
    return _json(_view(service, stored[0]), 201)


@router.post("/validate", name="ioc_validate_rule", summary="Validate a rule without storing it")
async def validate_rule(request: Request) -> Response:
    spec = _spec(await _document(request))
    return _json({"valid": True, "rule": spec.doc})


@router.post("/backtest", name="ioc_backtest_draft_rule", summary="Back-test an unsaved rule over the history")
async def backtest_draft(request: Request) -> Response:
    document = await _document(request)
    if not isinstance(document, dict) or not isinstance(document.get("rule"), dict):
        raise BadRequestData('send {"rule": {...}, "from"?: time, "to"?: time}', field="rule")
    spec = _spec(document["rule"])
    return await _backtest(request, spec, document)


@router.get("/{rule_id}", name="ioc_get_rule", summary="A rule, with its live statistics")
async def get_rule(request: Request, rule_id: str) -> Response:
    _check_id(rule_id)
    service = _service(request)
    rule = await asyncio.to_thread(service.book.get, rule_id)
    if rule is None:
        raise ResourceNotFound(f"no rule {rule_id!r}")
    return _json(_view(service, rule))


@router.put("/{rule_id}", name="ioc_replace_rule", summary="Create or change a rule (a new version)")
async def replace_rule(request: Request, rule_id: str) -> Response:
    _check_id(rule_id)
    service = _service(request)
    spec = _spec(await _document(request), rule_id)
    stored = await asyncio.to_thread(service.book.put, spec.doc, principal_of(request).subject)
    assert stored is not None
    await service.reload()
    return _json(_view(service, stored[0]), 201 if stored[1] else 200)


@router.delete("/{rule_id}", name="ioc_delete_rule", summary="Delete a rule (its versions stay readable)")
async def delete_rule(request: Request, rule_id: str) -> Response:
    _check_id(rule_id)
    service = _service(request)
    if not await asyncio.to_thread(service.book.delete, rule_id, principal_of(request).subject):
        raise ResourceNotFound(f"no rule {rule_id!r}")
    await service.reload()
    return Response(status_code=204)


@router.get("/{rule_id}/versions", name="ioc_rule_versions", summary="Every stored version of a rule")
async def rule_versions(request: Request, rule_id: str) -> Response:
    _check_id(rule_id)
    versions = await asyncio.to_thread(_service(request).book.versions, rule_id)
    if not versions:
        raise ResourceNotFound(f"no rule {rule_id!r} was ever stored")
    return _json({"ruleId": rule_id, "versions": [v.view() for v in versions]})


@router.post("/{rule_id}/backtest", name="ioc_backtest_rule", summary="How often would the rule have fired?")
async def backtest_rule(request: Request, rule_id: str) -> Response:
    _check_id(rule_id)
    service = _service(request)
    rule = await asyncio.to_thread(service.book.get, rule_id)
    if rule is None:
        raise ResourceNotFound(f"no rule {rule_id!r}")
    raw = await request.body()
    options: Any = {}
    if raw.strip():
        try:
            options = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequestData(f"the body is not valid JSON: {exc}") from exc
        if not isinstance(options, dict):
            raise BadRequestData('send {"from"?: time, "to"?: time}')
    return await _backtest(request, parse_rule(rule.doc), options)


async def _backtest(request: Request, spec: RuleSpec, options: dict[str, Any]) -> Response:
    end = _time(options.get("to"), "to") or datetime.now(UTC)
    start = _time(options.get("from"), "from") or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise BadRequestData("'from' must be before 'to'", field="from")
    if end - start > timedelta(days=MAX_DAYS):
        raise BadRequestData(f"a back-test covers at most {MAX_DAYS} days", field="from")
    service = _service(request)
    runner = Backtest(
        request.app.state.hub, request.app.state.temporal, service.tenant, service.engine.expand, service.engine.wards
    )
    outcome = await asyncio.to_thread(runner.run, spec, start, end)
    return _json({"ruleId": spec.id, **outcome.view()})


def _time(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    moment = parse_time(value)
    if moment is None:
        raise BadRequestData(
            f"'{name}' must be an ISO 8601 date-time with a time zone, e.g. 2026-01-31T00:00:00Z", field=name
        )
    return moment.astimezone(UTC)
