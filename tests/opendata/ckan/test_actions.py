"""Every catalogue action through HTTP, in CKAN's envelope, with CKAN's errors and status codes."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import Store
from smartcity.opendata.ckan.registry import ACTIONS
from tests.open_hub import open_settings
from tests.opendata.catalogue.support import air_quality, car_parks, flood
from tests.opendata.ckan.conftest import Portal
from tests.opendata.ckan.support import action, error, result

READS = [
    "package_search",
    "package_list",
    "organization_list",
    "group_list",
    "tag_list",
    "license_list",
    "status_show",
]


@pytest.fixture
def filled(portal: Portal) -> Portal:
    for data in (air_quality(), car_parks(), flood()):
        result(action(portal.client, "package_create", data, key=portal.publisher))
    return portal


@pytest.mark.parametrize("name", READS)
@pytest.mark.parametrize("prefix", ["/api/3/action/", "/api/action/"])
def test_reads_answer_get_and_post_on_both_paths(portal: Portal, name: str, prefix: str) -> None:
    for response in (portal.client.get(prefix + name), portal.client.post(prefix + name, json={})):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json;charset=utf-8"
        body = response.json()
        assert set(body) == {"help", "success", "result"} and body["success"] is True
        assert body["help"] == f"http://testserver/api/3/action/help_show?name={name}"


def test_package_create_show_update_patch_delete(filled: Portal) -> None:
    client, key = filled.client, filled.publisher
    shown = result(client.get("/api/3/action/package_show", params={"id": "chat-luong-khong-khi"}))
    assert shown["organization"]["name"] == "so-tai-nguyen-va-moi-truong" and shown["num_resources"] == 2
    assert result(action(client, "package_show", {"id": shown["id"]})) == shown
    update = {k: v for k, v in shown.items() if k not in ("resources",)}
    updated = result(action(client, "package_update", {**update, "title": "Không khí"}, key=key))
    assert updated["title"] == "Không khí" and updated["resources"] == shown["resources"]
    patched = result(action(client, "package_patch", {"id": "chat-luong-khong-khi", "version": "2"}, key=key))
    assert patched["version"] == "2" and patched["title"] == "Không khí"
    assert result(action(client, "package_delete", {"id": "chat-luong-khong-khi"}, key=key)) is None
    error(action(client, "package_show", {"id": "chat-luong-khong-khi"}), 404, "Not Found Error")
    assert result(client.get("/api/3/action/package_list")) == ["bai-do-xe", "muc-nuoc"]
    assert result(client.get("/api/3/action/package_list?limit=1&offset=1")) == ["muc-nuoc"]


def test_package_search_envelope_facets_and_get_parameters(filled: Portal) -> None:
    found = result(
        filled.client.get(
            "/api/3/action/package_search",
            params={"q": "chat luong khong khi", "facet.field": '["organization","groups","license_id"]', "rows": "5"},
        )
    )
    assert found["count"] == 1 and [d["name"] for d in found["results"]] == ["chat-luong-khong-khi"]
    assert found["sort"] == "score desc, metadata_modified desc"
    assert found["facets"]["organization"] == {"so-tai-nguyen-va-moi-truong": 1}
    org = found["search_facets"]["organization"]
    assert org == {
        "title": "organization",
        "items": [{"name": "so-tai-nguyen-va-moi-truong", "display_name": "Sở Tài nguyên và Môi trường", "count": 1}],
    }
    assert found["search_facets"]["license_id"]["items"][0]["display_name"] == "Creative Commons Attribution 4.0"
    everything = result(filled.client.get("/api/3/action/package_search?q=*:*&sort=name desc&facet=false"))
    assert [d["name"] for d in everything["results"]] == ["muc-nuoc", "chat-luong-khong-khi", "bai-do-xe"]
    assert everything["facets"] == {} and everything["search_facets"] == {}
    tagged = result(action(filled.client, "package_search", {"q": 'tags:"mực nước"'}))
    assert [d["name"] for d in tagged["results"]] == ["muc-nuoc"]
    fq = result(action(filled.client, "package_search", {"fq": "+groups:environment res_format:Parquet"}))
    assert [d["name"] for d in fq["results"]] == ["chat-luong-khong-khi"]
    paged = result(filled.client.get("/api/3/action/package_search?rows=1&start=1&sort=name asc"))
    assert paged["count"] == 3 and [d["name"] for d in paged["results"]] == ["chat-luong-khong-khi"]
    capped = result(action(filled.client, "package_search", {"rows": 5000}))
    assert capped["count"] == 3 and len(capped["results"]) == 3


def test_private_datasets_are_never_shown_to_anonymous_callers(portal: Portal) -> None:
    client, key = portal.client, portal.publisher
    result(action(client, "package_create", air_quality(private=True), key=key))
    anonymous = result(action(client, "package_search", {"include_private": True}))
    assert anonymous["count"] == 0
    assert result(action(client, "package_search", {"include_private": True}, key=portal.analyst))["count"] == 0
    assert result(action(client, "package_search", {"include_private": True}, key=key))["count"] == 1
    assert result(action(client, "package_search", {}, key=key))["count"] == 0  # CKAN: only when asked
    denied = error(action(client, "package_show", {"id": "chat-luong-khong-khi"}), 403, "Authorization Error")
    assert denied["message"].startswith("Access denied: ")
    assert result(action(client, "package_show", {"id": "chat-luong-khong-khi"}, key=key))["private"] is True
    resource_id = result(action(client, "package_show", {"id": "chat-luong-khong-khi"}, key=key))["resources"][0]["id"]
    error(action(client, "resource_show", {"id": resource_id}), 404, "Not Found Error")
    assert result(action(client, "resource_show", {"id": resource_id}, key=key))["id"] == resource_id
    assert result(client.get("/api/3/action/package_list")) == []


def test_resource_organization_group_tag_licence_and_status(filled: Portal) -> None:
    client = filled.client
    shown = result(action(client, "package_show", {"id": "muc-nuoc"}))
    resource = result(client.get("/api/3/action/resource_show", params={"id": shown["resources"][0]["id"]}))
    assert resource == shown["resources"][0] and resource["format"] == "CSV"
    orgs = result(client.get("/api/3/action/organization_list"))
    assert "so-y-te" in orgs and "cong-an-tp" in orgs
    detailed = result(client.get("/api/3/action/organization_list?all_fields=true&sort=package_count desc&limit=3"))
    assert detailed[0]["package_count"] == 1 and detailed[0]["title_translated"]["en"]
    assert len(detailed) == 3
    org = result(client.get("/api/3/action/organization_show?id=trung-tam-chong-ngap&include_datasets=true"))
    assert org["title"] == "Trung tâm Chống ngập" and [d["name"] for d in org["packages"]] == ["muc-nuoc"]
    assert result(client.get("/api/3/action/group_list")) == [  # by title, as CKAN sorts, without diacritics
        "safety",  # An ninh trật tự
        "flood",  # Chống ngập
        "education",  # Giáo dục
        "transport",  # Giao thông
        "administration",
        "economy",
        "environment",
        "energy",
        "urban-planning",
        "weather",
        "health",  # Y tế
    ]
    assert result(client.get("/api/3/action/group_list?sort=name desc&limit=2")) == ["weather", "urban-planning"]
    group = result(action(client, "group_show", {"id": "environment"}))
    assert group["package_count"] == 2 and group["title_translated"] == {"vi": "Môi trường", "en": "Environment"}
    assert result(client.get("/api/3/action/tag_list?query=nuoc")) == ["mực nước"]
    tags = result(client.get("/api/3/action/tag_list?all_fields=true"))
    assert {t["name"] for t in tags} >= {"ngập", "PM2.5"} and all(t["id"] for t in tags)
    licences = result(client.get("/api/3/action/license_list"))
    assert {"CC-BY-4.0", "ODC-BY-1.0"} <= {lic["id"] for lic in licences}
    status = result(client.get("/api/3/action/status_show"))
    assert status["ckan_version"].startswith("2.10") and status["site_url"] == "http://testserver"
    assert "fluent" in status["extensions"]
    assert "Search datasets" in result(client.get("/api/3/action/help_show?name=package_search"))


def test_not_found_errors(portal: Portal) -> None:
    client = portal.client
    for name, data in [
        ("package_show", {"id": "khong-co"}),
        ("resource_show", {"id": "00000000-0000-0000-0000-000000000000"}),
        ("organization_show", {"id": "khong-co"}),
        ("group_show", {"id": "khong-co"}),
        ("help_show", {"name": "khong_co"}),
    ]:
        found = error(action(client, name, data), 404, "Not Found Error")
        assert found["message"].startswith("Not found: ")
    error(action(client, "package_patch", {"id": "khong-co"}, key=portal.publisher), 404, "Not Found Error")
    error(action(client, "package_delete", {"id": "khong-co"}, key=portal.publisher), 404, "Not Found Error")


def test_validation_errors_carry_the_fields(portal: Portal) -> None:
    response = action(portal.client, "package_create", {"name": "A", "owner_org": "nope"}, key=portal.publisher)
    found = error(response, 409, "Validation Error")
    assert found["name"] == [
        "Must be at least 2 characters long",
        "Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_",
    ]
    assert found["owner_org"] == ["Organization does not exist"]
    assert error(action(portal.client, "package_show", {}), 409, "Validation Error")["id"] == ["Missing value"]
    rows = error(portal.client.get("/api/3/action/package_search?rows=many"), 409, "Validation Error")
    assert rows["rows"] == ["Invalid integer"]
    facets = error(portal.client.get("/api/3/action/package_search?facet.field=tags"), 409, "Validation Error")
    assert facets["facet.field"] == ["Could not parse as valid JSON"]
    bad_bool = error(portal.client.get("/api/3/action/organization_list?all_fields=perhaps"), 409, "Validation Error")
    assert "all_fields" in bad_bool


def test_search_query_errors(portal: Portal) -> None:
    for params in ({"fq": "author:x"}, {"fq": "not a filter"}, {"sort": "author asc"}, {"sort": "name sideways"}):
        found = error(portal.client.get("/api/3/action/package_search", params=params), 400, "Search Query Error")
        assert found["message"].startswith("Search Query is invalid: ")


def test_bad_requests_are_bare_json_strings(portal: Portal) -> None:
    client = portal.client
    unknown = client.get("/api/3/action/frobnicate")
    assert unknown.status_code == 400 and unknown.json() == "Bad request - Action name not known: frobnicate"
    assert client.post("/api/action/frobnicate", json={}).json() == "Bad request - Action name not known: frobnicate"
    broken = client.post(
        "/api/3/action/package_search", content=b'{"q": ', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json().startswith("Bad request - JSON Error: Error decoding JSON data.")
    listed = client.post("/api/3/action/package_search", content=b"[1, 2]")
    assert listed.status_code == 400
    assert (
        listed.json()
        == "Bad request - JSON Error: Request data JSON decoded to [1, 2] but it needs to be a dictionary."
    )
    by_get = client.get("/api/3/action/package_create", headers={"Authorization": portal.publisher})
    assert by_get.status_code == 400
    assert by_get.json() == "Bad request - JSON Error: Invalid request. Please use POST method for your request"


def test_form_bodies_are_read_as_ckan_reads_them(filled: Portal) -> None:
    form = filled.client.post("/api/3/action/package_search", data={"q": "muc nuoc", "rows": "1"})
    assert [d["name"] for d in result(form)["results"]] == ["muc-nuoc"]
    legacy = filled.client.post(
        "/api/3/action/package_show",
        content=json.dumps({"id": "muc-nuoc"}).encode() + b"=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert result(legacy)["name"] == "muc-nuoc"


def test_platform_errors_under_api_have_the_ckan_envelope(portal: Portal) -> None:
    missing = portal.client.get("/api/3/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["__type"] == "Not Found Error"
    method = portal.client.put("/api/3/action/package_search")
    assert method.status_code == 405 and method.json()["success"] is False
    assert method.json()["help"] == "http://testserver/api/3/action/help_show?name=package_search"


def test_every_action_is_in_the_openapi_document_with_its_summary(portal: Portal) -> None:
    paths = portal.client.get("/openapi.json").json()["paths"]
    for name, found in ACTIONS.items():
        operation = paths[f"/api/3/action/{name}"]
        assert operation["get"]["summary"] == operation["post"]["summary"] == found.help
        assert f"/api/action/{name}" not in paths  # the unversioned twin is served, not listed twice


def test_help_links_use_the_public_url_when_set(store: Store) -> None:
    settings = open_settings(
        database_url="sqlite:///unused.db", opendata_publish=False, public_url="https://data.example.vn"
    )
    with TestClient(create_app(settings, store=store)) as client:
        body = client.get("/api/3/action/status_show").json()
        assert body["help"] == "https://data.example.vn/api/3/action/help_show?name=status_show"
        assert body["result"]["site_url"] == "https://data.example.vn"
        assert client.get("/api/3/nothing").json()["help"].startswith("https://data.example.vn/api/3/action/")
