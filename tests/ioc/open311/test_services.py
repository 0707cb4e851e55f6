"""GET services and service definitions, in JSON and XML, Vietnamese and English."""

from __future__ import annotations

from fastapi.testclient import TestClient

from smartcity.ioc.contracts import DEPARTMENTS
from smartcity.ioc.open311.catalogue import DATATYPES, Catalogue
from tests.ioc.open311.support import assert_georeport_error, xml

GROUPS_VI = {
    "Hạ tầng - Thoát nước",
    "Giao thông",
    "Cây xanh",
    "Trật tự đô thị",
    "Môi trường",
    "An ninh trật tự",
    "Thủ tục hành chính",
}


def test_the_catalogue_covers_the_seven_1022_categories_with_valid_routing() -> None:
    catalogue = Catalogue.packaged()
    assert {s.group_name.vi for s in catalogue} == GROUPS_VI
    assert len(catalogue.services) >= 14
    departments = {d.code for d in DEPARTMENTS}
    for service in catalogue:
        assert service.department in departments
        assert service.incident_type
        for attribute in service.attributes:
            assert attribute.datatype in DATATYPES
            assert all(isinstance(c.key, str) and c.key for c in attribute.values)


def test_the_catalogue_types_are_incident_types_the_desk_knows() -> None:
    from smartcity.ioc.incidents.catalogue import packaged

    assert {s.incident_type for s in Catalogue.packaged()} <= set(packaged().types)


def test_services_in_json_and_xml(app_client: TestClient) -> None:
    body = app_client.get("/open311/v2/services.json").json()
    assert {s["group"] for s in body} == GROUPS_VI
    flood = next(s for s in body if s["service_code"] == "HT-NGAP")
    assert flood == {
        "service_code": "HT-NGAP",
        "service_name": "Đường ngập nước",
        "description": flood["description"],
        "metadata": True,
        "type": "realtime",
        "keywords": flood["keywords"],
        "group": "Hạ tầng - Thoát nước",
    }
    root = xml(app_client.get("/open311/v2/services.xml"))
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == len(body)
    first = services[0]
    assert [child.tag for child in first] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert {s.findtext("metadata") for s in services} <= {"true", "false"}


def test_the_locale_comes_from_the_query_then_accept_language(app_client: TestClient) -> None:
    english = app_client.get("/open311/v2/services.json?locale=en").json()
    assert next(s for s in english if s["service_code"] == "HT-NGAP")["service_name"] == "Flooded street"
    by_header = app_client.get("/open311/v2/services.json", headers={"Accept-Language": "en-GB,en;q=0.8"}).json()
    assert by_header == english
    assert_georeport_error(app_client.get("/open311/v2/services.json?locale=fr"), 400)


def test_format_by_accept_header_without_suffix(app_client: TestClient) -> None:
    assert app_client.get("/open311/v2/services").headers["content-type"].startswith("application/json")
    root = xml(app_client.get("/open311/v2/services", headers={"Accept": "text/xml"}))
    assert root.tag == "services"
    assert_georeport_error(app_client.get("/open311/v2/services.yaml"), 404)


def test_service_definition_with_attributes(app_client: TestClient) -> None:
    body = app_client.get("/open311/v2/services/HT-NGAP.json?locale=en").json()
    assert body["service_code"] == "HT-NGAP"
    depth = body["attributes"][0]
    assert depth["code"] == "depth" and depth["datatype"] == "singlevaluelist" and depth["required"] is True
    assert depth["variable"] is True and depth["order"] == 1
    assert {"key": "deep", "name": "Over 30 cm"} in depth["values"]
    root = xml(app_client.get("/open311/v2/services/HT-NGAP.xml"))
    assert root.tag == "service_definition"
    attribute = root.find("attributes/attribute")
    assert attribute is not None and attribute.findtext("code") == "depth"
    assert [v.findtext("key") for v in attribute.findall("values/value")] == ["ankle", "knee", "deep"]


def test_unknown_service_and_jurisdiction_are_404_in_both_formats(app_client: TestClient) -> None:
    assert "HT-NONE" in assert_georeport_error(app_client.get("/open311/v2/services/HT-NONE.json"), 404)
    assert_georeport_error(app_client.get("/open311/v2/services/HT-NONE.xml"), 404, "xml")
    assert_georeport_error(app_client.get("/open311/v2/services.xml?jurisdiction_id=hanoi.gov.vn"), 404, "xml")
    assert app_client.get("/open311/v2/services.json?jurisdiction_id=tphcm.gov.vn").status_code == 200
