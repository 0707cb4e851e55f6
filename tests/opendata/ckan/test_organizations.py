"""organization_* and group_* writes through HTTP: CKAN's envelope and errors, publishers only, audited."""

from __future__ import annotations

import pytest

from smartcity.security.audit.repository import iter_all
from smartcity.security.roles import Role
from tests.opendata.catalogue.support import air_quality
from tests.opendata.ckan.conftest import Portal
from tests.opendata.ckan.support import action, error, result
from tests.security.support import api_key, flush

TOURISM = {
    "name": "so-du-lich",
    "title_translated": {"vi": "Sở Du lịch", "en": "Department of Tourism"},
    "description_translated": {"vi": "Du lịch và lễ hội.", "en": "Tourism and festivals."},
    "extras": [{"key": "website", "value": "https://sodulich.example"}],
}
FESTIVALS = {"name": "le-hoi", "title": "Lễ hội", "description": "Lễ hội và sự kiện."}


@pytest.mark.parametrize("kind", ["organization", "group"])
def test_create_show_list_update_patch_delete(portal: Portal, kind: str) -> None:
    client, key = portal.client, portal.publisher
    data = TOURISM if kind == "organization" else FESTIVALS
    created = result(action(client, f"{kind}_create", data, key=key))
    assert created["name"] == data["name"] and created["type"] == kind and created["state"] == "active"
    assert created["is_organization"] is (kind == "organization") and created["package_count"] == 0
    assert result(action(client, f"{kind}_show", {"id": created["id"]}))["title"] == created["title"]
    assert data["name"] in result(action(client, f"{kind}_list"))
    listed = result(action(client, f"{kind}_list", {"all_fields": True, f"{kind}s": [data["name"]]}))
    assert [d["id"] for d in listed] == [created["id"]]

    update = {"id": created["id"], "name": data["name"], "title": "Mới", "image_url": "https://x.example/a.png"}
    updated = result(action(client, f"{kind}_update", update, key=key))
    assert updated["title"] == "Mới" and updated["description"] == "" and updated["image_url"].endswith("a.png")
    patched = result(action(client, f"{kind}_patch", {"id": data["name"], "description": "Mô tả"}, key=key))
    assert patched["title"] == "Mới" and patched["description"] == "Mô tả"

    deleted = action(client, f"{kind}_delete", {"id": data["name"]}, key=key)
    assert result(deleted) is None
    assert data["name"] not in result(action(client, f"{kind}_list"))
    error(action(client, f"{kind}_show", {"id": data["name"]}), 404, "Not Found Error")
    assert result(action(client, f"{kind}_show", {"id": data["name"]}, key=key))["state"] == "deleted"
    # the name stays taken while the deleted one is kept (CKAN's group table keeps it too)
    taken = error(action(client, f"{kind}_create", data, key=key), 409, "Validation Error")
    assert taken["name"] == ["Group name already exists in database"]


@pytest.mark.parametrize("kind", ["organization", "group"])
def test_validation_and_not_found_errors(portal: Portal, kind: str) -> None:
    client, key = portal.client, portal.publisher
    bad = error(
        action(client, f"{kind}_create", {"name": "Sở Y tế", "state": "gone"}, key=key), 409, "Validation Error"
    )
    assert bad["name"] == ["Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_"]
    assert bad["state"] == ["Must be one of: active, deleted"]
    missing = error(action(client, f"{kind}_create", {"title": "x"}, key=key), 409, "Validation Error")
    assert missing["name"] == ["Missing value"]
    in_use = error(action(client, f"{kind}_create", {"name": "so-y-te"}, key=key), 409, "Validation Error")
    assert in_use["name"] == ["Group name already exists in database"]
    for name in (f"{kind}_update", f"{kind}_patch", f"{kind}_delete"):
        error(action(client, name, {"id": "khong-co", "name": "khong-co"}, key=key), 404, "Not Found Error")
    error(action(client, f"{kind}_delete", {}, key=key), 409, "Validation Error")


