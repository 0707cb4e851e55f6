"""The catalogue's storage on both backends: datasets and resources, validation, visibility, tenants."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from smartcity.hub.store import Store, open_store
from smartcity.hub.store.postgres import drop_database
from smartcity.opendata.catalogue.reference import licenses, parties
from smartcity.opendata.catalogue.repository import SqlCatalogue
from smartcity.opendata.contracts import NotAuthorized, NotFound, SearchQuery, ValidationFailed
from tests.conftest import PG_BASE
from tests.opendata.catalogue.support import air_quality, car_parks, flood


def test_seeding_adds_every_department_and_theme_once(store: Store) -> None:
    catalogue = SqlCatalogue(store, "")
    assert catalogue.seed() == len(parties())
    assert catalogue.seed() == 0
    orgs = catalogue.organizations()
    assert "so-giao-thong-van-tai" in orgs and "trung-tam-chong-ngap" in orgs and "so-y-te" in orgs
    assert {"transport", "environment", "flood", "health", "administration", "economy"} <= set(catalogue.groups())
    shown = catalogue.show_organization("so-y-te")
    assert shown["title_translated"] == {"vi": "Sở Y tế", "en": "Department of Health"}
    assert shown["is_organization"] is True and shown["package_count"] == 0
    assert {"CC-BY-4.0", "ODC-BY-1.0", "CC0-1.0", "ODbL-1.0", "other-closed"} <= {lic["id"] for lic in licenses()}


def test_create_then_show_gives_ckan_package_dict(catalogue: SqlCatalogue) -> None:
    created = catalogue.create_dataset(air_quality(), user="publisher-1")
    shown = catalogue.show_dataset("chat-luong-khong-khi")
    assert shown == created == catalogue.show_dataset(created["id"])
    assert shown["organization"]["name"] == "so-tai-nguyen-va-moi-truong"
    assert shown["owner_org"] == shown["organization"]["id"]
    assert shown["title_translated"] == {"vi": "Chất lượng không khí theo giờ", "en": "Hourly air quality"}
    assert [t["name"] for t in shown["tags"]] == ["không khí", "PM2.5"] and shown["num_tags"] == 2
    assert [g["name"] for g in shown["groups"]] == ["environment"]
    assert shown["license_title"] == "Creative Commons Attribution 4.0" and shown["isopen"] is True
    assert shown["spatial"] == '{"type":"Point","coordinates":[106.7,10.78]}'
    assert shown["temporal_start"] == "2025-01-01" and shown["frequency"] == "hourly"
    assert shown["state"] == "active" and shown["private"] is False and shown["type"] == "dataset"
    assert shown["creator_user_id"] == "publisher-1"
    assert shown["metadata_created"] == shown["metadata_modified"]
    datetime.fromisoformat(shown["metadata_created"])  # CKAN's ISO 8601 without offset
    res = shown["resources"]
    assert shown["num_resources"] == 2 and [r["position"] for r in res] == [0, 1]
    assert [r["format"] for r in res] == ["CSV", "Parquet"]  # guessed from the URL, then normalised
    assert res[0]["package_id"] == shown["id"] and res[0]["datastore_active"] is False
    assert catalogue.show_resource(res[1]["id"]) == res[1]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "A"}, "name", "Must be at least 2 characters long"),
        (
            {"name": "Chất-lượng"},
            "name",
            "Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_",
        ),
        ({"name": "x" * 101}, "name", "Name must be a maximum of 100 characters long"),
        ({"name": None}, "name", "Missing value"),
        ({"owner_org": "so-khong-co"}, "owner_org", "Organization does not exist"),
        ({"owner_org": None}, "owner_org", "An organization must be provided"),
        ({"license_id": "WTFPL"}, "license_id", "License not found"),
        ({"groups": [{"name": "sports"}]}, "groups", "Group was not found."),
        (
            {"frequency": "sometimes"},
            "frequency",
            "Must be one of: continuous, hourly, daily, weekly, monthly, quarterly, annual, irregular, never",
        ),
        (
            {"temporal_start": "yesterday"},
            "temporal_start",
            "Date format incorrect: use ISO 8601 (2026-01-31 or 2026-01-31T08:00:00Z)",
        ),
        (
            {"temporal_start": "2025-02-01", "temporal_end": "2025-01-01"},
            "temporal_end",
            "Must not be before temporal_start",
        ),
        (
            {"spatial": {"type": "Point", "coordinates": [500, 10]}},
            "spatial",
            "Must be a GeoJSON geometry (Point, LineString, Polygon or their Multi- forms)",
        ),
        ({"tags": ["x"]}, "tags", 'Tag "x" length is less than minimum 2'),
        ({"tags": ["a<b>"]}, "tags", 'Tag "a<b>" must be alphanumeric characters or symbols: -_.'),
        ({"private": "maybe"}, "private", "Must be a boolean"),
        ({"extras": [{"key": "title", "value": "x"}]}, "extras", "There is a schema field with the same name: title"),
        (
            {"title_translated": {"fr": "Qualité de l'air"}},
            "title_translated",
            "Unsupported language: fr (use vi or en)",
        ),
        ({"author_email": "not-an-email"}, "author_email", "Email not-an-email is not a valid format"),
        ({"resources": [{"url": "x", "size": "big"}]}, "resources/0/size", "Invalid integer"),
    ],
)
def test_invalid_datasets_get_ckan_field_errors(
    catalogue: SqlCatalogue, change: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        catalogue.create_dataset(air_quality(**change), user="p")
    assert message in caught.value.errors[field]
    assert catalogue.list_datasets() == []


def test_every_problem_is_reported_at_once(catalogue: SqlCatalogue) -> None:
    with pytest.raises(ValidationFailed) as caught:
        catalogue.create_dataset({"name": "A", "owner_org": "nope", "license_id": "x"}, user="p")
    assert set(caught.value.errors) == {"name", "owner_org", "license_id"}


def test_names_and_resource_ids_are_unique(catalogue: SqlCatalogue) -> None:
    first = catalogue.create_dataset(air_quality(), user="p")
    with pytest.raises(ValidationFailed) as caught:
        catalogue.create_dataset(air_quality(), user="p")
    assert caught.value.errors == {"name": ["That URL is already in use."]}
    taken = first["resources"][0]["id"]
    with pytest.raises(ValidationFailed) as caught:
        catalogue.create_dataset(car_parks(resources=[{"id": taken, "url": "https://x/y.csv"}]), user="p")
    assert "resources" in caught.value.errors
    assert catalogue.list_datasets() == ["chat-luong-khong-khi"]


def test_update_replaces_and_keeps_identity_and_resources(catalogue: SqlCatalogue) -> None:
    created = catalogue.create_dataset(air_quality(), user="p")
    changed = {k: v for k, v in air_quality(title="Không khí", tags=["aqi"]).items() if k != "resources"}
    updated = catalogue.update_dataset({**changed, "id": created["id"]}, user="q")
    assert updated["id"] == created["id"] and updated["title"] == "Không khí"
    assert [t["name"] for t in updated["tags"]] == ["aqi"]
    assert updated["resources"] == created["resources"]  # no resources sent: kept, times included
    assert updated["metadata_created"] == created["metadata_created"]
    assert updated["metadata_modified"] >= created["metadata_modified"]
    one = {**created["resources"][1], "name": "Parquet (mới)"}
    again = catalogue.update_dataset({**changed, "id": created["id"], "resources": [one]}, user="q")
    assert [(r["id"], r["name"], r["position"]) for r in again["resources"]] == [(one["id"], "Parquet (mới)", 0)]
    assert again["resources"][0]["created"] == created["resources"][1]["created"]
    with pytest.raises(NotFound):
        catalogue.update_dataset({**changed, "id": "khong-co"}, user="q")


def test_patch_changes_only_given_fields(catalogue: SqlCatalogue) -> None:
    catalogue.create_dataset(air_quality(), user="p")
    patched = catalogue.patch_dataset({"id": "chat-luong-khong-khi", "notes": "Mới", "private": True}, user="p")
    assert patched["notes"] == "Mới" and patched["private"] is True
    assert patched["title"] == "Chất lượng không khí theo giờ" and patched["num_resources"] == 2
    assert [t["name"] for t in patched["tags"]] == ["không khí", "PM2.5"]


def test_private_and_deleted_datasets_are_hidden_from_the_public(catalogue: SqlCatalogue) -> None:
    catalogue.create_dataset(air_quality(private=True), user="p")
    catalogue.create_dataset(car_parks(), user="p")
    with pytest.raises(NotAuthorized):
        catalogue.show_dataset("chat-luong-khong-khi")
    assert catalogue.show_dataset("chat-luong-khong-khi", include_private=True)["private"] is True
    private_res = catalogue.show_dataset("chat-luong-khong-khi", include_private=True)["resources"][0]["id"]
    with pytest.raises(NotFound):
        catalogue.show_resource(private_res)
    assert catalogue.show_resource(private_res, include_private=True)["id"] == private_res
    assert catalogue.list_datasets() == ["bai-do-xe"]
    catalogue.delete_dataset("bai-do-xe", user="p")
    catalogue.delete_dataset("bai-do-xe", user="p")  # deleting twice is fine, as in CKAN
    with pytest.raises(NotFound):
        catalogue.show_dataset("bai-do-xe")
    assert catalogue.show_dataset("bai-do-xe", include_private=True)["state"] == "deleted"
    assert catalogue.list_datasets() == []
    assert catalogue.tags() == []
    assert catalogue.show_organization("so-giao-thong-van-tai")["package_count"] == 0
    with pytest.raises(NotFound):
        catalogue.delete_dataset("khong-co", user="p")


def test_lists_tags_counts_and_paging(catalogue: SqlCatalogue) -> None:
    for data in (air_quality(), car_parks(), flood()):
        catalogue.create_dataset(data, user="p")
    assert catalogue.list_datasets() == ["bai-do-xe", "chat-luong-khong-khi", "muc-nuoc"]
    assert catalogue.list_datasets(limit=1, offset=1) == ["chat-luong-khong-khi"]
    assert catalogue.list_datasets(offset=2) == ["muc-nuoc"]
    assert "mực nước" in catalogue.tags() and catalogue.tags(query="muc") == ["mực nước"]
    env = catalogue.show_group("environment", include_datasets=True)
    assert env["package_count"] == 2
    assert sorted(d["name"] for d in env["packages"]) == ["chat-luong-khong-khi", "muc-nuoc"]
    with pytest.raises(NotFound):
        catalogue.show_group("so-y-te")  # an organisation, not a group


def test_modified_since_yields_public_datasets_in_order(catalogue: SqlCatalogue) -> None:
    catalogue.create_dataset(air_quality(), user="p")
    catalogue.create_dataset(car_parks(private=True), user="p")
    catalogue.create_dataset(flood(), user="p")
    assert [d["name"] for d in catalogue.modified_since(None)] == ["chat-luong-khong-khi", "muc-nuoc"]
    later = datetime.now(UTC) + timedelta(hours=1)
    assert list(catalogue.modified_since(later)) == []


def test_each_tenant_has_its_own_catalogue(store: Store) -> None:
    city, other = SqlCatalogue(store, ""), SqlCatalogue(store, "district-1")
    city.seed()
    other.seed()
    city.create_dataset(air_quality(), user="p")
    assert other.list_datasets() == []
    with pytest.raises(NotFound):
        other.show_dataset("chat-luong-khong-khi")
    other.create_dataset(air_quality(title="Quận 1"), user="p")  # the same name in another tenant
    assert city.show_dataset("chat-luong-khong-khi")["title"] == "Chất lượng không khí theo giờ"
    assert other.show_dataset("chat-luong-khong-khi")["title"] == "Quận 1"
    assert [d["title"] for d in other.search(SearchQuery(q="quan 1")).results] == ["Quận 1"]
    assert city.search(SearchQuery(q="quan 1")).count == 0


@pytest.fixture
def own_pg_store() -> Iterator[Store]:
    """A PostgreSQL database of its own (the test changes its schema)."""
    url = f"{PG_BASE}/smartcity_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    store = open_store(url)
    try:
        yield store
    finally:
        store.close()
        drop_database(url)


@pytest.mark.postgres
def test_the_postgres_terms_array_is_filled_for_datasets_made_before_it(own_pg_store: Store) -> None:
    """Migration 0022 copies each existing dataset's terms into its new array: filters keep finding them."""
    pg_store = own_pg_store
    catalogue = SqlCatalogue(pg_store, "")
    catalogue.seed()
    for data in (air_quality(), car_parks(), flood()):
        catalogue.create_dataset(data, user="p")
    with pg_store.transaction(write=True) as db:  # back to the schema before 0022
        db.run("DROP INDEX opendata_datasets_terms")
        db.run("ALTER TABLE opendata_datasets DROP COLUMN terms")
        db.run("DELETE FROM schema_migrations WHERE version = 22")
    assert pg_store.migrate() == ["0022_opendata_search_terms.sql"]
    found = catalogue.search(SearchQuery(fq=(("groups", "environment"), ("res_format", "Parquet"))))
    assert [d["name"] for d in found.results] == ["chat-luong-khong-khi"]
    facets = catalogue.search(SearchQuery(fq=(("groups", "environment"),), facet_fields=("organization",))).facets
    assert facets == {"organization": {"so-tai-nguyen-va-moi-truong": 1, "trung-tam-chong-ngap": 1}}


