"""Helpers shared by the API tests: paths, entity builders and the NGSI-LD problem-details check."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol

from starlette.testclient import TestClient

BASE = "/ngsi-ld/v1"
ENTITIES = f"{BASE}/entities"
OPS = f"{BASE}/entityOperations"
CONTEXTS = f"{BASE}/jsonldContexts"
ERROR_BASE = "https://uri.etsi.org/ngsi-ld/errors/"
CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
JSONLD = "application/ld+json"
GEOJSON = "application/geo+json"

SYSTEM_MEMBERS = frozenset({"createdAt", "modifiedAt"})


class Response(Protocol):
    """What the tests read from a TestClient response (httpx or httpx2, whichever Starlette uses)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Any: ...

    @property
    def content(self) -> bytes: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


def link(url: str) -> dict[str, str]:
    """The JSON-LD ``Link`` header that names ``url`` as the request's @context."""
    return {"Link": f'<{url}>; rel="{CONTEXT_REL}"; type="{JSONLD}"'}


def tenant(name: str) -> dict[str, str]:
    return {"NGSILD-Tenant": name}


def entity_url(entity_id: str) -> str:
    return f"{ENTITIES}/{entity_id}"


def media(response: Response) -> str:
    return str(response.headers.get("content-type", "")).split(";", 1)[0].strip()


def assert_problem(response: Response, status: int, error: str | None = None) -> dict[str, Any]:
    """An NGSI-LD error: the status, application/json, and a problem-details body with an NGSI-LD type."""
    assert response.status_code == status, (response.status_code, response.text)
    assert media(response) == "application/json", response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("type"), str) and body["type"].startswith(ERROR_BASE), body
    assert isinstance(body.get("title"), str) and body["title"], body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    if error is not None:
        assert body["type"] == ERROR_BASE + error, body
    return body


def create(client: TestClient, entity: dict[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    response: Response = client.post(ENTITIES, json=entity, headers=headers)
    assert response.status_code == 201, response.text
    return response


def create_all(client: TestClient, entities: list[dict[str, Any]], headers: Mapping[str, str] | None = None) -> None:
    response = client.post(f"{OPS}/create", json=entities, headers=headers)
    assert response.status_code == 201, response.text
    assert sorted(response.json()) == sorted(e["id"] for e in entities)


def fetch(client: TestClient, entity_id: str, **params: str) -> dict[str, Any]:
    response = client.get(entity_url(entity_id), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def query(client: TestClient, headers: Mapping[str, str] | None = None, /, **params: str) -> list[dict[str, Any]]:
    response = client.get(ENTITIES, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    assert isinstance(body, list)
    return body


def query_ids(client: TestClient, headers: Mapping[str, str] | None = None, /, **params: str) -> list[str]:
    return sorted(e["id"] for e in query(client, headers, **params))


def without_system(value: Any) -> Any:
    """A response fragment with the system-generated createdAt/modifiedAt removed at every level."""
    if isinstance(value, dict):
        return {k: without_system(v) for k, v in value.items() if k not in SYSTEM_MEMBERS}
    if isinstance(value, list):
        return [without_system(v) for v in value]
    return value


def prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def rel(target: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Relationship", "object": target, **extra}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance on the mean-radius sphere (an independent check of the broker's near)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def parse_links(header: str) -> dict[str, str]:
    """rel -> URL of a ``Link`` header (only links with a rel)."""
    out: dict[str, str] = {}
    for part in header.split(","):
        if ";" not in part:
            continue
        url_part, *params = part.split(";")
        url = url_part.strip().lstrip("<").rstrip(">")
        for param in params:
            key, _, val = param.strip().partition("=")
            if key == "rel":
                out[val.strip('"')] = url
    return out
