"""The real ``ckanapi`` client (from PyPI, in the virtualenv) against the platform served by uvicorn.

Each command runs as a subprocess, unchanged: it sends its API key as ``Authorization: <key>`` and
``X-CKAN-API-Key``, POSTs JSON to ``/api/action/<name>`` and reads CKAN's envelope.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartcity.app import create_app
from smartcity.hub.store import Store, open_store
from smartcity.security.credentials import Credentials
from smartcity.security.passwords import Passwords
from smartcity.security.roles import Role
from tests.ioc.dashboard.server import serving
from tests.open_hub import open_settings
from tests.opendata.catalogue.support import air_quality, car_parks, flood
from tests.security.support import security_of

CKANAPI = Path(sys.executable).parent / "ckanapi"
TIMEOUT = 120


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The platform served for real (on SQLite: the wire is under test here, storage is tested on both engines
    elsewhere); yields its URL and a publisher's API key."""
    store = open_store(f"sqlite:///{tmp_path}/portal.db")
    try:
        yield from _served(store)
    finally:
        store.close()


def _served(store: Store) -> Iterator[tuple[str, str]]:
    if not CKANAPI.exists():
        pytest.fail(f"ckanapi is a development dependency and must be installed at {CKANAPI}")
    settings = open_settings(database_url="sqlite:///unused.db", opendata_publish=False)
    app = create_app(settings, store=store)
    credentials = Credentials.from_settings(store, settings, passwords=Passwords.fast())
    security_of(app).credentials = credentials
    _, key = credentials.create_api_key("ckanapi-test", Role.DATA_PUBLISHER, tenants=("",))
    with serving(app) as url:
        yield url, key


def _env() -> dict[str, str]:
    """No proxy for the local server; ckanapi's dump workers are started as ``ckanapi`` from the PATH."""
    path = f"{CKANAPI.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def ckanapi(*args: str) -> str:
    env = _env()
    done = subprocess.run([str(CKANAPI), *args], capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False)
    assert done.returncode == 0, f"ckanapi {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _create(url: str, key: str, data: dict[str, object]) -> dict[str, object]:
    args = [f"{k}:{json.dumps(v, ensure_ascii=False)}" for k, v in data.items()]
    created: dict[str, object] = json.loads(ckanapi("action", "package_create", *args, "-r", url, "-a", key))
    return created


def test_ckanapi_writes_searches_and_dumps(site: tuple[str, str]) -> None:
    url, key = site
    for data in (air_quality(), car_parks(), flood()):
        assert _create(url, key, data)["name"] == data["name"]

    found = json.loads(
        ckanapi(
            "action",
            "package_search",
            "q=chat luong khong khi",
            'facet.field:["organization", "tags"]',
            "-r",
            url,
        )
    )
    assert found["count"] == 1 and found["results"][0]["name"] == "chat-luong-khong-khi"
    assert found["search_facets"]["organization"]["items"][0]["display_name"] == "Sở Tài nguyên và Môi trường"

    by_get = json.loads(ckanapi("action", "package_search", "q=Mực nước", "-r", url, "-g"))
    assert [d["name"] for d in by_get["results"]] == ["muc-nuoc"]

    lines = ckanapi("search", "datasets", "q=bai do xe", "-r", url).splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["bai-do-xe"]
    every = [json.loads(line)["name"] for line in ckanapi("search", "datasets", "-r", url).splitlines()]
    assert sorted(every) == ["bai-do-xe", "chat-luong-khong-khi", "muc-nuoc"]

    dumped = [
        json.loads(line) for line in ckanapi("dump", "datasets", "--all", "-p", "1", "-q", "-r", url).splitlines()
    ]
    assert [d["name"] for d in dumped] == ["bai-do-xe", "chat-luong-khong-khi", "muc-nuoc"]
    assert dumped[1]["num_resources"] == 2 and dumped[1]["organization"]["name"] == "so-tai-nguyen-va-moi-truong"


def test_ckanapi_reports_ckan_errors(site: tuple[str, str]) -> None:
    url, key = site
    env = _env()

    def failing(*args: str) -> str:
        done = subprocess.run(
            [str(CKANAPI), *args, "-r", url], capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False
        )
        assert done.returncode != 0
        return done.stdout + done.stderr

    assert "NotFound" in failing("action", "package_show", "id=khong-co")
    assert "NotAuthorized" in failing("action", "package_create", "name=khong-khoa", "owner_org=so-y-te")
    assert "ValidationError" in failing("action", "package_create", "name=A", "owner_org=so-y-te", "-a", key)


def test_ckanapi_creates_an_organisation_and_publishes_under_it(site: tuple[str, str]) -> None:
    url, key = site
    title = json.dumps({"vi": "Sở Du lịch", "en": "Department of Tourism"}, ensure_ascii=False)
    org = json.loads(
        ckanapi("action", "organization_create", "name=so-du-lich", f"title_translated:{title}", "-r", url, "-a", key)
    )
    assert org["name"] == "so-du-lich" and org["title"] == "Sở Du lịch" and org["is_organization"] is True
    assert _create(url, key, air_quality(owner_org="so-du-lich"))["owner_org"] == org["id"]
    found = json.loads(ckanapi("action", "package_search", "fq=organization:so-du-lich", "-r", url))
    assert [d["name"] for d in found["results"]] == ["chat-luong-khong-khi"]
