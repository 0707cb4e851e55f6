"""The platform shell: settings, the command line, the app factory, migrations, the identity hook, OpenAPI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from smartcity import cli
from smartcity.app import create_app
from smartcity.hub.store import open_store
from smartcity.security.gate import Gate
from smartcity.security.principal import Principal
from smartcity.security.runtime import principal_of
from smartcity.settings import Settings, SettingsError
from smartcity.web.routes import iter_routes
from tests.open_hub import open_settings


def test_settings_come_from_env_then_flags() -> None:
    env = {"SMARTCITY_PORT": "9000", "SMARTCITY_DATABASE_URL": "sqlite:///x.db", "SMARTCITY_LOG_LEVEL": "debug"}
    settings = Settings.from_env(env)
    assert (settings.port, settings.database_url, settings.log_level) == (9000, "sqlite:///x.db", "DEBUG")
    assert Settings.from_env(env, port=9100, host=None).port == 9100


@pytest.mark.parametrize(
    "env",
    [
        {"SMARTCITY_PORT": "eighty"},
        {"SMARTCITY_PORT": "70000"},
        {"SMARTCITY_DATABASE_URL": "mysql://localhost/db"},
        {"SMARTCITY_CONTEXT_TIMEOUT": "5"},
        {"SMARTCITY_WORKERS": "2"},  # SQLite (the default) is one process
        {"SMARTCITY_WORKERS": "0", "SMARTCITY_DATABASE_URL": "postgresql://postgres@127.0.0.1/x"},
        {"SMARTCITY_HISTORY_ROLLUP": "P1M"},  # roll-ups need a fixed length
        {"SMARTCITY_HISTORY_ROLLUP": "hourly"},
        {"SMARTCITY_HISTORY_RAW_DAYS": "-1"},
        {"SMARTCITY_NOTIFY_TIMEOUT": "0"},
    ],
)
def test_bad_settings_stop_start_up_with_a_message(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_settings_round_trip_through_the_environment_for_workers() -> None:
    settings = Settings.from_env(
        {"SMARTCITY_DATABASE_URL": "postgresql://postgres@127.0.0.1/x", "SMARTCITY_WORKERS": "3"}
    )
    assert Settings.from_env(settings.to_env()) == settings


def test_cli_hides_database_passwords() -> None:
    assert cli._safe_url("postgresql://city:s3cret@db:5432/hub") == "postgresql://city:***@db:5432/hub"
    assert cli._safe_url("sqlite:///./var/smartcity.db") == "sqlite:///./var/smartcity.db"


def test_cli_rejects_a_bad_database_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--database", "oracle://db"]) == 2
    assert "unsupported database URL" in capsys.readouterr().err


def test_cli_serve_starts_uvicorn_with_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    def fake_run(app: object, **kwargs: object) -> None:
        seen.update(kwargs)

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", fake_run)
    assert cli.main(["serve", "--port", "8181", "--database", f"sqlite:///{tmp_path}/s.db"]) == 0
    assert seen["port"] == 8181 and seen["host"] == "127.0.0.1"
    assert (tmp_path / "s.db").exists()


def test_migrations_are_versioned_and_idempotent(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/m.db")
    try:
        assert store.migrate() == []
        with store.transaction(write=False) as db:
            versions = [r[0] for r in db.run("SELECT version FROM schema_migrations").fetchall()]
        folder = Path(__file__).parents[2] / "src/smartcity/hub/store/migrations/sqlite"
        expected = sorted(int(f.name.split("_", 1)[0]) for f in folder.glob("*.sql"))
        assert versions == expected and len(expected) >= 5
        pg_folder = folder.parent / "postgres"
        assert sorted(f.name for f in pg_folder.glob("*.sql")) == sorted(f.name for f in folder.glob("*.sql"))
    finally:
        store.close()


def test_every_request_passes_the_gate(tmp_path: Path) -> None:
    app = create_app(open_settings(database_url=f"sqlite:///{tmp_path}/i.db"))
    assert any(m.cls is Gate for m in app.user_middleware)
    seen: list[Principal] = []

    @app.get("/_whoami", name="who_am_i")
    async def whoami(request: Request) -> dict[str, str]:
        seen.append(principal_of(request))
        return {"subject": principal_of(request).subject}

    with TestClient(app) as client:
        assert client.get("/_whoami").json() == {"subject": "anonymous"}
        assert client.get("/ngsi-ld/v1/types").status_code == 200
    assert seen and seen[0].is_anonymous


def test_a_route_outside_the_policy_table_is_refused(tmp_path: Path) -> None:
    app = create_app(open_settings(database_url=f"sqlite:///{tmp_path}/p.db"))

    @app.get("/_unlisted")
    async def unlisted() -> dict[str, str]:
        return {"secret": "data"}

    with TestClient(app) as client:
        response = client.get("/_unlisted")
    assert response.status_code == 403
    assert "secret" not in response.text and response.json()["type"].endswith("/Forbidden")


def test_openapi_documents_every_route(tmp_path: Path) -> None:
    app = create_app(open_settings(database_url=f"sqlite:///{tmp_path}/o.db"))
    with TestClient(app) as client:
        assert client.get("/docs").status_code == 200
        spec = client.get("/openapi.json").json()
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    routes = [r for r in iter_routes(app) if r.documented]
    assert len(routes) > 50
    for route in routes:
        for method in route.methods:
            assert (route.path, method) in documented


def test_health_names_the_backend(tmp_path: Path) -> None:
    with TestClient(create_app(open_settings(database_url=f"sqlite:///{tmp_path}/h.db"))) as client:
        assert client.get("/health").json()["database"] == "sqlite"


def test_every_setting_is_documented_in_the_readme() -> None:
    import dataclasses

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for field in dataclasses.fields(Settings):
        variable = "SMARTCITY_" + field.name.upper()
        if field.name == "database_url":
            variable = "SMARTCITY_DATABASE_URL"
        assert variable in readme, f"{variable} is not documented in README.md"


@pytest.mark.postgres
def test_cli_serves_several_workers_on_postgresql(monkeypatch: pytest.MonkeyPatch, pg_url: str) -> None:
    seen: dict[str, object] = {}

    def fake_run(app: object, **kwargs: object) -> None:
        seen.update(kwargs, app=app)

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setattr(os, "environ", dict(os.environ))
    assert cli.main(["serve", "--workers", "2", "--database", pg_url]) == 0
    assert seen["app"] == "smartcity.app:create_app" and seen["factory"] is True and seen["workers"] == 2
    assert os.environ["SMARTCITY_DATABASE_URL"] == pg_url and os.environ["SMARTCITY_WORKERS"] == "2"
