"""The error envelope (clause 5.5.2, 6.3.2-6.3.6): every route answers bad input with the right status,
application/json and an NGSI-LD problem-details body, never with a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import Store
from tests.api.support import (
    BASE,
    CONTEXTS,
    CORE_CONTEXT,
    ENTITIES,
    ERROR_BASE,
    JSONLD,
    OPS,
    assert_problem,
    create,
    entity_url,
    fetch,
    link,
    media,
    prop,
    query_ids,
    tenant,
)
from tests.open_hub import open_settings

PROBE = "urn:ngsi-ld:Probe:1"
SUB = "urn:ngsi-ld:Subscription:probe"
SUBS = f"{BASE}/subscriptions"
UNREACHABLE = "http://127.0.0.1:9/ctx.jsonld"
HOSTED_ID = "{hosted}"  # replaced by the id of a context hosted by the fixture


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # as the OpenAPI document of the app spells it
    url: str
    body: str | None = None  # kind of body: entity, fragment-entity, attrs, fragment, array, ids, query, context
    ngsi: bool = True  # reads tenant and Link @context
    answers_with_body: bool = True

    @property
    def id(self) -> str:
        return f"{self.method} {self.template}"


ROUTES = [
    Route("POST", "/entities", ENTITIES, "entity"),
    Route("GET", "/entities", f"{ENTITIES}?type=Probe"),
    Route("DELETE", "/entities", f"{ENTITIES}?type=Nothing"),
    Route("GET", "/entities/{entityId}", entity_url(PROBE)),
    Route("DELETE", "/entities/{entityId}", entity_url(PROBE)),
    Route("PATCH", "/entities/{entityId}", entity_url(PROBE), "attrs"),
    Route("PUT", "/entities/{entityId}", entity_url(PROBE), "fragment-entity"),
    Route("POST", "/entities/{entityId}/attrs", entity_url(PROBE) + "/attrs", "attrs"),
    Route("PATCH", "/entities/{entityId}/attrs", entity_url(PROBE) + "/attrs", "attrs"),
    Route("PATCH", "/entities/{entityId}/attrs/{attrId}", entity_url(PROBE) + "/attrs/level", "fragment"),
    Route("PUT", "/entities/{entityId}/attrs/{attrId}", entity_url(PROBE) + "/attrs/level", "fragment"),
    Route("DELETE", "/entities/{entityId}/attrs/{attrId}", entity_url(PROBE) + "/attrs/level"),
    Route("POST", "/entityOperations/create", f"{OPS}/create", "array"),
    Route("POST", "/entityOperations/upsert", f"{OPS}/upsert", "array"),
    Route("POST", "/entityOperations/update", f"{OPS}/update", "array"),
    Route("POST", "/entityOperations/merge", f"{OPS}/merge", "array"),
    Route("POST", "/entityOperations/delete", f"{OPS}/delete", "ids"),
    Route("POST", "/entityOperations/query", f"{OPS}/query", "query"),
    Route("GET", "/types", f"{BASE}/types"),
    Route("GET", "/types/{typeName}", f"{BASE}/types/Probe"),
    Route("GET", "/attributes", f"{BASE}/attributes"),
    Route("GET", "/attributes/{attrId}", f"{BASE}/attributes/level"),
    Route("GET", "/temporal/entities", f"{BASE}/temporal/entities?type=Probe"),
    Route("POST", "/temporal/entities", f"{BASE}/temporal/entities", "entity"),
    Route("GET", "/temporal/entities/{entityId}", f"{BASE}/temporal/entities/{PROBE}"),
    Route("DELETE", "/temporal/entities/{entityId}", f"{BASE}/temporal/entities/{PROBE}"),
    Route("POST", "/temporal/entities/{entityId}/attrs", f"{BASE}/temporal/entities/{PROBE}/attrs", "attrs"),
    Route("DELETE", "/temporal/entities/{entityId}/attrs/{attrId}", f"{BASE}/temporal/entities/{PROBE}/attrs/level"),
    Route(
        "PATCH",
        "/temporal/entities/{entityId}/attrs/{attrId}",
        f"{BASE}/temporal/entities/{PROBE}/attrs/level/urn:ngsi-ld:Instance:1",
        "fragment",
    ),
    Route("POST", "/subscriptions", SUBS, "subscription"),
    Route("GET", "/subscriptions", SUBS),
    Route("GET", "/subscriptions/{subscriptionId}", f"{SUBS}/{SUB}"),
    Route("PATCH", "/subscriptions/{subscriptionId}", f"{SUBS}/{SUB}", "subscription-fragment"),
    Route("DELETE", "/subscriptions/{subscriptionId}", f"{SUBS}/{SUB}"),
    Route("POST", "/jsonldContexts", CONTEXTS, "context", ngsi=False, answers_with_body=False),
    Route("GET", "/jsonldContexts", CONTEXTS, ngsi=False),
    Route("GET", "/jsonldContexts/{contextId}", f"{CONTEXTS}/{HOSTED_ID}", ngsi=False),
    Route("DELETE", "/jsonldContexts/{contextId}", f"{CONTEXTS}/{HOSTED_ID}", ngsi=False, answers_with_body=False),
]
BODY_ROUTES = [r for r in ROUTES if r.body is not None]
NGSI_ROUTES = [r for r in ROUTES if r.ngsi]
ENTITY_PATH_ROUTES = [r for r in ROUTES if "{entityId}" in r.template]


def ids(routes: list[Route]) -> list[str]:
    return [r.id for r in routes]


def valid_body(kind: str) -> Any:
    return {
        "entity": {"id": "urn:ngsi-ld:Probe:new", "type": "Probe", "level": prop(1)},
        "fragment-entity": {"type": "Probe", "level": prop(2)},
        "attrs": {"level": prop(3)},
        "fragment": {"type": "Property", "value": 4},
        "array": [{"id": PROBE, "type": "Probe", "level": prop(5)}],
        "ids": [PROBE],
        "query": {"type": "Query", "entities": [{"type": "Probe"}]},
        "context": {"@context": {"probe": "https://example.org/probe"}},
        "subscription": {
            "type": "Subscription",
            "entities": [{"type": "Probe"}],
            "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}},
        },
        "subscription-fragment": {"type": "Subscription", "throttling": 5},
    }[kind]


class Env:
    """The app with a probe entity and a hosted @context, and a way to send any request to it."""

    def __init__(self, client: TestClient, hosted: str) -> None:
        self.client = client
        self.hosted = hosted

    def send(self, route: Route, **kwargs: Any) -> Any:
        url = route.url.replace(HOSTED_ID, self.hosted)
        return self.client.request(route.method, url, **kwargs)


def _setup(client: TestClient) -> Env:
    create(client, {"id": PROBE, "type": "Probe", "level": prop(0)})
    subscription = {"id": SUB, **valid_body("subscription")}
    assert client.post(SUBS, json=subscription).status_code == 201
    response = client.post(CONTEXTS, json={"@context": {"probe": "https://example.org/probe"}})
    assert response.status_code == 201
    return Env(client, response.headers["location"].rsplit("/", 1)[-1])


@pytest.fixture
def env(client: TestClient) -> Env:
    return _setup(client)


@pytest.fixture
def small_env(store: Store) -> Iterator[Env]:
    """The app with a 2 KiB request body limit."""
    settings = open_settings(database_url="sqlite:///unused.db", max_body_bytes=2048)
    with TestClient(create_app(settings, store=store)) as small:
        yield _setup(small)


def assert_untouched(env: Env) -> None:
    """The probe entity is as the fixture made it and nothing else was created."""
    assert fetch(env.client, PROBE) == {"id": PROBE, "type": "Probe", "level": prop(0)}
    assert query_ids(env.client, type="Probe") == [PROBE]


# -- the route table covers the application ------------------------------------------------------------


def test_every_ngsi_ld_route_is_in_the_table(client: TestClient) -> None:
    app = client.app
    assert hasattr(app, "openapi")
    paths = app.openapi()["paths"]
    served = {
        f"{method.upper()} {path.removeprefix(BASE)}"
        for path, operations in paths.items()
        if path.startswith(BASE)
        for method in operations
    }
    assert served == {r.id for r in ROUTES}


# -- generic bad requests, on every route --------------------------------------------------------------


class Failures:
    """Every route is checked; all the routes that misbehave are reported together."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def check(self, what: str, response: Any, status: int, error: str | None = None) -> None:
        try:
            assert_problem(response, status, error)
        except AssertionError as exc:
            self.found.append(f"{what}: {exc}")

    def assert_none(self) -> None:
        assert not self.found, "\n".join(self.found)


