"""Apps in production mode (every hub call needs a credential) and credentials of each role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import Store
from smartcity.security.credentials import Credentials
from smartcity.security.passwords import Passwords
from smartcity.security.roles import Role
from smartcity.security.runtime import SecurityRuntime
from smartcity.settings import Settings

CTX = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
PASSWORD = "correct horse battery"


def production(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite:///unused.db",
        "auth": "required",
        "rate_limit": 0.0,
        "rate_limit_address": 0.0,
    }
    values.update(overrides)
    return Settings(**values)


def security_of(app: FastAPI) -> SecurityRuntime:
    runtime: SecurityRuntime = app.state.security
    return runtime


@contextmanager
def running(store: Store, settings: Settings | None = None) -> Iterator[TestClient]:
    """The platform on ``store`` with a cheap password hasher (tests only)."""
    settings = settings or production()
    app = create_app(settings, store=store)
    security_of(app).credentials = Credentials.from_settings(store, settings, passwords=Passwords.fast())
    with TestClient(app) as client:
        yield client


def api_key(client: TestClient, role: Role | str, *, tenants: tuple[str, ...] | None = ("",), **kw: Any) -> str:
    """A fresh API key of ``role``: the headers value of ``X-API-Key``."""
    creds = security_of(client.app).credentials  # type: ignore[arg-type]
    name = f"{role}-{len(creds.list_api_keys())}"
    if Role(role) is Role.DEPARTMENT_OFFICER:
        kw.setdefault("department", "transport")
    _, key = creds.create_api_key(name, role, tenants=tenants, **kw)
    return key


def as_key(key: str, **headers: str) -> dict[str, str]:
    return {"X-API-Key": key, **headers}


def flush(client: TestClient) -> None:
    security_of(client.app).log.flush()  # type: ignore[arg-type]


def entity(eid: str, value: float = 21.5) -> dict[str, Any]:
    return {"id": eid, "type": "Thing", "temperature": {"type": "Property", "value": value}}