def test_the_sqlite_term_numbers_are_filled_for_datasets_made_before_them(tmp_path: object) -> None:
    """Migration 0022 (SQLite) numbers the terms of existing datasets: filters and facets keep finding them."""
    store = open_store(f"sqlite:///{tmp_path}/before.db")
    try:
        catalogue = SqlCatalogue(store, "")
        catalogue.seed()
        for data in (air_quality(), car_parks(), flood()):
            catalogue.create_dataset(data, user="p")
        with store.transaction(write=True) as db:  # back to the schema before 0022
            db.run("DROP TABLE opendata_dataset_term_ids")
            db.run("DROP TABLE opendata_terms")
            db.run("DELETE FROM schema_migrations WHERE version = 22")
        assert store.migrate() == ["0022_opendata_search_terms.sql"]
        found = catalogue.search(SearchQuery(fq=(("groups", "environment"), ("res_format", "Parquet"))))
        assert [d["name"] for d in found.results] == ["chat-luong-khong-khi"]
        query = SearchQuery(fq=(("groups", "environment"),), facet_fields=("organization",))
        facets = catalogue.search(query).facets
        assert facets == {"organization": {"so-tai-nguyen-va-moi-truong": 1, "trung-tam-chong-ngap": 1}}
        catalogue.create_dataset(flood(name="trieu-cuong", title="Triều cường"), user="p")  # numbers reused
        assert catalogue.search(query).facets["organization"]["trung-tam-chong-ngap"] == 2
    finally:
        store.close()