def with_context(body: Any) -> Any:
    if isinstance(body, list):
        return [{**item, "@context": CORE_CONTEXT} for item in body]
    return {**body, "@context": CORE_CONTEXT}


def test_malformed_json_is_400_invalid_request(env: Env) -> None:
    failures = Failures()
    for route in BODY_ROUTES:
        for raw in (b'{"id": "urn:x:1", "type": ', b"[1, 2", b"{'single': 'quotes'}", b"\xff\xfe"):
            response = env.send(route, content=raw, headers={"Content-Type": "application/json"})
            failures.check(f"{route.id} {raw!r}", response, 400, "InvalidRequest")
    failures.assert_none()
    assert_untouched(env)


def test_empty_body_is_400(env: Env) -> None:
    failures = Failures()
    for route in BODY_ROUTES:
        response = env.send(route, content=b"", headers={"Content-Type": "application/json"})
        failures.check(route.id, response, 400)
    failures.assert_none()
    assert_untouched(env)


def test_body_of_the_wrong_json_shape_is_400(env: Env) -> None:
    failures = Failures()
    for route in BODY_ROUTES:
        opposite = {"id": PROBE} if route.body in ("array", "ids") else [valid_body(route.body or "")]
        for raw in (json.dumps(opposite).encode(), b'"text"', b"42", b"null", b"true"):
            response = env.send(route, content=raw, headers={"Content-Type": "application/json"})
            failures.check(f"{route.id} {raw[:30]!r}", response, 400, "BadRequestData")
    failures.assert_none()
    assert_untouched(env)


