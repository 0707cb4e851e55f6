"""The dashboard's routes in production mode: the page and its files, the map data, the KPIs, the stream JSON."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from smartcity.ioc.dashboard.assets import STATIC
from smartcity.security.roles import Role
from tests.ioc.dashboard import city as data
from tests.security.support import api_key, as_key, running


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with running(store) as test_client:
        data.load(
            test_client.app.state.hub,  # type: ignore[attr-defined]
            [*data.ward_bodies(), data.station("a", data.CENTRE, 80), data.car_park("p1", 10, 50)],
        )
        yield test_client


@pytest.fixture
def operator(client: TestClient) -> dict[str, str]:
    return as_key(api_key(client, Role.IOC_OPERATOR))


def _envelope(body: dict[str, Any]) -> None:
    assert {"type", "title", "detail"} <= set(body)


def test_the_page_is_public_local_only_and_vietnamese_first(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert '<html lang="vi">' in html
    for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert ref.startswith("/ioc/ui/") or ref == "data:,", ref
        if ref.startswith("/ioc/ui/"):
            assert client.get(ref).status_code == 200, ref
    again = client.get("/", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_our_own_files_name_no_outside_address() -> None:
    own = [p for p in STATIC.rglob("*") if p.is_file() and "vendor" not in p.parts]
    assert {p.suffix for p in own} >= {".html", ".css", ".js"}
    for path in own:
        assert not re.search(r"https?://", path.read_text(encoding="utf-8")), path


def test_vendored_libraries_are_the_published_files_with_their_licences() -> None:
    table = (STATIC / "vendor" / "THIRD_PARTY.md").read_text(encoding="utf-8")
    for name in ("leaflet/leaflet.js", "leaflet/leaflet.css", "uplot/uPlot.iife.min.js", "uplot/uPlot.min.css"):
        digest = hashlib.sha256((STATIC / "vendor" / name).read_bytes()).hexdigest()
        assert digest[:16] in table, name
    for folder in ("leaflet", "uplot"):
        assert "Copyright" in (STATIC / "vendor" / folder / "LICENSE").read_text(encoding="utf-8")


def test_assets_have_their_types_and_nothing_outside_the_folder_is_served(client: TestClient) -> None:
    js = client.get("/ioc/ui/js/main.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert client.get("/ioc/ui/app.css").headers["content-type"].startswith("text/css")
    assert client.get("/ioc/ui/vendor/leaflet/LICENSE").status_code == 200
    assert client.get("/ioc/ui/js/main.js", headers={"If-None-Match": js.headers["etag"]}).status_code == 304
    for bad in (
        "/ioc/ui/nothing.js",
        "/ioc/ui/../policy.py",
        "/ioc/ui/js/..%2F..%2Fpolicy.py",
        "/ioc/ui/%2e%2e/api.py",
    ):
        response = client.get(bad)
        assert response.status_code == 404, bad
        _envelope(response.json())


@pytest.mark.parametrize("path", ["/ioc/map/wards", "/ioc/map/layers", "/ioc/kpis", "/ioc/stream"])
def test_the_data_needs_a_signed_in_operations_centre_role(client: TestClient, path: str) -> None:
    anonymous = client.get(path)
    assert anonymous.status_code == 401
    _envelope(anonymous.json())
    for role in (Role.CITIZEN, Role.DATA_PUBLISHER, Role.DEVICE):
        refused = client.get(path, headers=as_key(api_key(client, role)))
        assert refused.status_code == 403, role
        _envelope(refused.json())
    for role in (Role.ANALYST, Role.DEPARTMENT_OFFICER, Role.SOC_ANALYST):
        assert client.get(path, headers=as_key(api_key(client, role))).status_code == 200, role


def test_the_wards_are_a_cached_feature_collection(client: TestClient, operator: dict[str, str]) -> None:
    response = client.get("/ioc/map/wards", headers=operator)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 168
    saigon = next(f for f in body["features"] if f["properties"]["code"] == "26740")
    assert saigon["properties"] == {"code": "26740", "name": "Sài Gòn", "nameEn": "Sai Gon"}
    assert saigon["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert len(response.content) < 600_000  # simplified for the screen (about 340 kB)
    etag = response.headers["etag"]
    assert client.get("/ioc/map/wards", headers={**operator, "If-None-Match": etag}).status_code == 304


def test_the_layers_list_the_current_features_compactly(client: TestClient, operator: dict[str, str]) -> None:
    body = client.get("/ioc/map/layers", headers=operator).json()
    assert set(body["layers"]) == {"stations", "floods", "buses", "parking", "traffic", "weather"}
    (station,) = body["layers"]["stations"]
    assert station["attrs"]["airQualityIndex"] == 80 and station["attrs"]["colour"] == "#FFFF00"
    (park,) = body["layers"]["parking"]
    assert (park["attrs"]["availableSpotNumber"], park["attrs"]["totalSpotNumber"]) == (10, 50)
    assert set(body["parts"]) == {"alerts", "incidents", "open311"}
    assert isinstance(body["lastEventId"], int)


class _Part:
    def __init__(self, summary: dict[str, Any]) -> None:
        self._summary = summary

    def summary(self) -> dict[str, Any]:
        return self._summary


def test_kpis_are_null_for_a_missing_part_and_taken_from_a_present_one(
    client: TestClient, operator: dict[str, str]
) -> None:
    ioc = client.app.state.ioc  # type: ignore[attr-defined]
    ioc.alerts, ioc.incidents = None, None
    body = client.get("/ioc/kpis", headers=operator).json()
    assert body["alerts"] is None and body["incidents"] is None and body["reports"] is None
    assert body["air"]["wards"][0]["ward"] == "26740" and body["parking"]["free"] == 10
    ioc.alerts = _Part({"active": 3, "unacknowledged": 2})
    ioc.incidents = _Part({"open": 1, "reportsTotal": 4, "reportsOnTimeShare": 0.5})
    body = client.get("/ioc/kpis", headers=operator).json()
    assert body["alerts"] == {"active": 3, "unacknowledged": 2}
    assert body["reports"] == {"total": 4, "onTimeShare": 0.5}


def test_the_stream_answers_a_plain_client_with_the_kept_events(client: TestClient, operator: dict[str, str]) -> None:
    events = client.app.state.ioc.events  # type: ignore[attr-defined]
    first = events.publish("alert.raised", {"id": "a1"})
    events.publish("entity.changed", {"id": "e1"})
    events.publish("alert.cleared", {"id": "a1"})
    body = client.get(f"/ioc/stream?kinds=alert&lastEventId={first.seq - 1}", headers=operator).json()
    assert [(e["event"], e["data"]["id"]) for e in body["events"]] == [("alert.raised", "a1"), ("alert.cleared", "a1")]
    assert body["lastEventId"] == body["events"][-1]["id"]
    for query in ("kinds=al%3Bert", "lastEventId=x"):
        bad = client.get(f"/ioc/stream?{query}", headers=operator)
        assert bad.status_code == 400, query
        _envelope(bad.json())
