"""POST requests and the GET views: routing by ward and category, locations, attributes, abusive text, privacy."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.ioc.open311.support import (
    BEN_THANH,
    BINH_CHANH,
    HANOI,
    SAI_GON,
    FakeDesk,
    assert_georeport_error,
    xml,
)

PRIVATE = {"email": "citizen@example.vn", "phone": "+84 90 123 4567", "first_name": "Lan", "last_name": "Nguyễn"}


def post(client: TestClient, fmt: str = "json", **fields: Any) -> Any:
    return client.post(f"/open311/v2/requests.{fmt}", data={k: v for k, v in fields.items() if v is not None})


def flood(client: TestClient, lat: float = BEN_THANH[1], lon: float = BEN_THANH[2], **extra: Any) -> Any:
    return post(client, service_code="HT-NGAP", lat=str(lat), long=str(lon), **{"attribute[depth]": "knee", **extra})


def test_a_report_becomes_an_incident_routed_by_category_and_ward(faked: TestClient, fake_desk: FakeDesk) -> None:
    r = flood(faked, description="Nước ngập tới đầu gối trên đường Lê Lợi", **PRIVATE)
    assert r.status_code == 201, r.text
    [answer] = r.json()
    assert set(answer) == {"service_request_id", "token", "service_notice", "account_id"}
    assert answer["account_id"] is None
    assert "Trung tâm Chống ngập" in answer["service_notice"]
    [incident] = fake_desk.opened
    assert incident.type == "flooding" and incident.department == "flood_control"
    assert incident.ward == BEN_THANH[0] and incident.source == "open311" and incident.opened_by == "open311"
    assert incident.source_ref == answer["service_request_id"]
    assert incident.location == {"type": "Point", "coordinates": [BEN_THANH[2], BEN_THANH[1]]}
    assert incident.severity == "minor"
    for secret in PRIVATE.values():  # the department's incident carries no personal data of the reporter
        assert secret not in incident.description and secret not in incident.title


def test_a_ward_bound_service_leaves_the_department_to_the_desk(faked: TestClient, fake_desk: FakeDesk) -> None:
    r = post(faked, service_code="MT-RAC", lat=str(SAI_GON[1]), long=str(SAI_GON[2]))
    assert r.status_code == 201, r.text
    [incident] = fake_desk.opened
    assert incident.type == "illegal_dumping" and incident.department is None and incident.ward == SAI_GON[0]
    view = faked.get(f"/open311/v2/requests/{r.json()[0]['service_request_id']}.json").json()[0]
    assert view["agency_responsible"] == f"Đơn vị ward:{SAI_GON[0]}"


def test_an_attribute_value_raises_the_severity(faked: TestClient, fake_desk: FakeDesk) -> None:
    r = post(faked, service_code="CX-NGA", lat="10.7805", long="106.7029", **{"attribute[blocking]": "yes"})
    assert r.status_code == 201, r.text
    assert fake_desk.opened[0].severity == "critical"


def test_the_request_views_in_json_and_xml_never_show_personal_data(app_client: TestClient) -> None:
    r = flood(app_client, description="Ngập", **PRIVATE)
    request_id = r.json()[0]["service_request_id"]
    view = app_client.get(f"/open311/v2/requests/{request_id}.json").json()[0]
    assert view["service_request_id"] == request_id and view["status"] == "open"
    assert view["service_code"] == "HT-NGAP" and view["service_name"] == "Đường ngập nước"
    assert view["agency_responsible"] == "Trung tâm Chống ngập - Hạ tầng kỹ thuật"
    assert view["ward"] == BEN_THANH[0] and view["ward_name"] == "Phường Bến Thành"
    assert view["lat"] == BEN_THANH[1] and view["long"] == BEN_THANH[2]
    assert view["expected_datetime"].endswith("Z") and view["requested_datetime"].endswith("Z")
    assert view["incident_id"]
    root = xml(app_client.get(f"/open311/v2/requests/{request_id}.xml"))
    assert root.tag == "service_requests"
    [element] = root.findall("request")
    assert element.findtext("service_request_id") == request_id
    assert element.findtext("status") == "open" and element.findtext("lat") == str(BEN_THANH[1])
    assert element.findtext("media_url") == ""
    everything = [
        app_client.get(f"/open311/v2/requests/{request_id}.json").text,
        app_client.get(f"/open311/v2/requests/{request_id}.xml").text,
        app_client.get("/open311/v2/requests.json").text,
        app_client.get("/open311/v2/requests.xml").text,
    ]
    for text in everything:
        for secret in PRIVATE.values():
            assert secret not in text


def test_the_xml_answer_of_a_post(app_client: TestClient) -> None:
    r = post(
        app_client,
        "xml",
        service_code="AN-TT",
        lat=str(SAI_GON[1]),
        long=str(SAI_GON[2]),
        **{"attribute[kind]": "racing", "attribute[people]": "12"},
    )
    assert r.status_code == 201, r.text
    root = xml(r)
    request = root.find("request")
    assert root.tag == "service_requests" and request is not None
    assert [c.tag for c in request] == ["service_request_id", "token", "service_notice", "account_id"]
    assert "113" in (request.findtext("service_notice") or "")
    token = request.findtext("token")
    found = xml(app_client.get(f"/open311/v2/tokens/{token}.xml")).find("request")
    assert found is not None and found.findtext("service_request_id") == request.findtext("service_request_id")
    assert app_client.get(f"/open311/v2/tokens/{token}.json").json() == [
        {"service_request_id": request.findtext("service_request_id"), "token": token}
    ]
    assert_georeport_error(app_client.get("/open311/v2/tokens/unknown-token.xml"), 404, "xml")


def test_the_real_desk_routes_a_ward_bound_report_to_the_wards_committee(app_client: TestClient) -> None:
    r = post(
        app_client,
        service_code="MT-ONGAN",
        lat=str(BINH_CHANH[1]),
        long=str(BINH_CHANH[2]),
        **{"attribute[source]": "karaoke"},
    )
    assert r.status_code == 201, r.text
    view = app_client.get(f"/open311/v2/requests/{r.json()[0]['service_request_id']}.json?locale=en").json()[0]
    assert view["ward"] == BINH_CHANH[0] and "Binh Chanh" in view["agency_responsible"]
    incident = app_client.app.state.ioc.incidents.get(view["incident_id"])  # type: ignore[attr-defined]
    assert incident["department"] == f"ward:{BINH_CHANH[0]}" and incident["source"] == "open311"
    assert incident["sourceRef"] == view["service_request_id"] and incident["type"] == "noise"


# -- locations -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon"),
    [HANOI, (10.70, 106.80), (0.0, 0.0)],
    ids=["hanoi", "between-sample-wards", "null-island"],
)
def test_a_point_outside_every_ward_is_400(faked: TestClient, fake_desk: FakeDesk, lat: float, lon: float) -> None:
    assert "outside" in assert_georeport_error(flood(faked, lat, lon), 400)
    assert fake_desk.opened == []


@pytest.mark.parametrize(
    ("lat", "lon"),
    [("91", "106.7"), ("10.7", "181"), ("nan", "106.7"), ("1e1", "106.7"), ("10,7", "106,7"), ("10.7", "")],
)
def test_malformed_coordinates_are_400(faked: TestClient, lat: str, lon: str) -> None:
    r = post(faked, service_code="HT-NGAP", lat=lat, long=lon or None, **{"attribute[depth]": "knee"})
    assert_georeport_error(r, 400)


def test_an_address_naming_a_ward_is_enough(faked: TestClient, fake_desk: FakeDesk) -> None:
    for address in ("12 Lê Lợi, Phường Bến Thành, TP.HCM", "12 le loi, PHUONG BEN THANH", "12 Lê Lợi, P.Bến Thành"):
        r = post(faked, "json", service_code="MT-RAC", address_string=address)
        assert r.status_code == 201, (address, r.text)
        view = faked.get(f"/open311/v2/requests/{r.json()[0]['service_request_id']}.json").json()[0]
        assert view["ward"] == BEN_THANH[0] and view["lat"] is None and view["long"] is None
        assert view["address"] == address
    assert all(i.ward == BEN_THANH[0] and i.location is None for i in fake_desk.opened)


def test_an_address_without_a_known_ward_or_no_location_at_all_is_400(faked: TestClient) -> None:
    assert_georeport_error(post(faked, service_code="MT-RAC", address_string="12 Lê Lợi, Bến Thành"), 400)
    assert_georeport_error(post(faked, service_code="MT-RAC", address_string="Phường Hoàn Kiếm, Hà Nội"), 400)
    assert "location" in assert_georeport_error(post(faked, service_code="MT-RAC", description="rác"), 400)
    assert_georeport_error(post(faked, service_code="MT-RAC", address_id="12345"), 400)


# -- attributes and text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"service_code": "HT-NGAP"}, "attribute[depth] is required"),
        ({"service_code": "HT-NGAP", "attribute[depth]": "ocean"}, "not one of"),
        ({"service_code": "HT-NGAP", "attribute[depth]": "knee", "attribute[color]": "red"}, "no attribute"),
        ({"service_code": "AN-TT", "attribute[kind]": "theft", "attribute[people]": "5000"}, "at most"),
        ({"service_code": "AN-TT", "attribute[kind]": "theft", "attribute[people]": "many"}, "number"),
        ({"service_code": "GT-KHAC", "attribute[since]": "yesterday"}, "ISO 8601"),
        ({"service_code": "GT-KHAC", "attribute[since]": "2026-03-01T08:00:00"}, "time zone"),
        ({"service_code": "HC-THUTUC", "attribute[problem][]": "bribes"}, "not one of"),
        ({"service_code": "NO-SUCH"}, "not found"),
        ({}, "service_code is required"),
    ],
)
def test_attributes_are_checked_against_the_service_definition(
    faked: TestClient, fields: dict[str, str], message: str
) -> None:
    r = faked.post("/open311/v2/requests.json", data={**fields, "lat": str(BEN_THANH[1]), "long": str(BEN_THANH[2])})
    assert message in assert_georeport_error(r, 404 if message == "not found" else 400)


def test_a_multivaluelist_takes_repeated_values(faked: TestClient, fake_desk: FakeDesk) -> None:
    r = faked.post(
        "/open311/v2/requests.json",
        content=(
            b"service_code=HC-THUTUC&address_string=Ph%C6%B0%E1%BB%9Dng%20S%C3%A0i%20G%C3%B2n"
            b"&attribute%5Bproblem%5D%5B%5D=late&attribute%5Bproblem%5D%5B%5D=fees"
            b"&attribute%5Bsubmitted_on%5D=2026-02-01T09:00:00%2B07:00"
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 201, r.text
    [incident] = fake_desk.opened
    assert incident.type == "admin_complaint" and incident.ward == SAI_GON[0] and incident.department is None
    assert "Trễ hẹn, Thu phí không đúng" in incident.description


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("description", "Ngập <script>alert(1)</script>"),
        ("description", "xem <img src=x onerror=alert(1)>"),
        ("description", "link javascript:alert(1)"),
        ("description", "\uff1cscript\uff1ealert(1)"),  # full-width < and >
        ("description", "&#60;script&#62;"),
        ("description", "ngập\x00"),
        ("address_string", "Phường Bến Thành <b>"),
        ("address_string", "Phường Bến Thành\nline two"),
        ("first_name", "<a href='x'>Lan</a>"),
        ("description", "x" * 4001),
        ("email", "not-an-email"),
        ("phone", "call me"),
    ],
)
def test_markup_script_and_bad_fields_are_400(faked: TestClient, fake_desk: FakeDesk, name: str, value: str) -> None:
    assert_georeport_error(flood(faked, **{name: value}), 400)
    assert fake_desk.opened == []


def test_plain_vietnamese_text_with_punctuation_is_accepted(faked: TestClient) -> None:
    text = 'Ngập sâu 40cm (x2 so với hôm qua) - 5 < 10 & "rất" nguy hiểm!\nĐề nghị xử lý gấp.'
    r = flood(faked, description=text)
    assert r.status_code == 201, r.text
    view = faked.get(f"/open311/v2/requests/{r.json()[0]['service_request_id']}.xml").text
    assert '5 &lt; 10 &amp; "rất"' in view


def test_a_platform_api_key_is_recorded_and_an_invalid_one_is_403(faked: TestClient) -> None:
    from smartcity.security.credentials import Credentials

    credentials: Credentials = faked.app.state.security.credentials  # type: ignore[attr-defined]
    info, key = credentials.create_api_key("citizen-app", "citizen", tenants=("",))
    r = flood(faked, api_key=key)
    assert r.status_code == 201, r.text
    reports = faked.app.state.ioc.open311  # type: ignore[attr-defined]
    stored = reports.repository.get(r.json()[0]["service_request_id"])
    assert stored.api_key_id == info.id
    assert_georeport_error(flood(faked, api_key="scak_nope_nope"), 403)
    assert_georeport_error(flood(faked, api_key="random"), 403)


def test_a_json_body_is_415_in_the_georeport_format(faked: TestClient) -> None:
    r = faked.post("/open311/v2/requests.xml", json={"service_code": "HT-NGAP"})
    assert_georeport_error(r, 415, "xml")
