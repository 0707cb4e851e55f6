"""CKAN clients' credentials (``Authorization: <key>`` without a scheme, ``X-CKAN-API-Key``), who may write,
and the audit trail of every write."""

from __future__ import annotations

import pytest

from smartcity.security.audit.repository import iter_all
from smartcity.security.authn import BadCredential, Presented, presented
from smartcity.security.roles import Role
from tests.opendata.catalogue.support import air_quality
from tests.opendata.ckan.conftest import Portal
from tests.opendata.ckan.support import action, error, result
from tests.security.support import api_key, flush

KEY = "scak_abc123_secret"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({b"authorization": KEY.encode()}, Presented("apikey", KEY)),
        ({b"authorization": f"  {KEY} ".encode()}, Presented("apikey", KEY)),
        ({b"x-ckan-api-key": KEY.encode()}, Presented("apikey", KEY)),
        ({b"authorization": KEY.encode(), b"x-ckan-api-key": KEY.encode()}, Presented("apikey", KEY)),
        ({b"authorization": f"Bearer {KEY}".encode()}, Presented("apikey", KEY)),
        ({b"authorization": b"Bearer scat_token"}, Presented("token", "scat_token")),
        ({b"x-api-key": KEY.encode(), b"x-ckan-api-key": b"scak_other"}, Presented("apikey", KEY)),
        ({b"authorization": b"Basic abc"}, None),
        ({}, None),
    ],
)
def test_presented_credentials(headers: dict[bytes, bytes], expected: Presented | None) -> None:
    assert presented(headers) == expected


@pytest.mark.parametrize(
    "headers",
    [
        {b"authorization": b"scat_token"},  # a bare value must be an API key
        {b"authorization": b"some-key"},
        {b"authorization": b"scak_x trailing"},
        {b"x-ckan-api-key": b""},
        {b"x-ckan-api-key": ("scak_" + "x" * 600).encode()},
    ],
)
def test_malformed_ckan_credentials_are_refused(headers: dict[bytes, bytes]) -> None:
    with pytest.raises(BadCredential):
        presented(headers)


def test_writes_need_a_publisher_credential(portal: Portal) -> None:
    client = portal.client
    anonymous = error(action(client, "package_create", air_quality()), 403, "Authorization Error")
    assert anonymous["message"].startswith("Access denied: ")
    error(action(client, "package_create", air_quality(), key=portal.analyst), 403, "Authorization Error")
    wrong = client.post("/api/3/action/package_create", json=air_quality(), headers={"Authorization": "scak_nope_x"})
    error(wrong, 403, "Authorization Error")
    by_header = client.post(
        "/api/3/action/package_create", json=air_quality(), headers={"X-CKAN-API-Key": portal.publisher}
    )
    assert result(by_header)["name"] == "chat-luong-khong-khi"
    admin = api_key(client, Role.ADMINISTRATOR)
    assert result(action(client, "package_patch", {"id": "chat-luong-khong-khi", "version": "2"}, key=admin))
    error(
        action(client, "package_delete", {"id": "chat-luong-khong-khi"}, key=portal.analyst), 403, "Authorization Error"
    )


def test_every_write_is_audited_and_reads_are_not(portal: Portal) -> None:
    client = portal.client
    created = result(action(client, "package_create", air_quality(), key=portal.publisher))
    error(action(client, "package_create", air_quality(), key=portal.publisher), 409, "Validation Error")
    error(action(client, "package_delete", {"id": "x"}), 403, "Authorization Error")
    result(action(client, "package_search", {"q": "khong khi"}))
    result(action(client, "package_show", {"id": created["id"]}, key=portal.publisher))
    flush(client)
    records = [r for r in iter_all(portal.store) if r.action.startswith("opendata.")]
    assert [(r.action, r.outcome, r.status) for r in records] == [
        ("opendata.package.create", "success", 200),
        ("opendata.package.create", "failure", 409),
        ("opendata.package.delete", "denied", 403),
    ]
    assert records[0].details["dataset_id"] == created["id"]
    assert records[0].details["dataset_name"] == "chat-luong-khong-khi"
    assert records[0].role == "data_publisher"
