"""Every alert is an NGSI-LD ``Alert`` entity in the hub: raised, updated and cleared alerts read back in
key-values form validate against the Smart Data Models Alert schema (bundled copies, resolved without network)."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from smartcity.hub.store import Store
from smartcity.ioc.alerts.entity import SDM_SEVERITY, entity_id
from smartcity.ioc.alerts.manager import AlertManager
from smartcity.ioc.contracts import Severity
from smartcity.iot import models
from tests.ioc.alerts.support import Clock, flood
from tests.security.support import api_key, as_key, running

ALERT_BASE = "https://smart-data-models.github.io/dataModel.Alert/alert-schema.json"
FIWARE_COMMON = "https://fiware.github.io/dataModels/common-schema.json"


def _bundled(*parts: str) -> Any:
    return orjson.loads(resources.files("smartcity.ioc.alerts").joinpath("schemas", *parts).read_bytes())


def _validator() -> Draft202012Validator:
    registry: Registry[Any] = Registry()
    for url in models.DOCUMENTS:
        registry = registry.with_resource(url, Resource.from_contents(models.document(url)))
    common = models.document("https://smart-data-models.github.io/data-models/common-schema.json")
    registry = registry.with_resources(
        [
            (ALERT_BASE, Resource(_bundled("alert-schema.json"), specification=DRAFT202012)),
            (FIWARE_COMMON, Resource.from_contents(common)),
        ]
    )
    schema = _bundled("Alert", "schema.json")
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _entity(client: TestClient, headers: dict[str, str], alert_id: str) -> dict[str, Any]:
    response = client.get(f"/ngsi-ld/v1/entities/{entity_id(alert_id)}?options=keyValues", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("domain", "category", "sub_category"),
    [("flood", "naturalDisaster", "flood"), ("air", "environment", "airPollution"), ("devices", None, None)],
)
def test_alert_entities_follow_the_smart_data_model(
    store: Store, domain: str, category: str | None, sub_category: str | None
) -> None:
    validator = _validator()
    with running(store) as client:
        headers = as_key(api_key(client, "ioc_operator"))
        manager: AlertManager = client.app.state.ioc.alerts  # type: ignore[attr-defined]
        clock = Clock(datetime.now(UTC))
        alert = manager.apply(flood(clock, severity=Severity.MINOR, labels={"domain": domain, "ward": "26740"}))
        assert alert is not None
        raised = _entity(client, headers, alert.id)
        assert sorted(e.message for e in validator.iter_errors(raised)) == []
        assert raised["type"] == "Alert" and raised["id"] == f"urn:ngsi-ld:Alert:{alert.id}"
        assert raised["severity"] == "medium" and raised["status"] == "active"
        assert raised.get("category") == category and raised.get("subCategory") == sub_category
        assert raised["alertSource"] == alert.subject and raised["dateIssued"] == alert.first_seen
        assert raised["location"]["type"] == "Point" and "validTo" not in raised

        manager.apply(flood(clock, severity=Severity.CRITICAL, labels={"domain": domain}))
        updated = _entity(client, headers, alert.id)
        assert updated["severity"] == "critical" and updated["count"] == 2
        assert list(validator.iter_errors(updated)) == []

        manager.apply(flood(clock, firing=False))
        cleared = _entity(client, headers, alert.id)
        assert cleared["status"] == "cleared" and cleared["validTo"] == cleared["validFrom"]
        assert list(validator.iter_errors(cleared)) == []


def test_every_severity_maps_onto_the_model_enumeration() -> None:
    enum = _bundled("alert-schema.json")["definitions"]["Common-Alert"]["properties"]["severity"]["enum"]
    assert sorted(SDM_SEVERITY[s] for s in Severity) == sorted(enum)
