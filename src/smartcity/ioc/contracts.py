"""How the operations centre's parts talk to each other (rules → alerts → incidents ← citizen reports).

Each part implements or consumes these and nothing else of the others, so each can be built and tested alone.
All times are timezone-aware UTC datetimes; JSON views use ISO 8601 strings with ``Z``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INFO = "info"


#: most severe first (0) to least (4)
SEVERITY_RANK: Mapping[Severity, int] = {s: i for i, s in enumerate(Severity)}


# -- rules → alerts --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    """A rule's verdict about one subject, from the rules engine to the alert manager.

    ``firing=True``: the condition holds (after its ``for`` duration). The engine sends it when the condition
    starts holding and then again at most every ``REFRESH_SECONDS`` while it keeps holding (the alert's ``count``
    and ``lastSeen`` move). ``firing=False``: the condition has ended (past the rule's hysteresis); the alert
    manager clears the active alert automatically.

    ``subject`` is what the alert is about: an entity id, or for an aggregate over a group (mean PM2.5 over a
    ward) the group's id (the ward entity's id). One active alert exists per (rule_id, subject).
    """

    rule_id: str
    rule_version: int
    rule_name: str
    subject: str
    subject_type: str | None
    firing: bool
    severity: Severity
    at: datetime
    labels: Mapping[str, str] = field(default_factory=dict)  # "domain" always; "ward" (ward code) when known
    value: float | None = None
    summary_vi: str = ""
    summary_en: str = ""
    location: Mapping[str, Any] | None = None  # GeoJSON geometry of the subject


REFRESH_SECONDS = 60.0

#: alert domains (the ``domain`` label): what the dashboard filters and KPIs group by
DOMAINS = ("flood", "air", "traffic", "parking", "transit", "devices", "security", "health", "weather", "other")


class AlertSink(Protocol):
    async def signal(self, signal: Signal) -> None:
        """Raise, refresh or clear the alert the signal is about (deduplicated per rule and subject)."""


class AlertsView(Protocol):
    def get(self, alert_id: str) -> Mapping[str, Any] | None:
        """The alert's JSON view (as ``GET /ioc/alerts/{id}`` answers), or None."""

    def summary(self) -> Mapping[str, Any]:
        """Figures for KPIs: {"active": n, "unacknowledged": n, "activeByDomain": {domain: n},
        "activeBySeverity": {severity: n}, "mttaSeconds": float | None, "mttrSeconds": float | None}
        (mean time to acknowledge / to clear over the alerts of the last 30 days)."""


# -- alerts, citizen reports, operators → incidents ------------------------------------------------------------


@dataclass(frozen=True)
class Department:
    code: str
    name_vi: str
    name_en: str
    domains: tuple[str, ...]  # alert domains it owns by default


#: the city departments incidents are routed to (HCMC after the 2025 reorganisation); the incidents part may add
#: more from its data files, never remove these codes
DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "transport",
        "Sở Xây dựng - Quản lý giao thông",
        "Construction Dept. - Traffic management",
        ("traffic", "transit", "parking"),
    ),
    Department(
        "environment", "Sở Nông nghiệp và Môi trường", "Dept. of Agriculture and Environment", ("air", "weather")
    ),
    Department(
        "flood_control", "Trung tâm Chống ngập - Hạ tầng kỹ thuật", "Flood control and drainage centre", ("flood",)
    ),
    Department("construction", "Sở Xây dựng", "Dept. of Construction", ()),
    Department("parks_trees", "Công ty Công viên cây xanh", "Parks and trees company", ()),
    Department("police", "Công an Thành phố", "City Police", ("security",)),
    Department("health", "Sở Y tế", "Dept. of Health", ("health",)),
    Department("urban_order", "UBND phường/xã - Trật tự đô thị", "Ward People's Committee - urban order", ()),
    Department("administration", "Trung tâm Phục vụ hành chính công", "Public administrative services centre", ()),
    Department(
        "it_operations",
        "Trung tâm Điều hành đô thị thông minh",
        "Smart city operations centre (IOC)",
        ("devices", "other"),
    ),
)


class IncidentStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


@dataclass(frozen=True)
class IncidentRequest:
    """Open an incident. ``department`` None: the incident type's default department (and, for a ward-bound
    type, the ward's unit). ``source`` is "manual", "alert" or "open311"; ``source_ref`` the alert id or the
    Open311 service_request_id."""

    type: str
    title: str
    description: str
    severity: Severity
    source: str
    opened_by: str  # a principal's subject, or "rules" / "open311"
    source_ref: str | None = None
    department: str | None = None
    ward: str | None = None  # ward code (the AdministrativeArea entity's ``code``)
    location: Mapping[str, Any] | None = None  # GeoJSON Point
    domain: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


class IncidentDesk(Protocol):
    def open(self, request: IncidentRequest) -> Mapping[str, Any]:
        """Open an incident; returns its JSON view (``id``, ``status``, ``department``, ``dueAt``, ...)."""

    def get(self, incident_id: str) -> Mapping[str, Any] | None: ...

    def public_status(self, incident_id: str) -> Mapping[str, Any] | None:
        """What a citizen may see: {"status": IncidentStatus, "statusNotes": str | None (the latest public
        note), "expectedAt": iso | None (the SLA deadline), "updatedAt": iso, "department": code,
        "departmentName": {"vi": ..., "en": ...}}."""

    def summary(self) -> Mapping[str, Any]:
        """Figures for KPIs: {"open": n, "openByDepartment": {code: n}, "openByDomain": {domain: n},
        "mttrSeconds": float | None, "slaBreached": n, "reportsTotal": n (source open311, last 30 days),
        "reportsOnTimeShare": float | None (share of those resolved before their deadline)}."""
