"""Organisations and groups kept by the catalogue: created, edited and deleted, carried into their datasets, and
seeding that never undoes an operator's edits."""

from __future__ import annotations

import pytest

from smartcity.hub.store import Store
from smartcity.opendata.catalogue.reference import parties
from smartcity.opendata.catalogue.repository import SqlCatalogue
from smartcity.opendata.contracts import NotFound, SearchQuery, ValidationFailed
from tests.opendata.catalogue.support import air_quality


def department(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "so-du-lich",
        "title_translated": {"vi": "Sở Du lịch", "en": "Department of Tourism"},
        "description_translated": {"vi": "Du lịch và lễ hội.", "en": "Tourism and festivals."},
        "image_url": "https://data.example/du-lich.png",
        "extras": [{"key": "website", "value": "https://sodulich.example"}],
    }
    data.update(overrides)
    return data


def test_edits_of_a_seeded_organisation_survive_seeding_again(store: Store) -> None:
    catalogue = SqlCatalogue(store, "")
    total = catalogue.seed()
    assert total == len(parties())
    catalogue.patch_organization({"id": "so-y-te", "title": "Sở Y tế TP.HCM"}, user="op")
    catalogue.patch_organization({"id": "cuc-thong-ke", "name": "cuc-thong-ke-tp"}, user="op")
    catalogue.delete_group("weather", user="op")
    again = SqlCatalogue(store, "")
    assert again.seed() == 0
    assert again.show_organization("so-y-te")["title"] == "Sở Y tế TP.HCM"
    assert "cuc-thong-ke" not in again.organizations() and "cuc-thong-ke-tp" in again.organizations()
    assert "weather" not in again.groups()
    assert again.show_group("weather", include_deleted=True)["state"] == "deleted"
    assert len(again.organizations()) + len(again.groups()) == total - 1


def test_create_update_patch_delete(catalogue: SqlCatalogue) -> None:
    created = catalogue.create_organization(department(), user="alice")
    assert created["title"] == "Sở Du lịch" and created["display_name"] == "Sở Du lịch"
    assert created["description"] == "Du lịch và lễ hội." and created["is_organization"] is True
    assert created["type"] == "organization" and created["state"] == "active" and created["package_count"] == 0
    assert created["image_display_url"] == "https://data.example/du-lich.png"
    assert created["extras"] == [{"key": "website", "value": "https://sodulich.example", "state": "active"}]
    assert catalogue.show_organization(created["id"]) == catalogue.show_organization("so-du-lich")

    updated = catalogue.update_organization({"id": created["id"], "name": "so-du-lich", "title": "Du lịch"}, user="a")
    assert updated["title"] == "Du lịch" and updated["created"] == created["created"]
    assert updated["extras"] == [] and updated["image_url"] == ""  # a full replace
    patched = catalogue.patch_organization({"id": "so-du-lich", "description": "Mới"}, user="a")
    assert patched["title"] == "Du lịch" and patched["description"] == "Mới"

    catalogue.delete_organization("so-du-lich", user="a")
    assert "so-du-lich" not in catalogue.organizations()
    with pytest.raises(NotFound):
        catalogue.show_organization("so-du-lich")
    assert catalogue.show_organization("so-du-lich", include_deleted=True)["state"] == "deleted"
    with pytest.raises(ValidationFailed) as refused:  # no dataset may join a deleted organisation
        catalogue.create_dataset(air_quality(owner_org="so-du-lich"), user="a")
    assert refused.value.errors == {"owner_org": ["Organization does not exist"]}
    restored = catalogue.patch_organization({"id": "so-du-lich", "state": "active"}, user="a")
    assert restored["state"] == "active" and "so-du-lich" in catalogue.organizations()


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": ""}, {"name": ["Missing value"]}),
        ({"name": "A b"}, {"name": ["Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_"]}),
        ({"name": "x"}, {"name": ["Must be at least 2 characters long"]}),
        ({"name": "x" * 101}, {"name": ["Name must be a maximum of 100 characters long"]}),
        ({"name": "new"}, {"name": ["That name cannot be used"]}),
        ({"name": "so-y-te"}, {"name": ["Group name already exists in database"]}),
        ({"name": "transport"}, {"name": ["Group name already exists in database"]}),  # one namespace
        (
            {"name": "ok-name", "title_translated": {"fr": "x"}},
            {"title_translated": ["Unsupported language: fr (use vi or en)"]},
        ),
        ({"name": "ok-name", "state": "draft"}, {"state": ["Must be one of: active, deleted"]}),
        ({"name": "ok-name", "image_url": "javascript:alert(1)"}, {"image_url": ["Please provide a valid URL"]}),
        (
            {"name": "ok-name", "extras": [{"key": "title", "value": "x"}]},
            {"extras": ["There is a schema field with the same name: title"]},
        ),
        ({"name": "ok-name", "id": "not-a-uuid"}, {"id": ["Must be a UUID"]}),
    ],
)
def test_invalid_organisations_get_ckan_field_errors(
    catalogue: SqlCatalogue, data: dict[str, object], errors: dict[str, list[str]]
) -> None:
    with pytest.raises(ValidationFailed) as failed:
        catalogue.create_organization(data, user="a")
    assert failed.value.errors == errors


