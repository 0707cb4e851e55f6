"""The GeoReport error envelope on every route (the platform's own 404/405/415/429 included), the events of
reports, and the ward index following the hub."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import Store
from smartcity.ioc.open311.api import ROUTES
from smartcity.settings import Settings
from smartcity.web.routes import iter_routes
from tests.ioc.open311.support import BEN_THANH, SAI_GON, assert_georeport_error, load_wards
from tests.security.support import api_key, as_key

FILL = {"service_code": "NOPE", "service_request_id": "404", "token": "no-token", "media_name": "x.jpg"}


def _path(template: str, fmt: str) -> str:
    path = template.replace("{format}", fmt)
    for name, value in FILL.items():
        path = path.replace("{" + name + "}", value)
    return path


def test_every_open311_route_answers_errors_in_the_georeport_format(app_client: TestClient) -> None:
    routes = [r for r in iter_routes(app_client.app) if r.path.startswith("/open311/")]  # type: ignore[arg-type]
    assert len(routes) == 2 * len(ROUTES) + 1
    for route in routes:
        names_an_item = any("{" + name + "}" in route.path for name in FILL)
        for method in route.methods - {"HEAD"}:
            for fmt in ("json", "xml"):  # the suffix decides, else the Accept header
                path, accept = _path(route.path, fmt), {"Accept": f"text/{fmt}"}
                if method == "POST":
                    response, expected = app_client.post(path, data={"service_code": "HT-NGAP"}, headers=accept), 400
                elif names_an_item:
                    response, expected = app_client.get(path, headers=accept), 404
                else:
                    response, expected = app_client.get(f"{path}?locale=xx", headers=accept), 400
                assert_georeport_error(response, expected, fmt)


def test_platform_errors_under_the_prefix_use_the_georeport_format(app_client: TestClient) -> None:
    assert_georeport_error(app_client.get("/open311/v2/nothing-here.xml"), 404, "xml")
    assert_georeport_error(app_client.get("/open311/v2/nothing-here"), 404)
    assert_georeport_error(app_client.delete("/open311/v2/services.xml"), 405, "xml")
    assert_georeport_error(app_client.put("/open311/v2/requests.json"), 405)
    assert_georeport_error(
        app_client.post(
            "/open311/v2/requests", content=b"<x/>", headers={"Content-Type": "text/xml", "Accept": "application/xml"}
        ),
        415,
        "xml",
    )
    # the hub keeps its own envelope
    assert {"type", "title", "detail"} <= set(app_client.get("/ngsi-ld/v1/entities/urn:x:none").json())


def test_the_rate_limit_answers_429_in_the_georeport_format(store: Store, o311_settings: Settings) -> None:
    from dataclasses import replace

    app = create_app(replace(o311_settings, rate_limit_address=0.5), store=store)
    with TestClient(app) as client:
        statuses = [client.get("/open311/v2/services.xml").status_code for _ in range(4)]
        assert 429 in statuses
        assert_georeport_error(client.get("/open311/v2/services.xml"), 429, "xml")


def test_a_bad_credential_is_401_in_the_georeport_format(app_client: TestClient) -> None:
    r = app_client.get("/open311/v2/services.xml", headers={"X-API-Key": "scak_unknown_key"})
    assert_georeport_error(r, 401, "xml")


def test_report_received_and_changed_events(app_client: TestClient) -> None:
    events = app_client.app.state.ioc.events  # type: ignore[attr-defined]
    start = events.since(0)[-1].seq if events.since(0) else 0
    r = app_client.post(
        "/open311/v2/requests.json",
        data={"service_code": "GT-DEN", "lat": str(BEN_THANH[1]), "long": str(BEN_THANH[2]), "attribute[fault]": "off"},
    )
    request_id = r.json()[0]["service_request_id"]
    received = [e for e in events.since(start) if e.kind == "report.received"]
    assert [e.data["service_request_id"] for e in received] == [request_id]
    assert received[0].data["ward"] == BEN_THANH[0] and "email" not in received[0].data
    incident_id = received[0].data["incident_id"]

    key = api_key(app_client, "ioc_operator")
    for step in ({"to": "assigned"}, {"to": "in_progress"}, {"to": "resolved", "note": "Đã sửa đèn"}):
        t = app_client.post(f"/ioc/incidents/{incident_id}/transitions", json=step, headers=as_key(key))
        assert t.status_code in (200, 201), t.text

    def changed() -> list[Any]:
        return [e for e in events.since(start) if e.kind == "report.changed"]

    for _ in range(200):  # the watch runs in the app's loop: give it time (generous, not timing-fragile)
        if changed() and changed()[-1].data["status"] == "closed":
            break
        time.sleep(0.05)
    last = changed()[-1].data
    assert last["service_request_id"] == request_id and last["status"] == "closed"
    assert last["status_notes"] == "Đã sửa đèn"
    view = app_client.get(f"/open311/v2/requests/{request_id}.json").json()[0]
    assert view["status"] == "closed" and view["status_notes"] == "Đã sửa đèn"


def test_the_ward_index_follows_the_hub(store: Store, o311_settings: Settings) -> None:
    app = create_app(o311_settings, store=store)
    with TestClient(app) as client:
        load_wards(client, {SAI_GON[0]})
        data = {"service_code": "MT-RAC", "lat": str(BEN_THANH[1]), "long": str(BEN_THANH[2])}
        assert_georeport_error(client.post("/open311/v2/requests.json", data=data), 400)
        load_wards(client, {BEN_THANH[0]})  # a ward added to the hub is known at once
        assert client.post("/open311/v2/requests.json", data=data).status_code == 201
        d = client.delete(f"/ngsi-ld/v1/entities/urn:ngsi-ld:AdministrativeArea:HCMC:{BEN_THANH[0]}")
        assert d.status_code == 204
        assert_georeport_error(client.post("/open311/v2/requests.json", data=data), 400)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_without_any_ward_polygons_only_the_citys_extent_is_checked(
    store: Store, o311_settings: Settings, fmt: str
) -> None:
    app = create_app(o311_settings, store=store)
    with TestClient(app) as client:
        inside = {"service_code": "HT-DEN", "lat": "10.78", "long": "106.70"}
        assert client.post(f"/open311/v2/requests.{fmt}", data=inside).status_code == 201
        outside = {"service_code": "HT-DEN", "lat": "21.03", "long": "105.85"}
        assert_georeport_error(client.post(f"/open311/v2/requests.{fmt}", data=outside), 400, fmt)
