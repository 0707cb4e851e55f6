"""The catalogue's reference data: organisations (the city's departments), groups (themes) and licences.

They are data (``data/reference.yaml``), seeded into each portal tenant by :meth:`SqlCatalogue.seed`. Ids are
stable (UUID 5 of the name), so a dataset's ``owner_org`` means the same department in every deployment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml  # type: ignore[import-untyped]

NAMESPACE = uuid.UUID("6f1c8e0a-3c1b-5d2e-9a7f-0d1e2f3a4b5c")
LANGUAGES = ("vi", "en")


@dataclass(frozen=True)
class Party:
    """An organisation or a group as seeded: its name, titles and descriptions in Vietnamese and English."""

    name: str
    is_organization: bool
    title: dict[str, str]
    description: dict[str, str]

    @property
    def id(self) -> str:
        kind = "organization" if self.is_organization else "group"
        return str(uuid.uuid5(NAMESPACE, f"{kind}:{self.name}"))


def tag_id(name: str) -> str:
    """A tag's id (CKAN gives tags ids; ours are derived from the name)."""
    return str(uuid.uuid5(NAMESPACE, f"tag:{name}"))


def _translated(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return {"vi": value, "en": value}
    return {lang: str(value.get(lang, "")) for lang in LANGUAGES}


@cache
def _document() -> dict[str, Any]:
    text = resources.files("smartcity.opendata.catalogue").joinpath("data/reference.yaml").read_text("utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def parties() -> list[Party]:
    """Every organisation, then every group, as seeded."""
    doc = _document()
    out: list[Party] = []
    for key, is_org in (("organizations", True), ("groups", False)):
        for item in doc[key]:
            out.append(
                Party(str(item["name"]), is_org, _translated(item["title"]), _translated(item.get("description", "")))
            )
    return out


@cache
def licenses() -> tuple[dict[str, Any], ...]:
    """The licences in CKAN's ``license_list`` shape."""
    out = []
    for item in _document()["licenses"]:
        conformance = str(item.get("od_conformance", "not reviewed"))
        out.append(
            {
                "id": str(item["id"]),
                "title": str(item["title"]),
                "url": str(item.get("url", "")),
                "status": "active",
                "maintainer": "",
                "family": str(item.get("family", "")),
                "od_conformance": conformance,
                "osd_conformance": "not reviewed",
                "domain_content": False,
                "domain_data": True,
                "domain_software": False,
                "is_okd_compliant": conformance == "approved",
                "is_osi_compliant": False,
            }
        )
    return tuple(out)


def license_by_id() -> dict[str, dict[str, Any]]:
    return {lic["id"]: lic for lic in licenses()}