def test_unsupported_content_type_is_415(env: Env) -> None:
    failures = Failures()
    for route in BODY_ROUTES:
        raw = json.dumps(valid_body(route.body or "")).encode()
        for ctype in ("text/plain", "application/xml", "multipart/form-data; boundary=x", None):
            headers = {"Content-Type": ctype} if ctype else {}
            failures.check(
                f"{route.id} {ctype}", env.send(route, content=raw, headers=headers), 415, "UnsupportedMediaType"
            )
    failures.assert_none()
    assert_untouched(env)


def test_accept_of_nothing_offered_is_406(env: Env) -> None:
    failures = Failures()
    for route in ROUTES:
        if not route.answers_with_body:
            continue
        body = {"json": valid_body(route.body)} if route.body else {}
        for accept in ("text/html", "application/xml, text/csv", "application/json;q=0"):
            response = env.send(route, headers={"Accept": accept}, **body)
            failures.check(f"{route.id} {accept}", response, 406, "NotAcceptable")
    failures.assert_none()
    assert_untouched(env)


def test_ld_json_body_without_context_is_400(env: Env) -> None:
    failures = Failures()
    for route in BODY_ROUTES:
        if route.body == "context":
            continue
        response = env.send(route, json=valid_body(route.body or ""), headers={"Content-Type": JSONLD})
        failures.check(route.id, response, 400, "BadRequestData")
    failures.assert_none()
    assert_untouched(env)


def test_json_body_with_context_is_400(env: Env) -> None:
    failures = Failures()
    for route in BODY_ROUTES:
        if route.body in ("context", "ids"):
            continue
        response = env.send(route, json=with_context(valid_body(route.body or "")))
        failures.check(route.id, response, 400, "BadRequestData")
    failures.assert_none()
    assert_untouched(env)


def test_ld_json_body_and_link_header_together_is_400(env: Env) -> None:
    failures = Failures()
    for route in BODY_ROUTES:
        if route.body in ("context", "ids"):
            continue
        body = with_context(valid_body(route.body or ""))
        response = env.send(route, json=body, headers={"Content-Type": JSONLD, **link(CORE_CONTEXT)})
        failures.check(route.id, response, 400, "BadRequestData")
    failures.assert_none()
    assert_untouched(env)


def test_oversize_body_is_413(small_env: Env) -> None:
    failures = Failures()
    padding = "x" * 4096
    for route in BODY_ROUTES:
        body = valid_body(route.body or "")
        if route.body == "ids":
            body = [*body, padding]
        elif route.body == "array":
            body = [{**body[0], "pad": padding}]
        else:
            body = {**body, "pad": padding}
        failures.check(route.id, small_env.send(route, json=body), 413)
    failures.assert_none()
    assert_untouched(small_env)


def test_default_body_limit_is_8_mib(env: Env) -> None:
    huge = {"id": "urn:ngsi-ld:Probe:huge", "type": "Probe", "blob": prop("x" * (8 * 1024 * 1024))}
    assert_problem(env.client.post(ENTITIES, json=huge), 413)
    assert_untouched(env)


