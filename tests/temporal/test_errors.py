"""Bad temporal queries are answered with NGSI-LD problem details, never a 500."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.api.support import assert_problem, tenant
from tests.temporal.support import TEMPORAL, instances, iso, load, temporal_url

S1 = "urn:ngsi-ld:Sensor:1"


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"timerel": "during", "timeAt": iso(0)}, "timerel"),
        ({"timerel": "before"}, "timeAt"),
        ({"timerel": "between", "timeAt": iso(0)}, "endTimeAt"),
        ({"timerel": "between", "timeAt": iso(10), "endTimeAt": iso(0)}, "later"),
        ({"timerel": "after", "timeAt": "2025-01-01"}, "timeAt"),
        ({"timerel": "after", "timeAt": "2025-01-01T00:00:00"}, "timezone"),
        ({"timerel": "after", "timeAt": iso(0), "endTimeAt": iso(5)}, "between"),
        ({"timeAt": iso(0)}, "timerel"),
        ({"timeproperty": "deletedAt"}, "timeproperty"),
        ({"lastN": "0"}, "lastN"),
        ({"lastN": "many"}, "lastN"),
        ({"options": "everything"}, "everything"),
        ({"format": "binary"}, "binary"),
        ({"attrs": "a b"}, "attribute"),
    ],
)
def test_bad_parameters(client: TestClient, params: dict[str, str], detail: str) -> None:
    load(client, S1, {"level": instances([1])})
    body = assert_problem(client.get(temporal_url(S1), params=params), 400, "BadRequestData")
    assert detail in body["detail"]
    body = assert_problem(client.get(TEMPORAL, params={"type": "Sensor", **params}), 400, "BadRequestData")
    assert detail in body["detail"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"timerel": "after", "timeAt": iso(0)},
        {"type": "(Sensor"},
        {"type": "Sensor", "q": "level>>1"},
        {"type": "Sensor", "idPattern": "(unclosed"},
        {"type": "Sensor", "georel": "near;maxDistance==10"},
        {"type": "Sensor", "limit": "5000"},
        {"type": "Sensor", "count": "yes"},
        {"id": "not a uri"},
    ],
)
def test_bad_entity_selection(client: TestClient, params: dict[str, str]) -> None:
    assert_problem(client.get(TEMPORAL, params=params), 400, "BadRequestData")


def test_unknown_entity_and_tenant(client: TestClient) -> None:
    assert_problem(client.get(temporal_url("urn:ngsi-ld:Sensor:404")), 404, "ResourceNotFound")
    assert_problem(client.get(temporal_url("not-a-uri")), 400, "BadRequestData")
    assert_problem(client.get(TEMPORAL, params={"type": "Sensor"}, headers=tenant("ghost")), 404, "NonexistentTenant")
    response = client.delete(temporal_url(S1), headers=tenant("ghost"))
    assert_problem(response, 404, "NonexistentTenant")


def test_wrong_media_types(client: TestClient) -> None:
    response = client.post(TEMPORAL, content=b"{}", headers={"Content-Type": "text/plain"})
    assert_problem(response, 415)
    assert_problem(client.get(temporal_url(S1), headers={"Accept": "text/csv"}), 406)