def test_writes_need_a_publisher_and_are_audited(portal: Portal) -> None:
    client = portal.client
    for name in ("organization_create", "group_create"):
        error(action(client, name, TOURISM), 403, "Authorization Error")
        error(action(client, name, TOURISM, key=portal.analyst), 403, "Authorization Error")
    for name in ("organization_update", "organization_patch", "organization_delete", "group_delete"):
        error(action(client, name, {"id": "so-y-te"}, key=portal.analyst), 403, "Authorization Error")
    admin = api_key(client, Role.ADMINISTRATOR)
    created = result(action(client, "organization_create", TOURISM, key=portal.publisher))
    error(action(client, "organization_create", TOURISM, key=portal.publisher), 409, "Validation Error")
    result(action(client, "organization_patch", {"id": "so-du-lich", "title": "Du lịch"}, key=admin))
    result(action(client, "group_create", FESTIVALS, key=portal.publisher))
    result(action(client, "group_delete", {"id": "le-hoi"}, key=portal.publisher))
    result(action(client, "organization_show", {"id": "so-du-lich"}))
    flush(client)
    records = [r for r in iter_all(portal.store) if r.action.startswith("opendata.")]
    assert [(r.action, r.outcome, r.status) for r in records] == [
        ("opendata.organization.create", "denied", 403),
        ("opendata.organization.create", "denied", 403),
        ("opendata.group.create", "denied", 403),
        ("opendata.group.create", "denied", 403),
        ("opendata.organization.update", "denied", 403),
        ("opendata.organization.patch", "denied", 403),
        ("opendata.organization.delete", "denied", 403),
        ("opendata.group.delete", "denied", 403),
        ("opendata.organization.create", "success", 200),
        ("opendata.organization.create", "failure", 409),
        ("opendata.organization.patch", "success", 200),
        ("opendata.group.create", "success", 200),
        ("opendata.group.delete", "success", 200),
    ]
    assert records[8].details["organization_id"] == created["id"]
    assert records[8].details["organization_name"] == "so-du-lich"
    assert records[8].role == "data_publisher" and records[10].role == "administrator"
    assert records[12].details["group_id"] == "le-hoi"  # a delete records the id or name it was given


def test_datasets_under_a_new_organisation_and_group(portal: Portal) -> None:
    client, key = portal.client, portal.publisher
    org = result(action(client, "organization_create", TOURISM, key=key))
    result(action(client, "group_create", FESTIVALS, key=key))
    dataset = result(
        action(client, "package_create", air_quality(owner_org="so-du-lich", groups=[{"name": "le-hoi"}]), key=key)
    )
    assert dataset["owner_org"] == org["id"] and dataset["organization"]["title"] == "Sở Du lịch"
    found = result(
        action(client, "package_search", {"fq": "organization:so-du-lich", "facet.field": '["organization"]'})
    )
    assert [d["name"] for d in found["results"]] == ["chat-luong-khong-khi"]
    assert found["search_facets"]["organization"]["items"][0]["display_name"] == "Sở Du lịch"
    assert result(action(client, "package_search", {"fq": "groups:le-hoi"}))["count"] == 1
    shown = result(action(client, "organization_show", {"id": "so-du-lich", "include_datasets": True}))
    assert shown["package_count"] == 1 and [d["name"] for d in shown["packages"]] == ["chat-luong-khong-khi"]

    refused = error(action(client, "organization_delete", {"id": "so-du-lich"}, key=key), 409, "Validation Error")
    assert refused["message"] == ["Organization cannot be deleted while it still has datasets"]
    result(action(client, "organization_patch", {"id": "so-du-lich", "title": "Sở Du lịch TP"}, key=key))
    shown_dataset = result(action(client, "package_show", {"id": dataset["id"]}))
    assert shown_dataset["organization"]["title"] == "Sở Du lịch TP"
    result(action(client, "package_delete", {"id": dataset["id"]}, key=key))
    assert result(action(client, "organization_delete", {"id": "so-du-lich"}, key=key)) is None