def test_unreachable_link_context_is_503(env: Env) -> None:
    failures = Failures()
    for route in NGSI_ROUTES:
        body = {"json": valid_body(route.body)} if route.body else {}
        response = env.send(route, headers=link(UNREACHABLE), **body)
        failures.check(route.id, response, 503, "LdContextNotAvailable")
    failures.assert_none()
    assert_untouched(env)


def test_invalid_tenant_is_400(env: Env) -> None:
    failures = Failures()
    for route in NGSI_ROUTES:
        body = {"json": valid_body(route.body)} if route.body else {}
        for name in ("no spaces allowed", "x" * 200, "a/b"):
            response = env.send(route, headers=tenant(name), **body)
            failures.check(f"{route.id} {name[:20]}", response, 400, "BadRequestData")
    failures.assert_none()
    assert_untouched(env)


def test_entity_id_in_path_that_is_not_a_uri_is_400(env: Env) -> None:
    failures = Failures()
    for route in ENTITY_PATH_ROUTES:
        body = {"json": valid_body(route.body)} if route.body else {}
        for bad in ("probe-1", "%20urn:x", "urn:ngsi-ld:Probe:1%3Cscript%3E", "urn:ngsi-ld:Probe:1%00"):
            response = env.client.request(route.method, route.url.replace(PROBE, bad), **body)
            failures.check(f"{route.id} {bad}", response, 400, "BadRequestData")
    failures.assert_none()
    assert_untouched(env)


def test_errors_are_json_even_when_ld_json_is_accepted(env: Env) -> None:
    failures = Failures()
    for route in ROUTES:
        body = {"json": valid_body(route.body)} if route.body else {}
        headers = {"Accept": JSONLD}
        if route.ngsi:
            headers.update(tenant("bad tenant!"))
            failures.check(route.id, env.send(route, headers=headers, **body), 400)
        elif route.body:
            headers["Content-Type"] = "text/plain"
            failures.check(route.id, env.send(route, headers=headers, content=b"{}"), 415)
        else:
            missing = Route(route.method, route.template, f"{CONTEXTS}/nothing-here", ngsi=False)
            failures.check(route.id, env.send(missing, headers=headers), 404)
    failures.assert_none()


# -- unknown paths and wrong methods -------------------------------------------------------------------

UNKNOWN_PATHS = [
    "/nothing",
    f"{BASE}",
    f"{BASE}/",
    f"{BASE}/entity",
    f"{BASE}/csourceRegistrations",
    f"{BASE}/entityOperations/explode",
    "/ngsi-ld/v2/entities",
]


def test_unknown_path_is_404(env: Env) -> None:
    failures = Failures()
    for path in UNKNOWN_PATHS:
        failures.check(f"GET {path}", env.client.get(path), 404, "ResourceNotFound")
        failures.check(f"POST {path}", env.client.post(path, json={}), 404, "ResourceNotFound")
    failures.assert_none()


ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def test_wrong_method_is_405_with_allow(env: Env) -> None:
    allowed: dict[str, set[str]] = {}
    urls: dict[str, str] = {}
    for r in ROUTES:
        allowed.setdefault(r.template, set()).add(r.method)
        urls[r.template] = r.url.split("?", 1)[0].replace(HOSTED_ID, env.hosted)
    failures = Failures()
    checked = 0
    for template, methods in sorted(allowed.items()):
        for method in ALL_METHODS:
            if method in methods:
                continue
            checked += 1
            response = env.client.request(method, urls[template], json={})
            failures.check(f"{method} {template}", response, 405)
            allow = response.headers.get("allow", "")
            if not allow or method in allow:
                failures.found.append(f"{method} {template}: Allow header {allow!r}")
    failures.assert_none()
    assert checked > 40
    assert_untouched(env)


# -- bad entity content ---------------------------------------------------------------------------------

NEW = "urn:ngsi-ld:Probe:new"
D1_OPEN = [[106.69, 10.765], [106.71, 10.765], [106.71, 10.785], [106.69, 10.785]]


def nested(depth: int) -> dict[str, Any]:
    inner: dict[str, Any] = prop(0)
    for _ in range(depth):
        inner = prop(0, sub=inner)
    return inner


