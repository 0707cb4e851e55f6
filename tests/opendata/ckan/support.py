"""Calling the Action API in tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

Response = Any  # the test client's response (its httpx flavour differs between versions)


def action(client: TestClient, name: str, data: dict[str, Any] | None = None, *, key: str | None = None) -> Response:
    """POST a JSON body, as ckanapi does, with the API key in ``Authorization`` (CKAN's bare form)."""
    headers = {"Authorization": key} if key else {}
    return client.post(f"/api/3/action/{name}", json=data or {}, headers=headers)


def result(response: Response) -> Any:
    body = response.json()
    assert response.status_code == 200, body
    assert body["success"] is True and body["help"].endswith(f"/api/3/action/help_show?name={_name(response)}")
    return body["result"]


def error(response: Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and "result" not in body
    assert body["error"]["__type"] == kind
    assert body["help"].startswith("http://testserver/api/3/action/help_show?name=")
    found: dict[str, Any] = body["error"]
    return found


def _name(response: Response) -> str:
    path: str = response.request.url.path
    return path.rstrip("/").rsplit("/", 1)[-1]
