"""Every alert is also an NGSI-LD ``Alert`` entity in the hub (FIWARE Smart Data Models ``Alert``), so other
systems subscribe to alerts as to any city data.

The entity's id is ``urn:ngsi-ld:Alert:<alert id>``; names are expanded with the NGSI-LD core @context (as the
IoT agent writes its models). Our own members (``status``, ``acknowledged``, ``count``, ``ruleId``...) ride along
the model's. The bundled schema (``schemas/``, CC BY 4.0, see DATA_SOURCES.md) gives the sub-categories.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import orjson

from smartcity.hub.model import Entity, Instance
from smartcity.hub.service import Hub
from smartcity.ioc.alerts.model import Alert
from smartcity.ioc.contracts import Severity

log = logging.getLogger(__name__)

ENTITY_TYPE = "Alert"
ID_PREFIX = "urn:ngsi-ld:Alert:"

#: our severities -> the Smart Data Models enumeration
SDM_SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.MAJOR: "high",
    Severity.MINOR: "medium",
    Severity.WARNING: "low",
    Severity.INFO: "informational",
}
#: alert domain -> (SDM category, default subCategory); domains without a model category carry neither
SDM_CATEGORY: dict[str, tuple[str, str | None]] = {
    "flood": ("naturalDisaster", "flood"),
    "air": ("environment", "airPollution"),
    "weather": ("weather", None),
    "traffic": ("traffic", "trafficJam"),
    "transit": ("traffic", None),
    "parking": ("traffic", None),
    "security": ("security", None),
    "health": ("health", None),
}


def entity_id(alert_id: str) -> str:
    return ID_PREFIX + alert_id


@cache
def sub_categories() -> frozenset[str]:
    """The subCategory values the bundled Alert schema enumerates."""
    raw = resources.files(__package__).joinpath("schemas", "Alert", "schema.json").read_bytes()
    schema = orjson.loads(raw)
    for part in schema["allOf"]:
        sub = part.get("properties", {}).get("subCategory")
        if sub is not None:
            return frozenset(v for option in sub["anyOf"] for v in option.get("enum", ()))
    return frozenset()


def key_values(alert: Alert) -> dict[str, Any]:
    """The entity's attributes as plain values (before expansion)."""
    out: dict[str, Any] = {
        "severity": SDM_SEVERITY[alert.severity],
        "description": alert.summary_en or alert.summary_vi or alert.rule_name,
        "alertSource": alert.subject,
        "dateIssued": alert.first_seen,
        "validFrom": alert.first_seen,
        "status": alert.status,
        "acknowledged": alert.acknowledged,
        "count": alert.count,
        "ruleId": alert.rule_id,
        "ruleName": alert.rule_name,
        "alertSeverity": str(alert.severity),
        "escalationLevel": alert.escalation_level,
        "domain": alert.domain,
        "data": {
            k: v
            for k, v in (("value", alert.value), ("lastSeen", alert.last_seen), ("summaryVi", alert.summary_vi))
            if v is not None
        },
    }
    category = SDM_CATEGORY.get(alert.domain)
    if category is not None:
        out["category"] = category[0]
        sub = alert.labels.get("subCategory") or category[1]
        if sub is not None and sub in sub_categories():
            out["subCategory"] = sub
    if alert.ward:
        out["ward"] = alert.ward
    if alert.cleared_at is not None:
        out["validTo"] = alert.cleared_at
    if alert.incident_id is not None:
        out["incidentId"] = alert.incident_id
    return out


def to_entity(alert: Alert, expand: Callable[[str], str]) -> Entity:
    attrs: dict[str, list[Instance]] = {}
    for name, value in key_values(alert).items():
        if value is None:
            continue
        attrs[expand(name)] = [{"type": "Property", "value": value}]
    if alert.location is not None:
        attrs[expand("location")] = [{"type": "GeoProperty", "value": dict(alert.location)}]
    return Entity(entity_id(alert.id), [expand(ENTITY_TYPE)], attrs)


class AlertEntities:
    """Writes alerts into the hub (replacing the entity, so a cleared alert gets its ``validTo``)."""

    def __init__(self, hub: Hub, tenant: str, expand: Callable[[str], str]) -> None:
        self.hub = hub
        self.tenant = tenant
        self.expand = expand

    def upsert(self, alert: Alert) -> None:
        try:
            result = self.hub.batch_upsert(self.tenant, [to_entity(alert, self.expand)])
        except Exception:
            log.exception("writing the Alert entity of alert %s into the hub failed", alert.id)
            return
        for failed, error in result.errors:
            log.error("the hub refused the Alert entity %s: %s", failed, error)