BAD_ENTITIES: dict[str, dict[str, Any]] = {
    "id not a URI": {"id": "ben thanh market", "type": "Probe"},
    "id a number": {"id": 7, "type": "Probe"},
    "id with a control character": {"id": "urn:ngsi-ld:Probe:\u0001", "type": "Probe"},
    "no id": {"type": "Probe"},
    "no type": {"id": NEW},
    "empty type list": {"id": NEW, "type": []},
    "type a number": {"id": NEW, "type": 7},
    "type with a space": {"id": NEW, "type": "Air Quality"},
    "attribute of unknown type": {"id": NEW, "type": "Probe", "a": {"type": "Measurement", "value": 1}},
    "null attribute": {"id": NEW, "type": "Probe", "a": None},
    "null value": {"id": NEW, "type": "Probe", "a": {"type": "Property", "value": None}},
    "property without value": {"id": NEW, "type": "Probe", "a": {"type": "Property", "unitCode": "CEL"}},
    "observedAt not a date": {"id": NEW, "type": "Probe", "a": prop(1, observedAt="yesterday")},
    "observedAt without timezone": {"id": NEW, "type": "Probe", "a": prop(1, observedAt="2024-05-01T08:00:00")},
    "observedAt a number": {"id": NEW, "type": "Probe", "a": prop(1, observedAt=1714550400)},
    "unitCode a number": {"id": NEW, "type": "Probe", "a": prop(1, unitCode=5)},
    "datasetId not a URI": {"id": NEW, "type": "Probe", "a": prop(1, datasetId="day")},
    "datasetId repeated": {
        "id": NEW,
        "type": "Probe",
        "a": [prop(1, datasetId="urn:ngsi-ld:Dataset:a"), prop(2, datasetId="urn:ngsi-ld:Dataset:a")],
    },
    "two default instances": {"id": NEW, "type": "Probe", "a": [prop(1), prop(2)]},
    "relationship without object": {"id": NEW, "type": "Probe", "a": {"type": "Relationship"}},
    "relationship to a non-URI": {"id": NEW, "type": "Probe", "a": {"type": "Relationship", "object": "district 1"}},
    "relationship to null": {"id": NEW, "type": "Probe", "a": {"type": "Relationship", "object": None}},
    "language map a string": {"id": NEW, "type": "Probe", "a": {"type": "LanguageProperty", "languageMap": "vi"}},
    "language map of numbers": {
        "id": NEW,
        "type": "Probe",
        "a": {"type": "LanguageProperty", "languageMap": {"vi": 5}},
    },
    "empty language map": {"id": NEW, "type": "Probe", "a": {"type": "LanguageProperty", "languageMap": {}}},
    "attribute name with a space": {"id": NEW, "type": "Probe", "air quality": prop(1)},
    "attribute name with a quote": {"id": NEW, "type": "Probe", 'a"b': prop(1)},
    "attribute name with a control character": {"id": NEW, "type": "Probe", "a\u0001b": prop(1)},
    "sub-attribute with null value": {
        "id": NEW,
        "type": "Probe",
        "a": prop(1, sub={"type": "Property", "value": None}),
    },
    "sub-attribute with a bad name": {"id": NEW, "type": "Probe", "a": prop(1, **{"bad name": prop(1)})},
    "sub-attributes nested too deep": {"id": NEW, "type": "Probe", "a": nested(12)},
    "unclosed polygon ring": {
        "id": NEW,
        "type": "Probe",
        "location": {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [D1_OPEN]}},
    },
    "self-intersecting polygon": {
        "id": NEW,
        "type": "Probe",
        "location": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
    },
    "longitude 200": {"id": NEW, "type": "Probe", "location": {"type": "Point", "coordinates": [200, 10.77]}},
    "latitude 95": {"id": NEW, "type": "Probe", "location": {"type": "Point", "coordinates": [106.7, 95]}},
    "point with one coordinate": {"id": NEW, "type": "Probe", "location": {"type": "Point", "coordinates": [106.7]}},
    "coordinates as strings": {
        "id": NEW,
        "type": "Probe",
        "location": {"type": "Point", "coordinates": ["106.7", "10.77"]},
    },
    "unknown geometry type": {
        "id": NEW,
        "type": "Probe",
        "location": {"type": "GeoProperty", "value": {"type": "Circle", "coordinates": [106.7, 10.77]}},
    },
    "location that is not a geometry": {"id": NEW, "type": "Probe", "location": prop(5)},
    "GeoProperty with a text value": {"id": NEW, "type": "Probe", "area": {"type": "GeoProperty", "value": "Quận 1"}},
}


