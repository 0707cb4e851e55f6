"""Hub tenants are a hard boundary: another tenant's data answers exactly like a tenant that does not exist."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from smartcity.security.roles import Role
from tests.security.support import api_key, as_key, entity, running

E_A = "urn:ngsi-ld:Thing:alpha-1"
S_A = "urn:ngsi-ld:Subscription:alpha-1"
JSON = {"Content-Type": "application/json"}
V1 = "/ngsi-ld/v1"


def subscription(sid: str) -> dict[str, Any]:
    return {
        "id": sid,
        "type": "Subscription",
        "entities": [{"type": "Thing"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}},
    }


QUERY = {"type": "Query", "entities": [{"type": "Thing"}]}
CHANGE = {"temperature": 99}
AFTER_2000 = {"type": "Thing", "timerel": "after", "timeAt": "2000-01-01T00:00:00Z"}
INSTANCES = {
    "temperature": [{"type": "Property", "value": 5, "observedAt": "2026-01-01T00:00:00Z"}],
}
E = f"{V1}/entities/{E_A}"
S = f"{V1}/subscriptions/{S_A}"
T = f"{V1}/temporal/entities"
Call = Callable[[TestClient, dict[str, str]], httpx.Response]

#: every hub operation, as (name, call(client, headers)) aimed at tenant alpha's data
OPERATIONS: list[tuple[str, Call]] = [
    ("create", lambda c, h: c.post(f"{V1}/entities", json=entity("urn:ngsi-ld:Thing:intruder"), headers=h)),
    ("read", lambda c, h: c.get(E, headers=h)),
    ("query", lambda c, h: c.get(f"{V1}/entities", params={"type": "Thing"}, headers=h)),
    ("query by id", lambda c, h: c.get(f"{V1}/entities", params={"id": E_A}, headers=h)),
    ("types", lambda c, h: c.get(f"{V1}/types", headers=h)),
    ("attributes", lambda c, h: c.get(f"{V1}/attributes", headers=h)),
    ("batch create", lambda c, h: c.post(f"{V1}/entityOperations/create", json=[entity(E_A)], headers=h)),
    ("batch upsert", lambda c, h: c.post(f"{V1}/entityOperations/upsert", json=[entity(E_A, 99)], headers=h)),
    ("batch update", lambda c, h: c.post(f"{V1}/entityOperations/update", json=[entity(E_A, 99)], headers=h)),
    ("batch delete", lambda c, h: c.post(f"{V1}/entityOperations/delete", json=[E_A], headers=h)),
    ("batch query", lambda c, h: c.post(f"{V1}/entityOperations/query", json=QUERY, headers=h)),
    ("update attrs", lambda c, h: c.patch(f"{E}/attrs", json=CHANGE, headers=h)),
    ("append attrs", lambda c, h: c.post(f"{E}/attrs", json={"humidity": 1}, headers=h)),
    ("merge", lambda c, h: c.patch(E, json=CHANGE, headers=h)),
    ("replace", lambda c, h: c.put(E, json=CHANGE, headers=h)),
    ("delete attr", lambda c, h: c.delete(f"{E}/attrs/temperature", headers=h)),
    ("delete", lambda c, h: c.delete(E, headers=h)),
    (
        "subscribe",
        lambda c, h: c.post(f"{V1}/subscriptions", json=subscription("urn:ngsi-ld:Subscription:x"), headers=h),
    ),
    ("list subscriptions", lambda c, h: c.get(f"{V1}/subscriptions", headers=h)),
    ("read subscription", lambda c, h: c.get(S, headers=h)),
    ("change subscription", lambda c, h: c.patch(S, json={"isActive": False}, headers=h)),
    ("delete subscription", lambda c, h: c.delete(S, headers=h)),
    ("temporal query", lambda c, h: c.get(T, params=AFTER_2000, headers=h)),
    ("temporal read", lambda c, h: c.get(f"{T}/{E_A}", headers=h)),
    ("temporal write", lambda c, h: c.post(f"{T}/{E_A}/attrs", json=INSTANCES, headers=h)),
    ("temporal delete", lambda c, h: c.delete(f"{T}/{E_A}", headers=h)),
]


@pytest.fixture
def two_tenants(store: Store) -> Iterator[tuple[TestClient, str, str, str]]:
    with running(store) as client:
        alpha = api_key(client, Role.DATA_PUBLISHER, tenants=("alpha",))
        beta = api_key(client, Role.DATA_PUBLISHER, tenants=("beta",))
        curator = api_key(client, Role.ADMINISTRATOR)
        h = as_key(alpha, **{"NGSILD-Tenant": "alpha"})
        assert client.post(f"{V1}/entities", json=entity(E_A), headers=h).status_code == 201
        assert client.post(f"{V1}/subscriptions", json=subscription(S_A), headers=h).status_code == 201
        hb = as_key(beta, **{"NGSILD-Tenant": "beta"})
        assert client.post(f"{V1}/entities", json=entity("urn:ngsi-ld:Thing:beta-1"), headers=hb).status_code == 201
        yield client, alpha, beta, curator


def _same_as_missing(missing: httpx.Response, foreign: httpx.Response, tenant: str) -> None:
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["type"] == missing.json()["type"]
    assert foreign.json()["type"].endswith("NonexistentTenant")
    assert foreign.json()["detail"].replace("alpha", tenant) == missing.json()["detail"].replace("gamma", tenant)


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=[name for name, _ in OPERATIONS])
def test_a_foreign_tenant_answers_like_a_missing_one(
    two_tenants: tuple[TestClient, str, str, str],
    name: str,
    operation: Callable[[TestClient, dict[str, str]], httpx.Response],
) -> None:
    client, alpha, beta, curator = two_tenants
    foreign = operation(client, as_key(beta, **{"NGSILD-Tenant": "alpha"}))
    assert foreign.status_code == 404 and foreign.json()["type"].endswith("NonexistentTenant")
    # an administrator, who may see every tenant, gets the same answer from a tenant that really is missing
    missing = operation(client, as_key(curator, **{"NGSILD-Tenant": "gamma"}))
    if missing.status_code == 404:
        _same_as_missing(missing, foreign, "T")
    assert E_A not in foreign.text
    # nothing of alpha's changed
    h = as_key(alpha, **{"NGSILD-Tenant": "alpha"})
    kept = client.get(f"{V1}/entities/{E_A}", headers=h)
    assert kept.status_code == 200 and kept.json()["temperature"]["value"] == 21.5
    assert client.get(f"{V1}/subscriptions/{S_A}", headers=h).json()["isActive"] is True
    assert client.get(f"{V1}/entities", params={"id": "urn:ngsi-ld:Thing:intruder"}, headers=h).json() == []


def test_within_its_own_tenant_a_caller_never_sees_another_tenants_entity(
    two_tenants: tuple[TestClient, str, str, str],
) -> None:
    client, _, beta, _ = two_tenants
    hb = as_key(beta, **{"NGSILD-Tenant": "beta"})
    assert client.get(f"{V1}/entities/{E_A}", headers=hb).status_code == 404
    assert [e["id"] for e in client.get(f"{V1}/entities", params={"type": "Thing"}, headers=hb).json()] == [
        "urn:ngsi-ld:Thing:beta-1"
    ]
    assert client.get(f"{V1}/subscriptions/{S_A}", headers=hb).status_code == 404
    assert client.get(f"{V1}/temporal/entities/{E_A}", headers=hb).status_code == 404


def test_a_caller_without_the_default_tenant_cannot_use_it(two_tenants: tuple[TestClient, str, str, str]) -> None:
    client, alpha, _, curator = two_tenants
    assert client.get(f"{V1}/entities", params={"type": "Thing"}, headers=as_key(alpha)).status_code == 404
    # an administrator sees every tenant
    h = as_key(curator, **{"NGSILD-Tenant": "alpha"})
    assert client.get(f"{V1}/entities/{E_A}", headers=h).status_code == 200


def test_foreign_tenant_attempts_are_security_events(two_tenants: tuple[TestClient, str, str, str]) -> None:
    client, _, beta, curator = two_tenants
    client.get(f"{V1}/entities/{E_A}", headers=as_key(beta, **{"NGSILD-Tenant": "alpha"}))
    from tests.security.support import flush

    flush(client)
    events = client.get("/security/events", params={"kind": "tenant.denied"}, headers=as_key(curator)).json()
    assert len(events) == 1 and events[0]["details"]["tenant"] == "alpha"
