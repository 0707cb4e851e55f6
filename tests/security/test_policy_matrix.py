"""The role x route authorization matrix, generated from the policy table and the app's own routes."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import Store, open_store
from smartcity.security.policy import POLICY, Rule
from smartcity.security.roles import ASSIGNABLE, Role
from smartcity.web.routes import RouteInfo, iter_routes
from tests.security.support import api_key, as_key, production, running

#: a value for each path parameter the platform's routes use
PARAMS = {
    "entityId": "urn:ngsi-ld:Thing:matrix",
    "attrId": "temperature",
    "typeName": "Thing",
    "contextId": "no-such-context",
    "subscriptionId": "urn:ngsi-ld:Subscription:none",
    "username": "nobody",
    "key_id": "nokey",
    "client_id": "noclient",
    "deviceId": "no-such-device",
    "asset": "js/main.js",
    "alertId": "no-such-alert",
    "silenceId": "no-such-silence",
    "policyId": "no-such-policy",
    "channelId": "no-such-channel",
    "incidentId": "no-such-incident",
    "itemId": "no-such-item",
    "rule_id": "flood-level",
}
#: the Open311 routes' path parameters (GeoReport v2, suffixed routes in JSON)
PARAMS.update(
    {"service_code": "no-such-service", "service_request_id": "0", "token": "no-such-token", "format": "json"}
)
PARAMS["media_name"] = "0" * 64 + ".jpg"
#: the public site's pages (unknown names: their 404 pages)
PARAMS.update({"dataset_name": "no-such-dataset", "organization_name": "no-such-org", "group_name": "no-such-group"})
#: the CKAN Action API's fallback route for unknown action names
PARAMS["action_name"] = "no_such_action"
PARAMS["resource_id"] = "no-such-resource"  # /datastore/dump/{resource_id}
#: the DCAT-AP routes: /dataset/{dataset_id}(.{format})
PARAMS["dataset_id"] = "no-such-dataset"
PARAMS["publication_id"] = "no-such-publication"  # /opendata/publications/{publication_id}/run
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CKAN = "/api/"  # the CKAN Action API: CKAN's envelope, and 403 (never 401) for a missing credential


def _anonymous_refusal(path: str) -> int:
    return 403 if path.startswith(CKAN) else 401


def _routes() -> list[tuple[RouteInfo, str, Rule]]:
    store = open_store("sqlite:///:memory:")
    try:
        app = create_app(production(), store=store)
        found = []
        for route in iter_routes(app):
            rule = POLICY.get(route.name)
            assert rule is not None, f"route {route.name} ({route.path}) has no policy entry"
            for method in sorted(route.methods - {"HEAD"}):
                found.append((route, method, rule))
        return found
    finally:
        store.close()


ROUTES = _routes()


def test_every_route_has_exactly_one_policy_entry_and_no_entry_is_stale() -> None:
    names = [route.name for route, _, _ in ROUTES]
    assert set(names) <= set(POLICY), "routes without a policy entry"
    assert set(POLICY) <= set(names), f"policy entries without a route: {set(POLICY) - set(names)}"
    # route names are unique per path: the policy cannot confuse two routes
    paths: dict[str, set[str]] = {}
    for route, _, _ in ROUTES:
        paths.setdefault(route.name, set()).add(route.path)
    assert all(len(p) == 1 for p in paths.values()), paths


def _path(template: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":", 1)[0]
        return PARAMS[name]

    return re.sub(r"\{([^}]+)\}", fill, template)


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    """Send the route a minimal request; whatever the answer, it is never a 500 and errors have the envelope."""
    if method in UNSAFE and method != "DELETE":
        response = client.request(method, path, headers={**headers, "Content-Type": "application/json"}, content=b"{}")
    else:
        response = client.request(method, path, headers=headers)
    assert response.status_code < 500, f"{method} {path}: {response.status_code} {response.text}"
    if response.status_code >= 400 and path.startswith("/data/"):  # the public site's error pages are HTML
        assert response.headers["content-type"].startswith("text/html"), f"{method} {path}"
    elif response.status_code >= 400:
        body = response.json()
        if path == "/auth/token":  # RFC 6749 section 5.2 has its own error format
            assert {"error", "error_description"} <= set(body)
        elif path.startswith("/open311/"):  # GeoReport v2 errors: [{"code", "description"}]
            assert isinstance(body, list) and {"code", "description"} <= set(body[0]), f"{method} {path}: {body}"
        elif path.startswith((CKAN, "/datastore/")):
            # CKAN: an envelope with error.__type, or the bare string of a bad request
            if isinstance(body, str):
                assert body.startswith("Bad request - "), f"{method} {path}: {body}"
            else:
                assert body["success"] is False and "__type" in body["error"] and "help" in body, f"{method} {path}"
        else:
            assert {"type", "title", "detail"} <= set(body), f"{method} {path}: {body}"
    return response.status_code


@pytest.fixture(scope="module")
def matrix_client(tmp_path_factory: pytest.TempPathFactory) -> object:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('matrix')}/m.db")
    with running(store) as client:
        keys = {role: api_key(client, role) for role in sorted(ASSIGNABLE)}
        yield client, keys
    store.close()


@pytest.mark.parametrize(("route", "method", "rule"), ROUTES, ids=[f"{m} {r.path}" for r, m, _ in ROUTES])
def test_each_role_gets_exactly_what_the_policy_table_says(
    matrix_client: tuple[TestClient, dict[Role, str]], route: RouteInfo, method: str, rule: Rule
) -> None:
    client, keys = matrix_client
    path = _path(route.path)
    for role, key in keys.items():
        status = _call(client, method, path, as_key(key))
        if rule.public or role in rule.roles:
            assert status not in (401, 403), f"{role} refused {method} {path} ({status})"
        else:
            assert status == 403, f"{role} not refused {method} {path} ({status})"
    anonymous = _call(client, method, path, {})
    if rule.public:
        assert anonymous not in (401, 403), f"anonymous refused public {method} {path}"
    else:
        assert anonymous == _anonymous_refusal(path), f"anonymous got {anonymous} for {method} {path}"


def test_the_open_hub_lets_anonymous_callers_use_hub_routes_only(store: Store) -> None:
    with running(store, production(auth="open")) as client:
        for route, method, rule in ROUTES:
            status = _call(client, method, _path(route.path), {})
            if rule.public or rule.hub:
                assert status not in (401, 403), f"{method} {route.path}: {status}"
            else:
                assert status == _anonymous_refusal(route.path), f"{method} {route.path}: {status}"