@pytest.mark.parametrize("entity", list(BAD_ENTITIES.values()), ids=list(BAD_ENTITIES))
def test_bad_entity_is_400_or_reported_in_a_batch(env: Env, entity: dict[str, Any]) -> None:
    assert_problem(env.client.post(ENTITIES, json=entity), 400, "BadRequestData")
    assert_problem(env.client.get(entity_url(NEW)), 404, "ResourceNotFound")
    # in a batch: a 207 naming the entity, the good one is created
    good = {"id": "urn:ngsi-ld:Probe:good", "type": "Probe"}
    response = env.client.post(f"{OPS}/create", json=[good, entity])
    assert response.status_code == 207, response.text
    assert media(response) == "application/json"
    body = response.json()
    assert body["success"] == ["urn:ngsi-ld:Probe:good"]
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert isinstance(error["entityId"], str)
    assert error["error"]["type"] == ERROR_BASE + "BadRequestData"
    assert error["error"]["title"] and error["error"]["detail"]
    assert env.client.delete(entity_url("urn:ngsi-ld:Probe:good")).status_code == 204
    # its attributes, appended or updated: 400
    attrs = {k: v for k, v in entity.items() if k not in ("id", "type")}
    if attrs:
        for method in ("POST", "PATCH"):
            response = env.client.request(method, entity_url(PROBE) + "/attrs", json=attrs)
            assert_problem(response, 400, "BadRequestData")
    assert_untouched(env)


def test_bad_attribute_fragments_are_400(env: Env) -> None:
    url = entity_url(PROBE) + "/attrs/level"
    for fragment in (
        {"type": "Property", "value": None},
        {"type": "Measurement", "value": 1},
        {"value": 1, "observedAt": "noon"},
        {"type": "Relationship", "object": "not a uri"},
        {"type": "Property", "value": 1, "datasetId": "day"},
    ):
        assert_problem(env.client.patch(url, json=fragment), 400, "BadRequestData")
        assert_problem(env.client.put(url, json=fragment), 400, "BadRequestData")
    # a partial update needs a value (a bare object would be a concise Property in a replace)
    assert_problem(env.client.patch(url, json={"unitCode": "CEL"}), 400, "BadRequestData")
    assert_untouched(env)


# -- bad query parameters -------------------------------------------------------------------------------

BAD_QUERY_PARAMS: dict[str, dict[str, str]] = {
    "q a>>1": {"q": "a>>1"},
    "q a==": {"q": "a=="},
    "q unbalanced (": {"q": "(a==1"},
    "q unbalanced )": {"q": "a==1)"},
    "q single =": {"q": "a=1"},
    "q empty": {"q": ""},
    "q ;;": {"q": "a==1;;b==2"},
    "q space inside": {"q": "a == 1"},
    "q unterminated string": {"q": 'a=="open'},
    "q open range": {"q": "a==1.."},
    "q list with >": {"q": "a>1,2"},
    "q invalid date": {"q": "a==2024-13-45"},
    "q invalid regex": {"q": "a~=(b"},
    "q number out of range": {"q": "a>1e400"},
    "type empty": {"type": ""},
    "type ;;": {"type": "A;;B"},
    "type unbalanced": {"type": "(A,B"},
    "type space": {"type": "Air Quality"},
    "type trailing comma": {"type": "A,"},
    "georel unknown": {"type": "T", "georel": "nearby", "geometry": "Point", "coordinates": "[106.7,10.77]"},
    "georel near without distance": {
        "type": "T",
        "georel": "near",
        "geometry": "Point",
        "coordinates": "[106.7,10.77]",
    },
    "georel bad distance": {
        "type": "T",
        "georel": "near;maxDistance==far",
        "geometry": "Point",
        "coordinates": "[1,2]",
    },
    "geometry alone": {"type": "T", "geometry": "Point"},
    "coordinates alone": {"type": "T", "coordinates": "[106.7,10.77]"},
    "limit 5000": {"type": "T", "limit": "5000"},
    "limit negative": {"type": "T", "limit": "-1"},
    "limit not a number": {"type": "T", "limit": "ten"},
    "limit fractional": {"type": "T", "limit": "1.5"},
    "offset negative": {"type": "T", "offset": "-1"},
    "offset not a number": {"type": "T", "offset": "x"},
    "offset beyond 64 bits": {"type": "T", "offset": "99999999999999999999"},
    "count maybe": {"type": "T", "count": "maybe"},
    "idPattern invalid": {"idPattern": "(unclosed"},
    "idPattern bad escape": {"idPattern": "\\p{L}"},
    "id not a URI": {"id": "urn:ngsi-ld:Probe:1,not a uri"},
    "id with an empty item": {"id": "urn:ngsi-ld:Probe:1,,urn:ngsi-ld:Probe:2"},
    "id with a control character": {"id": "urn:ngsi-ld:Probe:1\u0001"},
    "attrs with an empty item": {"type": "T", "attrs": "a,,b"},
    "attrs bad name": {"type": "T", "attrs": "air quality"},
    "options unknown": {"type": "T", "options": "fancy"},
    "options trailing comma": {"type": "T", "options": "keyValues,"},
    "format unknown": {"type": "T", "format": "xml"},
    "no filter": {},
}


