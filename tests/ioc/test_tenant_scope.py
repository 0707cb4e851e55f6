"""The operations centre watches one hub tenant: a credential bound to other tenants sees none of it, whatever
its role (alerts, incidents, rules, the live map, KPIs and the event stream)."""

from __future__ import annotations

import pytest

from smartcity.hub.store import Store
from tests.security.support import api_key, as_key, running

OPERATOR_ROUTES = [
    "/ioc/alerts",
    "/ioc/incidents",
    "/ioc/rules",
    "/ioc/map/wards",
    "/ioc/map/layers",
    "/ioc/kpis",
    "/ioc/stream",
]


@pytest.mark.parametrize("path", OPERATOR_ROUTES)
def test_a_credential_of_another_tenant_is_refused(store: Store, path: str) -> None:
    with running(store) as client:
        inside = as_key(api_key(client, "ioc_operator"))  # the default tenant, which the IOC watches
        elsewhere = as_key(api_key(client, "ioc_operator", tenants=("district7",)))
        everywhere = as_key(api_key(client, "ioc_operator", tenants=None))
        assert client.get(path, headers=inside).status_code == 200
        assert client.get(path, headers=everywhere).status_code == 200
        refused = client.get(path, headers=elsewhere)
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["title"] and "tenant" in body["detail"]
