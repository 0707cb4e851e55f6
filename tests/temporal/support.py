"""Helpers of the temporal API tests: paths, times and loading series through POST /temporal/entities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from tests.api.support import ENTITIES, Response

TEMPORAL = "/ngsi-ld/v1/temporal/entities"
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)


def iso(minutes: float) -> str:
    """BASE_TIME plus ``minutes``, as NGSI-LD writes times."""
    return (BASE_TIME + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def temporal_url(entity_id: str) -> str:
    return f"{TEMPORAL}/{entity_id}"


def entity_url(entity_id: str) -> str:
    return f"{ENTITIES}/{entity_id}"


def instances(values: Sequence[Any], *, step: float = 60, start: float = 0, **extra: Any) -> list[dict[str, Any]]:
    """Property instances with observedAt every ``step`` minutes from BASE_TIME + ``start``."""
    return [
        {"type": "Property", "value": v, "observedAt": iso(start + i * step), **extra} for i, v in enumerate(values)
    ]


def load(
    client: TestClient,
    entity_id: str,
    attrs: Mapping[str, Any],
    type_: str = "Sensor",
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"id": entity_id, "type": type_, **attrs}
    response: Response = client.post(TEMPORAL, json=body, headers=headers)
    assert response.status_code in (201, 204), response.text
    return response


def get_temporal(client: TestClient, entity_id: str, status: int = 200, **params: str) -> dict[str, Any]:
    response = client.get(temporal_url(entity_id), params=params)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def query_temporal(client: TestClient, status: int = 200, **params: str) -> list[dict[str, Any]]:
    response = client.get(TEMPORAL, params=params)
    assert response.status_code == status, response.text
    body: list[dict[str, Any]] = response.json()
    assert isinstance(body, list)
    return body


def values_of(attribute: Any) -> list[Any]:
    """The values of a normalized temporal attribute (an array of instances), in time order."""
    return [i.get("value", i.get("object")) for i in attribute]