def test_bad_query_parameters_are_400(env: Env) -> None:
    failures = Failures()
    for name, params in BAD_QUERY_PARAMS.items():
        failures.check(name, env.client.get(ENTITIES, params=params), 400, "BadRequestData")
    failures.assert_none()


BAD_PURGES = [
    {"q": "a>>1"},
    {"type": "A;;B"},
    {"idPattern": "(unclosed"},
    {"q": "level>=0", "type": "("},
    {"id": PROBE},
]
BAD_RETRIEVES = [{"attrs": "a,,b"}, {"options": "fancy"}, {"format": "xml"}, {"attrs": "bad name"}]


def test_bad_purge_retrieve_and_delete_attribute_parameters_are_400(env: Env) -> None:
    failures = Failures()
    for params in BAD_PURGES:
        failures.check(f"purge {params}", env.client.delete(ENTITIES, params=params), 400, "BadRequestData")
    for params in BAD_RETRIEVES:
        failures.check(f"retrieve {params}", env.client.get(entity_url(PROBE), params=params), 400, "BadRequestData")
    response = env.client.delete(entity_url(PROBE) + "/attrs/level", params={"deleteAll": "yes"})
    failures.check("deleteAll=yes", response, 400, "BadRequestData")
    failures.assert_none()
    assert_untouched(env)


SELECT_PROBES = {"type": "Query", "entities": [{"type": "Probe"}]}
BAD_POST_QUERIES: list[tuple[dict[str, str], Any]] = [
    ({}, {"type": "Query"}),
    ({}, {"type": "Subscription", "entities": [{"type": "Probe"}]}),
    ({}, {"type": "Query", "entities": []}),
    ({}, {"type": "Query", "entities": {"type": "Probe"}}),
    ({}, {"type": "Query", "entities": ["Probe"]}),
    ({}, {"type": "Query", "entities": [{"id": "not a uri"}]}),
    ({}, {"type": "Query", "entities": [{"idPattern": "("}]}),
    ({}, {"type": "Query", "entities": [{"type": 5}]}),
    ({}, {"type": "Query", "entities": [{"type": "A;;B"}]}),
    ({}, {"type": "Query", "q": 5}),
    ({}, {"type": "Query", "q": "a>>1"}),
    ({}, {"type": "Query", "attrs": "level"}),
    ({}, {"type": "Query", "attrs": ["bad name"]}),
    ({}, {"type": "Query", "geoQ": "near"}),
    ({}, {"type": "Query", "geoQ": {"georel": "near", "geometry": "Point", "coordinates": [106.7, 10.77]}}),
    ({}, {"type": "Query", "geoQ": {"georel": 1, "geometry": "Point", "coordinates": [106.7, 10.77]}}),
    ({"limit": "5000"}, SELECT_PROBES),
    ({"offset": "-1"}, SELECT_PROBES),
    ({"offset": "99999999999999999999"}, SELECT_PROBES),
    ({"count": "maybe"}, SELECT_PROBES),
    ({"options": "fancy"}, SELECT_PROBES),
]


def test_bad_post_query_is_400(env: Env) -> None:
    failures = Failures()
    for params, body in BAD_POST_QUERIES:
        response = env.client.post(f"{OPS}/query", params=params, json=body)
        failures.check(f"{params} {body}", response, 400, "BadRequestData")
    failures.assert_none()


# -- not found, conflicts --------------------------------------------------------------------------------


def test_not_found_and_conflict_envelopes(env: Env) -> None:
    missing = entity_url("urn:ngsi-ld:Probe:missing")
    assert_problem(env.client.get(missing), 404, "ResourceNotFound")
    assert_problem(env.client.delete(missing), 404, "ResourceNotFound")
    assert_problem(env.client.patch(missing + "/attrs/level", json={"value": 1}), 404, "ResourceNotFound")
    assert_problem(env.client.post(ENTITIES, json={"id": PROBE, "type": "Probe"}), 409, "AlreadyExists")
    assert_problem(env.client.get(f"{BASE}/types/Nothing"), 404, "ResourceNotFound")
    assert_problem(env.client.get(f"{BASE}/attributes/nothing"), 404, "ResourceNotFound")
    assert_untouched(env)