def test_renaming_and_retitling_reaches_the_datasets(catalogue: SqlCatalogue) -> None:
    org = catalogue.create_organization(department(), user="a")
    group = catalogue.create_group({"name": "du-lich", "title": "Du lịch"}, user="a")
    dataset = catalogue.create_dataset(
        air_quality(owner_org="so-du-lich", groups=[{"name": "du-lich"}, {"name": "environment"}]), user="a"
    )
    assert catalogue.show_organization("so-du-lich")["package_count"] == 1
    catalogue.patch_organization({"id": org["id"], "name": "so-van-hoa", "title": "Sở Văn hóa"}, user="a")
    shown = catalogue.show_dataset(dataset["id"])
    assert shown["owner_org"] == org["id"] and shown["organization"]["name"] == "so-van-hoa"
    assert shown["organization"]["title"] == "Sở Văn hóa"
    assert catalogue.search(SearchQuery(fq=(("organization", "so-van-hoa"),))).count == 1
    assert catalogue.search(SearchQuery(fq=(("organization", "so-du-lich"),))).count == 0
    assert catalogue.search(SearchQuery(q="van hoa")).count == 1  # the new title is searched, without accents
    facets = catalogue.search(SearchQuery(facet_fields=("organization",))).facets["organization"]
    assert facets == {"so-van-hoa": 1}

    catalogue.patch_group({"id": group["id"], "title": "Lễ hội"}, user="a")
    assert {g["title"] for g in catalogue.show_dataset(dataset["id"])["groups"]} == {"Lễ hội", "Môi trường"}
    catalogue.delete_group("du-lich", user="a")  # CKAN deletes the group's memberships
    assert [g["name"] for g in catalogue.show_dataset(dataset["id"])["groups"]] == ["environment"]
    assert catalogue.search(SearchQuery(fq=(("groups", "du-lich"),))).count == 0


def test_an_organisation_that_owns_datasets_is_not_deleted(catalogue: SqlCatalogue) -> None:
    catalogue.create_organization(department(), user="a")
    catalogue.create_dataset(air_quality(owner_org="so-du-lich", state="draft"), user="a")
    with pytest.raises(ValidationFailed) as refused:
        catalogue.delete_organization("so-du-lich", user="a")
    assert refused.value.errors == {"message": ["Organization cannot be deleted while it still has datasets"]}
    assert catalogue.show_organization("so-du-lich")["state"] == "active"
    catalogue.delete_dataset("chat-luong-khong-khi", user="a")
    catalogue.delete_organization("so-du-lich", user="a")
    assert "so-du-lich" not in catalogue.organizations()


def test_unknown_ids_are_not_found(catalogue: SqlCatalogue) -> None:
    with pytest.raises(NotFound):
        catalogue.update_organization({"id": "khong-co", "name": "khong-co"}, user="a")
    with pytest.raises(NotFound):
        catalogue.delete_group("khong-co", user="a")
    with pytest.raises(NotFound):  # a group is not an organisation
        catalogue.delete_organization("transport", user="a")


def test_another_process_sees_a_renamed_department(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two catalogues on one database stand for two API processes: a department renamed through one reaches the
    other's dataset writes at once and its reads once its copy is older than GROUPS_TTL."""
    first, second = SqlCatalogue(store, ""), SqlCatalogue(store, "")
    first.seed()
    org = first.create_organization(department(), user="a")
    assert second.titles()["so-du-lich"] == "Sở Du lịch"  # the second process keeps a copy
    first.patch_organization({"id": org["id"], "name": "so-van-hoa", "title": "Sở Văn hóa"}, user="a")
    created = second.create_dataset(air_quality(owner_org="so-van-hoa"), user="a")  # the new name, at once
    assert created["organization"]["title"] == "Sở Văn hóa"
    with pytest.raises(ValidationFailed):
        second.create_dataset(air_quality(name="cu", owner_org="so-du-lich"), user="a")
    monkeypatch.setattr("smartcity.opendata.catalogue.repository.GROUPS_TTL", 0.0)  # the copy has aged
    assert second.titles()["so-van-hoa"] == "Sở Văn hóa" and "so-du-lich" not in second.titles()
    assert "so-van-hoa" in second.organizations()
