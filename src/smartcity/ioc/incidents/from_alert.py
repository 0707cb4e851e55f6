"""Opening an incident from an alert: what the alert's JSON view (contracts.AlertsView) says about the incident.

The type is the alert's ``incidentType`` label when it names a known type, else the type of the alert's domain
(``alert_domains`` in data/types.yaml); severity, location and ward (``ward`` label, when a known ward code) come
from the alert; the title is its Vietnamese summary (else English, else the rule's name). The request body may
override ``type``, ``severity``, ``department``, ``title`` and ``description``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartcity.ioc.contracts import IncidentRequest, Severity
from smartcity.ioc.incidents.catalogue import Catalogue


def request_from_alert(
    alert: Mapping[str, Any], catalogue: Catalogue, opened_by: str, overrides: Mapping[str, Any]
) -> IncidentRequest:
    labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
    domain = labels.get("domain") or "other"
    named = labels.get("incidentType")
    kind = catalogue.types[named] if named in catalogue.types else catalogue.type_for_domain(domain)
    try:
        severity = Severity(str(alert.get("severity")))
    except ValueError:
        severity = Severity.MINOR
    summary = alert.get("summary") or {}
    title = str(summary.get("vi") or summary.get("en") or alert.get("ruleName") or f"Alert {alert.get('id')}")
    lines = [str(summary.get(k)) for k in ("vi", "en") if summary.get(k)]
    facts = [f"alert {alert.get('id')}", f"rule {alert.get('ruleName') or alert.get('ruleId')}"]
    if alert.get("subject"):
        facts.append(f"subject {alert.get('subject')}")
    if alert.get("value") is not None:
        facts.append(f"value {alert.get('value')}")
    ward = labels.get("ward")
    location = alert.get("location")
    if isinstance(location, Mapping) and location.get("type") != "Point":
        labels.setdefault("area", "polygon")  # the incident keeps points only: an area alert has no single point
        location = None
    return IncidentRequest(
        type=str(overrides.get("type") or kind.code),
        title=str(overrides.get("title") or title)[:200],
        description=str(overrides.get("description") or "\n".join([*lines, "; ".join(facts)])),
        severity=overrides.get("severity") or severity,
        source="alert",
        opened_by=opened_by,
        source_ref=str(alert["id"]),
        department=overrides.get("department"),
        ward=ward if ward in catalogue.wards else None,
        location=dict(location) if isinstance(location, Mapping) else None,
        domain=domain if overrides.get("type") is None and named is None else None,
        labels={**labels, "alertRule": str(alert.get("ruleId") or "")},
    )