# -- inputs that reach the database must never crash it ------------------------------------------------------

ODD_QUERIES: list[dict[str, str]] = [
    {"idPattern": "[[:alpha:]]"},
    {"idPattern": "(?<=urn:)ngsi"},
    {"q": "level~=(?i)^0$"},
    {"q": "level==0..9"},
    {"q": 'level=="0"'},
    {"q": "level[deep][deeper]==1"},
    {"q": "level.sub.subsub==1"},
    {"q": "level.observedAt>=2024-01-01T00:00:00Z"},
    {"q": "level==-0"},
    {"q": "level<9223372036854775807"},
    {"q": "level>1.7976931348623157e308"},
    {"q": 'level=="' + "x" * 3000 + '"'},
    {"type": "T", "georel": "near;maxDistance==1e308", "geometry": "Point", "coordinates": "[106.7,10.77]"},
    {"type": "T", "georel": "near;minDistance==0", "geometry": "Point", "coordinates": "[-180,-90]"},
    {"type": "T", "georel": "within", "geometry": "MultiPolygon", "coordinates": "[[[[0,0],[1,0],[1,1],[0,0]]]]"},
    {"type": "T", "offset": "9223372036854775807"},
    {"type": "T" * 1000},
]


def test_odd_but_valid_queries_do_not_crash(env: Env) -> None:
    failures = Failures()
    for params in ODD_QUERIES:
        response = env.client.get(ENTITIES, params=params)
        if response.status_code == 200:
            if not isinstance(response.json(), list):
                failures.found.append(f"{params}: {response.text[:200]}")
        else:
            failures.check(str(params)[:80], response, 400, "BadRequestData")
    failures.assert_none()


def test_engine_specific_patterns_are_refused_alike_on_every_backend(env: Env) -> None:
    """Patterns only one engine reads (Python's re on SQLite, AREs on PostgreSQL) get the same 400 on both."""
    assert env.client.post(entity_url(PROBE) + "/attrs", json={"name": prop("urn-like")}).status_code == 204
    failures = Failures()
    for pattern in ("(?P<n>urn)", "u++rn", "(?i:URN)", "(?s:u.)", "(?>urn)", "\\burn"):
        for params in ({"idPattern": pattern}, {"q": f"name~={pattern}"}):
            failures.check(str(params), env.client.get(ENTITIES, params=params), 400, "BadRequestData")
    failures.assert_none()


def test_portable_patterns_match_alike_on_every_backend(env: Env) -> None:
    assert env.client.post(entity_url(PROBE) + "/attrs", json={"name": prop("urn-like")}).status_code == 204
    for pattern in ("(?i)^URN", "u(?=rn)", "^urn[-:](?:like|ngsi)", "[a-u]{3}[-:]"):
        for params in ({"idPattern": pattern}, {"q": f"name~={pattern}"}):
            response = env.client.get(ENTITIES, params=params)
            assert response.status_code == 200, response.text
            assert [e["id"] for e in response.json()] == [PROBE], params


def test_nul_character_in_values_is_stored_or_refused_cleanly(env: Env) -> None:
    entity = {"id": "urn:ngsi-ld:Probe:nul", "type": "Probe", "s": prop("a\u0000b")}
    response = env.client.post(ENTITIES, json=entity)
    if response.status_code == 201:
        assert fetch(env.client, "urn:ngsi-ld:Probe:nul")["s"] == prop("a\u0000b")
    else:
        assert_problem(response, 400, "BadRequestData")
    found = env.client.get(ENTITIES, params={"q": 's=="a\u0000b"'})
    if found.status_code == 200:
        assert [e["id"] for e in found.json()] == (["urn:ngsi-ld:Probe:nul"] if response.status_code == 201 else [])
    else:
        assert_problem(found, 400, "BadRequestData")


def test_huge_integers_in_q_do_not_crash(env: Env) -> None:
    cases = {
        "level<99999999999999999999": [PROBE],
        "level==0..99999999999999999999": [PROBE],
        "level>-99999999999999999999": [PROBE],
        "level[x]>99999999999999999999": [],
    }
    failures: list[str] = []
    for q, expected in cases.items():
        response = env.client.get(ENTITIES, params={"q": q})
        if response.status_code != 200 or [e["id"] for e in response.json()] != expected:
            failures.append(f"{q}: {response.status_code} {response.text[:120]}")
    assert not failures, "\n".join(failures)
