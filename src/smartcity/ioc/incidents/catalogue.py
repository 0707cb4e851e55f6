"""What incidents are about and who owns them: the departments (the city's, plus each ward's People's Committee)
and the incident types (packaged data: ``data/types.yaml``; wards: ``data/wards.json``).

A ward unit's department code is ``ward:<code>`` (the ward's AdministrativeArea ``code``). A ward-bound type
(illegal dumping, sidewalk encroachment, noise, administrative complaints) goes to the ward's unit when the
incident carries a ward code, else to the type's city department.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml  # type: ignore[import-untyped]

from smartcity.hub.errors import BadRequestData
from smartcity.ioc.contracts import DEPARTMENTS, DOMAINS, Department, Severity

WARD_PREFIX = "ward:"


@dataclass(frozen=True)
class Ward:
    code: str
    name: str
    name_en: str
    full_name: str
    full_name_en: str

    @property
    def department(self) -> Department:
        return Department(
            WARD_PREFIX + self.code, f"UBND {self.full_name}", f"{self.full_name_en} People's Committee", ()
        )


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    vi: str
    en: str


@dataclass(frozen=True)
class IncidentType:
    code: str
    name_vi: str
    name_en: str
    domain: str
    department: str
    ward_bound: bool
    sla_hours: Mapping[Severity, float]
    checklist: tuple[ChecklistItem, ...]

    def view(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": {"vi": self.name_vi, "en": self.name_en},
            "domain": self.domain,
            "department": self.department,
            "wardBound": self.ward_bound,
            "slaHours": {s.value: self.sla_hours[s] for s in Severity},
            "checklist": [{"id": i.id, "text": {"vi": i.vi, "en": i.en}} for i in self.checklist],
        }


class Catalogue:
    """The departments, wards and incident types the desk routes with (immutable once loaded)."""

    def __init__(
        self, types: Mapping[str, IncidentType], alert_domains: Mapping[str, str], wards: Mapping[str, Ward]
    ) -> None:
        self.types = dict(types)
        self.alert_domains = dict(alert_domains)
        self.wards = dict(wards)
        self.city_departments = {d.code: d for d in DEPARTMENTS}

    # -- departments -------------------------------------------------------------------------------

    def department(self, code: str) -> Department | None:
        found = self.city_departments.get(code)
        if found is not None:
            return found
        if code.startswith(WARD_PREFIX):
            ward = self.wards.get(code.removeprefix(WARD_PREFIX))
            return ward.department if ward is not None else None
        return None

    def require_department(self, code: object) -> Department:
        if not isinstance(code, str) or not code:
            raise BadRequestData("'department' must be a department code (see GET /ioc/departments)")
        found = self.department(code)
        if found is None:
            raise BadRequestData(f"unknown department {code!r} (see GET /ioc/departments)")
        return found

    def departments(self) -> list[dict[str, Any]]:
        out = [_department_view(d, "city") for d in DEPARTMENTS]
        for ward in sorted(self.wards.values(), key=lambda w: w.code):
            view = _department_view(ward.department, "ward")
            view["ward"] = ward.code
            out.append(view)
        return out

    # -- types and wards ---------------------------------------------------------------------------

    def require_type(self, code: object) -> IncidentType:
        if not isinstance(code, str) or not code:
            raise BadRequestData("'type' must be an incident type code (see GET /ioc/incident-types)")
        found = self.types.get(code)
        if found is None:
            raise BadRequestData(f"unknown incident type {code!r} (see GET /ioc/incident-types)")
        return found

    def require_ward(self, code: object) -> Ward:
        if not isinstance(code, str) or code not in self.wards:
            raise BadRequestData(f"unknown ward code {code!r} (the AdministrativeArea code of one of the 168 wards)")
        return self.wards[code]

    def type_for_domain(self, domain: str | None) -> IncidentType:
        """The type an alert of ``domain`` opens (the general type for an unknown domain)."""
        code = self.alert_domains.get(domain or "other") or self.alert_domains["other"]
        return self.types[code]

    def default_department(self, kind: IncidentType, ward: str | None) -> str:
        if kind.ward_bound and ward is not None and ward in self.wards:
            return WARD_PREFIX + ward
        return kind.department


def _department_view(d: Department, kind: str) -> dict[str, Any]:
    return {"code": d.code, "name": {"vi": d.name_vi, "en": d.name_en}, "kind": kind, "domains": list(d.domains)}


# -- loading -------------------------------------------------------------------------------------------------


def _text(name: str) -> str:
    return resources.files("smartcity.ioc.incidents").joinpath("data", name).read_text(encoding="utf-8")


def parse_types(document: Any) -> tuple[dict[str, IncidentType], dict[str, str]]:
    """The types and the domain mapping of a types document; ValueError says what is wrong."""
    if not isinstance(document, dict) or not isinstance(document.get("types"), dict):
        raise ValueError("an incident types document needs a 'types' mapping")
    codes = {d.code for d in DEPARTMENTS}
    types: dict[str, IncidentType] = {}
    for code, raw in document["types"].items():
        try:
            name = raw["name"]
            hours = raw["sla_hours"]
            kind = IncidentType(
                code=str(code),
                name_vi=str(name["vi"]),
                name_en=str(name["en"]),
                domain=str(raw["domain"]),
                department=str(raw["department"]),
                ward_bound=bool(raw.get("ward_bound", False)),
                sla_hours={s: float(hours[s.value]) for s in Severity},
                checklist=tuple(ChecklistItem(str(i["id"]), str(i["vi"]), str(i["en"])) for i in raw["checklist"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"incident type {code!r}: missing or invalid {exc}") from exc
        if kind.domain not in DOMAINS:
            raise ValueError(f"incident type {code!r}: unknown domain {kind.domain!r}")
        if kind.department not in codes:
            raise ValueError(f"incident type {code!r}: unknown department {kind.department!r}")
        if any(h <= 0 for h in kind.sla_hours.values()):
            raise ValueError(f"incident type {code!r}: SLA hours must be positive")
        ids = [i.id for i in kind.checklist]
        if len(set(ids)) != len(ids):
            raise ValueError(f"incident type {code!r}: checklist item ids must be unique")
        types[kind.code] = kind
    domains = {str(k): str(v) for k, v in (document.get("alert_domains") or {}).items()}
    missing = [d for d in DOMAINS if domains.get(d) not in types]
    if missing:
        raise ValueError(f"alert_domains must map every domain to a known type; not: {missing}")
    return types, domains


@cache
def packaged() -> Catalogue:
    """The catalogue shipped with the platform (loaded once)."""
    types, domains = parse_types(yaml.safe_load(_text("types.yaml")))
    wards = {
        str(w["code"]): Ward(str(w["code"]), w["name"], w["nameEn"], w["fullName"], w["fullNameEn"])
        for w in json.loads(_text("wards.json"))
    }
    return Catalogue(types, domains, wards)
